//! Memory-mapped TIS (TCG PC Client PTP, FIFO interface): the TPM's
//! registers at base + locality × 4 KiB, as QEMU's `tpm-tis-device` on
//! `virt` and the PC TIS window at 0xFED4_0000 place them. [`MmioTis`]
//! gives [`crate::Tis`] the same register access [`crate::SpiTis`] gives
//! it on SPI, so the FIFO protocol above is one code path.

use crate::error::{Error, Result};
use crate::regs::{LOCALITIES, LOCALITY_WINDOW, SPI_MAX_FRAME, is_fifo};
use crate::tis::TisAccess;

/// The byte half of the register access, beside [`trusted_core::Mmio`]:
/// defined in trusted-core (the sim implements it too, and imports no
/// driver code), re-exported so `hal_tpm_spi::ByteMmio` still names it.
/// Implemented for `trusted_core::VolatileMmio` (the real register block,
/// as `examples/tpm-spi` uses on QEMU `virt`) and the sim's
/// `sim::SimMmio`; another `Mmio` needs volatile byte accesses of its own.
pub use trusted_core::ByteMmio;

/// [`TisAccess`] over a memory-mapped TIS; the [`ByteMmio`] block starts at
/// the TIS base and covers the five 4 KiB locality windows (20 KiB).
///
/// Accesses are the widths TIS defines: a FIFO offset (`TPM_DATA_FIFO`,
/// `TPM_XDATA_FIFO`) takes one byte access at that offset per byte; a run
/// of whole aligned 32-bit registers (DID_VID, INTF_CAPABILITY) takes
/// 32-bit accesses; anything else (ACCESS, STS, burstCount, RID) takes byte
/// accesses at consecutive offsets.
pub struct MmioTis<M> {
    mmio: M,
}

impl<M: ByteMmio> MmioTis<M> {
    /// The TIS whose five locality windows `mmio` maps from its offset 0.
    pub const fn new(mmio: M) -> Self {
        Self { mmio }
    }

    /// The register block back.
    pub fn into_inner(self) -> M {
        self.mmio
    }

    /// The register block, e.g. to inspect a sim.
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.mmio
    }
}

/// Where `offset` of `locality` is in the block, for an access of `len`
/// bytes (all of a FIFO access stays at `offset`).
fn window(locality: u8, offset: u16, len: usize) -> Result<usize> {
    let span = if is_fifo(offset) { 1 } else { len.max(1) };
    if locality >= LOCALITIES || usize::from(offset) + span > LOCALITY_WINDOW {
        return Err(Error::InvalidArgument(&"TIS register outside the window"));
    }
    Ok(usize::from(locality) * LOCALITY_WINDOW + usize::from(offset))
}

/// True when `len` bytes at `at` are whole aligned 32-bit registers.
fn whole_words(at: usize, len: usize) -> bool {
    len > 0 && at.is_multiple_of(4) && len.is_multiple_of(4)
}

impl<M: ByteMmio> TisAccess for MmioTis<M> {
    /// Bursts of at most 64 bytes, as on SPI (burstCount bounds each one
    /// anyway).
    const MAX_TRANSFER: usize = SPI_MAX_FRAME;

