//! The STM32MP15 RNG driver against the RNG model: init, reads of every
//! length, seed and clock errors with their recovery, bounded waits, output
//! zeroed on error. Then the model's own register behaviour.

use hal_stm32mp1_otp::regs::rng as r;
use hal_stm32mp1_otp::rng::{DEFAULT_TIMEOUT_US, INIT_TIMEOUT_US};
use hal_stm32mp1_otp::sim::rng::{DEFAULT_SEED, Fault, RngSim, STUCK_WORD};
use hal_stm32mp1_otp::{Error, Stm32Rng, Wait};
use rand_core::TryRng;
use trusted_core::test_util::{self, CountingDelay, check_odd_length_fills, fill_zeroed_on_error};
use trusted_core::{DriverError, Mmio};

type SimRng<'a> = Stm32Rng<&'a mut RngSim, CountingDelay>;

fn rng(sim: &mut RngSim) -> SimRng<'_> {
    Stm32Rng::new(sim, CountingDelay::default())
}

fn ready(sim: &mut RngSim) -> SimRng<'_> {
    let mut rng = rng(sim);
    assert_eq!(rng.init(), Ok(()));
    rng
}

fn detecting(sim: &mut RngSim) -> SimRng<'_> {
    let mut rng = rng(sim).with_clock_error_detection(true);
    assert_eq!(rng.init(), Ok(()));
    rng
}

fn waited_us(rng: SimRng<'_>) -> u64 {
    rng.into_inner().1.waited_ns / 1000
}

/// `len` bytes of the model's stream from word `first` on, each word
/// little-endian, the rest of the last one dropped.
fn stream_bytes(seed: u64, first: u64, len: usize) -> Vec<u8> {
    test_util::stream_bytes(|i| RngSim::model_word(seed, i), first, len)
}

/// Every whole word of `out` is a stream word, in stream order, none of
/// them a pipeline word.
fn assert_stream_words_in_order(out: &[u8], sim: &RngSim) {
    let mut next = 0u64;
    for chunk in out.chunks_exact(4) {
        let mut bytes = [0u8; 4];
        bytes.copy_from_slice(chunk);
        let word = u32::from_le_bytes(bytes);
        assert_ne!(word, STUCK_WORD, "a pipeline word leaked");
        let index =
            (next..sim.stream_position()).find(|&i| RngSim::model_word(DEFAULT_SEED, i) == word);
        assert!(index.is_some(), "{word:#010x} is not a later stream word");
        next = index.unwrap_or(next) + 1;
    }
}

#[test]
fn init_enables_with_clock_error_detection_off_by_default() {
    let mut sim = RngSim::new();
    let rng = ready(&mut sim);
    assert!(rng.is_ready());
    assert!(sim.is_enabled());
    assert!(
        !sim.clock_error_detection(),
        "CED = 1 as with ST's device trees"
    );
    assert_eq!(sim.enables(), 1);
}

#[test]
fn init_takes_ced_even_when_the_rng_already_runs() {
    let mut sim = RngSim::new();
    // An earlier boot stage left it running with detection off.
    sim.write32(r::CR, r::CR_RNGEN | r::CR_CED);
    let _ = detecting(&mut sim);
    assert!(
        sim.clock_error_detection(),
        "RNGEN was dropped so CED was taken"
    );
    assert_eq!(sim.enables(), 2);
}

#[test]
fn fill_hands_out_dr_words_for_odd_lengths() {
    let seed = 0x0fed_cba9_8765_4321;
    let mut sim = RngSim::new().with_seed(seed);
    let mut rng = ready(&mut sim);
    let word = check_odd_length_fills(|out| rng.fill(out), |i| RngSim::model_word(seed, i));
    assert_eq!(rng.seed_errors_concealed(), 0);
    assert_eq!(u64::from(sim.words_read()), word);
}

#[test]
fn rand_core_words_come_from_dr() {
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    let w = |i| RngSim::model_word(DEFAULT_SEED, i);
    assert_eq!(rng.try_next_u32(), Ok(w(0)));
    assert_eq!(
        rng.try_next_u64(),
        Ok(u64::from(w(1)) | u64::from(w(2)) << 32)
    );
    let mut out = [0u8; 6];
    rng.try_fill_bytes(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 3, 6));
}

