//! The DMA seam: memory the integrator reserves for bus masters (CAAM, DCP).
//!
//! Drivers copy inputs into a [`DmaRegion`], ring the doorbell, copy results
//! out and zero the region afterwards; hardware never gets a pointer into
//! caller memory. Both the CPU side ([`StaticDma`]) and the device side
//! ([`DmaBus`], what a sim uses) access the memory only through raw-pointer
//! copies, never through long-lived references, as two bus masters do.

use core::ptr;
use core::sync::atomic::{Ordering, compiler_fence};

use crate::error::{Error, Result};

/// Memory shared with a DMA master, addressed by offset from the CPU side.
pub trait DmaRegion {
    /// Bus address of byte 0 as the DMA master sees it.
    fn bus_address(&self) -> u64;
    /// Length in bytes.
    fn len(&self) -> usize;
    /// True when the region has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies `data` to `offset`.
    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()>;
    /// Copies `out.len()` bytes from `offset` into `out`.
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()>;
    /// Makes CPU writes in the range visible to the device (cache clean).
    fn clean(&mut self, offset: usize, len: usize);
    /// Drops stale cache lines so device writes in the range become visible
    /// to the CPU (cache invalidate).
    fn invalidate(&mut self, offset: usize, len: usize);
    /// Zeroes the whole region and cleans it, so no secret stays behind.
    fn zero(&mut self) -> Result<()>;
}

/// Cache maintenance for a [`StaticDma`] region, by CPU address range.
pub trait CacheOps {
    /// Clean (write back) `len` bytes at `addr`.
    fn clean(&mut self, addr: usize, len: usize);
    /// Invalidate `len` bytes at `addr`.
    fn invalidate(&mut self, addr: usize, len: usize);
}

/// For coherent memory, caches off, or host tests: no maintenance.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCache;

impl CacheOps for NoCache {
    fn clean(&mut self, _addr: usize, _len: usize) {}
    fn invalidate(&mut self, _addr: usize, _len: usize) {}
}

/// A DMA region over a `'static` buffer the integrator reserved, with the
/// bus address of its first byte (CPU and bus addresses differ on SoCs with
/// an offset, and always on a 64-bit host running a 32-bit DCP sim).
pub struct StaticDma<C: CacheOps = NoCache> {
    ptr: *mut u8,
    len: usize,
    bus: u64,
    cache: C,
}

// SAFETY: the region owns its 'static buffer; moving it moves the only CPU-side
// accessor.
unsafe impl<C: CacheOps + Send> Send for StaticDma<C> {}

impl<C: CacheOps> StaticDma<C> {
    /// Takes ownership of `buffer` for DMA; `bus_address` is where the DMA
    /// master sees `buffer[0]`.
    ///
    /// ```
    /// use trusted_core::{DmaRegion, NoCache, StaticDma};
    /// let buffer: &'static mut [u8] = Box::leak(vec![0u8; 256].into_boxed_slice());
    /// let mut dma = StaticDma::new(buffer, 0x8000_0000, NoCache);
    /// dma.write(16, b"abc").unwrap();
    /// assert_eq!(dma.bus().read_u32_le(0x8000_0010).unwrap() & 0xff_ffff, 0x63_6261);
    /// ```
    pub fn new(buffer: &'static mut [u8], bus_address: u64, cache: C) -> Self {
        Self {
            len: buffer.len(),
            ptr: buffer.as_mut_ptr(),
            bus: bus_address,
            cache,
        }
    }

    /// The device-side view for a sim (or a test) to read and write this
    /// region by bus address, as the DMA master does.
    pub fn bus(&self) -> DmaBus {
        DmaBus {
            ptr: self.ptr,
            len: self.len,
            bus: self.bus,
        }
    }

    fn range(&self, offset: usize, len: usize) -> Result<()> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(Error::BufferTooSmall),
        }
    }
}

impl<C: CacheOps> DmaRegion for StaticDma<C> {
    fn bus_address(&self) -> u64 {
        self.bus
    }

    fn len(&self) -> usize {
        self.len
    }

