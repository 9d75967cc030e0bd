//! NXP CAAM (i.MX6/7/8M): Linux `trusted.source=caam` blobs, OP-TEE's
//! MKVB hardware unique key, and the RNG4.
//!
//! ```c
//! static tk_caam_ctx caam;
//! static uint8_t dma_buf[2048] __attribute__((aligned(64)));
//! tk_caam_config cfg = {
//!     .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!     .regs = (void *)0x30900000,                  /* i.MX8M; 0x02100000 on i.MX6 */
//!     .dma = { .cpu = dma_buf, .len = sizeof(dma_buf), .bus = (uintptr_t)dma_buf,
//!              .clean = cache_clean, .invalidate = cache_invalidate },
//!     .platform = { .delay_us = board_udelay },
//!     .job_ring = 0,                               /* 2 where OP-TEE owns JR0 */
//! };
//! ```
//!
//! Sealing, unsealing and the HUK are refused (`TK_E_INSECURE`) while the
//! CAAM is non-secure or failed, where it would use its common test key;
//! the Rust API's `allow_insecure` (feature `hazmat`) is not exposed.

use core::ffi::c_void;

use hal_caam::{Caam, CaamHuk, CaamSource, Config, HukOptions, PointerSize};
use trusted_core::{Huk, HukBytes, StaticDma, TrustSource};

use crate::buf::{self, check_ptr};
use crate::ctx::{self, Backend, Device};
use crate::error::{Code, TK_E_INVALID_ARG};
use crate::ops::{self, Sealer};
use crate::platform::{self, CCache, CDelay, Dma, DmaRules, Platform, Versioned};

/// Smallest DMA region the CAAM backend accepts (`hal_caam`'s layout);
/// 2 KiB is a comfortable size.
pub const TK_CAAM_MIN_DMA_LEN: usize = 1664;
/// Alignment of the DMA region's CPU and bus address (a cache line, so
/// maintenance of one area never touches another).
pub const TK_CAAM_DMA_ALIGN: usize = 64;
/// Bytes a CAAM blob adds to the key (blob key, MAC): key length + 48.
pub const TK_CAAM_BLOB_OVERHEAD: usize = 48;
/// Longest key modifier (`CAAM_BLOB_KEYMOD_LENGTH`).
pub const TK_CAAM_MAX_KEYMOD_LEN: usize = 16;
/// Job-ring page size on i.MX6/7/8M (the default when `page_size` is 0).
pub const TK_CAAM_PAGE_4K: u32 = 0x1000;
/// Job-ring page size on i.MX8QM/QXP.
pub const TK_CAAM_PAGE_64K: u32 = 0x1_0000;
/// `flags`: 64-bit pointers in descriptors and rings (DMA region may sit
/// above 4 GiB).
pub const TK_CAAM_POINTERS_64: u32 = 1;
/// `flags`: raise SCFGR.PRIBLOB after reading the HUK (OP-TEE
/// `CFG_CAAM_INC_PRIBLOB`), so later software cannot reproduce it.
pub const TK_CAAM_INCREMENT_PRIBLOB: u32 = 2;
/// Bytes of a `tk_caam_ctx`.
pub const TK_CAAM_CTX_SIZE: usize = 256;

const _: () = assert!(TK_CAAM_MIN_DMA_LEN == hal_caam::jr::layout::MIN_LEN);
const _: () = assert!(TK_CAAM_BLOB_OVERHEAD == hal_caam::regs::blob::OVERHEAD);
const _: () = assert!(TK_CAAM_MAX_KEYMOD_LEN == hal_caam::regs::blob::KEYMOD_MAX);

/// How to reach the CAAM.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct CaamConfig {
    /// `sizeof(tk_caam_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// CAAM register base (controller page first). Sim builds check it but
    /// use the model.
    pub regs: *mut c_void,
    /// At least `TK_CAAM_MIN_DMA_LEN` bytes, 64-byte aligned; below 4 GiB
    /// unless `TK_CAAM_POINTERS_64`.
    pub dma: Dma,
    /// `delay_us` is required; `random` is unused (the CAAM has RNG4).
    pub platform: Platform,
    /// Job ring 0..=3, owned by this world (JR0 on i.MX6/7, JR2 on i.MX8M
    /// where OP-TEE keeps JR0).
    pub job_ring: u32,
    /// 0 (= `TK_CAAM_PAGE_4K`), `TK_CAAM_PAGE_4K` or `TK_CAAM_PAGE_64K`.
    pub page_size: u32,
    /// Key modifier, copied at init; NULL for Linux's `SECURE_KEY`. Blobs
    /// made with one modifier do not open with another.
    pub keymod: *const u8,
    /// Bytes at `keymod`, at most `TK_CAAM_MAX_KEYMOD_LEN`.
    pub keymod_len: usize,
    /// `TK_CAAM_POINTERS_64`, `TK_CAAM_INCREMENT_PRIBLOB`, or 0.
    pub flags: u32,
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for CaamConfig {}