    fn read(&mut self, locality: u8, offset: u16, buf: &mut [u8]) -> Result<()> {
        let at = window(locality, offset, buf.len())?;
        if is_fifo(offset) {
            buf.iter_mut().for_each(|b| *b = self.mmio.read8(at));
        } else if whole_words(at, buf.len()) {
            for (i, word) in buf.chunks_exact_mut(4).enumerate() {
                word.copy_from_slice(&self.mmio.read32(at + 4 * i).to_le_bytes());
            }
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = self.mmio.read8(at + i);
            }
        }
        Ok(())
    }

    fn write(&mut self, locality: u8, offset: u16, data: &[u8]) -> Result<()> {
        let at = window(locality, offset, data.len())?;
        if is_fifo(offset) {
            data.iter().for_each(|&b| self.mmio.write8(at, b));
        } else if whole_words(at, data.len()) {
            for (i, word) in data.chunks_exact(4).enumerate() {
                if let &[a, b, c, d] = word {
                    self.mmio
                        .write32(at + 4 * i, u32::from_le_bytes([a, b, c, d]));
                }
            }
        } else {
            for (i, &b) in data.iter().enumerate() {
                self.mmio.write8(at + i, b);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use trusted_core::Mmio;

    use super::*;
    use crate::regs::{
        TPM_ACCESS, TPM_DATA_FIFO, TPM_DID_VID, TPM_INT_ENABLE, TPM_STS, TPM_STS_BURST,
        TPM_XDATA_FIFO,
    };

    /// One access the TIS mapping made.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Op {
        Read8(usize),
        Write8(usize, u8),
        Read32(usize),
        Write32(usize, u32),
    }

    /// Five locality windows of plain bytes (no TIS behaviour: the
    /// mapping is under test), logging every access with its width.
    struct Model {
        bytes: Vec<u8>,
        log: Vec<Op>,
    }

    impl Model {
        fn new() -> Self {
            Self {
                bytes: vec![0; 5 * LOCALITY_WINDOW],
                log: Vec::new(),
            }
        }
    }

    impl Mmio for Model {
        fn read32(&mut self, offset: usize) -> u32 {
            self.log.push(Op::Read32(offset));
            u32::from_le_bytes(self.bytes[offset..offset + 4].try_into().unwrap())
        }
        fn write32(&mut self, offset: usize, value: u32) {
            self.log.push(Op::Write32(offset, value));
            self.bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        }
    }

    impl ByteMmio for Model {
        fn read8(&mut self, offset: usize) -> u8 {
            self.log.push(Op::Read8(offset));
            self.bytes[offset]
        }
        fn write8(&mut self, offset: usize, value: u8) {
            self.log.push(Op::Write8(offset, value));
            self.bytes[offset] = value;
        }
    }

    #[test]
    fn byte_registers_take_byte_accesses_in_their_locality_window() {
        let mut tis = MmioTis::new(Model::new());
        tis.regs_mut().bytes[0x2000] = 0xA1;
        tis.regs_mut().bytes[0x19..0x1B].copy_from_slice(&[0x40, 0x01]);
        let mut access = [0u8; 1];
        tis.read(2, TPM_ACCESS, &mut access).unwrap();
        tis.write(3, TPM_STS, &[0x40]).unwrap();
        let mut burst = [0u8; 2];
        tis.read(0, TPM_STS_BURST, &mut burst).unwrap();
        assert_eq!(access, [0xA1]);
        assert_eq!(burst, [0x40, 0x01]);
        assert_eq!(
            tis.into_inner().log,
            [
                Op::Read8(0x2000),
                Op::Write8(0x3018, 0x40),
                Op::Read8(0x19),
                Op::Read8(0x1A)
            ]
        );
    }

    #[test]
    fn whole_registers_take_32_bit_accesses() {
        let mut tis = MmioTis::new(Model::new());
        tis.regs_mut().bytes[0xF00..0xF04].copy_from_slice(&[0x57, 0x73, 0x01, 0x00]);
        let mut did_vid = [0u8; 4];
        tis.read(0, TPM_DID_VID, &mut did_vid).unwrap();
        tis.write(1, TPM_INT_ENABLE, &[1, 2, 3, 4]).unwrap();
        assert_eq!(did_vid, [0x57, 0x73, 0x01, 0x00]);
        assert_eq!(
            tis.into_inner().log,
            [Op::Read32(0xF00), Op::Write32(0x1008, 0x0403_0201)]
        );
    }

    #[test]
    fn every_fifo_byte_is_one_byte_access_at_the_fifo() {
        let mut tis = MmioTis::new(Model::new());
        tis.write(0, TPM_DATA_FIFO, &[1, 2, 3, 4, 5]).unwrap();
        let mut rsp = [0u8; 3];
        tis.read(4, TPM_XDATA_FIFO, &mut rsp).unwrap();
        let log = tis.into_inner().log;
        assert_eq!(
            log[..5],
            [1, 2, 3, 4, 5].map(|b| Op::Write8(TPM_DATA_FIFO.into(), b))
        );
        assert_eq!(log[5..], [Op::Read8(0x4080); 3]);
    }

    #[test]
    fn accesses_outside_the_windows_are_refused() {
        let mut tis = MmioTis::new(Model::new());
        let bad = Err(Error::InvalidArgument(&"TIS register outside the window"));
        assert_eq!(tis.read(5, TPM_ACCESS, &mut [0u8; 1]), bad);
        assert_eq!(tis.read(0, 0xFFF, &mut [0u8; 2]), bad);
        assert_eq!(tis.write(0, 0xFFE, &[0; 4]), bad);
        assert!(tis.regs_mut().log.is_empty());
        tis.read(4, 0xFFC, &mut [0u8; 4]).unwrap();
        assert_eq!(tis.into_inner().log, [Op::Read32(0x4FFC)]);
    }
}
