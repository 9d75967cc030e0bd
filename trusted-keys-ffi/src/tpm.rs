//! TPM 2.0 on SPI (TCG PTP TIS over SPI) through the caller's SPI and
//! chip-select callbacks: Linux `trusted.source=tpm` blobs (DER `TPMKey`,
//! and the pre-5.13 raw format on unseal) and TPM2_GetRandom.
//!
//! ```c
//! static tk_tpm_ctx tpm;
//! tk_tpm_config cfg = {
//!     .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!     .platform = { .user = spi_dev, .delay_us = board_udelay },
//!     .spi_transfer = board_spi_xfer, .chip_select = board_tpm_cs,
//!     .locality = 0,
//! };
//! rc = tk_tpm_init(&tpm, &cfg);
//! rc = tk_tpm_seal(&tpm, key, 32, "keyhandle=0x81000001", blob, &blob_len);
//! ```
//!
//! `options` are Linux's keyctl options (`keyhandle=`, `keyauth=`,
//! `blobauth=`, `hash=`, `policydigest=`, `policyhandle=`, `migratable=`,
//! `pcrlock=`); sealing needs `keyhandle=`. Not exposed here: PCR-policy
//! sealing (`seal_with_pcrs`), SRK provisioning, the MMIO TIS transport.

use core::ffi::{c_char, c_void};
use core::fmt;

use embedded_hal::digital::{self, OutputPin};
use embedded_hal::spi::{self, SpiBus};
use hal_tpm_spi::{SpiTis, Tis, TpmSource};
use trusted_core::TrustSource;

use crate::TK_MAX_OPTIONS_LEN;
use crate::buf;
use crate::ctx::{self, Backend, ClaimGuard};
use crate::error::{Code, TK_E_INVALID_ARG, TK_E_NULL};
use crate::ops::{self, Sealer};
use crate::platform::{CDelay, CRng, ChipSelectFn, Platform, SpiTransferFn, Versioned};

/// Bytes of a `tk_tpm_ctx` (the TPM's command and response buffers live in
/// it).
pub const TK_TPM_CTX_SIZE: usize = 2048;
/// Length of a TPM2B_NAME of a SHA-256 key (`0x000B` ‖ digest), as
/// `trustctl tpm provision` prints the storage key's.
pub const TK_TPM_NAME_SIZE: usize = 34;

const _: () = assert!(TK_TPM_NAME_SIZE == hal_tpm_spi::session::NAME_SIZE);

/// How to reach the TPM.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TpmConfig {
    /// `sizeof(tk_tpm_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// `delay_us` (TIS time-outs) and `random` are required. `random`
    /// gives the session nonces and ephemeral ECDH keys that hide keys on
    /// the bus: it must not be the TPM itself. `user` is passed to the SPI
    /// callbacks too.
    pub platform: Platform,
    /// Required: clocks bytes with chip select as it is.
    pub spi_transfer: SpiTransferFn,
    /// Required: drives the TPM's chip select.
    pub chip_select: ChipSelectFn,
    /// TIS locality 0..=4 (0 for firmware).
    pub locality: u32,
    /// Storage key `tk_tpm_random` salts its session to; 0 for 0x81000001.
    /// Seal and unseal salt to their `keyhandle=`.
    pub srk_handle: u32,
    /// The storage key's Name (`TK_TPM_NAME_SIZE` bytes, copied at init):
    /// a TPM or interposer answering with another key is refused before
    /// anything is salted to it. NULL: trust the first key seen.
    pub srk_name: *const u8,
    /// Bytes at `srk_name`: `TK_TPM_NAME_SIZE`, or 0 with NULL.
    pub srk_name_len: usize,
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for TpmConfig {}

/// Opaque storage for one TPM context; zero it before the first init.
#[repr(C, align(8))]
pub struct TpmCtx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_TPM_CTX_SIZE],
}

/// A callback returned non-zero.
#[derive(Debug)]
pub(crate) struct CallbackFailed;

impl fmt::Display for CallbackFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("callback failed")
    }
}

impl spi::Error for CallbackFailed {
    fn kind(&self) -> spi::ErrorKind {
        spi::ErrorKind::Other
    }
}

impl digital::Error for CallbackFailed {
    fn kind(&self) -> digital::ErrorKind {
        digital::ErrorKind::Other
    }
}

/// The caller's SPI transfer as `embedded_hal`'s `SpiBus`.
pub(crate) struct CSpi {
    f: unsafe extern "C" fn(user: *mut c_void, tx: *const u8, rx: *mut u8, len: usize) -> i32,
    user: *mut c_void,
}

