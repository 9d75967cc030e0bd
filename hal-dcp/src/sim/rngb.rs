//! A register-level model of the i.MX6ULL RNGB (feature `sim`, `no_std`).
//!
//! [`RngbSim`] implements [`Mmio`] over the map in [`crate::regs::rngb`]
//! and is a state machine, not a script: COMMAND starts a self test or a
//! seed generation that keeps STATUS.BUSY for a few STATUS reads and then
//! sets ST_DONE or SEED_DONE (with STATUS.ERROR and ESR bits when it
//! failed); once seeded, the generator adds one word to the five-word FIFO
//! per STATUS read; a FIFO read when it is empty underflows (reads zero,
//! sets ESR.FIFO_UNDERFLOW and STATUS.ERROR); CLR_ERR clears ESR, ERROR
//! and the done bits, CLR_INT the done bits when there is no error (Linux
//! `imx_rngc_irq_mask_clear`); the software reset returns everything but
//! the entropy stream to reset. It imports only [`crate::regs`].
//!
//! The output is deterministic, since it is a model: word `n` after
//! construction is [`RngbSim::model_word`]`(seed, n)` (SplitMix64 of the
//! seed you choose), so tests can check every byte the driver hands out.
//!
//! Modelling choices where no public source says what silicon does:
//! - VER_ID reads `0x1000_0240` (type RNGB, revision 2.64) unless set.
//! - A command written while one is running is ignored; SELF_TEST wins
//!   over SEED in one write. A seed generation empties the FIFO and leaves
//!   the generator unseeded until it passes.
//! - The FIFO holds five words (one 160-bit output); STATUS.FIFO_SIZE
//!   reads 5. FUFMOD = 2 (bus error) cannot be expressed through [`Mmio`]
//!   and behaves like mode 0.
//! - Automatic reseeding (CONTROL.AUTO_SEED) is stored, not counted: the
//!   model never runs out of seed.
//! - A self test changes neither the seed nor the FIFO.

use super::ReadGlitch;
use trusted_core::Mmio;
use trusted_core::rng::ModelFifo;

use crate::regs::rngb as r;

/// Words the output FIFO holds.
pub const FIFO_WORDS: usize = 5;
/// STATUS reads a command stays BUSY.
pub const COMMAND_POLLS: u32 = 3;
/// The seed of [`RngbSim::new`].
pub const DEFAULT_SEED: u64 = 0x5eed_0001_6b5b_0001;
const VER_ID_DEFAULT: u32 = (r::TYPE_RNGB << r::VER_ID_TYPE_SHIFT) | 0x0240;
const CONTROL_MASK: u32 =
    r::CTRL_FUFMOD_MASK | r::CTRL_AUTO_SEED | r::CTRL_MASK_DONE | r::CTRL_MASK_ERROR;
/// STATUS.ST_PF: the TRNG part of the self test failed.
const ST_PF_TRNG: u32 = 0b100;
/// STATUS.STAT_PF: the monobit test failed.
const STAT_PF_MONOBIT: u32 = 0x01;

/// A fault to inject with [`RngbSim::inject`]; each says whether it fires
/// once or stays until [`RngbSim::clear_faults`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// Persistent: every self test ends with STATUS.ERROR, ESR.SELF_TEST
    /// and the TRNG pass/fail bit.
    SelfTestFails,
    /// Counted: the next `times` seed generations fail the statistical
    /// tests (SEED_DONE with STATUS.ERROR, ESR.STAT, monobit bit of
    /// STAT_PF) and leave the generator unseeded.
    SeedError {
        /// How many seed generations fail.
        times: u8,
    },
    /// Persistent: the entropy oscillator is dead: seed generations end
    /// with ESR.OSC (not a statistical error, so seeding again cannot help)
    /// and a seeded generator stops with the same error.
    OscillatorDead,
    /// Persistent: self test and seed commands are accepted and never
    /// complete (BUSY stays set).
    NeverCompletes,
    /// Persistent: the generator stalls: the FIFO level stays where it is.
    FifoStaysEmpty,
    /// One-shot: the next FIFO read underflows (reads zero, sets
    /// ESR.FIFO_UNDERFLOW and STATUS.ERROR) although STATUS showed a level.
    FifoUnderflow,
    /// One-shot: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`RngbSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
}