#[test]
fn read_before_init_is_refused_and_zeroed() {
    let mut sim = RngSim::new();
    let mut rng = rng(&mut sim);
    assert_eq!(fill_zeroed_on_error(&mut rng, 5), Err(Error::RngNotReady));
    assert_eq!(
        Error::RngNotReady.kind(),
        trusted_core::Error::InvalidArgument("RNG used before init")
    );
    assert!(!sim.is_enabled());
}

#[test]
fn rng_that_never_gets_ready_times_out_at_init_within_budget() {
    let mut sim = RngSim::new();
    sim.inject(Fault::NeverReady);
    let mut rng = rng(&mut sim);
    let err = rng.init().unwrap_err();
    assert_eq!(err, Error::Timeout(Wait::RngData));
    assert_eq!(err.kind(), trusted_core::Error::Timeout);
    assert!(!rng.is_ready());
    let waited = waited_us(rng);
    let budget = u64::from(INIT_TIMEOUT_US);
    assert!((budget..budget + 10).contains(&waited), "{waited} µs");
}

#[test]
fn rng_that_stops_times_out_per_word_within_budget_and_zeroes() {
    let init = waited_us(ready(&mut RngSim::new()));
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::NeverReady);
    rng.set_timeout_us(2_000);
    // The words read before the timeout are wiped too.
    let timeout = Err(Error::Timeout(Wait::RngData));
    assert_eq!(fill_zeroed_on_error(&mut rng, 64), timeout);
    let waited = waited_us(rng) - init;
    assert!((2_000..2_010).contains(&waited), "{waited} µs");
}

#[test]
fn default_read_budget_is_linuxs() {
    assert_eq!(DEFAULT_TIMEOUT_US, 50_000);
    assert_eq!(INIT_TIMEOUT_US, 100_000);
}

#[test]
fn transient_seed_error_is_concealed_and_no_pipeline_word_leaks() {
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::SeedError);
    let mut out = [0u8; 64];
    rng.fill(&mut out).unwrap();
    assert_eq!(rng.seed_errors_concealed(), 1);
    assert_eq!(
        sim.stuck_words_read(),
        12,
        "the pipeline was read out and dropped"
    );
    assert_stream_words_in_order(&out, &sim);
}

#[test]
fn late_seed_error_dr_zero_is_concealed() {
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::LateSeedError);
    let mut out = [0u8; 17];
    rng.fill(&mut out).unwrap();
    assert_eq!(rng.seed_errors_concealed(), 1);
    assert_eq!(sim.stuck_words_read(), 12);
    assert_stream_words_in_order(&out[..16], &sim);
}

#[test]
fn stuck_noise_source_fails_after_three_concealments_then_recovers() {
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::SeedErrorStuck);
    assert_eq!(fill_zeroed_on_error(&mut rng, 9), Err(Error::RngSeed));
    assert_eq!(Error::RngSeed.kind(), trusted_core::Error::Rng);
    assert_eq!(rng.seed_errors_concealed(), u32::from(r::RECOVER_TRIES));
    // The noise source works again: the next read conceals the sticky
    // error and goes on, without a new init.
    rng.regs_mut().clear_faults();
    let out = fill_zeroed_on_error(&mut rng, 9).unwrap();
    assert_eq!(rng.seed_errors_concealed(), u32::from(r::RECOVER_TRIES) + 1);
    let sim = rng.into_inner().0;
    assert_stream_words_in_order(&out[..8], sim);
}

#[test]
fn stuck_noise_source_fails_without_sleeping() {
    let init = waited_us(ready(&mut RngSim::new()));
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::SeedErrorStuck);
    assert_eq!(rng.fill(&mut [0u8; 4]), Err(Error::RngSeed));
    assert_eq!(
        waited_us(rng),
        init,
        "SEIS answers at once: no wait is spent"
    );
}

#[test]
fn seed_error_at_init_is_an_error_and_init_again_recovers() {
    let mut sim = RngSim::new();
    sim.inject(Fault::SeedError);
    let mut rng = rng(&mut sim);
    assert_eq!(rng.init(), Err(Error::RngSeed));
    assert!(!rng.is_ready());
    assert_eq!(rng.init(), Ok(()));
    let mut out = [0u8; 12];
    rng.fill(&mut out).unwrap();
    let sim = rng.into_inner().0;
    assert_eq!(
        sim.stuck_words_read(),
        0,
        "re-enabling emptied the pipeline"
    );
    assert_stream_words_in_order(&out, sim);
}