impl CSpi {
    fn xfer(&mut self, tx: *const u8, rx: *mut u8, len: usize) -> Result<(), CallbackFailed> {
        if len == 0 {
            return Ok(());
        }
        // SAFETY: `tx` and `rx` are NULL or valid for `len` bytes (every
        // caller below passes slices of that length); the callback's
        // validity with `user` is the init contract.
        match unsafe { (self.f)(self.user, tx, rx, len) } {
            0 => Ok(()),
            _ => Err(CallbackFailed),
        }
    }
}

impl spi::ErrorType for CSpi {
    type Error = CallbackFailed;
}

impl SpiBus for CSpi {
    fn read(&mut self, words: &mut [u8]) -> Result<(), CallbackFailed> {
        self.xfer(core::ptr::null(), words.as_mut_ptr(), words.len())
    }

    fn write(&mut self, words: &[u8]) -> Result<(), CallbackFailed> {
        self.xfer(words.as_ptr(), core::ptr::null_mut(), words.len())
    }

    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), CallbackFailed> {
        let both = read.len().min(write.len());
        let (read_both, read_rest) = read.split_at_mut(both);
        let (write_both, write_rest) = write.split_at(both);
        self.xfer(write_both.as_ptr(), read_both.as_mut_ptr(), both)?;
        self.xfer(write_rest.as_ptr(), core::ptr::null_mut(), write_rest.len())?;
        self.xfer(core::ptr::null(), read_rest.as_mut_ptr(), read_rest.len())
    }

    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), CallbackFailed> {
        // The callback's `tx` and `rx` never overlap: send a copy.
        let mut tx = zeroize::Zeroizing::new([0u8; 64]);
        for chunk in words.chunks_mut(64) {
            let tx = tx.get_mut(..chunk.len()).ok_or(CallbackFailed)?;
            tx.copy_from_slice(chunk);
            self.xfer(tx.as_ptr(), chunk.as_mut_ptr(), chunk.len())?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CallbackFailed> {
        Ok(())
    }
}

/// The caller's chip select as `embedded_hal`'s `OutputPin` (low =
/// asserted).
pub(crate) struct CCs {
    f: unsafe extern "C" fn(user: *mut c_void, active: bool) -> i32,
    user: *mut c_void,
}

impl CCs {
    fn set(&mut self, active: bool) -> Result<(), CallbackFailed> {
        // SAFETY: the init contract.
        match unsafe { (self.f)(self.user, active) } {
            0 => Ok(()),
            _ => Err(CallbackFailed),
        }
    }
}

impl digital::ErrorType for CCs {
    type Error = CallbackFailed;
}

impl OutputPin for CCs {
    fn set_low(&mut self) -> Result<(), CallbackFailed> {
        self.set(true)
    }
    fn set_high(&mut self) -> Result<(), CallbackFailed> {
        self.set(false)
    }
}

type Source = TpmSource<Tis<SpiTis<CSpi, CCs>, CDelay>, CRng>;

/// The TPM's context state.
pub(crate) struct TpmState {
    source: Source,
    _claim: ClaimGuard,
}

const _: () = assert!(ctx::fits::<TpmCtx, TpmState>());

impl Backend for TpmState {
    type Ctx = TpmCtx;
    /// 4,224 B measured with sessions.
    const STACK_SCRUB: usize = 6 * 1024;

    fn shutdown(&mut self) {
        // Leave the TPM usable for the next stage (Linux requests it anew).
        let _ = self.source.driver_mut().transport_mut().release_locality();
    }
}

impl Sealer for TpmState {
    /// A DER `TPMKey`'s length is known only once it is written.
    const OVERHEAD: Option<usize> = None;

    fn source(&mut self) -> Result<impl TrustSource + '_, Code> {
        Ok(&mut self.source)
    }
}

impl TpmState {
    fn random(&mut self, out: &mut [u8]) -> Result<(), Code> {
        Ok(self.source.random(out)?)
    }
}

