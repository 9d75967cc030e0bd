//! NXP DCP (i.MX6ULL/6SL/6SLL, i.MX23/28): Linux `trusted.source=dcp`
//! blobs and OP-TEE's DCP hardware unique key.
//!
//! ```c
//! static tk_dcp_ctx dcp;                      /* zeroed: static storage */
//! tk_dcp_config cfg = {
//!     .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!     .regs = (void *)0x02280000,
//!     .dma = { .cpu = dma_buf, .len = sizeof(dma_buf), .bus = (uintptr_t)dma_buf,
//!              .clean = cache_clean, .invalidate = cache_invalidate },
//!     .platform = { .user = NULL, .delay_us = board_udelay, .random = board_trng },
//!     .sealing_key = TK_DCP_KEY_UNIQUE,
//! };
//! int rc = tk_dcp_init(&dcp, &cfg);
//! ```
//!
//! The DCP has no RNG: blob keys and nonces come from `platform.random`,
//! and so must new keys (the caller makes them). Deriving the HUK sets the
//! sticky `DISABLE_UNIQUE_KEY` (as OP-TEE does): until the next power
//! cycle the UNIQUE key no longer seals or unseals, so a bootloader that
//! needs both seals `trusted_dcp` blobs with `TK_DCP_KEY_OTP`, or derives
//! the HUK last.

use core::ffi::c_void;

use hal_dcp::{Dcp, DcpHuk, DcpSource, SealingKey};
use trusted_core::{Huk, HukBytes, StaticDma, TrustSource};

use crate::buf::check_ptr;
use crate::ctx::{self, Backend, Device};
use crate::error::{Code, TK_E_FAILED, TK_E_INVALID_ARG};
use crate::ops::{self, Sealer};
use crate::platform::{self, CCache, CDelay, CRng, Dma, DmaRules, Platform, Versioned};

/// Smallest DMA region the DCP backend accepts (`hal_dcp::MIN_DMA_LEN`);
/// 1 KiB is a comfortable size.
pub const TK_DCP_MIN_DMA_LEN: usize = 304;
/// Alignment of the DMA region's CPU and bus address.
pub const TK_DCP_DMA_ALIGN: usize = 4;
/// Bytes a DCP blob adds to the key (version, blob key, nonce, length,
/// tag): a blob is key length + 53.
pub const TK_DCP_BLOB_OVERHEAD: usize = 53;
/// Seal with the UNIQUE key (key select 0xFE), as Linux by default.
pub const TK_DCP_KEY_UNIQUE: u32 = 0;
/// Seal with the OTP key (Linux `trusted.dcp_use_otp_key=1`).
pub const TK_DCP_KEY_OTP: u32 = 1;
/// Bytes of a `tk_dcp_ctx`.
pub const TK_DCP_CTX_SIZE: usize = 256;

const _: () = assert!(TK_DCP_MIN_DMA_LEN == hal_dcp::MIN_DMA_LEN);
const _: () = assert!(TK_DCP_BLOB_OVERHEAD == hal_dcp::source::DCP_BLOB_OVERHEAD);

/// How to reach the DCP. `size` and `version` first: set them to
/// `sizeof(tk_dcp_config)` and `TK_CONFIG_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DcpConfig {
    /// `sizeof(tk_dcp_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// DCP register base (0x0228_0000 on i.MX6ULL, 0x020F_C000 on
    /// 6SL/6SLL), mapped as device memory, clock ungated (CCM_CCGR0 CG5).
    /// Sim builds check it but use the model.
    pub regs: *mut c_void,
    /// At least `TK_DCP_MIN_DMA_LEN` bytes, 4-byte aligned, bus addresses
    /// below 4 GiB.
    pub dma: Dma,
    /// `delay_us` and `random` are required.
    pub platform: Platform,
    /// `TK_DCP_KEY_UNIQUE` or `TK_DCP_KEY_OTP`.
    pub sealing_key: u32,
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for DcpConfig {}

/// Opaque storage for one DCP context; zero it before the first init.
#[repr(C, align(8))]
pub struct DcpCtx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_DCP_CTX_SIZE],
}

