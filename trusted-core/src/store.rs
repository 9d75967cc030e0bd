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

use core::fmt;

use crc::{CRC_32_ISO_HDLC, Crc, NoTable};
use embedded_storage::nor_flash::{NorFlash, NorFlashError, NorFlashErrorKind};

use crate::error::{DriverError, Error};
use crate::key::{MAX_BLOB_SIZE, SealedBlob};

/// First four header bytes: "trusted-keys blob store".
pub const MAGIC: [u8; 4] = *b"TKBS";
/// The slot format this code writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Header length of format version 1.
pub const HEADER_LEN: usize = 32;
/// Longest trust-source name a header holds (`tpm`, `tee`, `caam`, `dcp`).
pub const SOURCE_NAME_LEN: usize = 8;
/// The commit mark, repeated over the commit unit: as many one bits as zero
/// bits, so neither an erased unit (all ones) nor a pre-programmed one (all
/// zeros, left by an erase cut short) can pass for it.
pub const COMMIT_MARK: [u8; 8] = [0x5a, 0xa5, 0x3c, 0xc3, 0x96, 0x69, 0x0f, 0xf0];

/// Longest header a future format may have and still be verified here.
const MAX_HEADER_LEN: usize = 256;
/// The smallest header a future format may have: the fixed fields and CRC.
const MIN_HEADER_LEN: usize = 20;
/// Staging buffer for reads and writes, on the stack.
const STAGE: usize = 256;
/// A staging window that cannot be (`new` checked the sizes against it).
const STAGING: StoreError = StoreError::Layout("READ_SIZE or WRITE_SIZE above 256 bytes");

const OFF_VERSION: usize = 4;
const OFF_HEADER_LEN: usize = 6;
const OFF_SEQ: usize = 8;
const OFF_BLOB_LEN: usize = 12;
const OFF_SOURCE: usize = 16;
const OFF_CRC: usize = HEADER_LEN - 4;

/// zlib's CRC-32, bit by bit: a store header is checked once per boot, so
/// the 1 KiB table is not worth its flash.
const CRC32: Crc<u32, NoTable> = Crc::<u32, NoTable>::new(&CRC_32_ISO_HDLC);

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

/// A trust-source name as a header stores it: up to 8 bytes, zero padded.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceName([u8; SOURCE_NAME_LEN]);

impl SourceName {
    /// `name` padded with zeros; `None` when empty, longer than 8 bytes or
    /// containing a NUL.
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > SOURCE_NAME_LEN {
            return None;
        }
        // One pass copies and looks for a NUL (`contains` would link a
        // word-at-a-time search for at most eight bytes).
        let mut out = [0u8; SOURCE_NAME_LEN];
        let mut nul = false;
        for (o, b) in out.iter_mut().zip(bytes) {
            nul |= *b == 0;
            *o = *b;
        }
        (!nul).then_some(Self(out))
    }

    /// The name; `"?"` for bytes that are not UTF-8 (a header from
    /// elsewhere).
    pub fn as_str(&self) -> &str {
        let len = self
            .0
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(SOURCE_NAME_LEN);
        self.0
            .get(..len)
            .and_then(|b| core::str::from_utf8(b).ok())
            .unwrap_or("?")
    }
}

impl fmt::Debug for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SourceName {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}

