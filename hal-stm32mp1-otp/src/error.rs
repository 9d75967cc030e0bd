//! What the BSEC (or the secure monitor in front of it) answered. No fuse
//! value is ever carried in an error, because fuse words hold keys.

use core::fmt;

/// Which lock refused an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LockKind {
    /// `WRLOCK`: the word is permanently locked against programming.
    Permanent,
    /// `SPLOCK`: sticky program lock until reset.
    StickyProgram,
    /// `SWLOCK`: sticky shadow-write lock until reset.
    StickyShadowWrite,
    /// `SRLOCK`: sticky shadow-reload lock until reset.
    StickyShadowReload,
    /// `OTP_LOCK.GPLOCK`: global program lock until reset.
    GlobalProgram,
}

/// Which bounded wait ran out (the BSEC ones are bounded by
/// [`crate::bsec::BSEC_TIMEOUT_US`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Wait {
    /// `STATUS.BUSY` after starting a reload, program or lock operation.
    Busy,
    /// `STATUS.PWRON` to set after `CONF.POWER_UP` was set (SAFMEM power-up).
    PowerUp,
    /// `STATUS.PWRON` to clear after `CONF.POWER_UP` was cleared.
    PowerDown,
    /// RNG `SR.DRDY` (or an error bit) to rise, bounded by
    /// [`crate::rng::INIT_TIMEOUT_US`] at init and
    /// [`crate::Stm32Rng::set_timeout_us`] per word.
    RngData,
    /// SAES `SR.BUSY` to clear after a reset (the SAES fetches masking
    /// randomness from the RNG), bounded by [`crate::saes::SAES_TIMEOUT_US`].
    SaesBusy,
    /// SAES `SR.KEYVALID` after selecting a key (the DHUK load).
    SaesKeyValid,
    /// SAES `CCF` after the fourth `DINR` write of a block.
    SaesComputation,
}

/// A BSEC operation failure, per word where the hardware says which.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// No BSEC2 answers at this address (IP_ID / IPVR mismatch).
    NoDevice,
    /// Word index outside 0..=95.
    BadWord(u8),
    /// `STATUS.INVALID`: the BSEC is in OTP-invalid mode and refuses access.
    InvalidMode,
    /// BUSY or SAFMEM power (PWRON) did not settle within the bounded wait.
    Timeout(Wait),
    /// The `DISTURBED` bit of the word: a marginal read or program.
    Disturbed(u8),
    /// The `ERROR` bit of the word: ECC (upper) or redundancy (lower) error.
    Ecc(u8),
    /// `STATUS.PROGFAIL` after programming or locking the word.
    ProgramFailed(u8),
    /// The word is locked against the operation.
    Locked(u8, LockKind),
    /// An upper word already holds a different value; it can be programmed
    /// only once.
    AlreadyProgrammed(u8),
    /// After programming, the fuses do not hold the requested bits.
    VerifyFailed(u8),
    /// The secure monitor refused the call (`a0` kept: `FAILED`,
    /// `INVALID_PARAMS` for a word the normal world may not use, ...).
    Smc(u32),
    /// The access path cannot do this (for example lock queries over the SMC).
    Unsupported(&'static str),
    /// RNG seed error (`SR.SEIS`/`SECS`, or DR read 0) that the recovery
    /// sequence did not clear [`crate::regs::rng::RECOVER_TRIES`] times in
    /// a row, or one at init (Linux `stm32_rng_init` fails then too).
    RngSeed,
    /// RNG clock error: `SR.CECS`, the RNG kernel clock is too slow now
    /// (seen only with clock error detection on).
    RngClock,
    /// The RNG was read before [`crate::Stm32Rng::init`] succeeded.
    RngNotReady,
    /// The SAES refused or failed an operation (see [`SaesFault`]).
    Saes(SaesFault),
}

