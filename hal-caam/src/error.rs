//! Driver errors and the job status word. The driver reports [`Error`]
//! end to end; [`trusted_core::DriverError::kind`] names it as a
//! [`trusted_core::Error`] at the `TrustSource` boundary.

use core::fmt;

use trusted_core::DriverError;

use crate::desc::DescError;
use crate::regs::status as st;

/// A non-zero job status word (output ring), decoded by its source
/// (Linux `drivers/crypto/caam/error.c caam_strstatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum JobStatus {
    /// A CHA reported an error (SSRC 2).
    Ccb {
        /// CHA id (1 AES, 5 RNG, ...).
        cha: u8,
        /// Error id (0xA ICV check failed, 0xB hardware error, ...).
        err: u8,
        /// Word index of the failing command.
        index: u8,
        /// The raw word.
        raw: u32,
    },
    /// The descriptor controller reported an error (SSRC 4).
    Deco {
        /// DECO error code (0x04 invalid command, 0x16 DMA, 0x81 protocol, ...).
        code: u8,
        /// Word index of the failing command.
        index: u8,
        /// The raw word.
        raw: u32,
    },
    /// A JUMP HALT USER command ended the job (SSRC 3).
    JumpHaltUser {
        /// The user status byte.
        status: u8,
        /// The raw word.
        raw: u32,
    },
    /// A JUMP HALT with condition codes ended the job (SSRC 7).
    JumpHaltCondition {
        /// The raw word.
        raw: u32,
    },
    /// The job ring rejected the job (SSRC 6).
    JobRing {
        /// Job-ring error code.
        code: u8,
        /// The raw word.
        raw: u32,
    },
    /// A status source this driver does not know (1, 5 or 8..15).
    Unknown {
        /// The raw word.
        raw: u32,
    },
}

impl JobStatus {
    /// Decodes a status word; `None` for 0 (success).
    pub fn decode(raw: u32) -> Option<Self> {
        if raw == 0 {
            return None;
        }
        let code = (raw & st::CODE_MASK) as u8;
        let index = ((raw >> st::INDEX_SHIFT) & st::INDEX_MASK) as u8;
        Some(match raw >> st::SSRC_SHIFT {
            st::SSRC_CCB => JobStatus::Ccb {
                cha: ((raw >> st::CCB_CHAID_SHIFT) & st::CCB_NIBBLE_MASK) as u8,
                err: (raw & st::CCB_NIBBLE_MASK) as u8,
                index,
                raw,
            },
            st::SSRC_DECO => JobStatus::Deco { code, index, raw },
            st::SSRC_JUMP_HALT_USER => JobStatus::JumpHaltUser { status: code, raw },
            st::SSRC_JUMP_HALT_CC => JobStatus::JumpHaltCondition { raw },
            st::SSRC_JR => JobStatus::JobRing { code, raw },
            _ => JobStatus::Unknown { raw },
        })
    }

    /// The raw status word.
    pub fn raw(self) -> u32 {
        match self {
            JobStatus::Ccb { raw, .. }
            | JobStatus::Deco { raw, .. }
            | JobStatus::JumpHaltUser { raw, .. }
            | JobStatus::JumpHaltCondition { raw }
            | JobStatus::JobRing { raw, .. }
            | JobStatus::Unknown { raw } => raw,
        }
    }

    /// A CCB "ICV check failed": the blob MAC did not verify (tampered
    /// blob, wrong key modifier, other master key). Linux returns
    /// `-EBADMSG` for exactly this case.
    pub fn is_icv_failure(self) -> bool {
        matches!(self, JobStatus::Ccb { err, .. } if u32::from(err) == st::ERRID_ICV_CHECK)
    }

