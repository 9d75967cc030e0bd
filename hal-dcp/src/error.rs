//! What the DCP driver reports: which wait ran out, which CH0STAT word a
//! packet ended with, which argument was refused. [`crate::source`] turns it
//! into a [`trusted_core::Error`] at the `TrustSource` / `Huk` boundary.

use core::fmt;

/// The bounded wait that ran out (each is bounded by
/// [`crate::Dcp::set_timeout_us`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Wait {
    /// CTRL.SFTRST and CLKGATE did not clear after the soft reset of
    /// [`crate::Dcp::init`].
    Reset,
    /// STAT.IRQ\[0\] did not rise: a channel-0 work packet did not complete
    /// (the driver then soft-resets the block).
    Channel,
    /// RNGB STATUS.ST_DONE did not rise after the self-test command
    /// (bounded by [`crate::rngb::SELF_TEST_TIMEOUT_US`]).
    RngbSelfTest,
    /// RNGB STATUS.SEED_DONE did not rise after the seed command (bounded
    /// by [`crate::rngb::SEED_TIMEOUT_US`] per try).
    RngbSeed,
    /// The RNGB FIFO stayed empty (bounded by [`crate::Rngb::set_timeout_us`]).
    RngbFifo,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Wait::Reset => "soft reset (CTRL.SFTRST)",
            Wait::Channel => "channel 0 completion (STAT.IRQ)",
            Wait::RngbSelfTest => "RNGB self test (STATUS.ST_DONE)",
            Wait::RngbSeed => "RNGB seed (STATUS.SEED_DONE)",
            Wait::RngbFifo => "RNGB output FIFO (STATUS.FIFO_LEVEL)",
        })
    }
}

