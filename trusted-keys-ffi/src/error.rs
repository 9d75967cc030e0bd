//! Return codes: `TK_OK` (0) or a negative `TK_E_*` constant, and
//! `tk_strerror` for their text.
//!
//! The codes the C caller acts on differently are distinct: a null pointer,
//! a short output buffer (the needed length is written back), a misaligned
//! pointer, a DMA region too small, a config struct from a future version,
//! a second init of a busy context or device. Hardware detail (the CAAM
//! status word, the TPM response code) is not carried over: the C ABI
//! reports its kind only.

use core::ffi::{CStr, c_char};

/// Success.
pub const TK_OK: i32 = 0;
/// A pointer argument (or a required callback) is NULL.
pub const TK_E_NULL: i32 = -1;
/// The output buffer is too short; `*len` now holds the length needed.
pub const TK_E_BUFFER_TOO_SMALL: i32 = -2;
/// A pointer or address is misaligned: the context, the config struct,
/// the register base, or the DMA region (CPU or bus address).
pub const TK_E_ALIGN: i32 = -3;
/// The DMA region is shorter than the backend's minimum
/// (`TK_DCP_MIN_DMA_LEN`, `TK_CAAM_MIN_DMA_LEN`).
pub const TK_E_DMA_SIZE: i32 = -4;
/// The DMA region is out of the engine's reach (its bus addresses do not
/// fit the engine's 32-bit pointers) or wraps around.
pub const TK_E_DMA_PLACEMENT: i32 = -5;
/// The config struct's `version` is 0 or newer than this library
/// (`TK_CONFIG_VERSION`).
pub const TK_E_CONFIG_VERSION: i32 = -6;
/// The config struct's `size` is not the size of that version's struct.
pub const TK_E_CONFIG_SIZE: i32 = -7;
/// The context is already initialised, or in use by a call that has not
/// returned (a callback calling back in), or the device is held by another
/// context.
pub const TK_E_BUSY: i32 = -8;
/// The context was never initialised, or was deinitialised.
pub const TK_E_NOT_INIT: i32 = -9;
/// An argument outside what the call accepts (a job ring above 3, a key
/// modifier over 16 bytes, options that are too long or not UTF-8, ...).
pub const TK_E_INVALID_ARG: i32 = -10;
/// A key length outside 32..=128 bytes.
pub const TK_E_KEY_LENGTH: i32 = -11;
/// A blob length that does not fit its format, or over 512 bytes.
pub const TK_E_BLOB_LENGTH: i32 = -12;
/// A blob whose header fields are invalid.
pub const TK_E_BLOB_FORMAT: i32 = -13;
/// The blob did not authenticate: tampered, from another device, or sealed
/// under another key (Linux `-EBADMSG`).
pub const TK_E_AUTH: i32 = -14;
/// The device is not there (Linux `-ENODEV`).
pub const TK_E_NO_DEVICE: i32 = -15;
/// A bounded wait on the hardware ran out.
pub const TK_E_TIMEOUT: i32 = -16;
/// The bus or link failed (an SPI or chip-select callback returned
/// non-zero, a DMA bus error).
pub const TK_E_TRANSPORT: i32 = -17;
/// The device reported an error status.
pub const TK_E_HARDWARE: i32 = -18;
/// The TPM answered with a non-zero response code.
pub const TK_E_TPM: i32 = -19;
/// The device answered something that breaks its protocol.
pub const TK_E_MALFORMED: i32 = -20;
/// The random callback returned non-zero.
pub const TK_E_RNG: i32 = -21;
/// The device runs with a test or all-zero key or in a non-secure state;
/// a blob sealed now would not be bound to it.
pub const TK_E_INSECURE: i32 = -22;
/// A fuse word or hardware key is locked against the operation.
pub const TK_E_LOCKED: i32 = -23;
/// The operation is not available on this backend or device.
pub const TK_E_UNSUPPORTED: i32 = -24;
/// The keyctl-style options were rejected (as Linux would, `-EINVAL`).
pub const TK_E_OPTIONS: i32 = -25;
/// Any other failure.
pub const TK_E_FAILED: i32 = -26;

/// An error code on its way to C; `?` converts core errors into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Code(pub(crate) i32);

impl From<trusted_core::Error> for Code {
    fn from(e: trusted_core::Error) -> Self {
        use trusted_core::Error as E;
        Code(match e {
            E::NoDevice => TK_E_NO_DEVICE,
            E::Timeout => TK_E_TIMEOUT,
            E::Transport => TK_E_TRANSPORT,
            E::Hardware(_) => TK_E_HARDWARE,
            E::Tpm(_) => TK_E_TPM,
            E::Malformed(_) => TK_E_MALFORMED,
            E::AuthFailed => TK_E_AUTH,
            E::KeyLength => TK_E_KEY_LENGTH,
            E::BlobLength => TK_E_BLOB_LENGTH,
            E::BlobFormat(_) => TK_E_BLOB_FORMAT,
            E::Hex | E::InvalidArgument(_) => TK_E_INVALID_ARG,
            E::Payload(_) => TK_E_OPTIONS,
            E::Rng => TK_E_RNG,
            E::InsecureState(_) => TK_E_INSECURE,
            E::Locked => TK_E_LOCKED,
            E::Unsupported(_) => TK_E_UNSUPPORTED,
            E::BufferTooSmall => TK_E_BUFFER_TOO_SMALL,
            E::Busy => TK_E_BUSY,
            _ => TK_E_FAILED,
        })
    }
}

