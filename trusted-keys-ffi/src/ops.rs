//! The calls every backend shares, written once: argument checks, the
//! context, the output rule of [`crate::buf`], then the backend's part
//! (its [`Sealer`] source, or a closure). Each `extern "C"` function is one
//! call of these. Those that handle a key, a HUK or random bytes run
//! under `trusted_core::scrub::after`, which wipes the stack they used
//! ([`Backend::STACK_SCRUB`] bytes) before returning to C.

use trusted_core::{HukBytes, Key, TrustSource, scrub};
use zeroize::Zeroizing;

use crate::buf::{self, check_ptr, with_out};
use crate::ctx::{self, Backend};
use crate::error::{Code, TK_E_BLOB_LENGTH, TK_E_FAILED, TK_E_KEY_LENGTH, status};
use crate::platform::{self, Versioned};
use crate::{TK_HUK_LEN, TK_MAX_BLOB_SIZE, TK_MAX_KEY_SIZE};

/// A backend that seals: what `tk_*_seal` and `tk_*_unseal` need of it
/// beyond the checks here.
pub(crate) trait Sealer: Backend {
    /// Bytes the blob format adds to the key, where it has a fixed
    /// overhead: the output buffer is checked against it before any work.
    /// `None` where the length is known only afterwards (DER).
    const OVERHEAD: Option<usize>;

    /// The trust source that seals and unseals, for one call.
    fn source(&mut self) -> Result<impl TrustSource + '_, Code>;
}

/// `tk_*_init`: the config's header check, then `make` builds the state
/// the context keeps.
///
/// # Safety
///
/// As [`ctx::init`], and `cfg` as [`platform::config`] needs it.
pub(crate) unsafe fn init<S: Backend, T: Versioned>(
    ctx: *mut S::Ctx,
    cfg: *const T,
    make: impl FnOnce(&T) -> Result<S, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { ctx::init(ctx, || make(platform::config(cfg)?)) }
}

/// `tk_*_seal`: key in, blob out, with no options.
///
/// # Safety
///
/// The extern function's contract: `ctx` a context holding `S`, `key`
/// readable for `key_len` bytes, `blob` writable for `*blob_len`.
pub(crate) unsafe fn seal<S: Sealer>(
    ctx: *mut S::Ctx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { seal_with::<S>(ctx, key, key_len, blob, blob_len, || Ok("")) }
}

/// [`seal`] with keyctl options: `options` reads them (from a C string
/// into the caller's buffer) once the key, the buffer and the context
/// passed, so a bad string never hides an argument error.
///
/// # Safety
///
/// As [`seal`].
pub(crate) unsafe fn seal_with<'o, S: Sealer>(
    ctx: *mut S::Ctx,
    key: *const u8,
    key_len: usize,
    blob: *mut u8,
    blob_len: *mut usize,
    options: impl FnOnce() -> Result<&'o str, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    scrub::after(S::STACK_SCRUB, || unsafe {
        status(with_out(blob, blob_len, TK_MAX_BLOB_SIZE, |out| {
            let key = buf::input(key, key_len, TK_MAX_KEY_SIZE, Code(TK_E_KEY_LENGTH))?;
            let key = Key::from_slice(key)?;
            if let Some(overhead) = S::OVERHEAD {
                out.reserve(key.len() + overhead)?;
            }
            ctx::with(ctx, |s: &mut S| {
                let options = options()?;
                out.write(s.source()?.seal(&key, options)?.as_bytes())
            })
        }))
    })
}

/// `tk_*_unseal`: blob in, key out (zeroed on failure), with no options.
///
/// # Safety
///
/// As [`seal`], with `blob` readable for `blob_len` bytes and `key`
/// writable for `*key_len`.
pub(crate) unsafe fn unseal<S: Sealer>(
    ctx: *mut S::Ctx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    unsafe { unseal_with::<S>(ctx, blob, blob_len, key, key_len, || Ok("")) }
}

/// [`unseal`] with keyctl options, read as [`seal_with`] reads them.
///
/// # Safety
///
/// As [`unseal`].
pub(crate) unsafe fn unseal_with<'o, S: Sealer>(
    ctx: *mut S::Ctx,
    blob: *const u8,
    blob_len: usize,
    key: *mut u8,
    key_len: *mut usize,
    options: impl FnOnce() -> Result<&'o str, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    scrub::after(S::STACK_SCRUB, || unsafe {
        status(with_out(key, key_len, TK_MAX_KEY_SIZE, |out| {
            let blob = buf::input(blob, blob_len, TK_MAX_BLOB_SIZE, Code(TK_E_BLOB_LENGTH))?;
            ctx::with(ctx, |s: &mut S| {
                let options = options()?;
                out.write(s.source()?.unseal(blob, options)?.as_bytes())
            })
        }))
    })
}

/// `tk_*_huk`: the 16-byte HUK out.
///
/// # Safety
///
/// As [`seal`], with `huk` writable for `*huk_len` bytes.
pub(crate) unsafe fn huk<S: Backend>(
    ctx: *mut S::Ctx,
    huk: *mut u8,
    huk_len: *mut usize,
    f: impl FnOnce(&mut S) -> Result<HukBytes, Code>,
) -> i32 {
    // SAFETY: the caller's contract, forwarded.
    scrub::after(S::STACK_SCRUB, || unsafe {
        status(with_out(huk, huk_len, TK_HUK_LEN, |out| {
            out.reserve(TK_HUK_LEN)?;
            ctx::with(ctx, |s| out.write(f(s)?.as_slice()))
        }))
    })
}

/// `tk_*_random`: fills exactly `len` bytes at `out`, in chunks through a
/// zeroed local buffer (no slice over caller memory of unchecked size). On
/// failure the bytes already written are zeroed again.
///
/// # Safety
///
/// As [`seal`], with `out` writable for `len` bytes.
pub(crate) unsafe fn random<S: Backend>(
    ctx: *mut S::Ctx,
    out: *mut u8,
    len: usize,
    f: impl FnMut(&mut S, &mut [u8]) -> Result<(), Code>,
) -> i32 {
    if len == 0 {
        // Nothing to write: only the context is checked.
        // SAFETY: the caller's contract, forwarded.
        return status(unsafe { ctx::with(ctx, |_: &mut S| Ok(())) });
    }
    if let Err(Code(code)) = check_ptr(out) {
        return code;
    }
    // SAFETY: the caller's contract, forwarded.
    scrub::after(S::STACK_SCRUB, || unsafe { random_into(ctx, out, len, f) })
}

/// [`random`] once the arguments passed.
///
/// # Safety
///
/// As [`random`], with `out` checked non-null and `len` non-zero.
unsafe fn random_into<S: Backend>(
    ctx: *mut S::Ctx,
    out: *mut u8,
    len: usize,
    mut f: impl FnMut(&mut S, &mut [u8]) -> Result<(), Code>,
) -> i32 {
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