/// What the store reports. Never holds key material (blobs are sealed).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StoreError {
    /// The flash refused an operation; its `NorFlashErrorKind` is kept.
    Flash(NorFlashErrorKind),
    /// The layout does not fit the flash; the text says why.
    Layout(&'static str),
    /// Both slots hold a committed blob and neither verifies. Nothing is
    /// erased: a repair tool may still read them.
    BothCorrupt,
    /// No slot verifies, and one holds a committed blob that does not: the
    /// only copy of the key is damaged. The store refuses to write a new blob
    /// rather than risk it; [`BlobStore::wipe`] is the explicit way out.
    OnlyCopyCorrupt,
    /// The current blob was sealed by another trust source.
    WrongSource {
        /// The source named in the slot header.
        stored: SourceName,
    },
    /// The current blob was written in a newer slot format (a later
    /// firmware); this firmware neither reads nor overwrites it.
    FutureVersion(u16),
    /// Flash read back after programming differs from what was programmed
    /// (the slot stays uncommitted, the current blob untouched).
    VerifyFailed,
    /// A blob of 0 or more than [`MAX_BLOB_SIZE`] bytes.
    BlobLength(usize),
    /// A source name that is empty, longer than 8 bytes or holds a NUL.
    SourceName,
    /// The sequence number cannot grow any more (after 2^32 - 1 writes).
    SequenceExhausted,
    /// The slot no longer holds what [`BlobStore::stage`] wrote there.
    NotStaged,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Flash(kind) => write!(f, "key store flash error: {kind}"),
            StoreError::Layout(why) => write!(f, "key store layout: {why}"),
            StoreError::BothCorrupt => f.write_str("key store: both slots corrupt"),
            StoreError::OnlyCopyCorrupt => {
                f.write_str("key store: the only stored blob is corrupt; refusing to overwrite it")
            }
            StoreError::WrongSource { stored } => {
                write!(f, "key store: blob sealed by trust source {stored}")
            }
            StoreError::FutureVersion(v) => {
                write!(
                    f,
                    "key store: slot format version {v} is newer than this firmware"
                )
            }
            StoreError::VerifyFailed => {
                f.write_str("key store: flash read back differs from what was programmed")
            }
            StoreError::BlobLength(len) => {
                write!(f, "key store: blob of {len} bytes (1..={MAX_BLOB_SIZE})")
            }
            StoreError::SourceName => f.write_str("key store: source name must be 1..=8 bytes"),
            StoreError::SequenceExhausted => f.write_str("key store: sequence number exhausted"),
            StoreError::NotStaged => f.write_str("key store: slot no longer holds the staged blob"),
        }
    }
}

impl core::error::Error for StoreError {}

