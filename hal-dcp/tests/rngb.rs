//! The RNGB driver against the RNGB model: init sequence, FIFO reads of
//! every length, each fault with its error and a bounded wait, recovery,
//! and output zeroed on error. Then the model's own register behaviour.

use hal_dcp::regs::rngb as r;
use hal_dcp::rngb::{SEED_TIMEOUT_US, SEED_TRIES, SELF_TEST_TIMEOUT_US};
use hal_dcp::sim::rngb::{DEFAULT_SEED, Fault, RngbSim};
use hal_dcp::{Error, Rngb, Wait};
use rand_core::TryRng;
use trusted_core::test_util::{self, CountingDelay, check_odd_length_fills, fill_zeroed_on_error};
use trusted_core::{DriverError, Mmio};

type SimRngb<'a> = Rngb<&'a mut RngbSim, CountingDelay>;

const UNDERFLOW: Error = Error::RngbFifo {
    error: r::ESR_FIFO_UNDERFLOW,
};

fn rngb(sim: &mut RngbSim) -> SimRngb<'_> {
    Rngb::new(sim, CountingDelay::default())
}

fn ready(sim: &mut RngbSim) -> SimRngb<'_> {
    let mut rng = rngb(sim);
    assert_eq!(rng.init(), Ok(()));
    rng
}

/// `len` bytes of the model's stream from word `first` on, as the driver
/// must hand them out (see `test_util::stream_bytes`).
fn stream_bytes(seed: u64, first: u64, len: usize) -> Vec<u8> {
    test_util::stream_bytes(|i| RngbSim::model_word(seed, i), first, len)
}

/// Microseconds the driver slept, from the counting delay.
fn waited_us(rng: SimRngb<'_>) -> u64 {
    rng.into_inner().1.waited_ns / 1000
}

#[test]
fn init_resets_self_tests_seeds_and_turns_on_auto_seed() {
    let mut sim = RngbSim::new();
    let rng = ready(&mut sim);
    assert!(rng.is_ready());
    assert_eq!(rng.seed_tries(), 1);
    assert_eq!(sim.self_tests(), 1);
    assert_eq!(sim.seed_runs(), 1);
    assert!(sim.is_seeded());
    assert!(sim.auto_seed());
    let masks = r::CTRL_MASK_DONE | r::CTRL_MASK_ERROR;
    assert_eq!(
        sim.control() & masks,
        masks,
        "interrupts masked: the driver polls"
    );
}

#[test]
fn init_again_reseeds_from_reset() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    assert_eq!(rng.init(), Ok(()));
    assert_eq!((sim.self_tests(), sim.seed_runs()), (2, 2));
}

#[test]
fn fill_hands_out_fifo_words_for_odd_lengths() {
    let seed = 0x0123_4567_89ab_cdef;
    let mut sim = RngbSim::new().with_seed(seed);
    let mut rng = ready(&mut sim);
    let word = check_odd_length_fills(|out| rng.fill(out), |i| RngbSim::model_word(seed, i));
    assert_eq!(
        u64::from(sim.words_read()),
        word,
        "one FIFO word per started 4 bytes"
    );
}

#[test]
fn rand_core_words_come_from_the_fifo() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    let w0 = RngbSim::model_word(DEFAULT_SEED, 0);
    let w1 = RngbSim::model_word(DEFAULT_SEED, 1);
    let w2 = RngbSim::model_word(DEFAULT_SEED, 2);
    assert_eq!(rng.try_next_u32(), Ok(w0));
    assert_eq!(
        rng.try_next_u64(),
        Ok(u64::from(w1) | (u64::from(w2) << 32))
    );
    let mut out = [0u8; 9];
    rng.try_fill_bytes(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 3, 9));
}

#[test]
fn read_before_init_is_refused_and_zeroed() {
    let mut sim = RngbSim::new();
    let mut rng = rngb(&mut sim);
    assert_eq!(fill_zeroed_on_error(&mut rng, 7), Err(Error::RngbNotReady));
    assert_eq!(sim.words_read(), 0);
}

