//! The key store: sealed blobs in two slots (A/B) of a [`NorFlash`], safe
//! against power failure at any point of a write.
//!
//! # Slot format (version 1)
//!
//! Each slot starts at an erase-sector boundary and holds, in order:
//!
//! | bytes | what |
//! |---|---|
//! | `commit_len` | the commit mark: [`COMMIT_MARK`] repeated, `8` rounded up to `WRITE_SIZE` |
//! | 32 | the header, little endian: magic `TKBS`, format version (u16), header length (u16), sequence number (u32), blob length (u32), source name (8 bytes, zero padded), reserved (u32, 0), CRC-32 |
//! | blob length | the sealed blob, padded with `0xFF` to `WRITE_SIZE` |
//!
//! The CRC-32 (zlib's, `CRC_32_ISO_HDLC`) is always the last four bytes of the
//! header and covers the rest of the header and the blob. Magic, version,
//! header length, sequence number and blob length keep their offsets in every
//! later version, so a header of a future version can still be verified (and
//! then refused as [`StoreError::FutureVersion`] instead of being mistaken for
//! corruption).
//!
//! # Writing (stage, prove, commit)
//!
//! A write goes to the slot that does not hold the current blob: erase it
//! sector by sector, program header and blob, read them back and compare
//! ([`BlobStore::stage`]). The caller may then read the staged blob back and
//! prove it (the [`crate::flow`] unseals it); only [`BlobStore::commit`]
//! programs the commit mark, and from then on the slot is current by its
//! higher sequence number. Every flash word is programmed once per erase, as
//! `NorFlash` requires.
//!
//! The commit mark tells a slot whose write never finished (power cut during
//! erase or program, or before the proof: *free*, reused by the next write)
//! from a committed slot that went bad later (*corrupt*): the store never
//! erases a corrupt slot while it is the only copy, and refuses to provision
//! over it ([`StoreError::OnlyCopyCorrupt`], [`StoreError::BothCorrupt`]).
//! A mark that lost some of its zero bits (power cut during the commit itself)
//! still counts as committed: the data under it had been proven already.
//!
//! # Reading
//!
//! [`BlobStore::read`] takes the newest committed slot whose CRC verifies,
//! copies it into RAM and verifies the copy again, and falls back to the other
//! slot when the newest does not verify.
//!
//! Erase, write and read granularity come from the flash's `ERASE_SIZE`,
//! `WRITE_SIZE` and `READ_SIZE`; all buffers are on the stack (one 256-byte
//! staging buffer, so `READ_SIZE` and `WRITE_SIZE` must be at most 256).
//!
//! # Limits
//!
//! - A cell whose programming was cut short may read differently from one
//!   boot to the next (a weak bit). The store verifies the RAM copy it hands
//!   out a second time, but a slot that verifies on one boot and not on the
//!   next moves the device between the new key and the old one (both are
//!   outcomes a cut may have); the power-cut tests model cut states that read
//!   back the same every time.
//! - The CRC finds accidents, not attacks. Whoever can write the flash can
//!   damage the newest slot so that the older blob is used, or write an old
//!   blob back. After a [`crate::flow::reseal`] that tightens a policy, the
//!   older blob stays in the other slot, still unsealable under the old
//!   policy, until the next write replaces it; where that matters, bind the
//!   policy to a monotonic counter (TPM NV), or erase the older slot with
//!   [`BlobStore::retire_older`].

mod error;
mod format;
mod read;
mod slot;

use embedded_storage::nor_flash::NorFlash;

use crate::key::{MAX_BLOB_SIZE, SealedBlob};

pub use error::StoreError;
pub use format::{COMMIT_MARK, FORMAT_VERSION, HEADER_LEN, MAGIC, SOURCE_NAME_LEN, SourceName};
pub use slot::{Pending, Slot, SlotInfo, SlotState, StoreLayout, Stored};

use error::{Fault, flash_error};
use format::{OFF_CRC, array, encode_header, image_at};
use read::Commit;
use slot::{commit_len, round_up};

/// Staging buffer for reads and writes, on the stack.
const STAGE: usize = 256;

