//! The calls every backend shares, written once: argument checks, the
//! context, the output rule of [`crate::buf`], then the backend's closure.

use trusted_core::{HukBytes, Key, SealedBlob};
use zeroize::Zeroizing;

use crate::buf::{self, check_ptr, with_out};
use crate::ctx::{self, Backend};
use crate::error::{Code, TK_E_BLOB_LENGTH, TK_E_FAILED, TK_E_KEY_LENGTH, status};
use crate::platform::{self, Versioned};
use crate::{TK_HUK_LEN, TK_MAX_BLOB_SIZE, TK_MAX_KEY_SIZE};

/// `tk_*_init`: the config's header check, then `make` builds the state
/// the context keeps.
///
/// # Safety
///
/// As [`ctx::init`], and `cfg` as [`platform::config`] needs it.
pub(crate) unsafe fn init<C, S: Backend, T: Versioned>(
    ctx: *mut C,
    cfg: *const T,
    make: impl FnOnce(&T) -> Result<S, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::init(ctx, || make(platform::config(cfg)?)) }
}

/// `tk_*_seal`: key in, blob out. `overhead` is the blob's fixed overhead
/// where the format has one, checked against the buffer before any work.
///
/// # Safety
///
/// The extern function's contract: `ctx` a context of `C` holding `S`,
/// `key` readable for `key_len` bytes, `blob` writable for `*blob_len`.
pub(crate) unsafe fn seal<C, S>(
    ctx: *mut C,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
    overhead: Option<usize>,
    f: impl FnOnce(&mut S, &Key) -> Result<SealedBlob, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    status(unsafe {
        with_out(blob, blob_len, TK_MAX_BLOB_SIZE, |out| {
            let key = buf::input(key, key_len, TK_MAX_KEY_SIZE, Code(TK_E_KEY_LENGTH))?;
            let key = Key::from_slice(key)?;
            if let Some(overhead) = overhead {
                out.reserve(key.len() + overhead)?;
            }
            ctx::with(ctx, |s| out.write(f(s, &key)?.as_bytes()))
        })
    })
}

/// `tk_*_unseal`: blob in, key out (zeroed on failure).
///
/// # Safety
///
/// As [`seal`], with `blob` readable for `blob_len` bytes and `key`
/// writable for `*key_len`.
pub(crate) unsafe fn unseal<C, S>(
    ctx: *mut C,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
    f: impl FnOnce(&mut S, &[u8]) -> Result<Key, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    status(unsafe {
        with_out(key, key_len, TK_MAX_KEY_SIZE, |out| {
            let blob = buf::input(blob, blob_len, TK_MAX_BLOB_SIZE, Code(TK_E_BLOB_LENGTH))?;
            ctx::with(ctx, |s| out.write(f(s, blob)?.as_bytes()))
        })
    })
}

/// `tk_*_huk`: the 16-byte HUK out.
///
/// # Safety
///
/// As [`seal`], with `huk` writable for `*huk_len` bytes.
pub(crate) unsafe fn huk<C, S>(
    ctx: *mut C,
    huk: *mut u8,
    huk_len: *mut usize,
    f: impl FnOnce(&mut S) -> Result<HukBytes, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    status(unsafe {
        with_out(huk, huk_len, TK_HUK_LEN, |out| {
            out.reserve(TK_HUK_LEN)?;
            ctx::with(ctx, |s| out.write(f(s)?.as_slice()))
        })
    })
}

/// `tk_*_random`: fills exactly `len` bytes at `out`, in chunks through a
/// zeroed local buffer (no slice over caller memory of unchecked size). On
/// failure the bytes already written are zeroed again.
///
/// # Safety
///
/// As [`seal`], with `out` writable for `len` bytes.
pub(crate) unsafe fn random<C, S>(
    ctx: *mut C,
    out: *mut u8,
    len: usize,
    mut f: impl FnMut(&mut S, &mut [u8]) -> Result<(), Code>,
) -> i32 {
    if len == 0 {
        // Nothing to write: only the context is checked.
        // SAFETY: the caller's contract, forwarded.
        return status(unsafe { ctx::with(ctx, |_: &mut S| Ok(())) });
    }
    if let Err(Code(code)) = check_ptr(out) {
        return code;
    }
    let mut chunk = Zeroizing::new([0u8; 64]);
    let mut done = 0;
    // SAFETY: the caller's contract, forwarded.
    let result = unsafe {
        ctx::with(ctx, |s| {
            while done < len {
                let n = (len - done).min(chunk.len());
                let part = chunk.get_mut(..n).ok_or(Code(TK_E_FAILED))?;
                f(s, part)?;
                // SAFETY: done + n <= len, inside the caller's buffer.
                core::ptr::copy_nonoverlapping(part.as_ptr(), out.add(done), n);
                done += n;
            }
            Ok(())
        })
    };
    if result.is_err() {
        // SAFETY: the first `done` bytes were written above.
        unsafe { buf::wipe(out, done) };
    }
    status(result)
}
