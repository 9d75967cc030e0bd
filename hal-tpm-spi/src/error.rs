//! Driver errors. Transport failures (SPI, chip select, flow control) stay
//! apart from what the TPM answered ([`Error::Rc`]); [`Error::kind`] names
//! each as a [`trusted_core::Error`] at the [`trusted_core::TrustSource`]
//! boundary.

use core::fmt;

use embedded_hal::digital::ErrorKind as PinErrorKind;
use embedded_hal::spi::ErrorKind as SpiErrorKind;
use trusted_core::DriverError;

use crate::spec::ResponseCode;

/// Which bounded wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Wait {
    /// SPI flow control: the TPM kept inserting wait states.
    WaitStates,
    /// ACCESS.tpmRegValidSts after reset.
    AccessValid,
    /// ACCESS.activeLocality after requestUse (TIMEOUT_A).
    Locality,
    /// STS.commandReady after writing commandReady (TIMEOUT_B).
    CommandReady,
    /// A non-zero burstCount (TIMEOUT_A / TIMEOUT_D).
    BurstCount,
    /// STS.stsValid after a FIFO write (TIMEOUT_C).
    StsValid,
    /// STS.dataAvail after tpmGo (the command's duration).
    DataAvail,
}

/// What went wrong in the SPI, TIS or TPM2 layer.
///
/// The texts of [`Error::Parse`], [`Error::InvalidArgument`] and
/// [`Error::Unsupported`] are held as `&'static &'static str` (write
/// `Error::Parse(&"where")`): a thin pointer, so the whole error is 8 bytes
/// on 32-bit targets, not 12, and a `Result<()>` comes back in registers.
/// Every `?` of the driver moves one; this took 320 B off the TPM size
/// probe's `.text` on Thumb-2 (480 B with sessions).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// The SPI bus reported an error of this kind.
    Spi(SpiErrorKind),
    /// The chip-select pin reported an error of this kind.
    ChipSelect(PinErrorKind),
    /// A bounded wait ran out.
    Timeout(Wait),
    /// ACCESS reads 0xFF: nothing answers on the bus.
    NoDevice,
    /// STS.tpmFamily is not TPM 2.0.
    NotTpm2,
    /// STS.Expect had the wrong value while sending a command.
    Expect,
    /// STS has bits set that must read as zero (or reads 0xFF).
    BadStatus(u8),
    /// The response header is invalid (size below 10 or tag unknown).
    ResponseHeader,
    /// The response claims more bytes than the buffer holds.
    ResponseTooLarge,
    /// dataAvail dropped before the claimed response size was read.
    ResponseShort,
    /// dataAvail is still set after the claimed response size was read.
    ResponseTrailing,
    /// The command does not fit the command buffer.
    CommandTooLarge,
    /// The TPM answered with this non-zero response code.
    Rc(ResponseCode),
    /// A successful response does not parse; the text says where.
    Parse(&'static &'static str),
    /// A caller-supplied buffer is too small.
    BufferTooSmall,
    /// An argument outside what the command accepts.
    InvalidArgument(&'static &'static str),
    /// What the caller asked needs something this crate does not implement;
    /// the text says what.
    Unsupported(&'static &'static str),
    /// The caller's random number generator failed (session nonce or
    /// ephemeral ECDH key).
    Rng,
    /// The HMAC of a response in a session does not verify (or the
    /// response lacks it): the bus or the TPM was tampered with. Nothing of
    /// the response was used and its buffers were zeroed.
    ResponseHmac,
    /// The storage key at the salt handle is not the pinned one, or the
    /// TPM's Name for it does not match its public area: a replaced TPM or
    /// an interposer. Nothing was sent after TPM2_ReadPublic.
    SrkMismatch,
}

