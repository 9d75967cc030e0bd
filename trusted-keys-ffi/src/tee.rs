//! The TEE sealer with a HUK the caller gives: Linux `trusted.source=tee`
//! blobs (OP-TEE trusted_keys TA format). With the HUK from `tk_dcp_huk`
//! or `tk_caam_huk` this makes on an i.MX the blobs that Linux on OP-TEE
//! makes on the same device.
//!
//! ```c
//! static tk_tee_ctx tee;
//! tk_tee_config cfg = { .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!                       .platform = { .random = board_trng } };
//! size_t n = sizeof(cfg.huk);
//! rc = tk_dcp_huk(&dcp, cfg.huk, &n);
//! rc = tk_tee_init(&tee, &cfg);
//! tk_key_wipe(cfg.huk, sizeof(cfg.huk));      /* the context has a copy */
//! ```

use trusted_core::tee::TeeSealer;
use trusted_core::{StaticHuk, TrustSource};

use crate::TK_HUK_LEN;
use crate::ctx::{self, Backend};
use crate::error::Code;
use crate::ops::{self, Sealer};
use crate::platform::{CRng, Platform, Versioned};

/// Bytes a TEE blob adds to the key (reserved byte, IV, tag): a blob is
/// key length + 33.
pub const TK_TEE_BLOB_OVERHEAD: usize = 33;
/// Bytes of a `tk_tee_ctx`.
pub const TK_TEE_CTX_SIZE: usize = 64;

const _: () = assert!(TK_TEE_BLOB_OVERHEAD == trusted_core::tee::TEE_BLOB_OVERHEAD);

/// The HUK and the RNG for IVs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TeeConfig {
    /// `sizeof(tk_tee_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// `random` is required (IVs); `delay_us` is unused.
    pub platform: Platform,
    /// The device's hardware unique key, as OP-TEE has it. Copied at init:
    /// wipe this struct afterwards.
    pub huk: [u8; TK_HUK_LEN],
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for TeeConfig {}

/// Opaque storage for one TEE sealer context; zero it before the first
/// init.
#[repr(C, align(8))]
pub struct TeeCtx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_TEE_CTX_SIZE],
}

/// The TEE sealer's state: a sealer is made per call over these.
pub(crate) struct TeeState {
    huk: StaticHuk,
    rng: CRng,
}

const _: () = assert!(ctx::fits::<TeeCtx, TeeState>());

impl Backend for TeeState {
    type Ctx = TeeCtx;
    /// 2,416 B measured on aarch64.
    const STACK_SCRUB: usize = 4 * 1024;
}

impl Sealer for TeeState {
    const OVERHEAD: Option<usize> = Some(TK_TEE_BLOB_OVERHEAD);

    fn source(&mut self) -> Result<impl TrustSource + '_, Code> {
        Ok(TeeSealer::new(&mut self.huk, &mut self.rng))
    }
}

/// Keeps a copy of `cfg.huk` (zeroed at deinit) and the RNG.
///
/// Errors: `TK_E_NULL` (ctx, cfg or random NULL), `TK_E_ALIGN`,
/// `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`, `TK_E_BUSY` (ctx live).
///
/// # Safety
///
/// `ctx` points to a `tk_tee_ctx` that is zero or was deinitialised; `cfg`
/// to a config whose header tells its size; the callback with
/// `platform.user` stays valid until `tk_tee_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tee_init(ctx: *mut TeeCtx, cfg: *const TeeConfig) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        ops::init(ctx, cfg, |cfg| {
            Ok(TeeState {
                rng: CRng::new(&cfg.platform)?,
                huk: StaticHuk::new(cfg.huk),
            })
        })
    }
}

/// Zeroes the HUK copy and the context.
///
/// # Safety
///
/// As `tk_tee_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tee_deinit(ctx: *mut TeeCtx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<TeeState>(ctx) }
}

/// Seals `key_len` (32..=128) bytes into a TEE blob of
/// `key_len + TK_TEE_BLOB_OVERHEAD` bytes; `*blob_len` in and out.
///
/// # Safety
///
/// `ctx` as for `tk_tee_init`; `key` readable for `key_len` bytes,
/// `blob` writable for `*blob_len` bytes (unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tee_seal(
    ctx: *mut TeeCtx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::seal::<TeeState>(ctx, key, key_len, blob, blob_len) }
}

/// Unseals a TEE blob into `key`, `*key_len` in and out; zeroed on any
/// error but `TK_E_BUFFER_TOO_SMALL`.
///
/// # Safety
///
/// As `tk_tee_seal`, with `blob` readable for `blob_len` bytes and `key`
/// writable for `*key_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tee_unseal(
    ctx: *mut TeeCtx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::unseal::<TeeState>(ctx, blob, blob_len, key, key_len) }
}