#[derive(Default, Clone, Copy)]
struct Faults {
    self_test_fails: bool,
    seed_errors: u8,
    oscillator_dead: bool,
    never_completes: bool,
    fifo_stays_empty: bool,
    underflow_next: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    SelfTest,
    Seed,
}

/// The RNGB model.
pub struct RngbSim {
    ver_id: u32,
    control: u32,
    running: Option<(Op, u32)>,
    done: u32,
    error: bool,
    esr: u32,
    st_pf: u32,
    stat_pf: u32,
    seeded: bool,
    fifo: ModelFifo<FIFO_WORDS>,
    faults: Faults,
    flip: trusted_core::fih::ReadFlip,
    self_tests: u32,
    seed_runs: u32,
    words_read: u32,
}

impl Default for RngbSim {
    fn default() -> Self {
        Self::new()
    }
}

impl RngbSim {
    /// An RNGB after power-on: unseeded, FIFO empty, entropy stream from
    /// [`DEFAULT_SEED`].
    pub fn new() -> Self {
        Self {
            ver_id: VER_ID_DEFAULT,
            control: 0,
            running: None,
            done: 0,
            error: false,
            esr: 0,
            st_pf: 0,
            stat_pf: 0,
            seeded: false,
            fifo: ModelFifo::new(DEFAULT_SEED, Self::model_word),
            faults: Faults::default(),
            flip: trusted_core::fih::ReadFlip::default(),
            self_tests: 0,
            seed_runs: 0,
            words_read: 0,
        }
    }

