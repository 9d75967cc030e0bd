//! What the store reports, and how it maps onto [`crate::Error`].

use core::fmt;

use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};

use super::SourceName;
use crate::error::{DriverError, Error};
use crate::key::MAX_BLOB_SIZE;

/// A staging window that cannot be (`new` checked the sizes against it).
pub(super) const STAGING: StoreError =
    StoreError::Layout("READ_SIZE or WRITE_SIZE above 256 bytes");

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
    /// rather than risk it; [`BlobStore::wipe`](super::BlobStore::wipe) is the explicit way out.
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
    /// The slot no longer holds what [`BlobStore::stage`](super::BlobStore::stage) wrote there.
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
    // Out of line: `From` calls it too, and an inlined copy there doubles it.
    #[inline(never)]
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

/// What the store's own reads, programs and erases fail with: one byte
/// wide, so `?` on them is a register test (a [`StoreError`] comes back
/// through memory). It becomes a `StoreError` where it leaves them.
#[derive(Clone, Copy)]
pub(super) enum Fault {
    /// The flash refused; its kind is kept.
    Flash(NorFlashErrorKind),
    /// A staging window that cannot be ([`STAGING`]).
    Staging,
}

impl From<Fault> for StoreError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Flash(kind) => StoreError::Flash(kind),
            Fault::Staging => STAGING,
        }
    }
}

pub(super) fn flash_error<E: NorFlashError>(e: E) -> Fault {
    Fault::Flash(e.kind())
}