#[cfg(not(feature = "dcp-sim"))]
type Regs = Device<trusted_core::VolatileMmio>;
#[cfg(feature = "dcp-sim")]
type Regs = Device<&'static mut hal_dcp::sim::DcpSim>;

type Source = DcpSource<Regs, StaticDma<CCache>, CDelay, CRng>;

/// The DCP's context state.
pub(crate) struct DcpState {
    /// `None` only inside [`DcpState::huk`], while the driver is lent out.
    source: Option<Source>,
    sealing_key: SealingKey,
    /// OP-TEE caches the HUK: the derivation disables the UNIQUE key.
    huk: Option<Result<HukBytes, Code>>,
}

const _: () = assert!(ctx::fits::<DcpCtx, DcpState>());

impl Backend for DcpState {
    type Ctx = DcpCtx;
    /// 4,444 B measured for the TEE sealer over the DCP HUK.
    const STACK_SCRUB: usize = 6 * 1024;

    fn shutdown(&mut self) {
        if let Some(source) = self.source.take() {
            // Jobs zero the region when they end; this also clears what an
            // interrupted one left, before the caller gets the memory back.
            let (_regs, mut dma, _delay) = source.into_inner().0.into_inner();
            let _ = trusted_core::DmaRegion::zero(&mut dma);
        }
    }
}

impl Sealer for DcpState {
    const OVERHEAD: Option<usize> = Some(TK_DCP_BLOB_OVERHEAD);

    fn source(&mut self) -> Result<impl TrustSource + '_, Code> {
        self.source.as_mut().ok_or(Code(TK_E_FAILED))
    }
}

impl DcpState {
    fn huk(&mut self) -> Result<HukBytes, Code> {
        if let Some(cached) = &self.huk {
            return cached.clone();
        }
        let (dcp, rng) = self.source.take().ok_or(Code(TK_E_FAILED))?.into_inner();
        let mut provider = DcpHuk::new(dcp);
        let result = provider.hardware_unique_key().map_err(Code::from);
        let mut dcp = provider.into_inner();
        // A failed init derived nothing and can be retried; once the
        // derivation ran, the UNIQUE key is off and the outcome is final.
        if result.is_ok() || dcp.unique_key_disabled() {
            self.huk = Some(result.clone());
        }
        self.source = Some(DcpSource::new(dcp, rng).with_sealing_key(self.sealing_key));
        result
    }
}

#[cfg(not(feature = "dcp-sim"))]
fn regs(base: *mut c_void, _dma: &StaticDma<CCache>) -> Result<Regs, Code> {
    static DCP: ctx::Claim = ctx::Claim::new();
    let claim = DCP.take()?;
    // SAFETY: the init contract: `regs` is the DCP block, mapped as device
    // memory; the claim makes this context its only driver.
    let mmio = unsafe { trusted_core::VolatileMmio::new(base.addr(), hal_dcp::regs::BLOCK_SIZE) };
    Ok(Device::new(mmio, claim))
}

/// A public test key standing in for the fused UNIQUE key: the same as
/// the Rust `imx6ull-dcp` example's, so their blobs open in each other.
#[cfg(feature = "dcp-sim")]
const SIM_UNIQUE_KEY: [u8; 16] = *b"imx6ull-demo-key";

#[cfg(feature = "dcp-sim")]
fn regs(_base: *mut c_void, dma: &StaticDma<CCache>) -> Result<Regs, Code> {
    use hal_dcp::sim::DcpSim;
    static DCP: crate::sim::SimDevice<DcpSim> = crate::sim::SimDevice::new();
    DCP.take(|| DcpSim::new(dma.bus()).with_unique_key(SIM_UNIQUE_KEY))
}

