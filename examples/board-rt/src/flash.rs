//! The blob store: a length-prefixed record at the start of a `NorFlash`.
//! [`RamFlash`] stands in for the board's flash under QEMU.

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use trusted_core::{Error, MAX_BLOB_SIZE, SealedBlob};

const SIZE: usize = 4096;

/// 4 KiB of RAM behaving like NOR flash: erase sets 0xFF, writes only clear bits.
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

/// Flash access outside the device or misaligned.
#[derive(Debug)]
pub struct FlashError(NorFlashErrorKind);

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        self.0
    }
}

impl ErrorType for RamFlash {
    type Error = FlashError;
}

impl ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        let start = offset as usize;
        let src = self
            .bytes
            .get(start..start + bytes.len())
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        bytes.copy_from_slice(src);
        Ok(())
    }
    fn capacity(&self) -> usize {
        SIZE
    }
}

impl NorFlash for RamFlash {
    const WRITE_SIZE: usize = 1;
    const ERASE_SIZE: usize = SIZE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        let range = self
            .bytes
            .get_mut(from as usize..to as usize)
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        range.fill(0xff);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        let start = offset as usize;
        let dst = self
            .bytes
            .get_mut(start..start + bytes.len())
            .ok_or(FlashError(NorFlashErrorKind::OutOfBounds))?;
        dst.iter_mut().zip(bytes).for_each(|(d, s)| *d &= *s);
        Ok(())
    }
}

/// A sealed blob kept at offset 0 of a flash: LE16 length, then the blob.
/// An erased length (0xFFFF) means "empty".
pub struct BlobStore {
    flash: RamFlash,
}

impl BlobStore {
    /// An empty (erased) store.
    pub fn new(flash: RamFlash) -> Self {
        Self { flash }
    }

    /// The stored blob, or `None` on an erased store.
    pub fn read(&mut self) -> Result<Option<SealedBlob>, Error> {
        let mut len = [0u8; 2];
        self.flash.read(0, &mut len).map_err(|_| Error::Transport)?;
        let len = u16::from_le_bytes(len) as usize;
        if len == 0xffff {
            return Ok(None);
        }
        if len > MAX_BLOB_SIZE {
            return Err(Error::BlobLength);
        }
        let mut blob = SealedBlob::zeroed(len)?;
        self.flash
            .read(2, blob.as_mut_bytes())
            .map_err(|_| Error::Transport)?;
        Ok(Some(blob))
    }

    /// Erases the store and writes `blob`.
    pub fn write(&mut self, blob: &[u8]) -> Result<(), Error> {
        let len = u16::try_from(blob.len()).map_err(|_| Error::BlobLength)?;
        self.flash
            .erase(0, SIZE as u32)
            .map_err(|_| Error::Transport)?;
        self.flash
            .write(0, &len.to_le_bytes())
            .map_err(|_| Error::Transport)?;
        self.flash.write(2, blob).map_err(|_| Error::Transport)
    }
}