fn make(cfg: &TpmConfig) -> Result<TpmState, Code> {
    static TPM: ctx::Claim = ctx::Claim::new();
    let user = cfg.platform.user;
    let spi = CSpi {
        f: cfg.spi_transfer.ok_or(Code(TK_E_NULL))?,
        user,
    };
    let cs = CCs {
        f: cfg.chip_select.ok_or(Code(TK_E_NULL))?,
        user,
    };
    let delay = CDelay::new(&cfg.platform)?;
    let rng = CRng::new(&cfg.platform)?;
    let locality = u8::try_from(cfg.locality).map_err(|_| Code(TK_E_INVALID_ARG))?;
    let srk_name = if cfg.srk_name.is_null() && cfg.srk_name_len == 0 {
        None
    } else {
        let wrong = Code(TK_E_INVALID_ARG);
        // SAFETY: the init contract: `srk_name` is readable for
        // `srk_name_len` bytes during the call (it is copied here).
        let name = unsafe { buf::input(cfg.srk_name, cfg.srk_name_len, TK_TPM_NAME_SIZE, wrong) }?;
        Some(<[u8; TK_TPM_NAME_SIZE]>::try_from(name).map_err(|_| wrong)?)
    };
    let srk_handle = match cfg.srk_handle {
        0 => hal_tpm_spi::spec::SRK_HANDLE,
        handle => handle,
    };
    let claim = TPM.take()?;
    let tis = Tis::new(SpiTis::new(spi, cs), delay)
        .with_locality(locality)
        .map_err(trusted_core::Error::from)?;
    let mut source = TpmSource::new(tis, rng).with_srk_handle(srk_handle);
    if let Some(name) = srk_name {
        source = source.with_srk_name(name);
    }
    source.init()?;
    Ok(TpmState {
        source,
        _claim: claim,
    })
}

/// Takes the TPM for `ctx`: probes it (locality, TPM 2.0 family) and sends
/// TPM2_Startup(CLEAR) (already started is fine).
///
/// Errors: `TK_E_NULL` (ctx, cfg or a callback NULL), `TK_E_ALIGN`,
/// `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`, `TK_E_BUSY` (ctx live, or the
/// TPM held by another context), `TK_E_INVALID_ARG` (locality, SRK Name
/// length),
/// `TK_E_NO_DEVICE` (the bus reads all ones), `TK_E_TIMEOUT`,
/// `TK_E_TRANSPORT`, `TK_E_TPM`.
///
/// # Safety
///
/// `ctx` points to a `tk_tpm_ctx` that is zero or was deinitialised; `cfg`
/// to a config whose header tells its size; the callbacks with
/// `platform.user` stay valid until `tk_tpm_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tpm_init(ctx: *mut TpmCtx, cfg: *const TpmConfig) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::init(ctx, cfg, make) }
}

/// Releases the locality and the TPM, zeroes the context (the command and
/// response buffers are zeroed after every command already).
///
/// # Safety
///
/// As `tk_tpm_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tpm_deinit(ctx: *mut TpmCtx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<TpmState>(ctx) }
}

/// Seals `key_len` (32..=128) bytes with TPM2_Create under `keyhandle=`
/// from `options` (a NUL-terminated keyctl option string, at most
/// `TK_MAX_OPTIONS_LEN` bytes; NULL = none) into a DER `TPMKey` blob;
/// `*blob_len` in and out. The blob's length is known only afterwards:
/// pass `TK_MAX_BLOB_SIZE` bytes (with `pcrlock=` a retry cannot repeat
/// the seal).
///
/// # Safety
///
/// `ctx` as for `tk_tpm_init`; `key` readable for `key_len` bytes,
/// `options` NULL or NUL-terminated, `blob` writable for `*blob_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tpm_seal(
    ctx: *mut TpmCtx,
    key: *const u8,
    key_len: usize,
    options: *const c_char,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    let mut scratch = [0u8; TK_MAX_OPTIONS_LEN];
    // SAFETY: the caller's contract, forwarded (`options` too).
    unsafe {
        ops::seal_with::<TpmState>(ctx, key, key_len, blob, blob_len, || {
            buf::options(options, &mut scratch)
        })
    }
}

/// Unseals a TPM2 blob (DER `TPMKey` or pre-5.13 raw, the latter needing
/// `keyhandle=` in `options`) into `key`, `*key_len` in and out.
///
/// # Safety
///
/// As `tk_tpm_seal`, with `blob` readable for `blob_len` bytes (at most
/// `TK_MAX_BLOB_SIZE`) and `key` writable for `*key_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tpm_unseal(
    ctx: *mut TpmCtx,
    blob: *const u8,
    blob_len: usize,
    options: *const c_char,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    let mut scratch = [0u8; TK_MAX_OPTIONS_LEN];
    // SAFETY: the caller's contract, forwarded (`options` too).
    unsafe {
        ops::unseal_with::<TpmState>(ctx, blob, blob_len, key, key_len, || {
            buf::options(options, &mut scratch)
        })
    }
}

/// Fills exactly `len` bytes at `out` with TPM2_GetRandom; zeroed again on
/// failure.
///
/// # Safety
///
/// `ctx` as for `tk_tpm_init`; `out` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_tpm_random(ctx: *mut TpmCtx, out: *mut u8, len: usize) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::random(ctx, out, len, TpmState::random) }
}