/// Result with [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Spi(kind) => write!(f, "SPI bus error ({kind})"),
            Error::ChipSelect(kind) => write!(f, "chip select error ({kind})"),
            Error::Timeout(w) => write!(f, "TPM did not answer in time ({w:?})"),
            Error::NoDevice => f.write_str("no TPM answers (ACCESS reads 0xff)"),
            Error::NotTpm2 => f.write_str("device is not a TPM 2.0"),
            Error::Expect => f.write_str("STS.Expect mismatch while sending a command"),
            Error::BadStatus(s) => write!(f, "invalid STS value {s:#04x}"),
            Error::ResponseHeader => f.write_str("invalid response header"),
            Error::ResponseTooLarge => f.write_str("response larger than the buffer"),
            Error::ResponseShort => f.write_str("response shorter than its size field"),
            Error::ResponseTrailing => f.write_str("response longer than its size field"),
            Error::CommandTooLarge => f.write_str("command does not fit the buffer"),
            Error::Rc(rc) => write!(f, "TPM answered {rc}"),
            Error::Parse(w) => write!(f, "malformed TPM response: {w}"),
            Error::BufferTooSmall => f.write_str("buffer too small"),
            Error::InvalidArgument(w) => write!(f, "invalid argument: {w}"),
            Error::Unsupported(w) => write!(f, "not implemented: {w}"),
            Error::Rng => f.write_str("random number generator failed"),
            Error::ResponseHmac => {
                f.write_str("TPM response HMAC does not verify: bus or TPM tampered")
            }
            Error::SrkMismatch => f.write_str(
                "storage key differs from the pinned SRK name: TPM replaced or interposer",
            ),
        }
    }
}

impl core::error::Error for Error {}

impl DriverError for Error {
    fn kind(&self) -> trusted_core::Error {
        use trusted_core::Error as E;
        match *self {
            Error::Spi(_) | Error::ChipSelect(_) => E::Transport,
            Error::Timeout(_) => E::Timeout,
            Error::NoDevice => E::NoDevice,
            Error::NotTpm2 => E::Unsupported("TPM 1.2 (only TPM 2.0 is implemented)"),
            Error::Expect => E::Malformed("STS.Expect mismatch"),
            Error::BadStatus(_) => E::Malformed("invalid STS value"),
            Error::ResponseHeader => E::Malformed("invalid response header"),
            Error::ResponseTooLarge => E::Malformed("response larger than the buffer"),
            Error::ResponseShort => E::Malformed("response shorter than its size field"),
            Error::ResponseTrailing => E::Malformed("response longer than its size field"),
            Error::CommandTooLarge => E::BlobLength,
            Error::Rc(rc) if rc.is_auth_failure() => E::AuthFailed,
            Error::Rc(rc) => E::Tpm(rc.0),
            Error::Parse(w) => E::Malformed(w),
            Error::BufferTooSmall => E::BufferTooSmall,
            Error::InvalidArgument(w) => E::InvalidArgument(w),
            Error::Unsupported(w) => E::Unsupported(w),
            Error::Rng => E::Rng,
            // An integrity failure, never AuthFailed: a wrong password is
            // the TPM's AUTH_FAIL, this is the bus or the TPM lying.
            Error::ResponseHmac => E::Malformed("response HMAC: bus or TPM tampered"),
            Error::SrkMismatch => {
                E::InsecureState("SRK name differs from the pinned one: TPM replaced or interposer")
            }
        }
    }
}

impl From<Error> for trusted_core::Error {
    fn from(e: Error) -> Self {
        e.kind()
    }
}

#[cfg(feature = "sessions")]
impl From<crate::session::SessionError> for Error {
    fn from(e: crate::session::SessionError) -> Self {
        use crate::session::SessionError as S;
        match e {
            S::ResponseHmac => Error::ResponseHmac,
            S::Rng | S::Scalar => Error::Rng,
            S::NotOnCurve => Error::Parse(&"salt key is not a P-256 point"),
            S::Size => Error::InvalidArgument(&"authValue longer than 64 bytes"),
        }
    }
}