/// `TK_OK` or the error's code.
pub(crate) fn status(result: Result<(), Code>) -> i32 {
    match result {
        Ok(()) => TK_OK,
        Err(Code(code)) => code,
    }
}

fn text(code: i32) -> &'static CStr {
    match code {
        TK_OK => c"success",
        TK_E_NULL => c"a pointer argument or a required callback is NULL",
        TK_E_BUFFER_TOO_SMALL => c"output buffer too small (needed length written back)",
        TK_E_ALIGN => c"pointer or address misaligned",
        TK_E_DMA_SIZE => c"DMA region too small",
        TK_E_DMA_PLACEMENT => c"DMA region out of the engine's reach",
        TK_E_CONFIG_VERSION => c"config struct version unknown (newer than this library?)",
        TK_E_CONFIG_SIZE => c"config struct size does not match its version",
        TK_E_BUSY => c"context already initialised, in use, or device held by another context",
        TK_E_NOT_INIT => c"context not initialised",
        TK_E_INVALID_ARG => c"invalid argument",
        TK_E_KEY_LENGTH => c"key length must be 32..=128 bytes",
        TK_E_BLOB_LENGTH => c"blob length does not match its format (max 512 bytes)",
        TK_E_BLOB_FORMAT => c"blob format invalid",
        TK_E_AUTH => c"blob authentication failed (tampered blob, other device or wrong key)",
        TK_E_NO_DEVICE => c"trust source not present",
        TK_E_TIMEOUT => c"hardware did not answer in time",
        TK_E_TRANSPORT => c"bus or link to the device failed",
        TK_E_HARDWARE => c"device reported an error status",
        TK_E_TPM => c"TPM returned an error response code",
        TK_E_MALFORMED => c"device answer is malformed",
        TK_E_RNG => c"random number callback failed",
        TK_E_INSECURE => c"refusing insecure device state (test key, blank fuses, non-secure)",
        TK_E_LOCKED => c"locked against this operation",
        TK_E_UNSUPPORTED => c"not supported by this backend or device",
        TK_E_OPTIONS => c"options rejected",
        TK_E_FAILED => c"operation failed",
        _ => c"unknown error code",
    }
}

/// A static, NUL-terminated English text for `code` (any value: unknown
/// codes get "unknown error code"). Never NULL; do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn tk_strerror(code: i32) -> *const c_char {
    text(code).as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [i32; 27] = [
        TK_OK,
        TK_E_NULL,
        TK_E_BUFFER_TOO_SMALL,
        TK_E_ALIGN,
        TK_E_DMA_SIZE,
        TK_E_DMA_PLACEMENT,
        TK_E_CONFIG_VERSION,
        TK_E_CONFIG_SIZE,
        TK_E_BUSY,
        TK_E_NOT_INIT,
        TK_E_INVALID_ARG,
        TK_E_KEY_LENGTH,
        TK_E_BLOB_LENGTH,
        TK_E_BLOB_FORMAT,
        TK_E_AUTH,
        TK_E_NO_DEVICE,
        TK_E_TIMEOUT,
        TK_E_TRANSPORT,
        TK_E_HARDWARE,
        TK_E_TPM,
        TK_E_MALFORMED,
        TK_E_RNG,
        TK_E_INSECURE,
        TK_E_LOCKED,
        TK_E_UNSUPPORTED,
        TK_E_OPTIONS,
        TK_E_FAILED,
    ];

    #[test]
    fn every_code_is_distinct_and_has_its_own_text() {
        for (i, a) in ALL.iter().enumerate() {
            assert!(*a <= 0);
            assert_ne!(text(*a), text(12345), "code {a} has no text");
            for b in &ALL[i + 1..] {
                assert_ne!(a, b);
                assert_ne!(text(*a), text(*b));
            }
        }
        assert_eq!(text(-999), c"unknown error code");
    }

    #[test]
    fn core_errors_map_to_their_kind() {
        use trusted_core::Error as E;
        assert_eq!(Code::from(E::AuthFailed), Code(TK_E_AUTH));
        assert_eq!(Code::from(E::BufferTooSmall), Code(TK_E_BUFFER_TOO_SMALL));
        assert_eq!(Code::from(E::Busy), Code(TK_E_BUSY));
        assert_eq!(Code::from(E::Payload("x")), Code(TK_E_OPTIONS));
        assert_eq!(Code::from(E::Tpm(0x18b)), Code(TK_E_TPM));
    }

    #[test]
    fn strerror_is_nul_terminated_text() {
        // SAFETY: tk_strerror returns a static C string.
        let s = unsafe { CStr::from_ptr(tk_strerror(TK_E_NULL)) };
        assert!(s.to_str().unwrap().contains("NULL"));
    }
}
