//! The RNGB of the i.MX6ULL/6SL/6SLL (`hal_dcp::Rngb`): the SoC's true
//! random number generator, for the `platform.random` callback of the
//! DCP and TEE backends (the DCP has no RNG of its own) and for new keys.
//!
//! ```c
//! static tk_rngb_ctx rngb;                    /* zeroed: static storage */
//!
//! int32_t board_trng(void *user, uint8_t *buf, size_t len)
//! {
//!     (void)user;
//!     return tk_rngb_random(&rngb, buf, len) == TK_OK ? 0 : -1;
//! }
//!
//! tk_rngb_config cfg = { .size = sizeof(cfg), .version = TK_CONFIG_VERSION,
//!                        .regs = (void *)0x02284000,
//!                        .platform = { .delay_us = board_udelay } };
//! int rc = tk_rngb_init(&rngb, &cfg);         /* self test, then seeding */
//! ```
//!
//! Init probes `VER_ID`, resets the block, runs its self test and its
//! seeding (each bounded) and turns on automatic reseeding; a failure is
//! an error, never bytes of a half-seeded generator.

use core::ffi::c_void;

use hal_dcp::Rngb;

use crate::buf::check_ptr;
use crate::ctx::{self, Backend, Device};
use crate::error::Code;
use crate::ops;
use crate::platform::{CDelay, Platform, Versioned};

/// RNGB base on i.MX6ULL (reference manual memory map; DT `rng@2284000`).
pub const TK_RNGB_BASE_IMX6ULL: usize = 0x0228_4000;

const _: () = assert!(TK_RNGB_BASE_IMX6ULL == hal_dcp::regs::rngb::BASE_IMX6ULL);
/// Bytes of a `tk_rngb_ctx`.
pub const TK_RNGB_CTX_SIZE: usize = 64;

/// How to reach the RNGB. `size` and `version` first: set them to
/// `sizeof(tk_rngb_config)` and `TK_CONFIG_VERSION`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct RngbConfig {
    /// `sizeof(tk_rngb_config)`.
    pub size: u32,
    /// `TK_CONFIG_VERSION`.
    pub version: u32,
    /// RNGB register base (`TK_RNGB_BASE_IMX6ULL`), mapped as device
    /// memory. Sim builds check it but use the model.
    pub regs: *mut c_void,
    /// `delay_us` is required; `random` is unused.
    pub platform: Platform,
}

// SAFETY: repr(C), `size` and `version` first.
unsafe impl Versioned for RngbConfig {}

/// Opaque storage for one RNGB context; zero it before the first init.
#[repr(C, align(8))]
pub struct RngbCtx {
    /// Not to be touched by the caller.
    pub _opaque: [u8; TK_RNGB_CTX_SIZE],
}

#[cfg(not(feature = "dcp-sim"))]
type Regs = Device<trusted_core::VolatileMmio>;
#[cfg(feature = "dcp-sim")]
type Regs = Device<&'static mut hal_dcp::sim::RngbSim>;

/// The RNGB's context state: the seeded driver.
pub(crate) struct RngbState {
    rngb: Rngb<Regs, CDelay>,
}

const _: () = assert!(ctx::fits::<RngbCtx, RngbState>());

impl Backend for RngbState {
    type Ctx = RngbCtx;
    /// Random bytes pass through a 64-byte chunk and the FIFO words.
    const STACK_SCRUB: usize = 1024;
}

#[cfg(not(feature = "dcp-sim"))]
fn regs(base: *mut c_void) -> Result<Regs, Code> {
    static RNGB: ctx::Claim = ctx::Claim::new();
    let claim = RNGB.take()?;
    // SAFETY: the init contract: `regs` is the RNGB block, mapped as
    // device memory; the claim makes this context its only driver.
    let mmio =
        unsafe { trusted_core::VolatileMmio::new(base.addr(), hal_dcp::regs::rngb::BLOCK_SIZE) };
    Ok(Device::new(mmio, claim))
}

/// The model's output is a function of this seed (SplitMix64): a model
/// of the RNGB's behaviour, not entropy.
#[cfg(feature = "dcp-sim")]
const SIM_SEED: u64 = 0x6011_dc90_0000_00c1;

#[cfg(feature = "dcp-sim")]
fn regs(_base: *mut c_void) -> Result<Regs, Code> {
    use hal_dcp::sim::RngbSim;
    static RNGB: crate::sim::SimDevice<RngbSim> = crate::sim::SimDevice::new();
    RNGB.take(|| RngbSim::new().with_seed(SIM_SEED))
}

fn make(cfg: &RngbConfig) -> Result<RngbState, Code> {
    check_ptr(cfg.regs.cast::<u32>())?;
    let delay = CDelay::new(&cfg.platform)?;
    let mut rngb = Rngb::new(regs(cfg.regs)?, delay);
    rngb.init()
        .map_err(|e| Code::from(trusted_core::Error::from(e)))?;
    Ok(RngbState { rngb })
}

/// Claims the RNGB, self-tests and seeds it.
///
/// Errors: `TK_E_NULL` (ctx, cfg, regs or delay_us NULL), `TK_E_ALIGN`,
/// `TK_E_CONFIG_VERSION`, `TK_E_CONFIG_SIZE`, `TK_E_BUSY` (ctx live, or
/// the RNGB held by another context), `TK_E_NO_DEVICE` (no RNGB at
/// `regs`), `TK_E_HARDWARE` (self test or seeding failed),
/// `TK_E_TIMEOUT`.
///
/// # Safety
///
/// `ctx` points to a `tk_rngb_ctx` that is zero or was deinitialised;
/// `cfg` to a config whose header tells its size; the callbacks with
/// `platform.user` stay valid until `tk_rngb_deinit`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_rngb_init(ctx: *mut RngbCtx, cfg: *const RngbConfig) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ops::init(ctx, cfg, make) }
}

/// Releases the RNGB and zeroes the context.
///
/// # Safety
///
/// As `tk_rngb_init`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_rngb_deinit(ctx: *mut RngbCtx) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::deinit::<RngbState>(ctx) }
}

/// Fills exactly `len` bytes at `out` from the RNGB's FIFO; on failure
/// (an error status, a FIFO that stays empty past its bound) what was
/// written is zeroed again.
///
/// # Safety
///
/// `ctx` as for `tk_rngb_init`; `out` writable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_rngb_random(ctx: *mut RngbCtx, out: *mut u8, len: usize) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        ops::random::<RngbState>(ctx, out, len, |s, buf| {
            s.rngb
                .fill(buf)
                .map_err(|e| Code::from(trusted_core::Error::from(e)))
        })
    }
}