    /// A CCB RNG hardware error: OP-TEE reads it as "entropy too low" and
    /// kicks the TRNG again with a longer entropy delay.
    pub fn is_rng_hardware_error(self) -> bool {
        matches!(self, JobStatus::Ccb { cha, err, .. }
            if u32::from(cha) == st::CHAID_RNG && u32::from(err) == st::ERRID_HARDWARE)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobStatus::Ccb {
                cha,
                err,
                index,
                raw,
            } => write!(
                f,
                "CCB error {raw:#010x}: CHA {cha:#x}, error id {err:#x}, desc idx {index}"
            ),
            JobStatus::Deco { code, index, raw } => {
                write!(
                    f,
                    "DECO error {raw:#010x}: code {code:#04x}, desc idx {index}"
                )
            }
            JobStatus::JumpHaltUser { status, raw } => {
                write!(f, "jump halt user {raw:#010x}: status {status:#04x}")
            }
            JobStatus::JumpHaltCondition { raw } => {
                write!(f, "jump halt on condition codes {raw:#010x}")
            }
            JobStatus::JobRing { code, raw } => {
                write!(f, "job ring error {raw:#010x}: code {code:#04x}")
            }
            JobStatus::Unknown { raw } => write!(f, "unknown status source {raw:#010x}"),
        }
    }
}

/// Which bounded wait on the CAAM ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A word, as `DescError`, at the same place in `Error`.
#[repr(u32)]
pub enum Wait {
    /// JRINTR.HALT to leave "flush in progress" after the first JRCR.RESET
    /// write (Linux `caam_reset_hw_jr`).
    RingFlush,
    /// JRCR.RESET to clear after the second write.
    RingReset,
    /// ORSFR to report the job's output-ring entry.
    Job,
}

/// A construction value [`crate::Caam::new`] refuses: one variant per
/// rule, each keeping the value it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConfigError {
    /// `Config::job_ring` above 3 (a CAAM has four job rings).
    JobRing(u8),
    /// `Config::page_size` neither [`crate::regs::PAGE_SIZE_4K`] nor
    /// [`crate::regs::PAGE_SIZE_64K`]: with any other value the job-ring
    /// page would be computed somewhere else (with 0 or 1, on the
    /// controller page itself).
    PageSize(usize),
    /// `Config::ring_size` outside 1..=[`crate::jr::MAX_RING_SIZE`].
    RingSize(u16),
    /// `Config::timeout_us` of zero: no wait could ever succeed on hardware.
    Timeout,
    /// `Config::poll_step_us` of zero, or longer than the timeout.
    PollStep(u32),
    /// The DMA region is shorter than [`crate::jr::layout::MIN_LEN`] bytes.
    DmaTooSmall(usize),
    /// The DMA region's bus address is not 64-byte aligned, so the areas of
    /// [`crate::jr::layout`] would share cache lines.
    DmaAlignment(u64),
    /// The DMA region (bus address kept) does not fit the pointer size:
    /// with 32-bit pointers it must end below 4 GiB.
    DmaRange(u64),
}

impl ConfigError {
    fn what(self) -> &'static str {
        match self {
            ConfigError::JobRing(_) => "CAAM job ring index must be 0..=3",
            ConfigError::PageSize(_) => "CAAM page size must be 4 KiB or 64 KiB",
            ConfigError::RingSize(_) => "CAAM ring size must be 1..=16",
            ConfigError::Timeout => "CAAM timeout must be above 0",
            ConfigError::PollStep(_) => "CAAM poll step must be 1..=timeout",
            ConfigError::DmaTooSmall(_) => "CAAM DMA region is too small",
            ConfigError::DmaAlignment(_) => "CAAM DMA region must be 64-byte aligned",
            ConfigError::DmaRange(_) => "CAAM DMA region does not fit the pointer size",
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what())?;
        match *self {
            ConfigError::JobRing(v) => write!(f, " (got {v})"),
            ConfigError::PageSize(v) => write!(f, " (got {v:#x})"),
            ConfigError::RingSize(v) => write!(f, " (got {v})"),
            ConfigError::Timeout => Ok(()),
            ConfigError::PollStep(v) => write!(f, " (got {v})"),
            ConfigError::DmaTooSmall(v) => write!(f, " ({v} bytes)"),
            ConfigError::DmaAlignment(v) | ConfigError::DmaRange(v) => write!(f, " (at {v:#x})"),
        }
    }
}