/// Opaque storage for one CAAM context; zero it before the first init.
#[repr(C, align(8))]
pub struct CaamCtx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_CAAM_CTX_SIZE],
}

#[cfg(not(feature = "caam-sim"))]
type Regs = Device<trusted_core::VolatileMmio>;
#[cfg(feature = "caam-sim")]
type Regs = Device<&'static mut hal_caam::sim::CaamSim>;

/// The CAAM's context state.
pub(crate) struct CaamState {
    source: CaamSource<Regs, StaticDma<CCache>, CDelay>,
    huk_options: HukOptions,
    /// OP-TEE reads the MKVB once and keeps it (PRIBLOB may change after).
    huk: Option<HukBytes>,
}

const _: () = assert!(ctx::fits::<CaamCtx, CaamState>());

impl Backend for CaamState {
    type Ctx = CaamCtx;
    /// The CAAM model runs jobs on this stack (10,096 B measured).
    const STACK_SCRUB: usize = 12 * 1024;
}

impl Sealer for CaamState {
    const OVERHEAD: Option<usize> = Some(TK_CAAM_BLOB_OVERHEAD);

    fn source(&mut self) -> Result<impl TrustSource + '_, Code> {
        Ok(&mut self.source)
    }
}

impl CaamState {
    fn huk(&mut self) -> Result<HukBytes, Code> {
        if let Some(huk) = &self.huk {
            return Ok(huk.clone());
        }
        let mut provider = CaamHuk::new(self.source.driver_mut(), self.huk_options)?;
        let huk = provider.hardware_unique_key()?;
        self.huk = Some(huk.clone());
        Ok(huk)
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), Code> {
        let caam = self.source.driver_mut();
        caam.random(out).map_err(trusted_core::Error::from)?;
        Ok(())
    }
}

#[cfg(not(feature = "caam-sim"))]
fn regs(base: *mut c_void, config: &Config, _dma: &StaticDma<CCache>) -> Result<Regs, Code> {
    static RINGS: [ctx::Claim; 4] = [const { ctx::Claim::new() }; 4];
    let ring = usize::from(config.job_ring);
    let claim = RINGS.get(ring).ok_or(Code(TK_E_INVALID_ARG))?.take()?;
    let size = (ring + 2) * config.page_size;
    // SAFETY: the init contract: `regs` is the CAAM block, mapped as
    // device memory, covering the controller page and the job ring's page;
    // the claim makes this context the only driver of that ring.
    let mmio = unsafe { trusted_core::VolatileMmio::new(base.addr(), size) };
    Ok(Device::new(mmio, claim))
}

/// A public test key standing in for the OTPMK fuses: the same as the Rust
/// `imx8-caam` example's.
#[cfg(feature = "caam-sim")]
const SIM_OTPMK: [u8; 32] = *b"imx8m-demo-otpmk-not-a-secret!!!";

#[cfg(feature = "caam-sim")]
fn regs(_base: *mut c_void, config: &Config, dma: &StaticDma<CCache>) -> Result<Regs, Code> {
    use hal_caam::sim::{CaamSim, SimConfig};
    static RINGS: [crate::sim::SimDevice<CaamSim>; 4] = [const { crate::sim::SimDevice::new() }; 4];
    let device = RINGS.get(usize::from(config.job_ring));
    let device = device.ok_or(Code(TK_E_INVALID_ARG))?;
    let mut sim = SimConfig::secure(SIM_OTPMK);
    sim.job_ring = config.job_ring;
    sim.page_size = config.page_size;
    device.take(|| CaamSim::new(dma.bus(), sim))
}

