//! The memory-mapped side of the model: its registers as a TIS block at
//! locality × 4 KiB, for [`crate::MmioTis`] (as QEMU's `tpm-tis-device`).

use core::cell::RefCell;

use trusted_core::{ByteMmio, Mmio};

use super::{TpmBackend, TpmSim};
use crate::regs::LOCALITY_WINDOW;

/// The sim's registers as a memory-mapped TIS block: locality L at
/// L × 4 KiB, one model register access per byte (so a 32-bit FIFO
/// access moves four FIFO bytes, as on QEMU).
pub struct SimMmio<'a, B, const TRACE: usize = 0>(pub &'a RefCell<TpmSim<B, TRACE>>);

/// (locality, offset in its window) of a block offset; a locality past
/// the last reads as 0xFF, which the model treats as no locality.
fn split(offset: usize) -> (u8, u16) {
    let locality = u8::try_from(offset / LOCALITY_WINDOW).unwrap_or(u8::MAX);
    let within = u16::try_from(offset % LOCALITY_WINDOW).unwrap_or(u16::MAX);
    (locality, within)
}

impl<B: TpmBackend, const TRACE: usize> Mmio for SimMmio<'_, B, TRACE> {
    fn read32(&mut self, offset: usize) -> u32 {
        u32::from_le_bytes([0, 1, 2, 3].map(|i| self.read8(offset + i)))
    }
    fn write32(&mut self, offset: usize, value: u32) {
        for (i, b) in value.to_le_bytes().into_iter().enumerate() {
            self.write8(offset + i, b);
        }
    }
}

impl<B: TpmBackend, const TRACE: usize> ByteMmio for SimMmio<'_, B, TRACE> {
    fn read8(&mut self, offset: usize) -> u8 {
        let (locality, offset) = split(offset);
        self.0.borrow_mut().read_register(locality, offset)
    }
    fn write8(&mut self, offset: usize, value: u8) {
        let (locality, offset) = split(offset);
        self.0.borrow_mut().write_register(locality, offset, value);
    }
}
