//! A minimal TPM 2.0 marshaller: a writer that never writes past its buffer
//! and a reader that never reads past its input. All integers big endian.

use crate::error::{Error, Result};

/// Writes TPM structures into a fixed buffer; running out of room is
/// remembered and reported by [`Writer::finish`].
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    overflow: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            overflow: false,
        }
    }

    /// Bytes written so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn bytes(&mut self, data: &[u8]) -> &mut Self {
        match self.buf.get_mut(self.pos..self.pos + data.len()) {
            Some(dst) if !self.overflow => {
                dst.copy_from_slice(data);
                self.pos += data.len();
            }
            _ => self.overflow = true,
        }
        self
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }

    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// A TPM2B: u16 size, then the bytes.
    pub(crate) fn tpm2b(&mut self, data: &[u8]) -> &mut Self {
        self.size16(data.len()).bytes(data)
    }

    /// A u16 size field of `n` (a size that does not fit is an overflow).
    pub(crate) fn size16(&mut self, n: usize) -> &mut Self {
        match u16::try_from(n) {
            Ok(n) => self.u16(n),
            Err(_) => {
                self.overflow = true;
                self
            }
        }
    }

    /// Reserves a u16 size field; [`Writer::end_size16`] fills it.
    pub(crate) fn begin_size16(&mut self) -> usize {
        let mark = self.pos;
        self.u16(0);
        mark
    }

    pub(crate) fn end_size16(&mut self, mark: usize) -> &mut Self {
        let len = self.pos.saturating_sub(mark + 2);
        match u16::try_from(len) {
            Ok(len) => self.patch(mark, &len.to_be_bytes()),
            Err(_) => {
                self.overflow = true;
                self
            }
        }
    }

    fn patch(&mut self, at: usize, bytes: &[u8]) -> &mut Self {
        match self.buf.get_mut(at..at + bytes.len()) {
            Some(dst) => dst.copy_from_slice(bytes),
            None => self.overflow = true,
        }
        self
    }

    /// Starts a command: tag, size placeholder, command code.
    pub(crate) fn header(&mut self, tag: u16, cc: u32) -> &mut Self {
        self.u16(tag).u32(0).u32(cc)
    }

    /// The command's length, or `usize::MAX` if it ran out of room (one
    /// word for [`crate::Tpm`]'s one command path, which refuses that with
    /// [`Error::CommandTooLarge`] and fills in the size field).
    pub(crate) fn finish(self) -> usize {
        if self.overflow { usize::MAX } else { self.pos }
    }
}

/// Reads TPM structures from untrusted bytes; every read is bounds checked.
#[derive(Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Inlined: every read goes through it, and with `n` known at most
    /// call sites the check folds (smaller, by measure, than one copy).
    #[inline(always)]
    pub(crate) fn bytes(&mut self, n: usize, what: &'static &'static str) -> Result<&'a [u8]> {
        if n > self.buf.len() {
            return Err(Error::Parse(what));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array, with one bound check.
    fn array<const N: usize>(&mut self, what: &'static &'static str) -> Result<[u8; N]> {
        let (head, tail) = self
            .buf
            .split_first_chunk::<N>()
            .ok_or(Error::Parse(what))?;
        self.buf = tail;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self, what: &'static &'static str) -> Result<u8> {
        self.array::<1>(what).map(|[a]| a)
    }

    pub(crate) fn u16(&mut self, what: &'static &'static str) -> Result<u16> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, what: &'static &'static str) -> Result<u32> {
        self.array(what).map(u32::from_be_bytes)
    }

    /// A TPM2B's contents (without the size).
    pub(crate) fn tpm2b(&mut self, what: &'static &'static str) -> Result<&'a [u8]> {
        // The whole TPM2B (same checks, same error), without its size.
        let whole = self.tpm2b_with_size(what)?;
        Ok(whole.get(2..).unwrap_or_default())
    }

    /// A whole TPM2B including its u16 size, as Linux stores it.
    pub(crate) fn tpm2b_with_size(&mut self, what: &'static &'static str) -> Result<&'a [u8]> {
        // The size read ahead, then size and contents taken in one read.
        let n = match self.buf {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => return Err(Error::Parse(what)),
        };
        self.bytes(n + 2, what)
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }
}

/// Two byte strings read as one, their concatenation, without copying
/// them into a buffer: a DER blob's TPM2B_PRIVATE and TPM2B_PUBLIC as
/// TPM2_Load takes them (saves unseal a blob-sized buffer of stack).
#[derive(Clone, Copy)]
pub(crate) struct Joined<'a>(pub(crate) &'a [u8], pub(crate) &'a [u8]);

impl<'a> Joined<'a> {
    pub(crate) fn len(&self) -> usize {
        self.0.len().saturating_add(self.1.len())
    }

    fn byte(&self, at: usize) -> Option<u8> {
        match self.0.get(at) {
            Some(b) => Some(*b),
            None => self.1.get(at.checked_sub(self.0.len())?).copied(),
        }
    }

    /// The big-endian u16 at `at`, if both bytes are there.
    /// Inlined: its offsets fold in at the few call sites (smaller, by
    /// measure, than one shared copy).
    #[inline(always)]
    pub(crate) fn be16(&self, at: usize) -> Option<usize> {
        let hi = self.byte(at)?;
        let lo = self.byte(at.checked_add(1)?)?;
        Some(usize::from(u16::from_be_bytes([hi, lo])))
    }

    /// The first `n` bytes, as the parts of each string they span.
    pub(crate) fn prefix(&self, n: usize) -> Option<(&'a [u8], &'a [u8])> {
        let head = self.0.get(..n.min(self.0.len()))?;
        let tail = self.1.get(..n.saturating_sub(self.0.len()))?;
        Some((head, tail))
    }
}