#[test]
fn other_generator_type_is_no_device() {
    let mut sim = RngbSim::new().with_ver_id(0x0000_0240);
    let mut rng = rngb(&mut sim);
    let err = rng.init().unwrap_err();
    assert_eq!(
        err,
        Error::RngbNoDevice {
            ver_id: 0x0000_0240
        }
    );
    assert_eq!(err.kind(), trusted_core::Error::NoDevice);
    assert_eq!(sim.self_tests(), 0, "nothing started on a foreign block");
}

#[test]
fn rngc_type_is_accepted() {
    let mut sim = RngbSim::new().with_ver_id(0x2000_0100);
    assert_eq!(rngb(&mut sim).init(), Ok(()));
}

#[test]
fn self_test_failure_is_reported_with_status_and_esr() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::SelfTestFails);
    let mut rng = rngb(&mut sim);
    let err = rng.init().unwrap_err();
    let Error::RngbSelfTest { status, error } = err else {
        panic!("{err:?}");
    };
    assert_eq!(error, r::ESR_SELF_TEST);
    assert_ne!(status & r::STATUS_ERROR, 0);
    assert_eq!(
        status >> r::STATUS_ST_PF_SHIFT & 0x7,
        0b100,
        "TRNG part failed"
    );
    assert_eq!(err.kind(), trusted_core::Error::Rng);
    assert!(!rng.is_ready());
    assert_eq!(fill_zeroed_on_error(&mut rng, 4), Err(Error::RngbNotReady));
    assert!(waited_us(rng) < u64::from(SELF_TEST_TIMEOUT_US));
    assert_eq!(sim.seed_runs(), 0, "no seed after a failed self test");
}

#[test]
fn statistical_seed_error_is_retried_and_recovers() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::SeedError {
        times: SEED_TRIES - 1,
    });
    let mut rng = rngb(&mut sim);
    assert_eq!(rng.init(), Ok(()));
    assert_eq!(rng.seed_tries(), SEED_TRIES);
    let mut out = [0u8; 8];
    rng.fill(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 0, 8));
}

#[test]
fn statistical_seed_error_on_every_try_fails_then_init_recovers() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::SeedError { times: SEED_TRIES });
    let mut rng = rngb(&mut sim);
    assert_eq!(rng.init(), Err(Error::RngbSeed { error: r::ESR_STAT }));
    assert!(!rng.is_ready());
    assert!(waited_us(rng) < u64::from(SEED_TIMEOUT_US));
    assert_eq!(sim.seed_runs(), u32::from(SEED_TRIES));
    // The source passes its tests again: a new init seeds it.
    let mut rng = rngb(&mut sim);
    assert_eq!(rng.init(), Ok(()));
    let mut out = [0u8; 5];
    rng.fill(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 0, 5));
}

#[test]
fn oscillator_error_while_seeding_is_not_retried() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::OscillatorDead);
    let mut rng = rngb(&mut sim);
    assert_eq!(rng.init(), Err(Error::RngbSeed { error: r::ESR_OSC }));
    assert_eq!(rng.seed_tries(), 1);
    assert_eq!(sim.seed_runs(), 1);
}

#[test]
fn self_test_that_never_completes_times_out_within_its_budget() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::NeverCompletes);
    let mut rng = rngb(&mut sim);
    assert_eq!(rng.init(), Err(Error::Timeout(Wait::RngbSelfTest)));
    assert_eq!(rng.init().unwrap_err().kind(), trusted_core::Error::Timeout);
    let budget = u64::from(SELF_TEST_TIMEOUT_US);
    let waited = waited_us(rng);
    assert!(
        (2 * budget..2 * (budget + 10)).contains(&waited),
        "{waited} µs for two inits"
    );
}

/// Arms [`Fault::NeverCompletes`] when the driver writes the seed command,
/// so the self test before it passes.
struct HangOnSeed<'a>(&'a mut RngbSim);

