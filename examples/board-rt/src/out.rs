//! Step output without `core::fmt`: byte strings and numbers written to
//! the semihosting console with raw `SYS_OPEN`/`SYS_WRITE` calls.
//!
//! `semihosting::println!` links the formatting machinery and the crate's
//! `io::Write` adapters (several KB, and panic call sites) into every
//! image; the examples only ever print text, numbers and flags, so a
//! [`Piece`] per value is enough. The console is `:tt` opened for writing,
//! the stdout stream the xtask reads, as `println!` did.

use core::sync::atomic::{AtomicI32, Ordering};

use semihosting::sys::arm_compat::OpenMode;
use semihosting::sys::arm_compat::syscall::{OperationNumber, ParamRegR, syscall_readonly};
use trusted_core::Error;

/// [`STDOUT`] before the first write opened the console.
const UNOPENED: i32 = i32::MIN;

/// The console's handle, opened on first use and kept (never closed): one
/// `SYS_OPEN` per run instead of one per line. `-1` if the open failed.
static STDOUT: AtomicI32 = AtomicI32::new(UNOPENED);

/// The console's handle, `None` if the host has none.
fn stdout() -> Option<i32> {
    let mut fd = STDOUT.load(Ordering::Relaxed);
    if fd == UNOPENED {
        let path = c":tt";
        let block = [
            ParamRegR::c_str(path),
            ParamRegR::usize(OpenMode::WRONLY_TRUNC as usize),
            ParamRegR::usize(path.count_bytes()),
        ];
        // SAFETY: SYS_OPEN only reads the three-word block and the
        // NUL-terminated path, both alive for the call.
        let ret = unsafe { syscall_readonly(OperationNumber::SYS_OPEN, ParamRegR::block(&block)) };
        fd = ret.raw_fd().unwrap_or(-1);
        STDOUT.store(fd, Ordering::Relaxed);
    }
    (fd != -1).then_some(fd)
}

/// Writes `bytes` to the console. A short or failed write is dropped:
/// output is best effort and the run's verdict is its exit code.
pub fn write(bytes: &[u8]) {
    let Some(fd) = stdout() else { return };
    let block = [
        ParamRegR::raw_fd(fd),
        ParamRegR::buf(bytes),
        ParamRegR::usize(bytes.len()),
    ];
    // SAFETY: SYS_WRITE only reads the block and `bytes.len()` bytes of
    // `bytes`, all alive for the call.
    unsafe { syscall_readonly(OperationNumber::SYS_WRITE, ParamRegR::block(&block)) };
}

/// One value of a [`step!`](crate::step) line, written without `core::fmt`.
pub trait Piece {
    /// Writes the value to the console.
    fn put(&self);
}

impl Piece for str {
    fn put(&self) {
        write(self.as_bytes());
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    fn put(&self) {
        (**self).put();
    }
}

impl Piece for bool {
    fn put(&self) {
        write(if *self { b"true" } else { b"false" });
    }
}

/// Decimal while it fits a `usize`, exact hex (`0x` and sixteen digits)
/// beyond: a 32-bit image then needs no 64-bit division.
impl Piece for u64 {
    fn put(&self) {
        match usize::try_from(*self) {
            Ok(n) => dec(n),
            Err(_) => {
                write(b"0x");
                write(&hex8((*self >> 32) as u32));
                write(&hex8(*self as u32));
            }
        }
    }
}

impl Piece for usize {
    fn put(&self) {
        dec(*self);
    }
}

impl Piece for u32 {
    fn put(&self) {
        // `usize` is at least 32 bits on every target board-rt starts.
        dec(*self as usize);
    }
}

impl Piece for u8 {
    fn put(&self) {
        dec(usize::from(*self));
    }
}

/// As `Debug` writes an array: `[a, b, c]`.
impl<T: Piece, const N: usize> Piece for [T; N] {
    fn put(&self) {
        let mut sep: &[u8] = b"[";
        for item in self {
            write(sep);
            item.put();
            sep = b", ";
        }
        write(b"]");
    }
}

/// `n` in decimal.
fn dec(mut n: usize) {
    let mut buf = [0u8; 20];
    let mut start = buf.len();
    for slot in buf.iter_mut().rev() {
        // The remainder is below 10, so the cast keeps it.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    write(buf.get(start..).unwrap_or(&[]));
}

/// `n` as eight hex digits.
fn hex8(mut n: u32) -> [u8; 8] {
    let mut digits = [b'0'; 8];
    for slot in digits.iter_mut().rev() {
        *slot = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
    digits
}

/// A number written in hex as `0x` and eight digits (`{:#010x}`).
#[derive(Clone, Copy)]
pub struct Hex(pub u32);

impl Piece for Hex {
    fn put(&self) {
        write(b"0x");
        write(&hex8(self.0));
    }
}

/// The error's kind as `Debug` names it, with its detail: `Display` would
/// link `core::fmt`.
impl Piece for Error {
    fn put(&self) {
        let (kind, detail, code): (&str, &str, Option<u32>) = match *self {
            Error::NoDevice => ("NoDevice", "", None),
            Error::Timeout => ("Timeout", "", None),
            Error::Transport => ("Transport", "", None),
            Error::Hardware(status) => ("Hardware", "", Some(status)),
            Error::Tpm(rc) => ("Tpm", "", Some(rc)),
            Error::Malformed(what) => ("Malformed", what, None),
            Error::AuthFailed => ("AuthFailed", "", None),
            Error::KeyLength => ("KeyLength", "", None),
            Error::BlobLength => ("BlobLength", "", None),
            Error::BlobFormat(what) => ("BlobFormat", what, None),
            Error::Hex => ("Hex", "", None),
            Error::Payload(why) => ("Payload", why, None),
            Error::Rng => ("Rng", "", None),
            Error::InsecureState(why) => ("InsecureState", why, None),
            Error::Locked => ("Locked", "", None),
            Error::InvalidArgument(what) => ("InvalidArgument", what, None),
            Error::Unsupported(what) => ("Unsupported", what, None),
            Error::BufferTooSmall => ("BufferTooSmall", "", None),
            Error::Busy => ("Busy", "", None),
            _ => ("Error", "", None),
        };
        kind.put();
        if !detail.is_empty() {
            write(b": ");
            detail.put();
        }
        if let Some(code) = code {
            write(b" ");
            Hex(code).put();
        }
    }
}
