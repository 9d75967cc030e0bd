//! [`RamFlash`]: the board's NOR flash under QEMU, for
//! `trusted_core::store::BlobStore`.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash, check_erase, check_read, check_write,
};

/// One 4 KiB sector per store slot (the erase size of common SPI NOR).
const SECTOR: usize = 4096;
const SIZE: usize = 2 * SECTOR;

/// 8 KiB of RAM behaving like NOR flash: two 4 KiB sectors, 4-byte words;
/// erase sets 0xFF, programming only clears bits, misaligned or
/// out-of-range accesses are refused as a flash driver refuses them.
pub struct RamFlash {
    bytes: [u8; SIZE],
}

impl Default for RamFlash {
    fn default() -> Self {
        Self {
            bytes: [0xff; SIZE],
        }
    }
}

impl ErrorType for RamFlash {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        let start = offset as usize;
        let src = self
            .bytes
            .get(start..start + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        SIZE
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = SECTOR;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        let range = self
            .bytes
            .get_mut(from as usize..to as usize)
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        range.fill(0xff);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        let start = offset as usize;
        let dst = self
            .bytes
            .get_mut(start..start + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        dst.iter_mut().zip(bytes).for_each(|(d, s)| *d &= *s);
        Ok(())
    }
}