#[test]
fn clock_error_with_detection_on_is_an_error_and_recovers() {
    let mut sim = RngSim::new();
    let mut rng = detecting(&mut sim);
    rng.regs_mut().inject(Fault::ClockError);
    assert_eq!(fill_zeroed_on_error(&mut rng, 4), Err(Error::RngClock));
    assert_eq!(Error::RngClock.kind(), trusted_core::Error::Rng);
    // The clock is fixed: CEIS is still set, is cleared, and reading goes on.
    rng.regs_mut().clear_faults();
    fill_zeroed_on_error(&mut rng, 4).unwrap();
    assert_eq!(rng.regs_mut().read32(r::SR) & r::SR_CEIS, 0);
}

#[test]
fn clock_error_at_init_is_an_error() {
    let mut sim = RngSim::new();
    sim.inject(Fault::ClockError);
    let mut rng = rng(&mut sim).with_clock_error_detection(true);
    assert_eq!(rng.init(), Err(Error::RngClock));
}

#[test]
fn clock_error_with_detection_off_is_not_seen() {
    let mut sim = RngSim::new();
    let mut rng = ready(&mut sim);
    rng.regs_mut().inject(Fault::ClockError);
    let mut out = [0u8; 8];
    rng.fill(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 0, 8));
}

#[test]
fn recovered_clock_error_is_cleared_and_reading_goes_on() {
    let mut sim = RngSim::new();
    let mut rng = detecting(&mut sim);
    rng.regs_mut().inject(Fault::ClockGlitch);
    let mut out = [0u8; 8];
    rng.fill(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(DEFAULT_SEED, 0, 8));
    assert_eq!(rng.regs_mut().read32(r::SR) & r::SR_CEIS, 0);
}

#[test]
fn error_messages_name_the_status_bits() {
    assert_eq!(
        Error::RngSeed.to_string(),
        "RNG seed error not recovered (SR.SEIS)"
    );
    assert_eq!(
        Error::Timeout(Wait::RngData).to_string(),
        "RNG data not ready (SR.DRDY)"
    );
}

// The model's own register behaviour, driven by hand.

fn enabled() -> RngSim {
    let mut sim = RngSim::new();
    sim.write32(r::CR, r::CR_RNGEN);
    sim
}

#[test]
fn model_first_word_comes_after_the_start_up_reads() {
    let mut sim = enabled();
    let srs: Vec<u32> = (0..3).map(|_| sim.read32(r::SR)).collect();
    assert_eq!(srs, [0, 0, r::SR_DRDY]);
    assert_eq!(sim.read32(r::DR), RngSim::model_word(DEFAULT_SEED, 0));
    assert_eq!(sim.read32(r::DR), 0, "nothing left: DR reads 0");
}

#[test]
fn model_hands_pipeline_words_to_a_reader_that_skips_the_recovery() {
    let mut sim = enabled();
    sim.inject(Fault::SeedError);
    for _ in 0..3 {
        sim.read32(r::SR);
    }
    let sr = sim.read32(r::SR);
    assert_eq!(sr, r::SR_DRDY | r::SR_SEIS, "SECS gone, SEIS sticky");
    // A driver that only clears SEIS and goes on reads the faulty source.
    sim.write32(r::SR, 0);
    assert_eq!(sim.read32(r::DR), STUCK_WORD);
    assert_eq!(sim.stuck_words_read(), 1);
}

#[test]
fn model_seis_and_ceis_clear_on_zero_and_keep_on_one() {
    let mut sim = RngSim::new();
    sim.write32(r::CR, r::CR_RNGEN);
    sim.inject(Fault::ClockGlitch);
    sim.inject(Fault::LateSeedError);
    sim.read32(r::SR);
    sim.read32(r::DR);
    let both = r::SR_SEIS | r::SR_CEIS;
    assert_eq!(sim.read32(r::SR) & both, both);
    sim.write32(r::SR, r::SR_CEIS);
    assert_eq!(sim.read32(r::SR) & both, r::SR_CEIS);
    sim.write32(r::SR, r::SR_SEIS);
    assert_eq!(sim.read32(r::SR) & both, 0);
}

#[test]
fn model_ignores_ced_while_enabled() {
    let mut sim = enabled();
    sim.write32(r::CR, r::CR_RNGEN | r::CR_CED);
    assert!(sim.clock_error_detection());
    sim.write32(r::CR, r::CR_CED);
    sim.write32(r::CR, r::CR_RNGEN | r::CR_CED);
    assert!(!sim.clock_error_detection());
}