/// What the CAAM driver can report.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A word-sized tag with every payload after it: moving an `Error` (each
// `?` does) copies whole words instead of the odd bytes and halfwords that
// the default layout packs into the tag's word (`.text` of the AArch64
// size probe -276 B, of the i.MX8 image -796 B).
#[repr(u32)]
pub enum Error {
    /// A wait on the CAAM ran out: the job did not complete, or the ring
    /// did not flush or reset, within `Config::timeout_us`.
    Timeout(Wait),
    /// The job completed with a non-zero status.
    Job(JobStatus),
    /// The job ring raised an error (JRINTR.JRE); the JRINTR value is kept.
    JobRing(u32),
    /// The output ring reported more completed jobs than it has slots.
    OutputRingOverflow,
    /// A completion for a descriptor this driver did not enqueue.
    UnexpectedCompletion,
    /// No input-ring slot available.
    RingFull,
    /// The descriptor could not be built.
    Descriptor(DescError),
    /// The DMA region is too small or its bus address does not fit the
    /// pointer size.
    DmaRegion,
    /// An argument outside what the operation accepts.
    InvalidArgument(&'static str),
    /// The driver was used before [`crate::Caam::init`].
    NotInitialized,
    /// SCFGR.PRIBLOB is already at its last value (OP-TEE panics here).
    PriblobExhausted,
    /// The CAAM lacks a feature the configuration asks for.
    Unsupported(&'static str),
    /// [`crate::Caam::new`] refused a configuration value.
    Config(ConfigError),
    /// The CAAM's AES gave a wrong FIPS-197 answer before its first block
    /// ([`crate::Caam::aes_encrypt_block`]).
    AesSelfTest,
}

impl From<DescError> for Error {
    fn from(e: DescError) -> Self {
        Error::Descriptor(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Timeout(Wait::Job) => f.write_str("CAAM job did not complete in time"),
            Error::Timeout(Wait::RingFlush) => f.write_str("CAAM job ring did not flush in time"),
            Error::Timeout(Wait::RingReset) => f.write_str("CAAM job ring did not reset in time"),
            Error::Job(status) => write!(f, "CAAM job failed: {status}"),
            Error::JobRing(jrintr) => write!(f, "CAAM job ring error, JRINTR {jrintr:#010x}"),
            Error::OutputRingOverflow => f.write_str("CAAM output ring overflow"),
            Error::UnexpectedCompletion => {
                f.write_str("CAAM completed a descriptor that was not enqueued")
            }
            Error::RingFull => f.write_str("CAAM input ring full"),
            Error::Descriptor(e) => write!(f, "CAAM descriptor invalid: {e:?}"),
            Error::DmaRegion => f.write_str("DMA region too small or out of pointer range"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::NotInitialized => f.write_str("CAAM job ring not initialised"),
            Error::PriblobExhausted => f.write_str("SCFGR.PRIBLOB is already 3"),
            Error::Unsupported(what) => write!(f, "not supported: {what}"),
            Error::Config(e) => write!(f, "invalid CAAM configuration: {e}"),
            Error::AesSelfTest => f.write_str("CAAM AES failed its FIPS-197 known-answer test"),
        }
    }
}

impl core::error::Error for Error {}

impl DriverError for Error {
    // Out of line: `From` calls it too, and an inlined copy there doubles it.
    #[inline(never)]
    fn kind(&self) -> trusted_core::Error {
        use trusted_core::Error as E;
        match *self {
            Error::Timeout(_) => E::Timeout,
            Error::Job(status) if status.is_icv_failure() => E::AuthFailed,
            Error::Job(status) => E::Hardware(status.raw()),
            Error::JobRing(jrintr) => E::Hardware(jrintr),
            Error::OutputRingOverflow => E::Malformed("CAAM output ring overflow"),
            Error::UnexpectedCompletion => {
                E::Malformed("CAAM completed a descriptor that was not enqueued")
            }
            Error::RingFull => E::Busy,
            Error::Descriptor(_) => E::InvalidArgument("CAAM descriptor does not fit"),
            Error::DmaRegion => E::BufferTooSmall,
            Error::InvalidArgument(what) => E::InvalidArgument(what),
            Error::NotInitialized => E::NoDevice,
            Error::PriblobExhausted => E::Locked,
            Error::Unsupported(what) => E::Unsupported(what),
            Error::AesSelfTest => E::Malformed("CAAM AES failed its known-answer test"),
            Error::Config(e) => E::InvalidArgument(e.what()),
        }
    }
}

impl From<Error> for trusted_core::Error {
    fn from(e: Error) -> Self {
        e.kind()
    }
}