fn make(cfg: &CaamConfig) -> Result<CaamState, Code> {
    check_ptr(cfg.regs.cast::<u32>())?;
    if cfg.flags & !(TK_CAAM_POINTERS_64 | TK_CAAM_INCREMENT_PRIBLOB) != 0 {
        return Err(Code(TK_E_INVALID_ARG));
    }
    let job_ring = u8::try_from(cfg.job_ring)
        .ok()
        .filter(|&r| r <= 3)
        .ok_or(Code(TK_E_INVALID_ARG))?;
    let page_size = match cfg.page_size {
        0 | TK_CAAM_PAGE_4K => hal_caam::regs::PAGE_SIZE_4K,
        TK_CAAM_PAGE_64K => hal_caam::regs::PAGE_SIZE_64K,
        _ => return Err(Code(TK_E_INVALID_ARG)),
    };
    let long = cfg.flags & TK_CAAM_POINTERS_64 != 0;
    let mut config = Config::new(job_ring);
    config.page_size = page_size;
    config.pointer_size = if long {
        PointerSize::Bits64
    } else {
        PointerSize::Bits32
    };
    let keymod = if cfg.keymod.is_null() {
        hal_caam::LINUX_KEYMOD
    } else {
        let too_long = Code(TK_E_INVALID_ARG);
        // SAFETY: the init contract: `keymod` is readable for `keymod_len`
        // bytes during the call (it is copied below).
        unsafe { buf::input(cfg.keymod, cfg.keymod_len, TK_CAAM_MAX_KEYMOD_LEN, too_long) }?
    };
    let mut huk_options = HukOptions::new();
    if cfg.flags & TK_CAAM_INCREMENT_PRIBLOB != 0 {
        huk_options = huk_options.increment_priblob();
    }
    let delay = CDelay::new(&cfg.platform)?;
    let rules = DmaRules {
        min_len: TK_CAAM_MIN_DMA_LEN,
        align: TK_CAAM_DMA_ALIGN,
        below_4g: !long,
    };
    // SAFETY: the init contract hands the region to this context.
    let dma = unsafe { platform::dma_region(&cfg.dma, cfg.platform.user, &rules) }?;
    let regs = regs(cfg.regs, &config, &dma)?;
    let caam = Caam::new(regs, dma, delay, config).map_err(trusted_core::Error::from)?;
    let mut source = CaamSource::new(caam).with_key_modifier(keymod)?;
    source.init()?;
    Ok(CaamState {
        source,
        huk_options,
        huk: None,
    })
}

/// Takes the job ring for `ctx`: resets and sets it up, checks the blob
/// protocol and the security state, instantiates RNG4.
///
/// Errors: `TK_E_NULL` (ctx, cfg, regs, dma.cpu or delay_us NULL),
/// `TK_E_ALIGN`, `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`,
/// `TK_E_DMA_SIZE`, `TK_E_DMA_PLACEMENT`, `TK_E_BUSY` (ctx live, or the job
/// ring held by another context), `TK_E_INVALID_ARG` (job ring, page size,
/// key modifier, flags), `TK_E_NO_DEVICE`, `TK_E_TIMEOUT`, `TK_E_HARDWARE`,
/// `TK_E_INSECURE`.
///
/// # Safety
///
/// `ctx` points to a `tk_caam_ctx` that is zero or was deinitialised;
/// `cfg` to a config whose header tells its size; the DMA region and the
/// callbacks with `platform.user` stay valid until `tk_caam_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_init(ctx: *mut CaamCtx, cfg: *const CaamConfig) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::init(ctx, cfg, make) }
}

/// Releases the job ring and zeroes the context (the driver zeroes the DMA
/// region after every job).
///
/// # Safety
///
/// As `tk_caam_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_deinit(ctx: *mut CaamCtx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<CaamState>(ctx) }
}

/// Seals `key_len` (32..=128) bytes into a Linux `trusted_caam` blob of
/// `key_len + TK_CAAM_BLOB_OVERHEAD` bytes; `*blob_len` in and out.
///
/// # Safety
///
/// `ctx` as for `tk_caam_init`; `key` readable for `key_len` bytes,
/// `blob` writable for `*blob_len` bytes (unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_seal(
    ctx: *mut CaamCtx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::seal::<CaamState>(ctx, key, key_len, blob, blob_len) }
}

/// Unseals a `trusted_caam` blob into `key`, `*key_len` in and out.
///
/// # Safety
///
/// As `tk_caam_seal`, with `blob` readable for `blob_len` bytes and
/// `key` writable for `*key_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_unseal(
    ctx: *mut CaamCtx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::unseal::<CaamState>(ctx, blob, blob_len, key, key_len) }
}

/// OP-TEE's CAAM HUK: the first 16 bytes of the master key verification
/// blob, read once and kept; `*huk_len` in and out.
///
/// # Safety
///
/// As `tk_caam_seal`, with `huk` writable for `*huk_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_huk(ctx: *mut CaamCtx, huk: *mut u8, huk_len: *mut usize) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::huk(ctx, huk, huk_len, CaamState::huk) }
}

/// Fills exactly `len` bytes at `out` from the CAAM RNG4 (e.g. for a new
/// key); zeroed again on failure.
///
/// # Safety
///
/// `ctx` as for `tk_caam_init`; `out` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_caam_random(ctx: *mut CaamCtx, out: *mut u8, len: usize) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::random(ctx, out, len, CaamState::random) }
}
