//! The i.MX6ULL **RNGB** true random number generator: self test, seeding,
//! automatic reseeding and the output FIFO, polled with bounded waits, and
//! the block as a `rand_core` 0.10 `TryRng + TryCryptoRng`.
//!
//! It lives in `hal-dcp` because this crate is the i.MX6ULL/6SL board
//! family's: the DCP has no RNG, and the RNGB is the entropy its users
//! ([`crate::DcpSource`] takes the caller's RNG) have on those parts. U-Boot
//! files its driver under the DCP too (`drivers/crypto/fsl/dcp_rng.c`,
//! `CONFIG_FSL_DCP_RNG`).
//!
//! Sequence, as Linux `drivers/char/hw_random/imx-rngc.c` (`imx_rngc_probe`,
//! `imx_rngc_self_test`, `imx_rngc_init`, `imx_rngc_read`) and OP-TEE
//! `core/drivers/imx_rngb.c` (`rng_seed`, `hw_get_random_bytes`) do it, but
//! polled:
//!
//! 1. VER_ID type must be RNGB or RNGC (`imx_rngc_probe`);
//! 2. software reset (TamaGo `rngb.Init`), so an earlier stage's state or a
//!    stuck command does not survive, and both interrupts masked (we poll);
//! 3. self test, bounded by Linux's `RNGC_SELFTEST_TIMEOUT` (2.5 ms); any
//!    error bit fails it;
//! 4. seed, bounded by Linux's `RNGC_SEED_TIMEOUT` (200 ms) per try, tried
//!    again while the only error is a statistical-test error as Linux and
//!    OP-TEE do, but at most [`SEED_TRIES`] times (both loop without bound);
//! 5. automatic reseeding on (`RNGC_CTRL_AUTO_SEED`);
//! 6. reads: STATUS.ERROR fails the read, otherwise every word the FIFO
//!    level announces is taken, with a bounded wait while it is empty. The
//!    status is checked once more after the last word, so an underflow on
//!    it is not missed (Linux checks only before each word).
//!
//! Done bits are cleared with CLR_INT | CLR_ERR before each command, as
//! OP-TEE `rng_seed` does, so a stale SEED_DONE cannot end a later wait.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::rng::fill_or_wipe;
use trusted_core::{Mmio, debug, trace, warning};

use crate::error::{Error, Wait};
use crate::regs::rngb as r;

/// Bound on the self test (Linux `RNGC_SELFTEST_TIMEOUT`, 2500 µs).
pub const SELF_TEST_TIMEOUT_US: u32 = 2_500;
/// Bound on one seed generation (Linux `RNGC_SEED_TIMEOUT`, 200 ms).
pub const SEED_TIMEOUT_US: u32 = 200_000;
/// Seed generations tried while the statistical test fails.
pub const SEED_TRIES: u8 = 3;
/// Default bound on a wait for the FIFO: one seed time, since an automatic
/// reseed may be running. Linux and U-Boot wait without bound.
pub const DEFAULT_TIMEOUT_US: u32 = SEED_TIMEOUT_US;
const POLL_STEP_US: u32 = 10;
const MAX_STEP_US: u32 = 1_000;
const CLEAR: u32 = r::CMD_CLR_INT | r::CMD_CLR_ERR;

/// The RNGB over a register block `M` and a delay `T` for bounded waits.
pub struct Rngb<M, T> {
    regs: M,
    delay: T,
    timeout_us: u32,
    ready: bool,
    seed_tries: u8,
}

impl<M: Mmio, T: DelayNs> Rngb<M, T> {
    /// A driver over the RNGB register block (see [`crate::regs::rngb`]).
    /// Nothing is touched until [`Rngb::init`].
    pub fn new(regs: M, delay: T) -> Self {
        Self {
            regs,
            delay,
            timeout_us: DEFAULT_TIMEOUT_US,
            ready: false,
            seed_tries: 0,
        }
    }

    /// The register block and delay back.
    pub fn into_inner(self) -> (M, T) {
        (self.regs, self.delay)
    }