impl DriverError for StoreError {
    fn kind(&self) -> Error {
        match self {
            StoreError::Flash(_) => Error::Transport,
            StoreError::Layout(why) => Error::InvalidArgument(why),
            StoreError::BothCorrupt => Error::BlobFormat("key store: both slots corrupt"),
            StoreError::OnlyCopyCorrupt => {
                Error::BlobFormat("key store: the only stored blob is corrupt")
            }
            StoreError::WrongSource { .. } => {
                Error::BlobFormat("key store: blob of another trust source")
            }
            StoreError::FutureVersion(_) => {
                Error::Unsupported("key store slot format newer than this firmware")
            }
            StoreError::VerifyFailed => {
                Error::Malformed("flash read back differs from what was programmed")
            }
            StoreError::BlobLength(_) => Error::BlobLength,
            StoreError::SourceName => Error::InvalidArgument("source name must be 1..=8 bytes"),
            StoreError::SequenceExhausted => Error::Unsupported("key store sequence exhausted"),
            StoreError::NotStaged => Error::InvalidArgument("slot no longer holds the staged blob"),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        e.kind()
    }
}

fn flash_error<E: NorFlashError>(e: E) -> StoreError {
    StoreError::Flash(e.kind())
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
    /// [`BlobStore::new`]).
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
const fn round_up(n: usize, unit: usize) -> usize {
    if unit == 0 {
        return n;
    }
    n.div_ceil(unit) * unit
}

/// Length of the commit unit: the 8-byte mark in whole write units.
const fn commit_len(write_size: usize) -> usize {
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

/// What one slot holds, as [`BlobStore::status`] reports it.
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
    fn ordered_seq(&self) -> Option<u32> {
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

/// The current blob, as [`BlobStore::read`] found it.
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

/// A blob written by [`BlobStore::stage`] and not yet committed.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a staged blob is not current until it is committed"]
pub struct Pending {
    slot: Slot,
    info: SlotInfo,
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
        Ok([self.inspect(Slot::A)?, self.inspect(Slot::B)?])
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
        let states = self.status()?;
        let mut bad = states.iter().filter(|s| s.is_corrupt()).count();
        for slot in newest_first(&states) {
            let state = slot_state(&states, slot);
            if let SlotState::Future { version, .. } = state {
                return Err(StoreError::FutureVersion(version));
            }
            let SlotState::Valid(info) = state else {
                continue;
            };
            if SourceName::new(source) != Some(info.source) {
                return Err(StoreError::WrongSource {
                    stored: info.source,
                });
            }
            match self.load(slot, &info) {
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
        let states = self.status()?;
        let (slot, seq) = match newest_first(&states).next() {
            Some(newest) => match slot_state(&states, newest) {
                SlotState::Future { version, .. } => {
                    return Err(StoreError::FutureVersion(version));
                }
                state => {
                    let seq = state.ordered_seq().unwrap_or(0);
                    let seq = seq.checked_add(1).ok_or(StoreError::SequenceExhausted)?;
                    (newest.other(), seq)
                }
            },
            None => match states.iter().filter(|s| s.is_corrupt()).count() {
                0 => (Slot::A, 1),
                1 => return Err(StoreError::OnlyCopyCorrupt),
                _ => return Err(StoreError::BothCorrupt),
            },
        };
        let header = encode_header(seq, blob, name);
        let crc = crc_of(&header, blob);
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
            let buf = stage.get_mut(..n).ok_or(STAGING)?;
            buf.iter_mut()
                .zip(image_bytes(&header, blob).skip(pos))
                .for_each(|(d, s)| *d = s);
            self.flash
                .write(image + pos as u32, buf)
                .map_err(flash_error)?;
            pos += n;
        }
        let mut same = true;
        let mut expected = image_bytes(&header, blob);
        self.visit(image, image_len, |bytes| {
            for b in bytes {
                same &= expected.next() == Some(*b);
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
                crc,
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
        let unit = unit.get_mut(..len).ok_or(STAGING)?;
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
            Some(current) => self.erase_slot(current.slot.other()),
            None => Ok(()),
        }
    }

    /// Erases both slots: **destroys the stored keys**. Only for a device
    /// that is being re-provisioned on purpose, e.g. after
    /// [`StoreError::OnlyCopyCorrupt`] once the data it protected is given up.
    pub fn wipe(&mut self) -> Result<(), StoreError> {
        crate::warning!("key store: wiping both slots");
        self.erase_slot(Slot::A)?;
        self.erase_slot(Slot::B)
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
    fn erase_slot(&mut self, slot: Slot) -> Result<(), StoreError> {
        let base = self.base(slot);
        let sector = F::ERASE_SIZE as u32;
        let mut at = base;
        while at < base + self.layout.slot_size {
            self.flash.erase(at, at + sector).map_err(flash_error)?;
            at += sector;
        }
        Ok(())
    }

    /// Reads `len` bytes at `addr` (anywhere, any length) in aligned
    /// `READ_SIZE` windows through the staging buffer, handing each piece to
    /// `f` in order.
    fn visit(&mut self, addr: u32, len: usize, mut f: impl FnMut(&[u8])) -> Result<(), StoreError> {
        let start = addr as usize;
        let window = STAGE - STAGE % F::READ_SIZE;
        let mut stage = [0u8; STAGE];
        let mut pos = start - start % F::READ_SIZE;
        let mut done = 0;
        while done < len {
            let skip = start + done - pos;
            let want = len - done;
            let win_len = round_up(skip + want, F::READ_SIZE).min(window);
            let buf = stage.get_mut(..win_len).ok_or(STAGING)?;
            self.flash.read(pos as u32, buf).map_err(flash_error)?;
            let piece = buf.get(skip..).unwrap_or(&[]);
            let piece = piece.get(..want.min(piece.len())).ok_or(STAGING)?;
            if piece.is_empty() {
                return Err(STAGING);
            }
            f(piece);
            done += piece.len();
            pos += win_len;
        }
        Ok(())
    }

    fn read_into(&mut self, addr: u32, out: &mut [u8]) -> Result<(), StoreError> {
        let mut rest: &mut [u8] = out;
        let mut overrun = false;
        self.visit(addr, rest.len(), |piece| {
            match core::mem::take(&mut rest).split_at_mut_checked(piece.len()) {
                Some((head, tail)) => {
                    head.copy_from_slice(piece);
                    rest = tail;
                }
                None => overrun = true,
            }
        })?;
        if overrun { Err(STAGING) } else { Ok(()) }
    }

    fn commit_state(&mut self, slot: Slot) -> Result<Commit, StoreError> {
        let mut marked = true;
        let mut exact = true;
        let mut erased = true;
        let mut mark = COMMIT_MARK.iter().cycle();
        let at = self.base(slot);
        self.visit(at, commit_len(F::WRITE_SIZE), |bytes| {
            for (b, m) in bytes.iter().zip(&mut mark) {
                // Programming only clears bits: a mark cut short has all
                // of the mark's one bits and some of its zero bits.
                marked &= b & m == *m;
                exact &= b == m;
                erased &= *b == 0xff;
            }
        })?;
        Ok(match (exact, marked && !erased, erased) {
            (true, _, _) => Commit::Exact,
            (false, true, _) => Commit::Partial,
            (false, false, true) => Commit::Erased,
            (false, false, false) => Commit::Garbage,
        })
    }

    /// Classifies `slot`, verifying header and blob by CRC (streamed from
    /// flash, any format version).
    fn inspect(&mut self, slot: Slot) -> Result<SlotState, StoreError> {
        let commit = self.commit_state(slot)?;
        let at = self.base(slot) + commit_len(F::WRITE_SIZE) as u32;
        let mut header = [0u8; HEADER_LEN];
        self.read_into(at, &mut header)?;
        match commit {
            Commit::Exact | Commit::Partial => {}
            Commit::Erased if header.iter().all(|b| *b == 0xff) => return Ok(SlotState::Erased),
            Commit::Erased | Commit::Garbage => return Ok(SlotState::Uncommitted),
        }
        if header.get(..4) != Some(&MAGIC[..]) {
            return Ok(SlotState::Corrupt("bad magic"));
        }
        let version = u16::from_le_bytes(array(&header, OFF_VERSION));
        let header_len = usize::from(u16::from_le_bytes(array(&header, OFF_HEADER_LEN)));
        let seq = u32::from_le_bytes(array(&header, OFF_SEQ));
        let blob_len = u32::from_le_bytes(array(&header, OFF_BLOB_LEN)) as usize;
        let room = self.layout.slot_size as usize - commit_len(F::WRITE_SIZE);
        let fits = (MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len)
            && header_len.is_multiple_of(4)
            && blob_len <= room.saturating_sub(header_len);
        if version == 0 || !fits || (version == FORMAT_VERSION && header_len != HEADER_LEN) {
            return Ok(SlotState::Corrupt("header fields out of range"));
        }
        // CRC over everything but the header's last four bytes, from flash.
        let crc_at = header_len - 4;
        let mut stored = [0u8; 4];
        self.read_into(at + crc_at as u32, &mut stored)?;
        let mut digest = CRC32.digest();
        let mut covered = 0;
        self.visit(at, header_len + blob_len, |bytes| {
            for b in bytes {
                if !(crc_at..header_len).contains(&covered) {
                    digest.update(core::slice::from_ref(b));
                }
                covered += 1;
            }
        })?;
        if digest.finalize() != u32::from_le_bytes(stored) {
            return Ok(SlotState::Corrupt("CRC mismatch"));
        }
        if version > FORMAT_VERSION {
            return Ok(SlotState::Future { version, seq });
        }
        if blob_len == 0 || blob_len > MAX_BLOB_SIZE {
            return Ok(SlotState::Corrupt("blob length out of range"));
        }
        Ok(SlotState::Valid(SlotInfo {
            seq,
            blob_len,
            source: SourceName(array(&header, OFF_SOURCE)),
            crc: u32::from_le_bytes(stored),
        }))
    }

    /// Reads header and blob of `slot` into RAM and checks them against
    /// `info` and the CRC again (a second read: weak bits that verified once
    /// need not verify twice). [`StoreError::NotStaged`] when they differ.
    fn load(&mut self, slot: Slot, info: &SlotInfo) -> Result<SealedBlob, StoreError> {
        let at = self.base(slot) + commit_len(F::WRITE_SIZE) as u32;
        let mut header = [0u8; HEADER_LEN];
        self.read_into(at, &mut header)?;
        let mut blob =
            SealedBlob::zeroed(info.blob_len).map_err(|_| StoreError::BlobLength(info.blob_len))?;
        self.read_into(at + HEADER_LEN as u32, blob.as_mut_bytes())?;
        let expected = encode_header(info.seq, blob.as_bytes(), info.source);
        let crc = crc_of(&header, blob.as_bytes());
        let stored = u32::from_le_bytes(array(&header, OFF_CRC));
        if header != expected || crc != stored || crc != info.crc {
            return Err(StoreError::NotStaged);
        }
        Ok(blob)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Commit {
    /// The mark exactly.
    Exact,
    /// The mark's one bits and some of its zero bits: a commit cut short.
    Partial,
    /// All ones.
    Erased,
    /// Anything else (an erase cut short, foreign data).
    Garbage,
}

fn slot_state(states: &[SlotState; 2], slot: Slot) -> SlotState {
    let [a, b] = states;
    match slot {
        Slot::A => *a,
        Slot::B => *b,
    }
}

/// Slots that count (valid or future format), newest first; A first on a
/// tie (which the store never writes).
fn newest_first(states: &[SlotState; 2]) -> impl Iterator<Item = Slot> {
    let [a, b] = states.map(|s| s.ordered_seq());
    let order = match (a, b) {
        (Some(a), Some(b)) if b > a => [Some(Slot::B), Some(Slot::A)],
        (Some(_), Some(_)) => [Some(Slot::A), Some(Slot::B)],
        (Some(_), None) => [Some(Slot::A), None],
        (None, Some(_)) => [Some(Slot::B), None],
        (None, None) => [None, None],
    };
    order.into_iter().flatten()
}

/// `N` bytes of `bytes` at `at` (zeros past the end, which the fixed
/// header offsets never reach).
fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// The version-1 header of `blob`, CRC included.
fn encode_header(seq: u32, blob: &[u8], source: SourceName) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    // Field by field at constant offsets: straight stores, smaller than a
    // loop over a table of fields.
    put(&mut header, 0, &MAGIC);
    put(&mut header, OFF_VERSION, &FORMAT_VERSION.to_le_bytes());
    put(
        &mut header,
        OFF_HEADER_LEN,
        &(HEADER_LEN as u16).to_le_bytes(),
    );
    put(&mut header, OFF_SEQ, &seq.to_le_bytes());
    put(
        &mut header,
        OFF_BLOB_LEN,
        &(blob.len() as u32).to_le_bytes(),
    );
    put(&mut header, OFF_SOURCE, &source.0);
    let crc = crc_of(&header, blob);
    put(&mut header, OFF_CRC, &crc.to_le_bytes());
    header
}

/// Writes `value` into `header` at `at` (the fixed offsets always fit).
fn put(header: &mut [u8; HEADER_LEN], at: usize, value: &[u8]) {
    if let Some(field) = header.get_mut(at..at + value.len()) {
        field.copy_from_slice(value);
    }
}

/// CRC-32 over a version-1 header (without its CRC field) and the blob.
fn crc_of(header: &[u8; HEADER_LEN], blob: &[u8]) -> u32 {
    let mut digest = CRC32.digest();
    digest.update(header.get(..OFF_CRC).unwrap_or(&[]));
    digest.update(blob);
    digest.finalize()
}

/// The slot image after the commit unit: header, blob, then `0xFF` padding
/// (programming `0xFF` leaves erased bits as they are).
fn image_bytes<'a>(header: &'a [u8; HEADER_LEN], blob: &'a [u8]) -> impl Iterator<Item = u8> + 'a {
    header
        .iter()
        .chain(blob)
        .copied()
        .chain(core::iter::repeat(0xff))
}