    fn write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.range(offset, data.len())?;
        // SAFETY: offset..offset+len is inside the owned buffer (checked);
        // `data` is caller memory and cannot overlap the region we own.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }

    /// Volatile, byte by byte: the device writes this memory behind the
    /// compiler's back, and a glitch-resistant check that reads a status
    /// word twice must get two reads, not one value compared with itself.
    fn read(&self, offset: usize, out: &mut [u8]) -> Result<()> {
        self.range(offset, out.len())?;
        // SAFETY: offset..offset + out.len() is inside the owned buffer
        // (checked).
        unsafe { copy_volatile(self.ptr.add(offset), out) };
        Ok(())
    }

    /// Also a compiler fence: the CPU's writes are not moved past the
    /// point where the device is told to look.
    fn clean(&mut self, offset: usize, len: usize) {
        compiler_fence(Ordering::SeqCst);
        self.cache.clean(self.ptr as usize + offset, len);
    }

    /// Also a compiler fence: no read of the region is moved before the
    /// point where the device is done.
    fn invalidate(&mut self, offset: usize, len: usize) {
        self.cache.invalidate(self.ptr as usize + offset, len);
        compiler_fence(Ordering::SeqCst);
    }

    fn zero(&mut self) -> Result<()> {
        for i in 0..self.len {
            // SAFETY: i < len, inside the owned buffer; volatile so the
            // compiler cannot drop the wipe of a buffer it thinks is dead.
            unsafe { self.ptr.add(i).write_volatile(0) };
        }
        self.cache.clean(self.ptr as usize, self.len);
        Ok(())
    }
}

/// Copies `out.len()` bytes from `src` with volatile reads, byte by byte;
/// out of line, so every read of every driver shares one loop.
///
/// # Safety
///
/// `src..src + out.len()` must be readable memory that `out` does not
/// overlap.
#[inline(never)]
unsafe fn copy_volatile(src: *const u8, out: &mut [u8]) {
    for (i, byte) in out.iter_mut().enumerate() {
        // SAFETY: i < out.len(), inside the range the caller vouches for.
        *byte = unsafe { src.add(i).read_volatile() };
    }
}

/// The device side of a [`StaticDma`] region: reads and writes by bus
/// address, bounds-checked, as a DMA master would do them. Not `Send`: it
/// lives in the same context as its region.
#[derive(Clone, Copy, Debug)]
pub struct DmaBus {
    ptr: *mut u8,
    len: usize,
    bus: u64,
}

impl DmaBus {
    fn offset(&self, address: u64, len: usize) -> Result<usize> {
        let offset = address.checked_sub(self.bus).ok_or(Error::Transport)?;
        let offset = usize::try_from(offset).map_err(|_| Error::Transport)?;
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(offset),
            _ => Err(Error::Transport),
        }
    }

    /// Copies `out.len()` bytes from bus address `address`; an address
    /// outside the region is a bus error ([`Error::Transport`]).
    pub fn read(&self, address: u64, out: &mut [u8]) -> Result<()> {
        let offset = self.offset(address, out.len())?;
        // SAFETY: the range is inside the region's 'static buffer (checked);
        // copies through raw pointers never alias a live reference.
        unsafe { ptr::copy_nonoverlapping(self.ptr.add(offset), out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copies `data` to bus address `address`.
    pub fn write(&self, address: u64, data: &[u8]) -> Result<()> {
        let offset = self.offset(address, data.len())?;
        // SAFETY: as in `read`.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(offset), data.len()) };
        Ok(())
    }

    /// Reads a little-endian 32-bit word at `address`.
    pub fn read_u32_le(&self, address: u64) -> Result<u32> {
        let mut word = [0u8; 4];
        self.read(address, &mut word)?;
        Ok(u32::from_le_bytes(word))
    }

    /// Writes a little-endian 32-bit word at `address`.
    pub fn write_u32_le(&self, address: u64, value: u32) -> Result<()> {
        self.write(address, &value.to_le_bytes())
    }

    /// True when `address..address+len` lies inside the region.
    pub fn contains(&self, address: u64, len: usize) -> bool {
        self.offset(address, len).is_ok()
    }
}
