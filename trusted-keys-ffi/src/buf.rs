//! Caller buffers: every pointer is checked for NULL and alignment and
//! every length bounded before a slice is made of it.
//!
//! Outputs follow one rule: `*len` is the capacity on entry; on success it
//! becomes the bytes written, on [`TK_E_BUFFER_TOO_SMALL`] the bytes needed
//! (nothing written), on any other error 0, with the part of the buffer a
//! result could have occupied zeroed (so a C caller that skips the check
//! finds zeros, never a partial key).

use core::{ptr, slice};

use crate::error::{Code, TK_E_ALIGN, TK_E_BUFFER_TOO_SMALL, TK_E_INVALID_ARG, TK_E_NULL};

/// NULL → [`TK_E_NULL`], misaligned for `T` → [`TK_E_ALIGN`].
pub(crate) fn check_ptr<T>(ptr: *const T) -> Result<(), Code> {
    if ptr.is_null() {
        return Err(Code(TK_E_NULL));
    }
    if !ptr.cast::<u8>().addr().is_multiple_of(align_of::<T>()) {
        return Err(Code(TK_E_ALIGN));
    }
    Ok(())
}

/// The `len` bytes at `data`, refused with `too_long` above `max` bytes
/// (before any slice is made) and with [`TK_E_NULL`] when NULL.
///
/// # Safety
///
/// Unless NULL, `data` points to `len` readable bytes that stay unchanged
/// for `'a`.
pub(crate) unsafe fn input<'a>(
    data: *const u8,
    len: usize,
    max: usize,
    too_long: Code,
) -> Result<&'a [u8], Code> {
    check_ptr(data)?;
    if len > max {
        return Err(too_long);
    }
    // SAFETY: non-NULL (checked), `len <= max`, which is at most 512
    // here, and the caller's contract makes those bytes readable.
    Ok(unsafe { slice::from_raw_parts(data, len) })
}

/// A caller's output buffer with its in/out length.
pub(crate) struct Out {
    data: *mut u8,
    len: *mut usize,
    capacity: usize,
    /// Most bytes a result can take: the part zeroed on failure.
    max: usize,
}

impl Out {
    /// Checks both pointers and reads the capacity from `*len`.
    ///
    /// # Safety
    ///
    /// Unless NULL, `len` points to a writable `size_t` and `data` to
    /// `*len` writable bytes, neither used by anything else during the call.
    pub(crate) unsafe fn new(data: *mut u8, len: *mut usize, max: usize) -> Result<Self, Code> {
        check_ptr(data)?;
        check_ptr(len)?;
        // SAFETY: non-NULL and aligned (checked); writable by contract.
        let capacity = unsafe { len.read() };
        Ok(Self {
            data,
            len,
            capacity,
            max,
        })
    }

    /// Whether `needed` bytes fit; when not, writes `needed` back and says
    /// [`TK_E_BUFFER_TOO_SMALL`] (for checking before costly work).
    pub(crate) fn reserve(&self, needed: usize) -> Result<(), Code> {
        if needed > self.capacity {
            // SAFETY: checked in `new`.
            unsafe { self.len.write(needed) };
            return Err(Code(TK_E_BUFFER_TOO_SMALL));
        }
        Ok(())
    }

    /// Copies `bytes` out and sets `*len`, or reports the length needed.
    pub(crate) fn write(&self, bytes: &[u8]) -> Result<(), Code> {
        if bytes.len() > self.max {
            return Err(Code(TK_E_INVALID_ARG));
        }
        self.reserve(bytes.len())?;
        // SAFETY: `bytes.len() <= capacity` (checked), so the range is in
        // the caller's buffer; a Rust value never overlaps caller memory.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), self.data, bytes.len());
            self.len.write(bytes.len());
        }
        Ok(())
    }

    /// After a failure other than a short buffer: zeroes the part a result
    /// could have taken and sets `*len` to 0.
    fn fail(&self) {
        let n = self.capacity.min(self.max);
        for i in 0..n {
            // SAFETY: i < capacity; volatile so the wipe is not optimised
            // away as a store to memory Rust never reads again.
            unsafe { self.data.add(i).write_volatile(0) };
        }
        // SAFETY: checked in `new`.
        unsafe { self.len.write(0) };
    }
}

/// Runs `f` with the output (which writes its result with [`Out::write`]);
/// on an error other than a short buffer the output is wiped as
/// [`Out::fail`] says.
///
/// # Safety
///
/// As [`Out::new`].
pub(crate) unsafe fn with_out(
    data: *mut u8,
    len: *mut usize,
    max: usize,
    f: impl FnOnce(&Out) -> Result<(), Code>,
) -> Result<(), Code> {
    // SAFETY: forwarded to the caller.
    let out = unsafe { Out::new(data, len, max) }?;
    let result = f(&out);
    if result.is_err_and(|e| e != Code(TK_E_BUFFER_TOO_SMALL)) {
        out.fail();
    }
    result
}

/// Zeroes `len` bytes at `data` with volatile stores.
///
/// # Safety
///
/// `data` points to `len` writable bytes.
pub(crate) unsafe fn wipe(data: *mut u8, len: usize) {
    for i in 0..len {
        // SAFETY: i < len, inside the caller's buffer by contract.
        unsafe { data.add(i).write_volatile(0) };
    }
    core::sync::atomic::compiler_fence(core::sync::atomic::Ordering::SeqCst);
}

/// A NUL-terminated options string of at most [`crate::TK_MAX_OPTIONS_LEN`]
/// bytes as UTF-8; NULL is the empty string.
///
/// # Safety
///
/// Unless NULL, `text` points to a NUL-terminated string.
pub(crate) unsafe fn options(
    text: *const core::ffi::c_char,
    scratch: &mut [u8; crate::TK_MAX_OPTIONS_LEN],
) -> Result<&str, Code> {
    if text.is_null() {
        return Ok("");
    }
    let mut n = 0;
    loop {
        // SAFETY: bytes before the NUL belong to the string (contract);
        // the scan stops at the NUL or after the bound.
        let byte = unsafe { text.cast::<u8>().add(n).read() };
        if byte == 0 {
            break;
        }
        let slot = scratch.get_mut(n).ok_or(Code(TK_E_INVALID_ARG))?;
        *slot = byte;
        n += 1;
    }
    let bytes = scratch.get(..n).ok_or(Code(TK_E_INVALID_ARG))?;
    core::str::from_utf8(bytes).map_err(|_| Code(TK_E_INVALID_ARG))
}
