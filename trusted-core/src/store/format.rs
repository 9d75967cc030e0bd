//! The slot format, version 1: the constants, the source name and the
//! header with its CRC (the layout table is in the [module docs](super)).

use core::fmt;

use crc::{CRC_32_ISO_HDLC, Crc, NoTable};

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
pub(super) const MAX_HEADER_LEN: usize = 256;
/// The smallest header a future format may have: the fixed fields and CRC.
pub(super) const MIN_HEADER_LEN: usize = 20;

pub(super) const OFF_VERSION: usize = 4;
pub(super) const OFF_HEADER_LEN: usize = 6;
pub(super) const OFF_SEQ: usize = 8;
pub(super) const OFF_BLOB_LEN: usize = 12;
pub(super) const OFF_SOURCE: usize = 16;
pub(super) const OFF_CRC: usize = HEADER_LEN - 4;

/// zlib's CRC-32, bit by bit: a store header is checked once per boot, so
/// the 1 KiB table is not worth its flash.
pub(super) const CRC32: Crc<u32, NoTable> = Crc::<u32, NoTable>::new(&CRC_32_ISO_HDLC);

/// A trust-source name as a header stores it: up to 8 bytes, zero padded.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceName(pub(super) [u8; SOURCE_NAME_LEN]);

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

/// `N` bytes of `bytes` at `at` (zeros past the end, which the fixed
/// header offsets never reach).
pub(super) fn array<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = bytes.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// The version-1 header of `blob`, CRC included.
pub(super) fn encode_header(seq: u32, blob: &[u8], source: SourceName) -> [u8; HEADER_LEN] {
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
pub(super) fn put(header: &mut [u8; HEADER_LEN], at: usize, value: &[u8]) {
    if let Some(field) = header.get_mut(at..at + value.len()) {
        field.copy_from_slice(value);
    }
}

/// CRC-32 over a version-1 header (without its CRC field) and the blob.
pub(super) fn crc_of(header: &[u8; HEADER_LEN], blob: &[u8]) -> u32 {
    let mut digest = CRC32.digest();
    digest.update(header.get(..OFF_CRC).unwrap_or(&[]));
    digest.update(blob);
    digest.finalize()
}

/// Byte `i` of the slot image after the commit unit: header, blob, then
/// `0xFF` padding (programming `0xFF` leaves erased bits as they are).
/// Out of line: the write and the read-back compare share it.
#[inline(never)]
pub(super) fn image_at(header: &[u8; HEADER_LEN], blob: &[u8], i: usize) -> u8 {
    let byte = match i.checked_sub(HEADER_LEN) {
        None => header.get(i),
        Some(j) => blob.get(j),
    };
    byte.copied().unwrap_or(0xff)
}
