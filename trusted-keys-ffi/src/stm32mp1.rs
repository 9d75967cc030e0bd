//! STM32MP15 in the secure world: OP-TEE's HUK from the BSEC OTP fuses,
//! and TEE blobs (Linux `trusted.source=tee`) sealed with it.
//!
//! ```c
//! static tk_stm32mp1_ctx mp1;
//! tk_stm32mp1_config cfg = {
//!     .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!     .regs = (void *)0x5C005000,
//!     .platform = { .delay_us = board_udelay, .random = board_rng },
//!     .huk_words = { 60, 61, 62, 63 }, .uid_words = { 13, 14, 15 },
//!     .huk_mode = TK_STM32MP1_HUK_BSEC_KEY,
//! };
//! ```
//!
//! Not exposed here: the normal-world SMC path, provisioning (burning and
//! locking the HUK words: `trustctl stm32mp1 provision-image` prints them
//! for the factory tool), the STM32MP13 SAES KDF.

use core::ffi::c_void;

use hal_stm32mp1_otp::{Bsec, HukConfig, HukMode, Stm32mp15Huk};
use trusted_core::tee::TeeSealer;
use trusted_core::{Huk, HukBytes, TrustSource};

use crate::buf::check_ptr;
use crate::ctx::{self, Backend, Device};
use crate::error::{Code, TK_E_INVALID_ARG};
use crate::ops::{self, Sealer};
use crate::platform::{CDelay, CRng, Platform, Versioned};
use crate::tee::TK_TEE_BLOB_OVERHEAD;

/// OP-TEE `CFG_STM32MP15_HUK_BSEC_KEY` (default): the HUK is the four OTP
/// words, each little-endian.
pub const TK_STM32MP1_HUK_BSEC_KEY: u32 = 0;
/// OP-TEE `CFG_STM32MP15_HUK_BSEC_DERIVE_UID`: AES-128-GCM of the UID
/// under the four OTP words.
pub const TK_STM32MP1_HUK_DERIVE_UID: u32 = 1;
/// `flags`: refuse HUK words that are not permanently locked (OP-TEE only
/// logs "HUK unlocked").
pub const TK_STM32MP1_REQUIRE_LOCKED: u32 = 1;
/// Bytes of a `tk_stm32mp1_ctx`.
pub const TK_STM32MP1_CTX_SIZE: usize = 128;

/// How to reach the BSEC and where the HUK is.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Stm32mp1Config {
    /// `sizeof(tk_stm32mp1_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// BSEC register base (0x5C00_5000), secure world. Sim builds check it
    /// but use the model.
    pub regs: *mut c_void,
    /// `delay_us` and `random` (IVs) are required.
    pub platform: Platform,
    /// The four HUK words in key byte order (OP-TEE
    /// `CFG_STM32MP15_HUK_BSEC_KEY_0..3`; 60..63 by default), distinct,
    /// each 0..=95.
    pub huk_words: [u8; 4],
    /// The three UID words for `TK_STM32MP1_HUK_DERIVE_UID` (13..15).
    pub uid_words: [u8; 3],
    /// Padding; set to 0.
    pub reserved: u8,
    /// `TK_STM32MP1_HUK_BSEC_KEY` or `TK_STM32MP1_HUK_DERIVE_UID`.
    pub huk_mode: u32,
    /// 0 or `TK_STM32MP1_REQUIRE_LOCKED`.
    pub flags: u32,
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for Stm32mp1Config {}

/// Opaque storage for one STM32MP1 context; zero it before the first init.
#[repr(C, align(8))]
pub struct Stm32mp1Ctx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_STM32MP1_CTX_SIZE],
}

#[cfg(not(feature = "stm32mp1-sim"))]
type Regs = Device<trusted_core::VolatileMmio>;
#[cfg(feature = "stm32mp1-sim")]
type Regs = Device<&'static mut hal_stm32mp1_otp::sim::BsecSim>;

/// The HUK provider (reads the fuses on every use, as OP-TEE) and the RNG.
pub(crate) struct Stm32mp1State {
    huk: Stm32mp15Huk<Bsec<Regs, CDelay>>,
    rng: CRng,
}

const _: () = assert!(ctx::fits::<Stm32mp1Ctx, Stm32mp1State>());

impl Backend for Stm32mp1State {
    type Ctx = Stm32mp1Ctx;
    /// 2,052 B measured.
    const STACK_SCRUB: usize = 4 * 1024;
}

impl Sealer for Stm32mp1State {
    const OVERHEAD: Option<usize> = Some(TK_TEE_BLOB_OVERHEAD);

    fn source(&mut self) -> Result<impl TrustSource + '_, Code> {
        Ok(TeeSealer::new(&mut self.huk, &mut self.rng))
    }
}

impl Stm32mp1State {
    fn read_huk(&mut self) -> Result<HukBytes, Code> {
        Ok(self.huk.hardware_unique_key()?)
    }
}

#[cfg(not(feature = "stm32mp1-sim"))]
fn regs(base: *mut c_void, _config: &HukConfig) -> Result<Regs, Code> {
    static BSEC: ctx::Claim = ctx::Claim::new();
    let claim = BSEC.take()?;
    // SAFETY: the init contract: `regs` is the BSEC block, mapped as
    // device memory; the claim makes this context its only driver.
    let mmio =
        unsafe { trusted_core::VolatileMmio::new(base.addr(), hal_stm32mp1_otp::regs::BSEC_SIZE) };
    Ok(Device::new(mmio, claim))
}

