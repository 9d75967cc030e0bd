//! DMA buffers for drivers that are made again on every (simulated) boot.
//!
//! `trusted_core::StaticDma` takes a `&'static mut [u8]`; a firmware that
//! drops and re-creates its drivers (as the examples do across the
//! "reboot") needs a fresh one each time. [`dma_buffer`] hands out the slots
//! of a small static pool, each exactly once.

use core::cell::{Cell, UnsafeCell};

use critical_section::Mutex;

/// Bytes per buffer: the DCP wants 1 KiB, the CAAM at least 1664 bytes.
pub const DMA_SLOT: usize = 2048;
/// Buffers in the pool: two boots for each of up to four flows.
pub const DMA_SLOTS: usize = 8;

/// 64-byte aligned (a cache line on Cortex-A7 and A53), so cache
/// maintenance by range on one slot never touches another.
#[repr(C, align(64))]
struct Pool(UnsafeCell<[[u8; DMA_SLOT]; DMA_SLOTS]>);

// SAFETY: the cells are only reached through `dma_buffer`, which hands out
// each slot at most once (see there); no two contexts share a slot.
unsafe impl Sync for Pool {}

static POOL: Pool = Pool(UnsafeCell::new([[0; DMA_SLOT]; DMA_SLOTS]));
static NEXT: Mutex<Cell<usize>> = Mutex::new(Cell::new(0));

/// A fresh, zeroed `DMA_SLOT`-byte buffer, or `None` once the pool is used
/// up. With the MMU off (as under QEMU here) CPU and bus addresses are the
/// same, so `buf.as_ptr() as u64` is the bus address for `StaticDma::new`;
/// caches are off too, so `NoCache` is right. With caches on, map the pool
/// uncached or pass `StaticDma` a `CacheOps` that cleans/invalidates.
pub fn dma_buffer() -> Option<&'static mut [u8]> {
    // The index is taken and advanced inside a critical section rather than
    // with an atomic, because exclusive loads/stores are not guaranteed on
    // memory the MMU has not mapped as Normal (MMU off at reset).
    let index = critical_section::with(|cs| {
        let next = NEXT.borrow(cs);
        let index = next.get();
        (index < DMA_SLOTS).then(|| {
            next.set(index + 1);
            index
        })
    })?;
    let base = POOL.0.get().cast::<[u8; DMA_SLOT]>();
    // SAFETY: `index < DMA_SLOTS`, so the slot is inside the static pool;
    // the critical section above gives every index out exactly once, so
    // this is the only reference to that slot for the rest of the program.
    let slot = unsafe { &mut *base.add(index) };
    Some(slot.as_mut_slice())
}
