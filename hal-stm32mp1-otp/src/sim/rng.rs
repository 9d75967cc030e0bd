//! A register-level model of the STM32MP15 RNG (feature `sim`, `no_std`).
//!
//! [`RngSim`] implements [`Mmio`] over the map in [`crate::regs::rng`]:
//! CR (RNGEN, IE, CED), SR (DRDY, CECS, SECS, CEIS, SEIS) and DR, as a
//! state machine. After RNGEN rises the first word comes after a few SR
//! reads, then one word per SR read into a four-word FIFO; DR pops it, and
//! reads 0 when there is nothing to read. It imports only [`crate::regs`].
//!
//! Seed errors follow the reference-manual text Linux and U-Boot quote
//! (`stm32_rng_conceal_seed_error_sw_reset`): the RNG stops, sets SEIS and
//! SECS, and the next [`CONCEAL_READS`](crate::regs::rng::CONCEAL_READS)
//! DR reads return pipeline words from the faulty source, modelled as the
//! stuck-at-one word [`STUCK_WORD`]; new words come only once SEIS is
//! cleared and the pipeline is read out. SECS stays set while the noise
//! source is faulty. A clock error sets CECS and CEIS while clock error
//! detection is on (CR.CED = 0) and stops new words; with CED = 1 nothing
//! is flagged. CEIS and SEIS clear when 0 is written to them.
//!
//! The output is deterministic, since it is a model: the `n`-th word the
//! FIFO takes is [`RngSim::model_word`]`(seed, n)` for the seed you choose.
//!
//! Modelling choices where no public source says what silicon does:
//! - DR reads 0 while SECS is set or the FIFO is empty (Linux and U-Boot
//!   treat 0 as an error status); pipeline words come out even while SECS
//!   is set.
//! - Clearing RNGEN empties the FIFO and the pipeline.
//! - A transient seed error shows SECS in one SR read only (the source has
//!   recovered by the next); its pipeline words stay until read.
//! - The first word comes [`STARTUP_POLLS`] SR reads after RNGEN rises; a
//!   CED change while RNGEN is 1 is ignored.

use super::ReadGlitch;
use trusted_core::Mmio;
use trusted_core::rng::ModelFifo;

use crate::regs::rng as r;

/// SR reads after RNGEN rises before the first word.
pub const STARTUP_POLLS: u32 = 2;
/// The word DR gives for each pipeline word after a seed error.
pub const STUCK_WORD: u32 = 0xFFFF_FFFF;
/// The seed of [`RngSim::new`].
pub const DEFAULT_SEED: u64 = 0x5eed_0032_0015_0001;
const CR_MASK: u32 = r::CR_RNGEN | r::CR_IE | r::CR_CED;

/// A fault to inject with [`RngSim::inject`]; each says whether it fires
/// once or stays until [`RngSim::clear_faults`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// One-shot: the noise source fails once, when the next word would be
    /// generated: SEIS and SECS set, the FIFO emptied, the pipeline tainted.
    SeedError,
    /// Persistent: the noise source stays faulty: SECS stays set, SEIS is
    /// set again as soon as it is cleared, no words.
    SeedErrorStuck,
    /// One-shot: a seed error right after DRDY rose (Linux's "late seed
    /// error"): the next DR read returns 0 and sets SEIS (SECS clear, the
    /// source recovered), the FIFO is emptied and the pipeline tainted.
    LateSeedError,
    /// Persistent: the RNG clock is too slow; with detection on, CECS and
    /// CEIS are set and no new words are made.
    ClockError,
    /// One-shot: a clock error that recovered at once: with detection on,
    /// CEIS is set at the next SR read, CECS stays clear.
    ClockGlitch,
    /// Persistent: DRDY never rises (for example the kernel clock is off).
    NeverReady,
    /// One-shot: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`RngSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
}

#[derive(Default, Clone, Copy)]
struct Faults {
    seed_error_next: bool,
    seed_stuck: bool,
    late_seed_next: bool,
    clock_error: bool,
    clock_glitch_next: bool,
    never_ready: bool,
}

/// The RNG model.
pub struct RngSim {
    cr: u32,
    seis: bool,
    ceis: bool,
    /// SECS of a transient seed error, dropped at the next SR read.
    secs_transient: bool,
    fifo: ModelFifo<{ r::FIFO_WORDS }>,
    pipeline: usize,
    startup: u32,
    faults: Faults,
    flip: trusted_core::fih::ReadFlip,
    words_read: u32,
    stuck_words_read: u32,
    enables: u32,
}

impl Default for RngSim {
    fn default() -> Self {
        Self::new()
    }
}

impl RngSim {
    /// An RNG after reset (disabled), stream from [`DEFAULT_SEED`].
    pub fn new() -> Self {
        Self {
            cr: 0,
            seis: false,
            ceis: false,
            secs_transient: false,
            fifo: ModelFifo::new(DEFAULT_SEED, Self::model_word),
            pipeline: 0,
            startup: 0,
            faults: Faults::default(),
            flip: trusted_core::fih::ReadFlip::default(),
            words_read: 0,
            stuck_words_read: 0,
            enables: 0,
        }
    }

