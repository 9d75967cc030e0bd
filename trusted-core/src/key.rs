//! Plain keys and sealed blobs, with the limits and hex forms of Linux's
//! `trusted` key type (include/keys/trusted-type.h).

use core::fmt;

use heapless::Vec;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::{Error, Result};

/// Smallest key `new N` accepts (Linux `MIN_KEY_SIZE`).
pub const MIN_KEY_SIZE: usize = 32;
/// Largest key `new N` accepts (Linux `MAX_KEY_SIZE`).
pub const MAX_KEY_SIZE: usize = 128;
/// Largest sealed blob (Linux `MAX_BLOB_SIZE`).
pub const MAX_BLOB_SIZE: usize = 512;

/// A plain symmetric key of 32..=128 bytes.
///
/// Zeroed on drop, compared in constant time, and its `Debug` shows only the
/// length, so a log line can never carry the secret.
///
/// ```
/// use trusted_core::Key;
/// let key = Key::from_slice(&[7u8; 32]).unwrap();
/// assert_eq!(key.len(), 32);
/// assert!(Key::from_slice(&[0u8; 31]).is_err());
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Key {
    bytes: [u8; MAX_KEY_SIZE],
    /// A `u32`, not a `u8`: it makes the key word-aligned with no padding
    /// (so the zeroization on drop covers every byte), and a move of a
    /// `Key`, or of a `Result` holding one, word copies instead of byte
    /// loads and shifts on strict-alignment targets (aarch64-unknown-none).
    len: u32,
}

impl Key {
    /// Copies `bytes` into a new key; fails unless 32..=128 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut key = Self::zeroed(bytes.len())?;
        key.as_mut_bytes().copy_from_slice(bytes);
        Ok(key)
    }

    /// An all-zero key of `len` bytes, to be filled in place (by an RNG or an
    /// unseal) so the secret is never copied through a temporary.
    pub fn zeroed(len: usize) -> Result<Self> {
        if !(MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&len) {
            return Err(Error::KeyLength);
        }
        Ok(Self {
            bytes: [0; MAX_KEY_SIZE],
            len: len as u32,
        })
    }

    /// Parses lowercase or uppercase hex (no separators) into a key.
    pub fn from_hex(hex: &str) -> Result<Self> {
        if !hex.len().is_multiple_of(2) {
            return Err(Error::Hex);
        }
        let mut key = Self::zeroed(hex.len() / 2)?;
        hex_decode(hex.as_bytes(), key.as_mut_bytes())?;
        Ok(key)
    }

    /// Key length in bytes (32..=128).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len()).unwrap_or(&[])
    }

    /// The key bytes, writable (for filling in place).
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        let len = self.len();
        self.bytes.get_mut(..len).unwrap_or(&mut [])
    }

    /// Writes the key as lowercase hex; for host tools only, never for logs.
    pub fn write_hex(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write_hex(self.as_bytes(), out)
    }
}

impl ConstantTimeEq for Key {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // Lengths are public; contents are compared without early exit.
        self.len.ct_eq(&other.len) & self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Key {}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({} bytes, redacted)", self.len)
    }
}

/// An opaque sealed blob of at most 512 bytes, as `keyctl pipe` prints it.
///
/// `Display` gives the exact `keyctl pipe` text (lowercase hex, no newline);
/// [`SealedBlob::from_hex`] reads what `keyctl add trusted NAME "load HEX"`
/// takes.
///
/// ```
/// use trusted_core::SealedBlob;
/// let blob = SealedBlob::from_hex("00A0ff").unwrap();
/// assert_eq!(blob.as_bytes(), &[0x00, 0xa0, 0xff]);
/// assert_eq!(blob.to_string(), "00a0ff");
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SealedBlob {
    bytes: Vec<u8, MAX_BLOB_SIZE>,
}

impl SealedBlob {
    /// Copies `bytes` into a blob; fails when longer than 512 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        Vec::from_slice(bytes)
            .map(|bytes| Self { bytes })
            .map_err(|_| Error::BlobLength)
    }

    /// A zero-filled blob of `len` bytes, to be written in place by a sealer.
    pub fn zeroed(len: usize) -> Result<Self> {
        let mut bytes = Vec::new();
        bytes.resize(len, 0).map_err(|_| Error::BlobLength)?;
        Ok(Self { bytes })
    }

    /// Parses hex exactly as Linux `load` does: the length is `len / 2`
    /// (an odd trailing nibble is ignored), either case is accepted, and more
    /// than 512 bytes is an error.
    pub fn from_hex(hex: &str) -> Result<Self> {
        let len = hex.len() / 2;
        if len > MAX_BLOB_SIZE {
            return Err(Error::BlobLength);
        }
        let mut blob = Self::zeroed(len)?;
        let digits = hex.as_bytes().get(..len * 2).ok_or(Error::Hex)?;
        hex_decode(digits, blob.as_mut_bytes())?;
        Ok(blob)
    }

    /// The blob bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The blob bytes, writable.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Blob length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for a blob of zero bytes.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl fmt::Display for SealedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hex(&self.bytes, f)
    }
}

impl fmt::Debug for SealedBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedBlob({self})")
    }
}

/// Decodes hex digits (either case) into `out`; `digits` must be exactly
/// twice as long as `out`.
pub fn hex_decode(digits: &[u8], out: &mut [u8]) -> Result<()> {
    if digits.len() != out.len() * 2 {
        return Err(Error::Hex);
    }
    for (pair, byte) in digits.chunks_exact(2).zip(out.iter_mut()) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi)?, nibble(*lo)?),
            _ => return Err(Error::Hex),
        };
        *byte = (hi << 4) | lo;
    }
    Ok(())
}

fn nibble(c: u8) -> Result<u8> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(Error::Hex),
    }
}

/// Writes `bytes` as lowercase hex, as Linux `hex_byte_pack` does.
pub fn write_hex(bytes: &[u8], out: &mut impl fmt::Write) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(out, "{b:02x}"))
}