/// What the DCP driver can report.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Error {
    /// CTRL does not report the crypto engine: no DCP at this address, or
    /// one without it. The CTRL value read is kept.
    NoDevice {
        /// CTRL as read.
        ctrl: u32,
    },
    /// CAPABILITY1 lists no AES-128 engine.
    NoAes128 {
        /// CAPABILITY1 as read.
        capability1: u32,
    },
    /// A bounded wait ran out.
    Timeout(Wait),
    /// A work packet ended with error bits in CH0STAT; the whole word
    /// (error bits, error code in 23:16, tag in 31:24) is kept.
    ChannelStatus(u32),
    /// The DMA region is smaller than [`crate::MIN_DMA_LEN`].
    DmaTooSmall {
        /// Its length in bytes.
        len: usize,
    },
    /// The DMA region does not start on a 4-byte bus address or does not
    /// end below 4 GiB (the DCP has 32-bit pointers).
    DmaPlacement {
        /// Its bus address.
        bus_address: u64,
    },
    /// The DMA region refused an access (its own error).
    Dma(trusted_core::Error),
    /// A key-RAM slot outside 0..=3.
    KeySlot(u8),
    /// AES data whose length is not a multiple of 16 bytes.
    DataLength(usize),
    /// A job before [`crate::Dcp::init`] succeeded (or after a timeout
    /// reset the block).
    NotReady,
    /// The [`crate::DcpAes`] cipher was re-entered while a block ran.
    Busy,
    /// RNGB VER_ID names neither an RNGB nor an RNGC (Linux
    /// `imx_rngc_probe` answers `-ENODEV`). The value read is kept.
    RngbNoDevice {
        /// VER_ID as read.
        ver_id: u32,
    },
    /// The RNGB self test failed (STATUS.ERROR with ERROR.SELF_TEST and
    /// the pass/fail fields; Linux `imx_rngc_self_test` `-EIO`).
    RngbSelfTest {
        /// STATUS as read (self-test pass/fail in 23:21).
        status: u32,
        /// ERROR (ESR) as read.
        error: u32,
    },
    /// RNGB seeding failed: a statistical test failed on every try, or
    /// another error (ERROR.OSC, ...) ended it (Linux `imx_rngc_init` `-EIO`).
    RngbSeed {
        /// ERROR (ESR) of the last try.
        error: u32,
    },
    /// STATUS.ERROR while random words were read: FIFO underflow or a
    /// generator error (a failed automatic reseed). ESR is kept.
    RngbFifo {
        /// ERROR (ESR) as read.
        error: u32,
    },
    /// Random words were asked for before [`crate::Rngb::init`] succeeded,
    /// or after a generator error that needs a new seed.
    RngbNotReady,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoDevice { ctrl } => {
                write!(f, "no DCP crypto engine (CTRL {ctrl:#010x})")
            }
            Error::NoAes128 { capability1 } => {
                write!(
                    f,
                    "this DCP has no AES-128 engine (CAPABILITY1 {capability1:#010x})"
                )
            }
            Error::Timeout(wait) => write!(f, "DCP timed out waiting for {wait}"),
            Error::ChannelStatus(status) => write!(f, "DCP packet failed, CH0STAT {status:#010x}"),
            Error::DmaTooSmall { len } => {
                write!(f, "DCP DMA region is too small ({len} bytes)")
            }
            Error::DmaPlacement { bus_address } => write!(
                f,
                "DCP DMA region at {bus_address:#x} must be 4-byte aligned and below 4 GiB"
            ),
            Error::Dma(e) => write!(f, "DCP DMA region access failed: {e}"),
            Error::KeySlot(slot) => write!(f, "DCP key slot {slot} is not 0..=3"),
            Error::DataLength(len) => {
                write!(f, "DCP AES data of {len} bytes is not a multiple of 16")
            }
            Error::NotReady => f.write_str("DCP used before init"),
            Error::Busy => f.write_str("DCP cipher busy"),
            Error::RngbNoDevice { ver_id } => {
                write!(f, "no RNGB/RNGC (VER_ID {ver_id:#010x})")
            }
            Error::RngbSelfTest { status, error } => write!(
                f,
                "RNGB self test failed (STATUS {status:#010x}, ERROR {error:#x})"
            ),
            Error::RngbSeed { error } => write!(f, "RNGB seeding failed (ERROR {error:#x})"),
            Error::RngbFifo { error } => {
                write!(
                    f,
                    "RNGB error while reading random words (ERROR {error:#x})"
                )
            }
            Error::RngbNotReady => f.write_str("RNGB used before init or after an error"),
        }
    }
}

impl core::error::Error for Error {}

impl trusted_core::DriverError for Error {
    // Out of line: `From` calls it too, and an inlined copy there doubles it.
    #[inline(never)]
    fn kind(&self) -> trusted_core::Error {
        use trusted_core::Error as E;
        match *self {
            Error::NoDevice { .. } => E::NoDevice,
            Error::NoAes128 { .. } => E::Unsupported("this DCP has no AES-128 engine"),
            Error::Timeout(_) => E::Timeout,
            Error::ChannelStatus(status) => E::Hardware(status),
            Error::DmaTooSmall { .. } => E::InvalidArgument("DCP DMA region is too small"),
            Error::DmaPlacement { .. } => {
                E::InvalidArgument("DCP DMA region must be 4-byte aligned and below 4 GiB")
            }
            Error::Dma(e) => e,
            Error::KeySlot(_) => E::InvalidArgument("DCP key slot must be 0..=3"),
            Error::DataLength(_) => {
                E::InvalidArgument("DCP AES data must be a multiple of 16 bytes")
            }
            Error::NotReady => E::InvalidArgument("DCP used before init"),
            Error::Busy => E::Busy,
            Error::RngbNoDevice { .. } => E::NoDevice,
            Error::RngbSelfTest { .. } | Error::RngbSeed { .. } | Error::RngbFifo { .. } => E::Rng,
            Error::RngbNotReady => E::InvalidArgument("RNGB used before init or after an error"),
        }
    }
}

impl From<Error> for trusted_core::Error {
    fn from(e: Error) -> Self {
        trusted_core::DriverError::kind(&e)
    }
}
