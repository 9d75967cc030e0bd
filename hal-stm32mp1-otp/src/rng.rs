//! The STM32MP15 **RNG** (RNG1): enable, bounded waits for data, the seed
//! and clock error states with the recovery sequence Linux and U-Boot use,
//! and the block as a `rand_core` 0.10 `TryRng + TryCryptoRng`.
//!
//! It lives in `hal-stm32mp1-otp` because this crate is the STM32MP15
//! platform crate of the family: the BSEC sources here take the caller's
//! RNG, and on an STM32MP15 that is this block.
//!
//! Sequence, as Linux `drivers/char/hw_random/stm32-rng.c` and U-Boot
//! `drivers/rng/stm32_rng.c` do it for `st,stm32-rng` (no `CONDRST`):
//!
//! - init (`stm32_rng_init`): clear SR, write CR with CED set as chosen and
//!   RNGEN clear, then with RNGEN set (U-Boot's two writes; CED is taken
//!   only while RNGEN is 0), wait for DRDY, 10 µs steps, 100 ms at most
//!   (Linux); any error bit then fails init, as in Linux;
//! - read (`stm32_rng_read`): a seed error left from before is concealed
//!   first (Linux); per word, wait for a non-zero SR (10 µs steps, 50 ms by
//!   default, Linux); SEIS → conceal and try again; a recovered clock error
//!   (CEIS without CECS) → clear CEIS and go on, as both do; DR = 0 is a
//!   late seed error → conceal and try again;
//! - conceal (`stm32_rng_conceal_seed_error_sw_reset`): clear SEIS, read
//!   and discard 12 DR words (the pipeline), check SEIS stayed clear. At
//!   most [`RECOVER_TRIES`] concealments per word, then [`Error::RngSeed`].
//!
//! Where this driver is stricter than both: a current clock error (CECS)
//! is [`Error::RngClock`] instead of a warning, since the RNG then stops
//! producing words; every wait is bounded; output is zeroed on error.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::rng::fill_or_wipe;
use trusted_core::{Mmio, debug, trace, warning};

use crate::error::{Error, Wait};
use crate::regs::rng as r;
use crate::regs::rng::RECOVER_TRIES;

/// Bound on the first DRDY after enabling (Linux `stm32_rng_init`, 100 ms).
pub const INIT_TIMEOUT_US: u32 = 100_000;
/// Default bound on a wait for one word (Linux `stm32_rng_read`, 50 ms).
pub const DEFAULT_TIMEOUT_US: u32 = 50_000;
/// Poll step of every wait (Linux: 10 µs).
const POLL_STEP_US: u32 = 10;
const ERRORS: u32 = r::SR_SEIS | r::SR_SECS | r::SR_CEIS | r::SR_CECS;

/// The STM32MP15 RNG over a register block `M` and a delay `T`.
pub struct Stm32Rng<M, T> {
    regs: M,
    delay: T,
    timeout_us: u32,
    clock_error_detection: bool,
    ready: bool,
    concealed: u32,
}

impl<M: Mmio, T: DelayNs> Stm32Rng<M, T> {
    /// A driver over the RNG register block (see [`crate::regs::rng`]),
    /// clock error detection off as on ST's device trees (no
    /// `clock-error-detect`: Linux and U-Boot then write CR.CED = 1).
    /// Nothing is touched until [`Stm32Rng::init`].
    pub fn new(regs: M, delay: T) -> Self {
        Self {
            regs,
            delay,
            timeout_us: DEFAULT_TIMEOUT_US,
            clock_error_detection: false,
            ready: false,
            concealed: 0,
        }
    }

    /// Turns clock error detection on (CR.CED = 0), as the DT property
    /// `clock-error-detect` does in Linux and U-Boot. Use it only when the
    /// RNG kernel clock is fast enough for the check (reference manual),
    /// otherwise every read fails with [`Error::RngClock`].
    pub fn with_clock_error_detection(mut self, on: bool) -> Self {
        self.clock_error_detection = on;
        self
    }

    /// The register block and delay back.
    pub fn into_inner(self) -> (M, T) {
        (self.regs, self.delay)
    }