/// The A/B blob store over a `NorFlash`.
///
/// ```
/// use trusted_core::store::{BlobStore, StoreLayout};
/// # type Ram = trusted_core::test_util::RamNor<1, 4, 1024>; // the board's NorFlash
/// // Two 1 KiB slots: 8 bytes of commit mark, 32 of header, up to 512 of blob.
/// assert_eq!(StoreLayout::min_slot_size::<Ram>(), 1024);
/// let mut store = BlobStore::new(Ram::new(2048), StoreLayout::compact::<Ram>(0))?;
/// assert!(store.read("tee")?.is_none());
/// store.write("tee", &[0xb1; 65])?;
/// let stored = store.read("tee")?.unwrap();
/// assert_eq!((stored.seq, stored.blob.len()), (1, 65));
/// # Ok::<(), trusted_core::store::StoreError>(())
/// ```
pub struct BlobStore<F: NorFlash> {
    flash: F,
    layout: StoreLayout,
}

impl<F: NorFlash> BlobStore<F> {
    /// The store over `flash` in `layout`. Checks the layout against the
    /// flash's constants: slots aligned to `ERASE_SIZE`, big enough for a
    /// commit unit, the header and a 512-byte blob, inside the flash, and
    /// `READ_SIZE`/`WRITE_SIZE` that divide `ERASE_SIZE` and fit the 256-byte
    /// staging buffer. Touches no flash.
    pub fn new(flash: F, layout: StoreLayout) -> Result<Self, StoreError> {
        let (read, write, erase) = (F::READ_SIZE, F::WRITE_SIZE, F::ERASE_SIZE);
        if read == 0 || write == 0 || erase == 0 {
            return Err(StoreError::Layout("flash READ/WRITE/ERASE_SIZE of 0"));
        }
        if read > STAGE || write > STAGE {
            return Err(StoreError::Layout(
                "READ_SIZE or WRITE_SIZE above the 256-byte staging buffer",
            ));
        }
        if !erase.is_multiple_of(read) || !erase.is_multiple_of(write) {
            return Err(StoreError::Layout(
                "ERASE_SIZE is not a multiple of READ_SIZE and WRITE_SIZE",
            ));
        }
        let (offset, slot_size) = (layout.offset as usize, layout.slot_size as usize);
        if !offset.is_multiple_of(erase) || !slot_size.is_multiple_of(erase) {
            return Err(StoreError::Layout(
                "offset and slot size must be multiples of ERASE_SIZE",
            ));
        }
        if slot_size < StoreLayout::min_slot_size::<F>() {
            return Err(StoreError::Layout(
                "slot too small for commit unit, header and a 512-byte blob",
            ));
        }
        let end = u64::from(layout.offset) + layout.flash_bytes();
        if end > flash.capacity() as u64 || end > u64::from(u32::MAX) {
            return Err(StoreError::Layout("slots extend past the end of the flash"));
        }
        Ok(Self { flash, layout })
    }

    /// The layout.
    pub fn layout(&self) -> StoreLayout {
        self.layout
    }

    /// The flash back (a "reboot" builds a new store over it).
    pub fn into_inner(self) -> F {
        self.flash
    }

    /// The flash, for the integrator's other uses of it.
    pub fn flash_mut(&mut self) -> &mut F {
        &mut self.flash
    }

    /// What each slot holds, `[A, B]`.
    pub fn status(&mut self) -> Result<[SlotState; 2], StoreError> {
        let mut states = [SlotState::Erased; 2];
        self.inspect_both(&mut states)?;
        Ok(states)
    }

    /// [`BlobStore::status`] into the caller's array: `read` and `stage`
    /// test a one-byte error instead of moving a result out.
    fn inspect_both(&mut self, states: &mut [SlotState; 2]) -> Result<(), Fault> {
        let [a, b] = states;
        self.inspect(Slot::A, a)?;
        self.inspect(Slot::B, b)
    }