impl Error {
    /// The word the error is about, if the hardware named one.
    pub fn word(&self) -> Option<u8> {
        match *self {
            Error::BadWord(w)
            | Error::Disturbed(w)
            | Error::Ecc(w)
            | Error::ProgramFailed(w)
            | Error::Locked(w, _)
            | Error::AlreadyProgrammed(w)
            | Error::VerifyFailed(w) => Some(w),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoDevice => f.write_str("no STM32MP15 BSEC at this address"),
            Error::BadWord(w) => write!(f, "OTP word {w} does not exist (0..=95)"),
            Error::InvalidMode => f.write_str("BSEC is in OTP-invalid mode"),
            Error::Timeout(Wait::Busy) => f.write_str("BSEC stayed busy"),
            Error::Timeout(Wait::PowerUp) => f.write_str("BSEC SAFMEM did not power up"),
            Error::Timeout(Wait::PowerDown) => f.write_str("BSEC SAFMEM did not power down"),
            Error::Timeout(Wait::RngData) => f.write_str("RNG data not ready (SR.DRDY)"),
            Error::Timeout(Wait::SaesBusy) => f.write_str("SAES stayed busy (SR.BUSY)"),
            Error::Timeout(Wait::SaesKeyValid) => {
                f.write_str("SAES key did not become valid (SR.KEYVALID)")
            }
            Error::Timeout(Wait::SaesComputation) => {
                f.write_str("SAES computation did not complete (CCF)")
            }
            Error::Disturbed(w) => write!(f, "OTP word {w} read disturbed"),
            Error::Ecc(w) => write!(f, "OTP word {w} has an ECC/redundancy error"),
            Error::ProgramFailed(w) => write!(f, "programming OTP word {w} failed"),
            Error::Locked(w, kind) => write!(f, "OTP word {w} is locked ({kind:?})"),
            Error::AlreadyProgrammed(w) => {
                write!(f, "upper OTP word {w} already holds another value")
            }
            Error::VerifyFailed(w) => write!(f, "OTP word {w} read back differs"),
            Error::Smc(a0) => write!(f, "BSEC SMC failed with {a0:#010x}"),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
            Error::RngSeed => f.write_str("RNG seed error not recovered (SR.SEIS)"),
            Error::RngClock => f.write_str("RNG clock error (SR.CECS): RNG clock too slow"),
            Error::RngNotReady => f.write_str("RNG used before init"),
            Error::Saes(fault) => fault.fmt(f),
        }
    }
}

impl core::error::Error for Error {}

/// Hardware codes carried in [`trusted_core::Error::Hardware`]: the kind in
/// bits 15:8, the word in bits 7:0.
pub mod code {
    /// `DISTURBED` bit set.
    pub const DISTURBED: u32 = 0x0100;
    /// `ERROR` (ECC) bit set.
    pub const ECC: u32 = 0x0200;
    /// `STATUS.PROGFAIL`.
    pub const PROGFAIL: u32 = 0x0300;
    /// Upper word already programmed with another value.
    pub const ALREADY_PROGRAMMED: u32 = 0x0400;
    /// Read-back after programming differs.
    pub const VERIFY: u32 = 0x0500;
    /// Word index out of range.
    pub const BAD_WORD: u32 = 0x0600;
}

impl trusted_core::DriverError for Error {
    // Out of line: `From` calls it too, and an inlined copy there doubles it.
    #[inline(never)]
    fn kind(&self) -> trusted_core::Error {
        use trusted_core::Error as Core;
        let hw = |kind: u32, w: u8| Core::Hardware(kind | u32::from(w));
        match *self {
            Error::NoDevice => Core::NoDevice,
            Error::BadWord(w) => hw(code::BAD_WORD, w),
            Error::InvalidMode => Core::InsecureState("BSEC is in OTP-invalid mode"),
            Error::Timeout(_) => Core::Timeout,
            Error::Disturbed(w) => hw(code::DISTURBED, w),
            Error::Ecc(w) => hw(code::ECC, w),
            Error::ProgramFailed(w) => hw(code::PROGFAIL, w),
            Error::Locked(..) => Core::Locked,
            Error::AlreadyProgrammed(w) => hw(code::ALREADY_PROGRAMMED, w),
            Error::VerifyFailed(w) => hw(code::VERIFY, w),
            Error::Smc(a0) => Core::Hardware(a0),
            Error::Unsupported(what) => Core::Unsupported(what),
            Error::RngSeed | Error::RngClock => Core::Rng,
            Error::RngNotReady => Core::InvalidArgument("RNG used before init"),
            Error::Saes(fault) => fault.kind(),
        }
    }
}