/// A public test HUK burnt into the model's HUK words.
#[cfg(feature = "stm32mp1-sim")]
const SIM_HUK: [u8; 16] = *b"stm32mp1-testhuk";

#[cfg(feature = "stm32mp1-sim")]
fn regs(_base: *mut c_void, config: &HukConfig) -> Result<Regs, Code> {
    use hal_stm32mp1_otp::sim::BsecSim;
    static BSEC: crate::sim::SimDevice<BsecSim> = crate::sim::SimDevice::new();
    let mut fuses = [(0u8, 0u32); 7];
    let huk = SIM_HUK.chunks_exact(4).zip(config.words);
    for (slot, (chunk, word)) in fuses.iter_mut().zip(huk) {
        let bytes: [u8; 4] = chunk.try_into().map_err(|_| Code(TK_E_INVALID_ARG))?;
        *slot = (word, u32::from_le_bytes(bytes));
    }
    let uid = [0x0031_0042, 0x3337_5119, 0x3238_3830]
        .into_iter()
        .zip(config.uid_words);
    for (slot, (value, word)) in fuses.iter_mut().skip(4).zip(uid) {
        *slot = (word, value);
    }
    BSEC.take(|| BsecSim::with_fuses(&fuses))
}

fn make(cfg: &Stm32mp1Config) -> Result<Stm32mp1State, Code> {
    check_ptr(cfg.regs.cast::<u32>())?;
    let mode = match cfg.huk_mode {
        TK_STM32MP1_HUK_BSEC_KEY => HukMode::BsecKey,
        TK_STM32MP1_HUK_DERIVE_UID => HukMode::DeriveUid,
        _ => return Err(Code(TK_E_INVALID_ARG)),
    };
    if cfg.flags & !TK_STM32MP1_REQUIRE_LOCKED != 0 || cfg.reserved != 0 {
        return Err(Code(TK_E_INVALID_ARG));
    }
    let words = cfg.huk_words.iter().chain(cfg.uid_words.iter());
    if words
        .into_iter()
        .any(|&w| usize::from(w) >= hal_stm32mp1_otp::regs::OTP_WORDS)
    {
        return Err(Code(TK_E_INVALID_ARG));
    }
    let config = HukConfig {
        words: cfg.huk_words,
        mode,
        uid_words: cfg.uid_words,
        require_locked: cfg.flags & TK_STM32MP1_REQUIRE_LOCKED != 0,
    };
    let delay = CDelay::new(&cfg.platform)?;
    let rng = CRng::new(&cfg.platform)?;
    let mut bsec = Bsec::new(regs(cfg.regs, &config)?, delay);
    bsec.probe().map_err(trusted_core::Error::from)?;
    let huk = Stm32mp15Huk::new(bsec, config)?;
    Ok(Stm32mp1State { huk, rng })
}

/// Takes the BSEC for `ctx` and checks it answers as a BSEC2. The fuses
/// are read at each seal, unseal and HUK call, as OP-TEE reads them.
///
/// Errors: `TK_E_NULL` (ctx, cfg, regs, delay_us or random NULL),
/// `TK_E_ALIGN`, `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`, `TK_E_BUSY`,
/// `TK_E_INVALID_ARG` (word numbers, repeated words, mode, flags),
/// `TK_E_NO_DEVICE`.
///
/// # Safety
///
/// `ctx` points to a `tk_stm32mp1_ctx` that is zero or was deinitialised;
/// `cfg` to a config whose header tells its size; the callbacks with
/// `platform.user` stay valid until `tk_stm32mp1_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_stm32mp1_init(
    ctx: *mut Stm32mp1Ctx,
    cfg: *const Stm32mp1Config,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::init(ctx, cfg, make) }
}

/// Releases the BSEC and zeroes the context.
///
/// # Safety
///
/// As `tk_stm32mp1_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_stm32mp1_deinit(ctx: *mut Stm32mp1Ctx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<Stm32mp1State>(ctx) }
}

/// Seals `key_len` (32..=128) bytes into a TEE blob under the OTP HUK
/// (`key_len + TK_TEE_BLOB_OVERHEAD` bytes); `*blob_len` in and out.
/// Blank HUK words are refused with `TK_E_INSECURE`.
///
/// # Safety
///
/// `ctx` as for `tk_stm32mp1_init`; `key` readable for `key_len` bytes,
/// `blob` writable for `*blob_len` bytes (unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_stm32mp1_seal(
    ctx: *mut Stm32mp1Ctx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::seal::<Stm32mp1State>(ctx, key, key_len, blob, blob_len) }
}

/// Unseals a TEE blob under the OTP HUK into `key`, `*key_len` in and out.
///
/// # Safety
///
/// As `tk_stm32mp1_seal`, with `blob` readable for `blob_len` bytes and
/// `key` writable for `*key_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_stm32mp1_unseal(
    ctx: *mut Stm32mp1Ctx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::unseal::<Stm32mp1State>(ctx, blob, blob_len, key, key_len) }
}

/// OP-TEE's STM32MP15 HUK (16 bytes) into `huk`, `*huk_len` in and out.
///
/// # Safety
///
/// As `tk_stm32mp1_seal`, with `huk` writable for `*huk_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_stm32mp1_huk(
    ctx: *mut Stm32mp1Ctx,
    huk: *mut u8,
    huk_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::huk(ctx, huk, huk_len, Stm32mp1State::read_huk) }
}