impl Mmio for HangOnSeed<'_> {
    fn read32(&mut self, offset: usize) -> u32 {
        self.0.read32(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        if offset == r::COMMAND && value & r::CMD_SEED != 0 {
            self.0.inject(Fault::NeverCompletes);
        }
        self.0.write32(offset, value)
    }
}

#[test]
fn seed_that_never_completes_times_out_within_its_budget() {
    let mut sim = RngbSim::new();
    let mut rng = Rngb::new(HangOnSeed(&mut sim), CountingDelay::default());
    assert_eq!(rng.init(), Err(Error::Timeout(Wait::RngbSeed)));
    assert!(!rng.is_ready());
    let waited = rng.into_inner().1.waited_ns / 1000;
    let budget = u64::from(SEED_TIMEOUT_US);
    // Back-off steps of at most 1 ms: the last sleep may pass the budget by less.
    assert!((budget..budget + 1_000).contains(&waited), "{waited} µs");
    assert_eq!(
        (sim.self_tests(), sim.seed_runs()),
        (1, 1),
        "one try, not retried"
    );
}

#[test]
fn fifo_that_stays_empty_times_out_zeroed_then_recovers() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::FifoStaysEmpty);
    rng.set_timeout_us(5_000);
    let timeout = Err(Error::Timeout(Wait::RngbFifo));
    assert_eq!(fill_zeroed_on_error(&mut rng, 11), timeout);
    assert!(rng.is_ready(), "a stalled FIFO does not unseed it");
    rng.regs_mut().clear_faults();
    let out = fill_zeroed_on_error(&mut rng, 11);
    assert_eq!(out, Ok(stream_bytes(DEFAULT_SEED, 0, 11)));
    // Minus what init slept (same model, same polls).
    let init = waited_us(ready(&mut RngbSim::new()));
    let waited = waited_us(rng) - init;
    assert!((5_000..5_010).contains(&waited), "{waited} µs");
}

#[test]
fn fifo_underflow_is_an_error_zeroes_output_and_keeps_the_seed() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::FifoUnderflow);
    assert_eq!(fill_zeroed_on_error(&mut rng, 8), Err(UNDERFLOW));
    assert!(rng.is_ready());
    assert_ne!(fill_zeroed_on_error(&mut rng, 8).unwrap(), vec![0; 8]);
}

#[test]
fn underflow_on_the_last_word_is_caught() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    let mut first = [0u8; 8];
    rng.fill(&mut first).unwrap();
    rng.regs_mut().inject(Fault::FifoUnderflow);
    assert_eq!(fill_zeroed_on_error(&mut rng, 3), Err(UNDERFLOW));
}

#[test]
fn generator_error_while_reading_needs_a_new_seed() {
    let mut sim = RngbSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::OscillatorDead);
    let dead = Err(Error::RngbFifo { error: r::ESR_OSC });
    assert_eq!(fill_zeroed_on_error(&mut rng, 16), dead);
    assert!(!rng.is_ready());
    assert_eq!(fill_zeroed_on_error(&mut rng, 16), Err(Error::RngbNotReady));
    rng.regs_mut().clear_faults();
    assert_eq!(rng.init(), Ok(()));
    assert_ne!(fill_zeroed_on_error(&mut rng, 16).unwrap(), vec![0; 16]);
}

#[test]
fn error_messages_name_the_registers() {
    let e = Error::RngbSelfTest {
        status: 0x0081_0000,
        error: r::ESR_SELF_TEST,
    };
    assert_eq!(
        e.to_string(),
        "RNGB self test failed (STATUS 0x00810000, ERROR 0x4)"
    );
    assert_eq!(
        Error::Timeout(Wait::RngbFifo).to_string(),
        "DCP timed out waiting for RNGB output FIFO (STATUS.FIFO_LEVEL)"
    );
}

// The model's own register behaviour, driven by hand.

fn status(sim: &mut RngbSim) -> u32 {
    sim.read32(r::STATUS)
}