    /// The register block (tests reach the model's fault hooks through it).
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.regs
    }

    /// Bound on one wait for the FIFO, in microseconds.
    pub fn set_timeout_us(&mut self, timeout_us: u32) {
        self.timeout_us = timeout_us;
    }

    /// True after a successful [`Rngb::init`] and until an error that needs
    /// a new seed.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Seed generations the last [`Rngb::init`] needed (1 when the first
    /// passed the statistical tests).
    pub fn seed_tries(&self) -> u8 {
        self.seed_tries
    }

    /// Probes, resets, self-tests and seeds the RNGB, then turns on
    /// automatic reseeding. Can be called again to recover after an error.
    pub fn init(&mut self) -> Result<(), Error> {
        self.ready = false;
        self.seed_tries = 0;
        let ver_id = self.regs.read32(r::VER_ID);
        let kind = ver_id >> r::VER_ID_TYPE_SHIFT;
        if kind != r::TYPE_RNGB && kind != r::TYPE_RNGC {
            debug!("rngb: VER_ID {=u32:#x}: not an RNGB/RNGC", ver_id);
            return Err(Error::RngbNoDevice { ver_id });
        }
        self.regs.write32(r::COMMAND, r::CMD_SW_RST);
        let control = self.regs.read32(r::CONTROL);
        self.regs
            .write32(r::CONTROL, control | r::CTRL_MASK_DONE | r::CTRL_MASK_ERROR);
        self.regs.write32(r::COMMAND, CLEAR);
        self.self_test()?;
        self.seed()?;
        let control = self.regs.read32(r::CONTROL);
        self.regs.write32(r::CONTROL, control | r::CTRL_AUTO_SEED);
        self.ready = true;
        trace!("rngb: seeded after {=u8} tries", self.seed_tries);
        Ok(())
    }

    /// Runs one command and waits (bounded) for its done bit or an error;
    /// returns STATUS and ESR as they were, then clears both.
    fn command(
        &mut self,
        cmd: u32,
        done: u32,
        budget: Budget,
        wait: Wait,
    ) -> Result<(u32, u32), Error> {
        self.regs.write32(r::COMMAND, cmd);
        let regs = &mut self.regs;
        let mut status = 0;
        poll_until(&mut self.delay, budget, Error::Timeout(wait), || {
            status = regs.read32(r::STATUS);
            Ok(status & (done | r::STATUS_ERROR) != 0)
        })?;
        let error = self.regs.read32(r::ERROR);
        self.regs.write32(r::COMMAND, CLEAR);
        Ok((status, error))
    }

    /// Linux `imx_rngc_self_test`: any error bit fails it.
    fn self_test(&mut self) -> Result<(), Error> {
        let (status, error) = self.command(
            r::CMD_SELF_TEST,
            r::STATUS_ST_DONE,
            Budget::fixed(SELF_TEST_TIMEOUT_US, POLL_STEP_US),
            Wait::RngbSelfTest,
        )?;
        if status & r::STATUS_ERROR != 0 || error != 0 {
            warning!("rngb: self test failed, ESR {=u32:#x}", error);
            return Err(Error::RngbSelfTest { status, error });
        }
        Ok(())
    }

    /// Linux `imx_rngc_init` / OP-TEE `rng_seed`: seed again while only the
    /// statistical test failed, at most [`SEED_TRIES`] times.
    fn seed(&mut self) -> Result<(), Error> {
        let mut error = 0;
        while self.seed_tries < SEED_TRIES {
            self.seed_tries += 1;
            let (status, esr) = self.command(
                r::CMD_SEED,
                r::STATUS_SEED_DONE,
                Budget::backoff(SEED_TIMEOUT_US, POLL_STEP_US, MAX_STEP_US),
                Wait::RngbSeed,
            )?;
            error = esr;
            if status & r::STATUS_ERROR == 0 && esr == 0 {
                return Ok(());
            }
            if esr != r::ESR_STAT {
                break;
            }
            debug!("rngb: statistical test failed, seeding again");
        }
        warning!("rngb: seeding failed, ESR {=u32:#x}", error);
        Err(Error::RngbSeed { error })
    }

    /// Fills `out` with random bytes from the FIFO, one 32-bit word per four
    /// bytes (little-endian; the unused bytes of the last word are dropped).
    /// `out` is zeroed on error. An error other than a FIFO underflow needs
    /// a new seed: the driver is then not ready until [`Rngb::init`].
    pub fn fill(&mut self, out: &mut [u8]) -> Result<(), Error> {
        fill_or_wipe(out, |out| self.fill_words(out))
    }

    fn fill_words(&mut self, out: &mut [u8]) -> Result<(), Error> {
        if !self.ready {
            return Err(Error::RngbNotReady);
        }
        let mut chunks = out.chunks_mut(4);
        let mut next = chunks.next();
        while next.is_some() {
            let level = self.wait_level()?;
            for _ in 0..level {
                let Some(chunk) = next.take() else { break };
                let word = self.regs.read32(r::FIFO).to_le_bytes();
                chunk.iter_mut().zip(word).for_each(|(d, s)| *d = s);
                next = chunks.next();
            }
        }
        // An underflow on the last word shows only now.
        let status = self.regs.read32(r::STATUS);
        self.check_status(status)
    }

    /// Waits (bounded) for a non-empty FIFO; returns its level.
    fn wait_level(&mut self) -> Result<u32, Error> {
        let mut status = 0;
        let regs = &mut self.regs;
        poll_until(
            &mut self.delay,
            Budget::fixed(self.timeout_us, POLL_STEP_US),
            Error::Timeout(Wait::RngbFifo),
            || {
                status = regs.read32(r::STATUS);
                Ok(fifo_level(status) != 0 || status & r::STATUS_ERROR != 0)
            },
        )?;
        self.check_status(status)?;
        Ok(fifo_level(status))
    }

    /// STATUS.ERROR ends the read: ESR is read and cleared; anything but a
    /// FIFO underflow means the generator needs a new seed.
    fn check_status(&mut self, status: u32) -> Result<(), Error> {
        if status & r::STATUS_ERROR == 0 {
            return Ok(());
        }
        let error = self.regs.read32(r::ERROR);
        self.regs.write32(r::COMMAND, r::CMD_CLR_ERR);
        if error & !r::ESR_FIFO_UNDERFLOW != 0 {
            self.ready = false;
        }
        warning!("rngb: error while reading, ESR {=u32:#x}", error);
        Err(Error::RngbFifo { error })
    }
}

/// STATUS.FIFO_LEVEL: words waiting in the output FIFO.
fn fifo_level(status: u32) -> u32 {
    (status >> r::STATUS_FIFO_LEVEL_SHIFT) & r::STATUS_FIFO_FIELD_MASK
}

trusted_core::impl_try_rng_via_fill! {
    /// The RNGB as a `rand_core` RNG; every byte comes from the FIFO and
    /// errors are returned, never hidden (`out` is zeroed on error).
    impl<M: Mmio, T: DelayNs> TryRng for Rngb<M, T> {
        type Error = Error;
    }
}

/// The RNGB reseeds its PRNG from its TRNG (U-Boot `FSL_DCP_RNG`: "a True
/// Random Number Generator (TRNG) and a Pseudo-Random Number Generator
/// (PRNG) to achieve a true randomness and cryptographic strength").
impl<M: Mmio, T: DelayNs> rand_core::TryCryptoRng for Rngb<M, T> {}
