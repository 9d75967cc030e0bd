//! Where the slots are and what they hold.

use embedded_storage::nor_flash::NorFlash;

use super::{COMMIT_MARK, HEADER_LEN, SourceName};
use crate::key::{MAX_BLOB_SIZE, SealedBlob};

/// One of the two slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Slot {
    /// The slot at the layout's offset.
    A,
    /// The slot right after slot A.
    B,
}

impl Slot {
    /// The other slot.
    pub const fn other(self) -> Self {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }

    /// `"A"` or `"B"`.
    pub const fn name(self) -> &'static str {
        match self {
            Slot::A => "A",
            Slot::B => "B",
        }
    }
}

/// Where the two slots live: slot A at `offset`, slot B right after it,
/// each `slot_size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StoreLayout {
    /// Start of slot A in the flash; a multiple of `ERASE_SIZE`.
    pub offset: u32,
    /// Bytes per slot; a multiple of `ERASE_SIZE`, at least
    /// [`StoreLayout::min_slot_size`].
    pub slot_size: u32,
}

impl StoreLayout {
    /// Slots of `slot_size` bytes from `offset` (checked by
    /// [`BlobStore::new`](super::BlobStore::new)).
    pub const fn new(offset: u32, slot_size: u32) -> Self {
        Self { offset, slot_size }
    }

    /// The smallest slots for flash `F` from `offset`:
    /// [`StoreLayout::min_slot_size`] bytes each.
    pub const fn compact<F: NorFlash>(offset: u32) -> Self {
        Self {
            offset,
            slot_size: Self::min_slot_size::<F>() as u32,
        }
    }

    /// The commit unit, header and a [`MAX_BLOB_SIZE`] blob, rounded up to
    /// whole erase sectors: `round_up(commit_len + round_up(32 + 512,
    /// WRITE_SIZE), ERASE_SIZE)`, where `commit_len` is 8 rounded up to
    /// `WRITE_SIZE`. (0 for a flash whose sizes are 0.)
    pub const fn min_slot_size<F: NorFlash>() -> usize {
        let need = commit_len(F::WRITE_SIZE) + round_up(HEADER_LEN + MAX_BLOB_SIZE, F::WRITE_SIZE);
        round_up(need, F::ERASE_SIZE)
    }

    /// Flash bytes the store takes: two slots.
    pub const fn flash_bytes(&self) -> u64 {
        2 * self.slot_size as u64
    }
}

/// `n` rounded up to a multiple of `unit` (`n` itself for a unit of 0).
pub(super) const fn round_up(n: usize, unit: usize) -> usize {
    if unit == 0 {
        return n;
    }
    n.div_ceil(unit) * unit
}

/// Length of the commit unit: the 8-byte mark in whole write units.
pub(super) const fn commit_len(write_size: usize) -> usize {
    round_up(COMMIT_MARK.len(), write_size)
}

/// A committed slot that verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SlotInfo {
    /// Sequence number: the higher of two valid slots is current.
    pub seq: u32,
    /// Blob length in bytes.
    pub blob_len: usize,
    /// The trust source that sealed the blob.
    pub source: SourceName,
    /// The header's CRC-32.
    pub crc: u32,
}

/// What one slot holds, as [`BlobStore::status`](super::BlobStore::status) reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SlotState {
    /// Erased (commit unit and header all ones).
    Erased,
    /// Not committed: a write that was cut short or not yet proven. The
    /// next write may reuse it.
    Uncommitted,
    /// Committed, and header and blob verify.
    Valid(SlotInfo),
    /// Committed in a newer format (its CRC verifies).
    Future {
        /// Its format version.
        version: u16,
        /// Its sequence number.
        seq: u32,
    },
    /// Committed, but header or blob do not verify; the text says which.
    Corrupt(&'static str),
}

impl SlotState {
    /// Sequence number of a slot that counts for ordering (valid or future).
    pub(super) fn ordered_seq(&self) -> Option<u32> {
        match self {
            SlotState::Valid(info) => Some(info.seq),
            SlotState::Future { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// A committed blob that does not verify.
    pub fn is_corrupt(&self) -> bool {
        matches!(self, SlotState::Corrupt(_))
    }
}

/// The current blob, as [`BlobStore::read`](super::BlobStore::read) found it.
#[derive(Debug, PartialEq, Eq)]
pub struct Stored {
    /// The sealed blob.
    pub blob: SealedBlob,
    /// Its slot.
    pub slot: Slot,
    /// Its sequence number.
    pub seq: u32,
    /// True when a slot was passed over because it did not verify: the
    /// store has one good copy left (a re-seal writes a second).
    pub fell_back: bool,
}

/// A blob written by [`BlobStore::stage`](super::BlobStore::stage) and not yet committed.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a staged blob is not current until it is committed"]
pub struct Pending {
    pub(super) slot: Slot,
    pub(super) info: SlotInfo,
}

impl Pending {
    /// The slot it was written to.
    pub fn slot(&self) -> Slot {
        self.slot
    }

    /// The sequence number it will be current with.
    pub fn seq(&self) -> u32 {
        self.info.seq
    }
}
