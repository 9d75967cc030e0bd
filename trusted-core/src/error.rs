//! The one error type every trust source reports.
//!
//! Hal crates keep their own small driver errors and convert them into this
//! enum at the `TrustSource` boundary, so source selection can tell "no such
//! device" (move on to the next source) from every other failure (stop).

use core::fmt;

/// What went wrong, without any secret in it.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The trust source is not present (Linux `-ENODEV`); selection moves on.
    NoDevice,
    /// A bounded wait on hardware ran out.
    Timeout,
    /// The bus or link to the device failed (SPI, socket, DMA mapping).
    Transport,
    /// The device reported an error status; the raw status word is kept.
    Hardware(u32),
    /// A TPM answered with a non-zero response code.
    Tpm(u32),
    /// The device answered something that breaks its protocol.
    Malformed(&'static str),
    /// Integrity check failed: tampered blob, wrong device key, wrong HUK,
    /// wrong key modifier or wrong authorization (Linux `-EBADMSG`).
    AuthFailed,
    /// A key length outside 32..=128 bytes.
    KeyLength,
    /// A blob whose length does not fit its format or exceeds 512 bytes.
    BlobLength,
    /// A blob whose header fields are invalid (version, length field).
    BlobFormat(&'static str),
    /// Text that should be hex is not.
    Hex,
    /// A keyctl payload that Linux would reject (`-EINVAL`), with the reason.
    Payload(&'static str),
    /// The random number source failed or returned too few bytes.
    Rng,
    /// The device runs with a test or all-zero key, or in a non-secure state,
    /// so a blob sealed now would not be bound to this device.
    InsecureState(&'static str),
    /// A fuse word or hardware key is locked against this operation.
    Locked,
    /// An argument outside what the operation accepts.
    InvalidArgument(&'static str),
    /// The operation is not implemented for this source; the text says which.
    Unsupported(&'static str),
    /// An output buffer is too small for the result.
    BufferTooSmall,
    /// The device or shared instance is in use by another context.
    Busy,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoDevice => f.write_str("trust source not present"),
            Error::Timeout => f.write_str("hardware did not answer in time"),
            Error::Transport => f.write_str("bus or link to the device failed"),
            Error::Hardware(code) => write!(f, "device reported error status {code:#010x}"),
            Error::Tpm(rc) => write!(f, "TPM returned response code {rc:#x}"),
            Error::Malformed(what) => write!(f, "device answer is malformed: {what}"),
            Error::AuthFailed => {
                f.write_str("blob authentication failed (tampered blob, other device or wrong key)")
            }
            Error::KeyLength => f.write_str("key length must be 32..=128 bytes"),
            Error::BlobLength => {
                f.write_str("blob length does not match its format (max 512 bytes)")
            }
            Error::BlobFormat(what) => write!(f, "blob format invalid: {what}"),
            Error::Hex => f.write_str("invalid hex string"),
            Error::Payload(why) => write!(f, "keyctl payload rejected: {why}"),
            Error::Rng => f.write_str("random number source failed"),
            Error::InsecureState(why) => write!(f, "refusing insecure device state: {why}"),
            Error::Locked => f.write_str("locked against this operation"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::Unsupported(what) => write!(f, "not implemented: {what}"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
            Error::Busy => f.write_str("device busy"),
        }
    }
}

impl core::error::Error for Error {}

/// Result with this crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

/// A hal crate's own error: keeps the detail (which wait, which bus error,
/// which TPM response code) and names its kind as the core [`Error`] that
/// source selection and callers act on (embedded-hal's `Error::kind`
/// shape). Each hal crate also implements `From<its Error> for Error` as
/// `e.kind()`.
pub trait DriverError: fmt::Debug + fmt::Display {
    /// What kind of failure this is, as the one core error type.
    fn kind(&self) -> Error;
}

impl DriverError for Error {
    fn kind(&self) -> Error {
        *self
    }
}
