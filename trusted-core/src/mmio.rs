//! The register seam: every driver talks to its peripheral through [`Mmio`]
//! (plus [`ByteMmio`] where registers are byte-wide).
//!
//! On hardware that is [`VolatileMmio`]; in tests it is a behavioural sim
//! that reacts to writes (a doorbell starts a job) or the plain
//! [`RegisterFile`]. No driver touches a register pointer anywhere else.

/// 32-bit register access to one register block, by byte offset.
///
/// Both calls take `&mut self` because reads have side effects on real
/// peripherals (FIFO pops, clear-on-read status) and on the sims.
pub trait Mmio {
    /// Reads the 32-bit register at `offset` bytes from the block base.
    fn read32(&mut self, offset: usize) -> u32;
    /// Writes the 32-bit register at `offset` bytes from the block base.
    fn write32(&mut self, offset: usize, value: u32);
}

impl<M: Mmio + ?Sized> Mmio for &mut M {
    fn read32(&mut self, offset: usize) -> u32 {
        (**self).read32(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        (**self).write32(offset, value)
    }
}

/// Byte accesses beside [`Mmio`]'s 32-bit ones, for blocks with byte-wide
/// registers: a TIS's ACCESS and STS are written a byte at a time, and every
/// TIS FIFO access moves as many bytes as it is wide, so a command whose
/// length is not a multiple of four cannot go through 32-bit accesses alone.
pub trait ByteMmio: Mmio {
    /// Reads the byte at `offset` bytes from the block base.
    fn read8(&mut self, offset: usize) -> u8;
    /// Writes the byte at `offset` bytes from the block base.
    fn write8(&mut self, offset: usize, value: u8);
}

impl<M: ByteMmio + ?Sized> ByteMmio for &mut M {
    fn read8(&mut self, offset: usize) -> u8 {
        (**self).read8(offset)
    }
    fn write8(&mut self, offset: usize, value: u8) {
        (**self).write8(offset, value)
    }
}

/// Volatile accesses to a register block mapped at a fixed address.
pub struct VolatileMmio {
    base: *mut u32,
    size: usize,
}

// SAFETY: the block is device memory owned by whoever holds this value; moving
// the owner to another context does not create a second accessor.
unsafe impl Send for VolatileMmio {}

impl VolatileMmio {
    /// Wraps the register block at `base`, `size` bytes long.
    ///
    /// # Safety
    ///
    /// `base` must be the 4-byte aligned address of a device register block of
    /// at least `size` bytes, mapped as device memory, and no other code may
    /// access it while this value lives.
    pub const unsafe fn new(base: usize, size: usize) -> Self {
        Self {
            base: base as *mut u32,
            size,
        }
    }

    fn in_block(&self, offset: usize, width: usize) -> bool {
        offset.is_multiple_of(width)
            && offset
                .checked_add(width)
                .is_some_and(|end| end <= self.size)
    }
}

impl Mmio for VolatileMmio {
    /// Reads outside the block or unaligned return 0 instead of faulting.
    fn read32(&mut self, offset: usize) -> u32 {
        if !self.in_block(offset, 4) {
            return 0;
        }
        // SAFETY: `new`'s contract makes base..base+size a register block we
        // own; the offset is aligned and inside it (checked above).
        unsafe { self.base.add(offset / 4).read_volatile() }
    }

    /// Writes outside the block or unaligned are dropped.
    fn write32(&mut self, offset: usize, value: u32) {
        if !self.in_block(offset, 4) {
            return;
        }
        // SAFETY: as in `read32`.
        unsafe { self.base.add(offset / 4).write_volatile(value) }
    }
}

impl ByteMmio for VolatileMmio {
    /// Reads outside the block return 0 instead of faulting.
    fn read8(&mut self, offset: usize) -> u8 {
        if !self.in_block(offset, 1) {
            return 0;
        }
        // SAFETY: `new`'s contract makes base..base+size a register block we
        // own; the byte is inside it (checked above).
        unsafe { self.base.cast::<u8>().add(offset).read_volatile() }
    }

    /// Writes outside the block are dropped.
    fn write8(&mut self, offset: usize, value: u8) {
        if !self.in_block(offset, 1) {
            return;
        }
        // SAFETY: as in `read8`.
        unsafe { self.base.cast::<u8>().add(offset).write_volatile(value) }
    }
}

/// A plain array of `N` registers with no behaviour: what was written is
/// read back. For unit tests of register helpers; drivers are tested
/// against the sims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterFile<const N: usize> {
    /// Register values, index = offset / 4.
    pub words: [u32; N],
}

impl<const N: usize> Default for RegisterFile<N> {
    fn default() -> Self {
        Self { words: [0; N] }
    }
}

impl<const N: usize> Mmio for RegisterFile<N> {
    fn read32(&mut self, offset: usize) -> u32 {
        self.words.get(offset / 4).copied().unwrap_or(0)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        if let Some(word) = self.words.get_mut(offset / 4) {
            *word = value;
        }
    }
}