    /// The register block (tests reach the model's fault hooks through it).
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.regs
    }

    /// Bound on the wait for one word, in microseconds.
    pub fn set_timeout_us(&mut self, timeout_us: u32) {
        self.timeout_us = timeout_us;
    }

    /// True after a successful [`Stm32Rng::init`].
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Seed errors concealed (recovery sequences run) since this driver
    /// was made.
    pub fn seed_errors_concealed(&self) -> u32 {
        self.concealed
    }

    /// Enables the RNG and waits (bounded) for its first word. Can be
    /// called again, for example after a clock error was fixed.
    pub fn init(&mut self) -> Result<(), Error> {
        self.ready = false;
        self.regs.write32(r::SR, 0);
        let mut cr = self.regs.read32(r::CR) & !(r::CR_RNGEN | r::CR_CED | r::CR_IE);
        if !self.clock_error_detection {
            cr |= r::CR_CED;
        }
        self.regs.write32(r::CR, cr);
        self.regs.write32(r::CR, cr | r::CR_RNGEN);
        let sr = self.wait_status(INIT_TIMEOUT_US)?;
        if sr & ERRORS != 0 {
            debug!("rng: SR {=u32:#x} at init", sr);
            return Err(classify(sr));
        }
        self.ready = true;
        trace!("rng: enabled");
        Ok(())
    }

    /// Waits (bounded) for a non-zero SR (data or an error) and returns it.
    fn wait_status(&mut self, timeout_us: u32) -> Result<u32, Error> {
        let regs = &mut self.regs;
        let mut sr = 0;
        poll_until(
            &mut self.delay,
            Budget::fixed(timeout_us, POLL_STEP_US),
            Error::Timeout(Wait::RngData),
            || {
                sr = regs.read32(r::SR);
                Ok(sr != 0)
            },
        )?;
        Ok(sr)
    }

    /// Linux/U-Boot `stm32_rng_conceal_seed_error_sw_reset`: clear SEIS,
    /// discard the 12 pipeline words, and check SEIS stayed clear. A failed
    /// concealment leaves SEIS set, which brings the caller back here.
    fn conceal(&mut self, tries: &mut u8) -> Result<(), Error> {
        *tries += 1;
        if *tries > RECOVER_TRIES {
            warning!("rng: seed error not recovered");
            return Err(Error::RngSeed);
        }
        self.concealed = self.concealed.saturating_add(1);
        // SEIS and CEIS clear on 0 and keep on 1: this clears SEIS only.
        self.regs.write32(r::SR, r::SR_CEIS);
        for _ in 0..r::CONCEAL_READS {
            let _ = self.regs.read32(r::DR);
        }
        if self.regs.read32(r::SR) & r::SR_SEIS != 0 {
            debug!("rng: seed error persists after concealment");
        }
        Ok(())
    }

    /// One random word: Linux/U-Boot `stm32_rng_read` for four bytes;
    /// `tries` counts the concealments for this word.
    fn word(&mut self, tries: &mut u8) -> Result<u32, Error> {
        loop {
            let sr = self.wait_status(self.timeout_us)?;
            if sr != r::SR_DRDY {
                if sr & r::SR_SEIS != 0 {
                    self.conceal(tries)?;
                    continue;
                }
                if sr & r::SR_CECS != 0 {
                    warning!("rng: clock error");
                    return Err(Error::RngClock);
                }
                if sr & r::SR_CEIS != 0 {
                    // Recovered clock error: clear it and go on, as Linux and U-Boot do.
                    warning!("rng: clock error recovered");
                    self.regs.write32(r::SR, r::SR_SEIS);
                }
                if sr & r::SR_DRDY == 0 {
                    continue;
                }
            }
            let word = self.regs.read32(r::DR);
            if word == 0 {
                // Late seed error: DR reads 0 (Linux/U-Boot).
                self.conceal(tries)?;
                continue;
            }
            *tries = 0;
            return Ok(word);
        }
    }

    /// Fills `out` with random bytes, one DR word per four bytes
    /// (little-endian; the unused bytes of the last word are dropped).
    /// `out` is zeroed on error.
    pub fn fill(&mut self, out: &mut [u8]) -> Result<(), Error> {
        fill_or_wipe(out, |out| self.fill_words(out))
    }

    fn fill_words(&mut self, out: &mut [u8]) -> Result<(), Error> {
        if !self.ready {
            return Err(Error::RngNotReady);
        }
        // A seed error left from before is concealed first (Linux); it
        // counts against the first word's tries.
        let mut tries = 0;
        if self.regs.read32(r::SR) & r::SR_SEIS != 0 {
            self.conceal(&mut tries)?;
        }
        for chunk in out.chunks_mut(4) {
            let word = self.word(&mut tries)?.to_le_bytes();
            chunk.iter_mut().zip(word).for_each(|(d, s)| *d = s);
        }
        Ok(())
    }
}

/// The error an SR error bit stands for (seed errors first).
fn classify(sr: u32) -> Error {
    if sr & (r::SR_SEIS | r::SR_SECS) != 0 {
        Error::RngSeed
    } else {
        Error::RngClock
    }
}

trusted_core::impl_try_rng_via_fill! {
    /// The RNG as a `rand_core` RNG; every byte comes from DR and errors are
    /// returned, never hidden (`out` is zeroed on error).
    impl<M: Mmio, T: DelayNs> TryRng for Stm32Rng<M, T> {
        type Error = Error;
    }
}

/// A true RNG with health checks (seed error on a stuck noise source); its
/// words are what Linux feeds `hwrng` with quality 900.
impl<M: Mmio, T: DelayNs> rand_core::TryCryptoRng for Stm32Rng<M, T> {}