    /// The current blob of trust source `source`: the newest committed slot
    /// that verifies (read into RAM and verified again there), or the other
    /// slot when it does not. `Ok(None)` when nothing was ever committed.
    ///
    /// Errors: [`StoreError::WrongSource`] when the current blob was sealed by
    /// another source, [`StoreError::FutureVersion`] when the newest slot is
    /// of a newer format, [`StoreError::BothCorrupt`] /
    /// [`StoreError::OnlyCopyCorrupt`] when committed data exists but none
    /// verifies.
    pub fn read(&mut self, source: &str) -> Result<Option<Stored>, StoreError> {
        let name = SourceName::new(source);
        let mut states = [SlotState::Erased; 2];
        self.inspect_both(&mut states)?;
        let mut bad = states.iter().filter(|s| s.is_corrupt()).count();
        let newest = newest(&states);
        for slot in [newest, newest.other()] {
            let info = match slot_state(&states, slot) {
                SlotState::Future { version, .. } => {
                    return Err(StoreError::FutureVersion(*version));
                }
                SlotState::Valid(info) => info,
                // Does not count (erased, uncommitted, corrupt).
                _ => continue,
            };
            if name != Some(info.source) {
                return Err(StoreError::WrongSource {
                    stored: info.source,
                });
            }
            match self.load(slot, info) {
                Ok(blob) => {
                    crate::debug!("key store: current blob in slot {=str}", slot.name());
                    return Ok(Some(Stored {
                        blob,
                        slot,
                        seq: info.seq,
                        fell_back: bad > 0,
                    }));
                }
                // Verified once, not on the copy: bits that read back
                // differently (a weak, half-programmed cell). Try the other.
                Err(StoreError::NotStaged) => bad += 1,
                Err(e) => return Err(e),
            }
        }
        match bad {
            0 => Ok(None),
            1 => Err(StoreError::OnlyCopyCorrupt),
            _ => Err(StoreError::BothCorrupt),
        }
    }

    /// Writes `blob` of `source` to the slot that does not hold the current
    /// blob (erase, program, read back and compare), uncommitted: the current
    /// blob stays current until [`BlobStore::commit`].
    ///
    /// Refuses (touching nothing) when the newest slot is of a future
    /// format, or when no slot verifies and a committed one is corrupt: that
    /// slot may be the only copy of a key.
    pub fn stage(&mut self, source: &str, blob: &[u8]) -> Result<Pending, StoreError> {
        let name = SourceName::new(source).ok_or(StoreError::SourceName)?;
        if blob.is_empty() || blob.len() > MAX_BLOB_SIZE {
            return Err(StoreError::BlobLength(blob.len()));
        }
        let mut states = [SlotState::Erased; 2];
        self.inspect_both(&mut states)?;
        let newest = newest(&states);
        let (slot, seq) = match slot_state(&states, newest) {
            SlotState::Future { version, .. } => return Err(StoreError::FutureVersion(*version)),
            SlotState::Valid(info) => {
                let seq = info.seq.checked_add(1);
                (newest.other(), seq.ok_or(StoreError::SequenceExhausted)?)
            }
            // `newest` counts only when valid or future: none does.
            _ => match states.iter().filter(|s| s.is_corrupt()).count() {
                0 => (Slot::A, 1),
                1 => return Err(StoreError::OnlyCopyCorrupt),
                _ => return Err(StoreError::BothCorrupt),
            },
        };
        let header = encode_header(seq, blob, name);
        crate::debug!(
            "key store: staging {=usize} bytes as #{=u32} in slot {=str}",
            blob.len(),
            seq,
            slot.name()
        );
        self.erase_slot(slot)?;
        let image = self.base(slot) + commit_len(F::WRITE_SIZE) as u32;
        let image_len = round_up(HEADER_LEN + blob.len(), F::WRITE_SIZE);
        let mut stage = [0u8; STAGE];
        let chunk = STAGE - STAGE % F::WRITE_SIZE;
        let mut pos = 0;
        while pos < image_len {
            let n = chunk.min(image_len - pos);
            let buf = stage.get_mut(..n).ok_or(Fault::Staging)?;
            for (i, d) in buf.iter_mut().enumerate() {
                *d = image_at(&header, blob, pos + i);
            }
            self.flash
                .write(image + pos as u32, buf)
                .map_err(flash_error)?;
            pos += n;
        }
        let mut same = true;
        let mut pos = 0;
        self.visit(image, image_len, &mut |bytes| {
            for b in bytes {
                same &= image_at(&header, blob, pos) == *b;
                pos += 1;
            }
        })?;
        if !same {
            crate::warning!("key store: slot {=str} read back differs", slot.name());
            return Err(StoreError::VerifyFailed);
        }
        Ok(Pending {
            slot,
            info: SlotInfo {
                seq,
                blob_len: blob.len(),
                source: name,
                crc: u32::from_le_bytes(array(&header, OFF_CRC)),
            },
        })
    }

