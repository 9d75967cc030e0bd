//! What the C side provides: callbacks (delay, random, cache maintenance,
//! SPI, chip select), the DMA region, and the versioned config header; and
//! the Rust traits the drivers want, implemented on top of them.

use core::ffi::c_void;
use core::fmt;

use embedded_hal::delay::DelayNs;
use trusted_core::rng::fill_or_wipe;
use trusted_core::{CacheOps, StaticDma};

use crate::buf::{check_ptr, wipe};
use crate::error::{
    Code, TK_E_ALIGN, TK_E_CONFIG_SIZE, TK_E_CONFIG_VERSION, TK_E_DMA_PLACEMENT, TK_E_DMA_SIZE,
    TK_E_NULL, TK_OK,
};
use crate::{TK_ABI_VERSION, TK_CONFIG_VERSION};

/// Waits at least `us` microseconds (U-Boot's `udelay`). Every wait on
/// hardware is bounded by a budget of these delays.
pub type DelayUsFn = Option<unsafe extern "C" fn(user: *mut c_void, us: u32)>;

/// Fills `len` bytes at `buf` from the platform's TRNG/DRBG; returns 0 on
/// success, anything else on failure (`TK_E_RNG`).
pub type RandomFn =
    Option<unsafe extern "C" fn(user: *mut c_void, buf: *mut u8, len: usize) -> i32>;

/// Cleans (writes back) or invalidates the data cache for `len` bytes at
/// CPU address `addr` (U-Boot's `flush_dcache_range` /
/// `invalidate_dcache_range`; the range is inside the DMA region).
pub type CacheFn = Option<unsafe extern "C" fn(user: *mut c_void, addr: usize, len: usize)>;

/// Clocks `len` bytes on the TPM's SPI bus with chip select left as it
/// is: sends `tx` (zeros when `tx` is NULL), stores what was received in
/// `rx` (dropped when `rx` is NULL); `tx` and `rx` never overlap. Returns 0
/// on success. U-Boot: `dm_spi_xfer(dev, len * 8, tx, rx, 0)`.
pub type SpiTransferFn =
    Option<unsafe extern "C" fn(user: *mut c_void, tx: *const u8, rx: *mut u8, len: usize) -> i32>;

/// Drives the TPM's chip select: `active` true = asserted (low). Returns 0
/// on success. The driver holds it across a whole TIS frame, wait states
/// included.
pub type ChipSelectFn = Option<unsafe extern "C" fn(user: *mut c_void, active: bool) -> i32>;

/// Callbacks every backend shares. `user` is passed back to each, as is.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// Passed to every callback; the library never dereferences it.
    pub user: *mut c_void,
    /// Required by every backend that waits on hardware (DCP, CAAM, TPM,
    /// STM32MP1); unused by the plain TEE backend.
    pub delay_us: DelayUsFn,
    /// Required where the backend has no RNG of its own (DCP: blob keys
    /// and nonces; STM32MP1 and TEE: IVs); unused by CAAM and TPM.
    pub random: RandomFn,
}

/// Memory reserved for a DMA engine (DCP, CAAM). It belongs to the
/// context from init to deinit: the library writes and zeroes it, the
/// engine reads and writes it by bus address.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Dma {
    /// CPU address of the region.
    pub cpu: *mut c_void,
    /// Length in bytes.
    pub len: usize,
    /// Address the engine sees for `cpu` (equal to it with the MMU off or
    /// an identity map).
    pub bus: u64,
    /// Cache clean before the engine reads; NULL for uncached or coherent
    /// memory.
    pub clean: CacheFn,
    /// Cache invalidate before the CPU reads what the engine wrote; NULL
    /// for uncached or coherent memory.
    pub invalidate: CacheFn,
}

/// The caller's delay as `embedded_hal`'s `DelayNs`, rounding up.
pub(crate) struct CDelay {
    f: unsafe extern "C" fn(user: *mut c_void, us: u32),
    user: *mut c_void,
}

impl CDelay {
    /// The platform's delay; `TK_E_NULL` without one.
    pub(crate) fn new(p: &Platform) -> Result<Self, Code> {
        let f = p.delay_us.ok_or(Code(TK_E_NULL))?;
        Ok(Self { f, user: p.user })
    }

    fn us(&mut self, us: u32) {
        // SAFETY: the init contract: callbacks stay valid with `user` for
        // as long as the context is initialised.
        unsafe { (self.f)(self.user, us) }
    }
}

impl DelayNs for CDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.us(ns.div_ceil(1000));
    }
    fn delay_us(&mut self, us: u32) {
        self.us(us);
    }
    fn delay_ms(&mut self, ms: u32) {
        for _ in 0..ms {
            self.us(1000);
        }
    }
}

/// The random callback failed.
#[derive(Debug)]
pub(crate) struct RngFailed;

impl fmt::Display for RngFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("random callback failed")
    }
}

impl core::error::Error for RngFailed {}

/// The caller's random callback as a `rand_core` RNG.
pub(crate) struct CRng {
    f: unsafe extern "C" fn(user: *mut c_void, buf: *mut u8, len: usize) -> i32,
    user: *mut c_void,
}

impl CRng {
    /// The platform's RNG; `TK_E_NULL` without one.
    pub(crate) fn new(p: &Platform) -> Result<Self, Code> {
        let f = p.random.ok_or(Code(TK_E_NULL))?;
        Ok(Self { f, user: p.user })
    }

    /// Fills `dst` through the callback; zeroed when it fails.
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), RngFailed> {
        fill_or_wipe(dst, |dst| {
            // SAFETY: `dst` is writable for its length; the callback's
            // validity is the init contract.
            match unsafe { (self.f)(self.user, dst.as_mut_ptr(), dst.len()) } {
                0 => Ok(()),
                _ => Err(RngFailed),
            }
        })
    }
}

