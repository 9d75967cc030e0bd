//! Driver errors. Transport failures (SPI, chip select, flow control) stay
//! apart from what the TPM answered; both convert into
//! [`trusted_core::Error`] at the [`trusted_core::TrustSource`] boundary.

use core::fmt;

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
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TpmError {
    /// The SPI bus reported an error.
    Spi,
    /// The chip-select pin reported an error.
    ChipSelect,
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
    /// The TPM returned a non-zero response code.
    Rc(u32),
    /// A successful response does not parse; the text says where.
    Parse(&'static str),
    /// A caller-supplied buffer is too small.
    BufferTooSmall,
    /// An argument outside what the command accepts.
    InvalidArgument(&'static str),
}

/// Result with [`TpmError`].
pub type Result<T> = core::result::Result<T, TpmError>;

impl fmt::Display for TpmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TpmError::Spi => f.write_str("SPI bus error"),
            TpmError::ChipSelect => f.write_str("chip select error"),
            TpmError::Timeout(w) => write!(f, "TPM did not answer in time ({w:?})"),
            TpmError::NoDevice => f.write_str("no TPM answers (ACCESS reads 0xff)"),
            TpmError::NotTpm2 => f.write_str("device is not a TPM 2.0"),
            TpmError::Expect => f.write_str("STS.Expect mismatch while sending a command"),
            TpmError::BadStatus(s) => write!(f, "invalid STS value {s:#04x}"),
            TpmError::ResponseHeader => f.write_str("invalid response header"),
            TpmError::ResponseTooLarge => f.write_str("response larger than the buffer"),
            TpmError::ResponseShort => f.write_str("response shorter than its size field"),
            TpmError::ResponseTrailing => f.write_str("response longer than its size field"),
            TpmError::CommandTooLarge => f.write_str("command does not fit the buffer"),
            TpmError::Rc(rc) => write!(f, "TPM response code {rc:#x}"),
            TpmError::Parse(w) => write!(f, "malformed TPM response: {w}"),
            TpmError::BufferTooSmall => f.write_str("buffer too small"),
            TpmError::InvalidArgument(w) => write!(f, "invalid argument: {w}"),
        }
    }
}

impl core::error::Error for TpmError {}

/// TPM_RC_INITIALIZE: TPM2_Startup was already sent.
pub const RC_INITIALIZE: u32 = 0x100;

/// Strips the handle/session/parameter number of a format-1 response code,
/// so `0x98e` (AUTH_FAIL on session 1) becomes `0x08e`.
pub const fn rc_base(rc: u32) -> u32 {
    if rc & 0x80 != 0 { rc & 0xBF } else { rc }
}

/// TPM_RC_AUTH_FAIL, TPM_RC_BAD_AUTH, TPM_RC_POLICY_FAIL, TPM_RC_INTEGRITY,
/// TPM_RC_PCR_CHANGED and TPM_RC_AUTH_UNAVAILABLE (password offered for a
/// policy-only object) all mean "this blob does not open here with these
/// credentials": reported as [`trusted_core::Error::AuthFailed`].
pub fn is_auth_failure(rc: u32) -> bool {
    matches!(rc_base(rc), 0x08E | 0x0A2 | 0x09D | 0x09F) || matches!(rc, 0x128 | 0x12F)
}

impl From<TpmError> for trusted_core::Error {
    fn from(e: TpmError) -> Self {
        use trusted_core::Error as E;
        match e {
            TpmError::Spi | TpmError::ChipSelect => E::Transport,
            TpmError::Timeout(_) => E::Timeout,
            TpmError::NoDevice => E::NoDevice,
            TpmError::NotTpm2 => E::Unsupported("TPM 1.2 (only TPM 2.0 is implemented)"),
            TpmError::Expect => E::Malformed("STS.Expect mismatch"),
            TpmError::BadStatus(_) => E::Malformed("invalid STS value"),
            TpmError::ResponseHeader => E::Malformed("invalid response header"),
            TpmError::ResponseTooLarge => E::Malformed("response larger than the buffer"),
            TpmError::ResponseShort => E::Malformed("response shorter than its size field"),
            TpmError::ResponseTrailing => E::Malformed("response longer than its size field"),
            TpmError::CommandTooLarge => E::BlobLength,
            TpmError::Rc(rc) if is_auth_failure(rc) => E::AuthFailed,
            TpmError::Rc(rc) => E::Tpm(rc),
            TpmError::Parse(w) => E::Malformed(w),
            TpmError::BufferTooSmall => E::BufferTooSmall,
            TpmError::InvalidArgument(w) => E::InvalidArgument(w),
        }
    }
}