fn make(cfg: &DcpConfig) -> Result<DcpState, Code> {
    check_ptr(cfg.regs.cast::<u32>())?;
    let sealing_key = match cfg.sealing_key {
        TK_DCP_KEY_UNIQUE => SealingKey::Unique,
        TK_DCP_KEY_OTP => SealingKey::Otp,
        _ => return Err(Code(TK_E_INVALID_ARG)),
    };
    let delay = CDelay::new(&cfg.platform)?;
    let rng = CRng::new(&cfg.platform)?;
    let rules = DmaRules {
        min_len: TK_DCP_MIN_DMA_LEN,
        align: TK_DCP_DMA_ALIGN,
        below_4g: true,
    };
    // SAFETY: the init contract hands the region to this context.
    let dma = unsafe { platform::dma_region(&cfg.dma, cfg.platform.user, &rules) }?;
    let regs = regs(cfg.regs, &dma)?;
    let dcp = Dcp::new(regs, dma, delay).map_err(trusted_core::Error::from)?;
    let mut source = DcpSource::new(dcp, rng).with_sealing_key(sealing_key);
    source.init()?;
    Ok(DcpState {
        source: Some(source),
        sealing_key,
        huk: None,
    })
}

/// Takes the DCP for `ctx`: checks `cfg`, resets the block and runs the
/// zero-key self test with the chosen key (as Linux), which refuses an
/// open part's all-zero test key with `TK_E_INSECURE`.
///
/// Errors: `TK_E_NULL` (ctx, cfg, regs, dma.cpu, delay_us or random NULL),
/// `TK_E_ALIGN`, `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`,
/// `TK_E_DMA_SIZE`, `TK_E_DMA_PLACEMENT`, `TK_E_BUSY` (ctx live, or the
/// DCP held by another context), `TK_E_INVALID_ARG` (sealing_key),
/// `TK_E_NO_DEVICE`, `TK_E_TIMEOUT`, `TK_E_INSECURE`.
///
/// # Safety
///
/// `ctx` points to a `tk_dcp_ctx` that is zero or was deinitialised; `cfg`
/// to a config whose header tells its size; the DMA region and the
/// callbacks with `platform.user` stay valid until `tk_dcp_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_dcp_init(ctx: *mut DcpCtx, cfg: *const DcpConfig) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::init(ctx, cfg, make) }
}

/// Releases the DCP: zeroes the DMA region and the context. The context
/// can be initialised again (a "reboot").
///
/// # Safety
///
/// As `tk_dcp_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_dcp_deinit(ctx: *mut DcpCtx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<DcpState>(ctx) }
}

/// Seals `key_len` (32..=128) bytes at `key` into a Linux `trusted_dcp`
/// blob of `key_len + TK_DCP_BLOB_OVERHEAD` bytes at `blob`; `*blob_len`
/// is the buffer's size on entry and the blob's on return.
///
/// # Safety
///
/// `ctx` as for `tk_dcp_init`; `key` points to `key_len` bytes, `blob`
/// to `*blob_len` writable bytes (unless NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_dcp_seal(
    ctx: *mut DcpCtx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::seal::<DcpState>(ctx, key, key_len, blob, blob_len) }
}

/// Unseals a `trusted_dcp` blob into `key`; `*key_len` is the buffer's
/// size on entry (`TK_MAX_KEY_SIZE` always suffices) and the key's on
/// return. On any error but `TK_E_BUFFER_TOO_SMALL` the buffer is zeroed.
/// Wipe the key with `tk_key_wipe` when done.
///
/// # Safety
///
/// As `tk_dcp_seal`, with `blob` readable for `blob_len` bytes and `key`
/// writable for `*key_len`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_dcp_unseal(
    ctx: *mut DcpCtx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::unseal::<DcpState>(ctx, blob, blob_len, key, key_len) }
}

/// OP-TEE's DCP hardware unique key (16 bytes) into `huk`, `*huk_len` in
/// and out. The first call derives it and disables the UNIQUE key until
/// power-up; later calls return the cached value (or the cached failure).
///
/// # Safety
///
/// As `tk_dcp_seal`, with `huk` writable for `*huk_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_dcp_huk(ctx: *mut DcpCtx, huk: *mut u8, huk_len: *mut usize) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::huk(ctx, huk, huk_len, DcpState::huk) }
}