trusted_core::impl_try_rng_via_fill! {
    impl TryRng for CRng {
        type Error = RngFailed;
    }
}

impl rand_core::TryCryptoRng for CRng {}

/// The caller's cache hooks; a NULL hook does nothing.
pub(crate) struct CCache {
    clean: CacheFn,
    invalidate: CacheFn,
    user: *mut c_void,
}

impl CacheOps for CCache {
    fn clean(&mut self, addr: usize, len: usize) {
        if let Some(f) = self.clean {
            // SAFETY: the init contract.
            unsafe { f(self.user, addr, len) }
        }
    }
    fn invalidate(&mut self, addr: usize, len: usize) {
        if let Some(f) = self.invalidate {
            // SAFETY: the init contract.
            unsafe { f(self.user, addr, len) }
        }
    }
}

/// What a DMA engine accepts.
pub(crate) struct DmaRules {
    /// Smallest region.
    pub(crate) min_len: usize,
    /// Alignment of the CPU and bus address.
    pub(crate) align: usize,
    /// Whether the whole region must sit below 4 GiB (32-bit pointers).
    pub(crate) below_4g: bool,
}

/// The caller's DMA region as a `StaticDma`, checked against `rules`: NULL
/// → `TK_E_NULL`, misaligned → `TK_E_ALIGN`, short →
/// `TK_E_DMA_SIZE`, unreachable or wrapping → `TK_E_DMA_PLACEMENT`.
///
/// # Safety
///
/// `dma.cpu` points to `dma.len` bytes that belong to the context from
/// init to deinit (nothing else reads or writes them meanwhile).
pub(crate) unsafe fn dma_region(
    dma: &Dma,
    user: *mut c_void,
    rules: &DmaRules,
) -> Result<StaticDma<CCache>, Code> {
    let cpu = dma.cpu.cast::<u8>();
    if cpu.is_null() {
        return Err(Code(TK_E_NULL));
    }
    if !cpu.addr().is_multiple_of(rules.align) || !dma.bus.is_multiple_of(rules.align as u64) {
        return Err(Code(TK_E_ALIGN));
    }
    if dma.len < rules.min_len {
        return Err(Code(TK_E_DMA_SIZE));
    }
    let bus_end = dma.bus.checked_add(dma.len as u64);
    let cpu_wraps = cpu.addr().checked_add(dma.len).is_none();
    if cpu_wraps || dma.len > isize::MAX as usize {
        return Err(Code(TK_E_DMA_PLACEMENT));
    }
    match bus_end {
        Some(end) if !rules.below_4g || end <= 1 << 32 => {}
        _ => return Err(Code(TK_E_DMA_PLACEMENT)),
    }
    // SAFETY: non-NULL, does not wrap, at most isize::MAX bytes (checked);
    // the caller hands the region to the context until deinit (contract),
    // so the 'static borrow is the only access meanwhile.
    let buffer: &'static mut [u8] = unsafe { core::slice::from_raw_parts_mut(cpu, dma.len) };
    let cache = CCache {
        clean: dma.clean,
        invalidate: dma.invalidate,
        user,
    };
    Ok(StaticDma::new(buffer, dma.bus, cache))
}

/// A config struct: `size` and `version` first, as two `uint32_t`.
///
/// # Safety
///
/// Implementors are `#[repr(C)]` structs whose first two fields are
/// `size: u32` and `version: u32`.
pub(crate) unsafe trait Versioned {}

/// The caller's config after the header check: NULL → `TK_E_NULL`,
/// misaligned → `TK_E_ALIGN`, version 0 or newer than
/// `TK_CONFIG_VERSION` → `TK_E_CONFIG_VERSION` (decided from the
/// header alone, so a longer future struct is never read), a size that is
/// not this version's → `TK_E_CONFIG_SIZE`.
///
/// # Safety
///
/// Unless NULL, `cfg` points to at least 8 readable bytes, and to a whole
/// `T` when its header says so.
pub(crate) unsafe fn config<'a, T: Versioned>(cfg: *const T) -> Result<&'a T, Code> {
    check_ptr(cfg)?;
    // SAFETY: aligned, non-NULL (checked), and `Versioned` puts two u32s
    // first; only those 8 bytes are read before the checks.
    let [size, version] = unsafe { cfg.cast::<[u32; 2]>().read() };
    if version == 0 || version > TK_CONFIG_VERSION {
        return Err(Code(TK_E_CONFIG_VERSION));
    }
    if size as usize != size_of::<T>() {
        return Err(Code(TK_E_CONFIG_SIZE));
    }
    // SAFETY: the header says a whole `T` of this version is there.
    Ok(unsafe { &*cfg })
}

/// Zeroes `len` bytes at `buf` (a key or HUK the library handed out) in a
/// way the compiler cannot drop. Returns `TK_OK`, or `TK_E_NULL` for a
/// NULL `buf` with a non-zero `len`.
///
/// # Safety
///
/// Unless NULL, `buf` points to `len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tk_key_wipe(buf: *mut c_void, len: usize) -> i32 {
    if len == 0 {
        return TK_OK;
    }
    if buf.is_null() {
        return TK_E_NULL;
    }
    // SAFETY: the caller's contract.
    unsafe { wipe(buf.cast(), len) };
    TK_OK
}

/// This library's C ABI version (`TK_ABI_VERSION` of the header it was
/// built with).
#[unsafe(no_mangle)]
pub extern "C" fn tk_abi_version() -> u32 {
    TK_ABI_VERSION
}