    /// The entropy stream starts from `seed` (see [`RngbSim::model_word`]).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.fifo.reseed(seed);
        self
    }

    /// VER_ID reads `ver_id` (for example another generator type).
    pub fn with_ver_id(mut self, ver_id: u32) -> Self {
        self.ver_id = ver_id;
        self
    }

    /// Word `index` of the model's entropy stream for `seed`: the high half
    /// of SplitMix64 at counter `index + 1`.
    pub fn model_word(seed: u64, index: u64) -> u32 {
        let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }

    /// Arms `fault` (see [`Fault`] for when each fires).
    pub fn inject(&mut self, fault: Fault) {
        let f = &mut self.faults;
        match fault {
            Fault::SelfTestFails => f.self_test_fails = true,
            Fault::SeedError { times } => f.seed_errors = times,
            Fault::OscillatorDead => f.oscillator_dead = true,
            Fault::NeverCompletes => f.never_completes = true,
            Fault::FifoStaysEmpty => f.fifo_stays_empty = true,
            Fault::FifoUnderflow => f.underflow_next = true,
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
        }
    }

    /// Disarms every fault.
    pub fn clear_faults(&mut self) {
        self.faults = Faults::default();
        self.flip.disarm();
    }

    /// Register reads since construction (what [`Fault::FlipReadBit`]
    /// counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// A power cycle: reset, faults cleared; the entropy stream goes on.
    pub fn power_on_reset(&mut self) {
        self.soft_reset();
        self.clear_faults();
    }

    /// True once a seed generation passed (and no reset since).
    pub fn is_seeded(&self) -> bool {
        self.seeded
    }

    /// CONTROL.AUTO_SEED as the driver left it.
    pub fn auto_seed(&self) -> bool {
        self.control & r::CTRL_AUTO_SEED != 0
    }

    /// CONTROL as the driver left it.
    pub fn control(&self) -> u32 {
        self.control
    }

    /// Self tests run (completed or not).
    pub fn self_tests(&self) -> u32 {
        self.self_tests
    }

    /// Seed generations run (completed or not).
    pub fn seed_runs(&self) -> u32 {
        self.seed_runs
    }

    /// FIFO reads that returned a word of the stream (not underflows).
    pub fn words_read(&self) -> u32 {
        self.words_read
    }

    /// Index of the next stream word the generator will produce.
    pub fn stream_position(&self) -> u64 {
        self.fifo.stream_position()
    }

    fn soft_reset(&mut self) {
        self.control = 0;
        self.running = None;
        self.done = 0;
        self.clear_error();
        self.seeded = false;
        self.fifo.flush();
    }

    fn clear_error(&mut self) {
        self.error = false;
        self.esr = 0;
        self.st_pf = 0;
        self.stat_pf = 0;
    }

    fn fail(&mut self, esr: u32) {
        self.error = true;
        self.esr |= esr;
    }

    fn command(&mut self, cmd: u32) {
        if cmd & r::CMD_SW_RST != 0 {
            self.soft_reset();
            return;
        }
        if cmd & r::CMD_CLR_ERR != 0 {
            self.clear_error();
            self.done = 0;
        } else if cmd & r::CMD_CLR_INT != 0 && !self.error {
            self.done = 0;
        }
        if self.running.is_some() {
            return;
        }
        if cmd & r::CMD_SELF_TEST != 0 {
            self.self_tests += 1;
            self.running = Some((Op::SelfTest, COMMAND_POLLS));
        } else if cmd & r::CMD_SEED != 0 {
            self.seed_runs += 1;
            self.seeded = false;
            self.fifo.flush();
            self.running = Some((Op::Seed, COMMAND_POLLS));
        }
    }

    fn complete(&mut self, op: Op) {
        match op {
            Op::SelfTest => {
                if self.faults.self_test_fails {
                    self.fail(r::ESR_SELF_TEST);
                    self.st_pf = ST_PF_TRNG;
                }
                self.done |= r::STATUS_ST_DONE;
            }
            Op::Seed => {
                if self.faults.oscillator_dead {
                    self.fail(r::ESR_OSC);
                } else if self.faults.seed_errors > 0 {
                    self.faults.seed_errors -= 1;
                    self.fail(r::ESR_STAT);
                    self.stat_pf = STAT_PF_MONOBIT;
                } else {
                    self.seeded = true;
                }
                self.done |= r::STATUS_SEED_DONE;
            }
        }
    }

    /// One step of the hardware, taken at every STATUS read.
    fn step(&mut self) {
        if let Some((op, polls)) = self.running {
            if self.faults.never_completes {
                return;
            }
            if polls > 1 {
                self.running = Some((op, polls - 1));
            } else {
                self.running = None;
                self.complete(op);
            }
            return;
        }
        if !self.seeded || self.error || self.faults.fifo_stays_empty {
            return;
        }
        if self.faults.oscillator_dead {
            self.seeded = false;
            self.fail(r::ESR_OSC);
            return;
        }
        self.fifo.generate();
    }

    fn status(&mut self) -> u32 {
        self.step();
        let mut status = self.done
            | (self.fifo.level() as u32) << r::STATUS_FIFO_LEVEL_SHIFT
            | (FIFO_WORDS as u32) << r::STATUS_FIFO_SIZE_SHIFT
            | self.st_pf << r::STATUS_ST_PF_SHIFT
            | self.stat_pf << r::STATUS_STAT_PF_SHIFT;
        if self.running.is_some() {
            status |= r::STATUS_BUSY;
        }
        if !self.seeded {
            status |= r::STATUS_RESEED;
        }
        if self.error {
            status |= r::STATUS_ERROR;
        }
        status
    }

    fn read_fifo(&mut self) -> u32 {
        let popped = if self.faults.underflow_next {
            None
        } else {
            self.fifo.pop()
        };
        let Some(word) = popped else {
            self.faults.underflow_next = false;
            self.fail(r::ESR_FIFO_UNDERFLOW);
            return 0;
        };
        self.words_read += 1;
        word
    }
}

impl Mmio for RngbSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = match offset {
            r::VER_ID => self.ver_id,
            r::CONTROL => self.control,
            r::STATUS => self.status(),
            r::ERROR => self.esr,
            r::FIFO => self.read_fifo(),
            _ => 0,
        };
        self.flip.apply(offset, value)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        match offset {
            r::COMMAND => self.command(value),
            r::CONTROL => self.control = value & CONTROL_MASK,
            _ => {}
        }
    }
}