fn run(sim: &mut RngbSim, cmd: u32, done: u32) -> u32 {
    sim.write32(r::COMMAND, cmd);
    let mut s = 0;
    for _ in 0..10 {
        s = status(sim);
        if s & done != 0 {
            break;
        }
    }
    assert_ne!(
        s & done,
        0,
        "command {cmd:#x} did not finish: STATUS {s:#x}"
    );
    s
}

#[test]
fn model_commands_are_busy_then_done() {
    let mut sim = RngbSim::new();
    sim.write32(r::COMMAND, r::CMD_SELF_TEST);
    assert_ne!(status(&mut sim) & r::STATUS_BUSY, 0);
    let s = run(&mut sim, 0, r::STATUS_ST_DONE);
    assert_eq!(s & (r::STATUS_BUSY | r::STATUS_ERROR), 0);
    assert_ne!(s & r::STATUS_RESEED, 0, "not seeded yet");
    assert_eq!(s >> r::STATUS_FIFO_SIZE_SHIFT & 0xF, 5);
}

#[test]
fn model_reading_the_empty_fifo_underflows() {
    let mut sim = RngbSim::new();
    assert_eq!(sim.read32(r::FIFO), 0);
    assert_ne!(status(&mut sim) & r::STATUS_ERROR, 0);
    assert_eq!(sim.read32(r::ERROR), r::ESR_FIFO_UNDERFLOW);
    sim.write32(r::COMMAND, r::CMD_CLR_ERR);
    assert_eq!(sim.read32(r::ERROR), 0);
    assert_eq!(status(&mut sim) & r::STATUS_ERROR, 0);
}

#[test]
fn model_fills_the_fifo_one_word_per_status_read_up_to_five() {
    let mut sim = RngbSim::new();
    run(&mut sim, r::CMD_SEED, r::STATUS_SEED_DONE);
    let levels: Vec<u32> = (0..7)
        .map(|_| status(&mut sim) >> r::STATUS_FIFO_LEVEL_SHIFT & 0xF)
        .collect();
    assert_eq!(levels, [1, 2, 3, 4, 5, 5, 5]);
    assert_eq!(sim.read32(r::FIFO), RngbSim::model_word(DEFAULT_SEED, 0));
}

#[test]
fn model_clr_int_leaves_done_bits_while_an_error_is_flagged() {
    let mut sim = RngbSim::new();
    sim.inject(Fault::SeedError { times: 1 });
    let s = run(&mut sim, r::CMD_SEED, r::STATUS_SEED_DONE);
    assert_ne!(s & r::STATUS_ERROR, 0);
    assert_eq!(sim.read32(r::ERROR), r::ESR_STAT);
    sim.write32(r::COMMAND, r::CMD_CLR_INT);
    assert_ne!(status(&mut sim) & r::STATUS_SEED_DONE, 0);
    sim.write32(r::COMMAND, r::CMD_CLR_ERR);
    assert_eq!(
        status(&mut sim) & (r::STATUS_SEED_DONE | r::STATUS_ERROR),
        0
    );
    assert!(!sim.is_seeded());
}

#[test]
fn model_software_reset_unseeds_and_keeps_the_stream_going() {
    let mut sim = RngbSim::new();
    run(&mut sim, r::CMD_SEED, r::STATUS_SEED_DONE);
    status(&mut sim);
    assert_eq!(sim.stream_position(), 1);
    sim.write32(r::CONTROL, r::CTRL_AUTO_SEED);
    sim.write32(r::COMMAND, r::CMD_SW_RST);
    assert!(!sim.is_seeded());
    assert!(!sim.auto_seed());
    assert_eq!(status(&mut sim) >> r::STATUS_FIFO_LEVEL_SHIFT & 0xF, 0);
    run(&mut sim, r::CMD_SEED, r::STATUS_SEED_DONE);
    status(&mut sim);
    assert_eq!(sim.read32(r::FIFO), RngbSim::model_word(DEFAULT_SEED, 1));
}