    /// The stream starts from `seed` (see [`RngSim::model_word`]).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.fifo.reseed(seed);
        self
    }

    /// Word `index` of the model's stream for `seed`: the high half of the
    /// MurmurHash3 64-bit finaliser of `seed ^ (index + 1) * φ`.
    pub fn model_word(seed: u64, index: u64) -> u32 {
        let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z = (z ^ (z >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
        ((z ^ (z >> 33)) >> 32) as u32
    }

    /// Arms `fault` (see [`Fault`] for when each fires).
    pub fn inject(&mut self, fault: Fault) {
        let f = &mut self.faults;
        match fault {
            Fault::SeedError => f.seed_error_next = true,
            Fault::SeedErrorStuck => f.seed_stuck = true,
            Fault::LateSeedError => f.late_seed_next = true,
            Fault::ClockError => f.clock_error = true,
            Fault::ClockGlitch => f.clock_glitch_next = true,
            Fault::NeverReady => f.never_ready = true,
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
        }
    }

    /// Register reads since construction (what `Fault::FlipReadBit`
    /// counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// Disarms every fault (a faulty source or clock is fine again; the
    /// sticky SEIS/CEIS and a tainted pipeline stay until handled).
    pub fn clear_faults(&mut self) {
        self.faults = Faults::default();
        self.flip.disarm();
    }

    /// A power cycle: disabled, flags and FIFO cleared, faults cleared;
    /// the stream goes on.
    pub fn power_on_reset(&mut self) {
        let mut fifo = self.fifo;
        fifo.flush();
        *self = Self::new();
        self.fifo = fifo;
    }

    /// CR.RNGEN.
    pub fn is_enabled(&self) -> bool {
        self.cr & r::CR_RNGEN != 0
    }

    /// Clock error detection is on (CR.CED = 0).
    pub fn clock_error_detection(&self) -> bool {
        self.cr & r::CR_CED == 0
    }

    /// Times RNGEN went from 0 to 1.
    pub fn enables(&self) -> u32 {
        self.enables
    }

    /// DR reads that returned a word of the stream.
    pub fn words_read(&self) -> u32 {
        self.words_read
    }

    /// DR reads that returned a tainted pipeline word after a seed error.
    pub fn stuck_words_read(&self) -> u32 {
        self.stuck_words_read
    }

    /// Index of the next stream word the generator will produce.
    pub fn stream_position(&self) -> u64 {
        self.fifo.stream_position()
    }

    fn secs(&self) -> bool {
        self.faults.seed_stuck || self.secs_transient
    }

    fn cecs(&self) -> bool {
        self.faults.clock_error && self.clock_error_detection()
    }

    fn seed_error(&mut self) {
        self.seis = true;
        self.fifo.flush();
        self.pipeline = r::CONCEAL_READS;
    }

    /// One step of the hardware, taken at every SR read while enabled.
    fn step(&mut self) {
        self.secs_transient = false;
        if self.cecs() {
            self.ceis = true;
        }
        if self.faults.clock_glitch_next {
            self.faults.clock_glitch_next = false;
            self.ceis |= self.clock_error_detection();
        }
        if self.faults.seed_stuck {
            self.seed_error();
        }
        let stopped =
            self.faults.never_ready || self.secs() || self.cecs() || self.seis || self.pipeline > 0;
        if stopped {
            return;
        }
        if self.startup > 0 {
            self.startup -= 1;
            return;
        }
        if self.faults.seed_error_next {
            self.faults.seed_error_next = false;
            self.secs_transient = true;
            self.seed_error();
            return;
        }
        self.fifo.generate();
    }

    fn status(&mut self) -> u32 {
        if self.is_enabled() {
            self.step();
        }
        let flags = [
            (
                !self.secs() && (self.pipeline > 0 || self.fifo.level() > 0),
                r::SR_DRDY,
            ),
            (self.cecs(), r::SR_CECS),
            (self.secs(), r::SR_SECS),
            (self.ceis, r::SR_CEIS),
            (self.seis, r::SR_SEIS),
        ];
        flags
            .iter()
            .filter(|(on, _)| *on)
            .fold(0, |sr, (_, bit)| sr | bit)
    }

    fn write_status(&mut self, value: u32) {
        if value & r::SR_SEIS == 0 {
            self.seis = self.faults.seed_stuck;
        }
        if value & r::SR_CEIS == 0 {
            self.ceis = self.cecs();
        }
    }

    fn write_control(&mut self, value: u32) {
        let was_on = self.is_enabled();
        let mut cr = value & CR_MASK;
        if was_on && cr & r::CR_RNGEN != 0 {
            cr = (cr & !r::CR_CED) | (self.cr & r::CR_CED);
        }
        self.cr = cr;
        match (was_on, self.is_enabled()) {
            (false, true) => {
                self.enables += 1;
                self.startup = STARTUP_POLLS;
                self.fifo.flush();
                self.pipeline = 0;
            }
            (true, false) => {
                self.fifo.flush();
                self.pipeline = 0;
            }
            _ => {}
        }
    }

    fn read_data(&mut self) -> u32 {
        if !self.is_enabled() {
            return 0;
        }
        if self.faults.late_seed_next {
            self.faults.late_seed_next = false;
            self.seed_error();
            return 0;
        }
        if self.pipeline > 0 {
            self.pipeline -= 1;
            self.stuck_words_read += 1;
            return STUCK_WORD;
        }
        if self.secs() {
            return 0;
        }
        let Some(word) = self.fifo.pop() else {
            return 0;
        };
        self.words_read += 1;
        word
    }
}

impl Mmio for RngSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = match offset {
            r::CR => self.cr,
            r::SR => self.status(),
            r::DR => self.read_data(),
            _ => 0,
        };
        self.flip.apply(offset, value)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        match offset {
            r::CR => self.write_control(value),
            r::SR => self.write_status(value),
            _ => {}
        }
    }
}