impl From<Error> for trusted_core::Error {
    fn from(e: Error) -> Self {
        trusted_core::DriverError::kind(&e)
    }
}

/// What the SAES answered, or why its answer is not trusted. No key, block
/// or subkey byte is ever carried.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SaesFault {
    /// `SAES_CR` does not keep what was written: the SAES clock is off, it
    /// is held in reset, or the firewall (ETZPC on MP13, RIF on MP2x)
    /// blocks this world's accesses.
    NotResponding,
    /// `KEIF`: the key did not load (the DHUK is not functional on this
    /// device), or it was loaded from another security context.
    KeyError,
    /// `RDERR`: an unexpected `DOUTR` read, which returns zero.
    ReadError,
    /// `WRERR`: an unexpected `DINR` write, which the SAES ignored.
    WriteError,
    /// `RNGEIF`: the SAES could not fetch random numbers from the RNG (RNG
    /// clock off, bad entropy) and cannot be used until reset.
    RngError,
    /// The FIPS-197 known-answer test with a software key gave another
    /// block: the SAES data path is faulty.
    SelfTestFailed,
    /// Two derivations of the same subkey differed (a transient fault).
    Unstable,
    /// Data for a block mode that is empty or not whole 16-byte blocks.
    BadLength,
}

impl fmt::Display for SaesFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaesFault::NotResponding => {
                "SAES does not respond (clock off, held in reset, or blocked by the firewall for this world)"
            }
            SaesFault::KeyError => {
                "SAES key error (DHUK not available, or loaded in another security context)"
            }
            SaesFault::ReadError => "SAES read error (unexpected DOUTR read)",
            SaesFault::WriteError => "SAES write error (unexpected DINR write)",
            SaesFault::RngError => "SAES could not fetch random numbers from the RNG",
            SaesFault::SelfTestFailed => "SAES failed its AES known-answer self test",
            SaesFault::Unstable => "two SAES derivations of one subkey differ",
            SaesFault::BadLength => "SAES data must be whole 16-byte blocks",
        })
    }
}

/// Hardware codes of SAES faults in [`trusted_core::Error::Hardware`].
pub mod saes_code {
    /// `KEIF`.
    pub const KEY_ERROR: u32 = 0x5A01;
    /// `RDERR`.
    pub const READ_ERROR: u32 = 0x5A02;
    /// `WRERR`.
    pub const WRITE_ERROR: u32 = 0x5A03;
    /// `RNGEIF`.
    pub const RNG_ERROR: u32 = 0x5A04;
    /// Known-answer self test failed.
    pub const SELF_TEST: u32 = 0x5A05;
    /// Two derivations differed.
    pub const UNSTABLE: u32 = 0x5A06;
}

impl SaesFault {
    /// The fault as a core error: nothing answering is "no device here"
    /// (as a BSEC whose ID registers do not match), the flags are
    /// `Hardware` codes from [`saes_code`].
    pub fn kind(&self) -> trusted_core::Error {
        use trusted_core::Error as Core;
        match *self {
            SaesFault::NotResponding => Core::NoDevice,
            SaesFault::KeyError => Core::Hardware(saes_code::KEY_ERROR),
            SaesFault::ReadError => Core::Hardware(saes_code::READ_ERROR),
            SaesFault::WriteError => Core::Hardware(saes_code::WRITE_ERROR),
            SaesFault::RngError => Core::Hardware(saes_code::RNG_ERROR),
            SaesFault::SelfTestFailed => Core::Hardware(saes_code::SELF_TEST),
            SaesFault::Unstable => Core::Hardware(saes_code::UNSTABLE),
            SaesFault::BadLength => Core::InvalidArgument("SAES data must be whole 16-byte blocks"),
        }
    }
}