    /// The blob [`BlobStore::stage`] wrote, read back from flash and verified,
    /// for the caller to prove (unseal) before committing it.
    pub fn read_pending(&mut self, pending: &Pending) -> Result<SealedBlob, StoreError> {
        self.load(pending.slot, &pending.info)
    }

    /// Makes a staged blob current: checks the slot still holds it, programs
    /// the commit mark and reads the mark back. Returns its sequence number.
    pub fn commit(&mut self, pending: Pending) -> Result<u32, StoreError> {
        self.load(pending.slot, &pending.info)?;
        let at = self.base(pending.slot);
        let len = commit_len(F::WRITE_SIZE);
        let mut unit = [0u8; STAGE];
        let unit = unit.get_mut(..len).ok_or(Fault::Staging)?;
        unit.iter_mut()
            .zip(COMMIT_MARK.iter().cycle())
            .for_each(|(d, s)| *d = *s);
        self.flash.write(at, unit).map_err(flash_error)?;
        if self.commit_state(pending.slot)? != Commit::Exact {
            return Err(StoreError::VerifyFailed);
        }
        crate::debug!(
            "key store: slot {=str} committed as #{=u32}",
            pending.slot.name(),
            pending.info.seq
        );
        Ok(pending.info.seq)
    }

    /// [`BlobStore::stage`] and [`BlobStore::commit`] in one, without a
    /// proof in between. Returns the new sequence number.
    pub fn write(&mut self, source: &str, blob: &[u8]) -> Result<u32, StoreError> {
        let pending = self.stage(source, blob)?;
        self.commit(pending)
    }

    /// Erases the slot that does not hold the current blob, e.g. after a
    /// re-seal that tightened a policy, so the older blob cannot be used any
    /// more. Only after the current blob of `source` verifies; nothing to do
    /// on an empty store. Leaves a single copy until the next write.
    pub fn retire_older(&mut self, source: &str) -> Result<(), StoreError> {
        match self.read(source)? {
            Some(current) => Ok(self.erase_slot(current.slot.other())?),
            None => Ok(()),
        }
    }

    /// Erases both slots: **destroys the stored keys**. Only for a device
    /// that is being re-provisioned on purpose, e.g. after
    /// [`StoreError::OnlyCopyCorrupt`] once the data it protected is given up.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        crate::warning!("key store: wiping both slots");
        self.erase_slot(Slot::A)?;
        Ok(self.erase_slot(Slot::B)?)
    }

    fn base(&self, slot: Slot) -> u32 {
        match slot {
            Slot::A => self.layout.offset,
            // Fits: `new` checked offset + 2 * slot_size <= u32::MAX.
            Slot::B => self.layout.offset + self.layout.slot_size,
        }
    }

    /// Erases `slot` one sector at a time, first sector (commit mark) first:
    /// an erase cut short leaves whole sectors old or new, and the mark goes
    /// before the data it vouches for.
    fn erase_slot(&mut self, slot: Slot) -> Result<(), Fault> {
        let base = self.base(slot);
        let sector = F::ERASE_SIZE as u32;
        let mut at = base;
        while at < base + self.layout.slot_size {
            self.flash.erase(at, at + sector).map_err(flash_error)?;
            at += sector;
        }
        Ok(())
    }
}

fn slot_state(states: &[SlotState; 2], slot: Slot) -> &SlotState {
    let [a, b] = states;
    match slot {
        Slot::A => a,
        Slot::B => b,
    }
}

/// The slot with the higher sequence number among those that count (valid
/// or future format); A on a tie (which the store never writes) and when
/// none counts.
fn newest(states: &[SlotState; 2]) -> Slot {
    let [a, b] = states;
    // `None` orders below every `Some`.
    if b.ordered_seq() > a.ordered_seq() {
        Slot::B
    } else {
        Slot::A
    }
}
