//! Every sim fault hook gives the right error, ends (bounded time, no
//! hang), does not panic, leaves the driver's buffers and the sim's FIFOs
//! zeroed, and the next command works again once the fault is gone.

use std::cell::RefCell;

use hal_tpm_spi::sim::{CannedBackend, Fault, SimCs, SimSpi, TpmSim, TraceEvent};
use hal_tpm_spi::{Error, ResponseCode, SpiTis, Tis, Tpm, Wait};
use trusted_core::test_util::{CountingDelay, NoDelay};

/// GetRandom(8) answer.
const RANDOM8: &[u8] = &[
    0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
const CANNED: &[&[u8]] = &[RANDOM8; 8];

type Sim<'a> = RefCell<TpmSim<CannedBackend<'a>, 4096>>;

/// What one GetRandom(8) through a sim with some faults gave.
struct Run {
    result: Result<[u8; 8], Error>,
    /// The driver's command and response buffers were all zero afterwards.
    buffers_zeroed: bool,
    /// The sim's FIFOs were all zero afterwards.
    fifos_zeroed: bool,
    /// Microseconds the driver asked to sleep.
    waited_us: u64,
    sim: Sim<'static>,
}

fn run(faults: &[Fault]) -> Run {
    let mut sim = TpmSim::new(CannedBackend::new(CANNED));
    for &fault in faults {
        sim.inject(fault);
    }
    let sim: Sim<'static> = RefCell::new(sim);
    let mut tis = Tis::new(
        SpiTis::new(SimSpi(&sim), SimCs(&sim)),
        CountingDelay::default(),
    );
    let mut out = [0u8; 8];
    let (result, buffers_zeroed) = {
        let mut tpm = Tpm::new(&mut tis);
        let r = tpm.get_random(&mut out).map(|_| out);
        (r, tpm.buffers_zeroed())
    };
    if result.is_err() {
        assert_eq!(out, [0; 8], "caller buffer zeroed on error");
    }
    let waited_us = tis.into_inner().1.waited_ns / 1000;
    let fifos_zeroed = sim.borrow().fifos_zeroed();
    Run {
        result,
        buffers_zeroed,
        fifos_zeroed,
        waited_us,
        sim,
    }
}

fn expect_error(faults: &[Fault], want: Error) -> Sim<'static> {
    let r = run(faults);
    assert_eq!(r.result, Err(want), "{faults:?}");
    assert!(r.buffers_zeroed, "driver buffers zeroed after {want:?}");
    assert!(
        r.fifos_zeroed,
        "sim FIFOs wiped after {want:?} (driver set commandReady)"
    );
    // Recovery: the fault goes, the same device answers again.
    let sim = r.sim;
    sim.borrow_mut().clear_faults();
    {
        let tis = Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay);
        let mut tpm = Tpm::new(tis);
        let mut out = [0u8; 8];
        assert_eq!(tpm.get_random(&mut out), Ok(()));
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
    sim
}

#[test]
fn clean_exchange_and_trace() {
    let r = run(&[]);
    assert_eq!(r.result.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let sim = r.sim.borrow();
    let trace = sim.trace();
    // Every transaction is framed by chip select, starts with a 4-byte
    // header addressed at 0xD4_0xxx.
    assert_eq!(trace[0], TraceEvent::Cs(true));
    let TraceEvent::Byte { mosi, .. } = trace[2] else {
        panic!()
    };
    assert_eq!(mosi, 0xD4);
    let s = sim.stats();
    assert_eq!(s.fifo_written, 12);
    assert_eq!(s.fifo_read, 20);
    assert_eq!(s.wait_bytes, 0);
    assert_eq!(s.commands, 1);
}

#[test]
fn wait_states_within_limit_work() {
    let r = run(&[Fault::WaitStates(7)]);
    assert_eq!(r.result.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let s = r.sim.borrow().stats();
    assert_eq!(s.wait_bytes, 7 * s.transactions);
}

#[test]
fn too_many_wait_states_time_out() {
    let sim = expect_error(&[Fault::WaitStates(51)], Error::Timeout(Wait::WaitStates));
    assert!(sim.borrow().stats().wait_bytes >= 50);
}

/// QEMU's tpm-tis leaves stsValid clear while Ready: the driver must not
/// wait for it before the first burst (it did, and timed out under QEMU).
#[test]
fn ready_without_sts_valid_still_works() {
    let r = run(&[Fault::NoStsValidWhenReady]);
    assert_eq!(r.result.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let r = run(&[Fault::NoStsValidWhenReady, Fault::BurstOne]);
    assert_eq!(r.result.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn burst_count_one_still_works() {
    let r = run(&[Fault::BurstOne]);
    assert_eq!(r.result.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(r.sim.borrow().stats().transactions > 40);
}

#[test]
fn stuck_burst_count_times_out() {
    expect_error(&[Fault::BurstZero], Error::Timeout(Wait::BurstCount));
}

#[test]
fn short_response_is_an_error() {
    expect_error(&[Fault::ShortResponse(3)], Error::ResponseShort);
}

#[test]
fn oversized_response_is_an_error() {
    expect_error(&[Fault::OversizedResponse(2000)], Error::ResponseTooLarge);
}

#[test]
fn trailing_response_bytes_are_an_error() {
    expect_error(&[Fault::TrailingBytes(2)], Error::ResponseTrailing);
}

#[test]
fn corrupted_tag_size_and_body_are_errors() {
    expect_error(
        &[Fault::Corrupt {
            index: 0,
            mask: 0xFF,
        }],
        Error::ResponseHeader,
    );
    // Size field says 0x14 ^ 0x01 = 0x15: one byte more than sent.
    expect_error(
        &[Fault::Corrupt {
            index: 5,
            mask: 0x01,
        }],
        Error::ResponseShort,
    );
    // Size field says 19: one byte left over.
    expect_error(
        &[Fault::Corrupt {
            index: 5,
            mask: 0x07,
        }],
        Error::ResponseTrailing,
    );
    // randomBytes size 8 → 0x0108: does not fit the response.
    expect_error(
        &[Fault::Corrupt {
            index: 10,
            mask: 0x01,
        }],
        Error::Parse(&"randomBytes"),
    );
    // Response code byte.
    expect_error(
        &[Fault::Corrupt {
            index: 8,
            mask: 0x01,
        }],
        Error::Rc(ResponseCode::INITIALIZE),
    );
}

/// Runs with `fault` and expects `wait` to run out after at least `min_us`
/// of sleeping, with the driver's buffers wiped.
fn expect_timeout(fault: Fault, wait: Wait, min_us: u64) -> Run {
    let r = run(&[fault]);
    assert_eq!(r.result, Err(Error::Timeout(wait)));
    assert!(r.buffers_zeroed);
    assert!(r.waited_us >= min_us, "{} µs", r.waited_us);
    r
}

#[test]
fn data_avail_never_times_out_within_the_command_budget() {
    // GetRandom is a "long" command: 2 s, plus at most one poll step.
    let r = expect_timeout(Fault::DataAvailNever, Wait::DataAvail, 2_000_000);
    assert!(r.fifos_zeroed);
    assert!(r.waited_us < 2_010_000, "{} µs", r.waited_us);
}

#[test]
fn command_ready_never_times_out() {
    expect_timeout(Fault::CommandReadyNever, Wait::CommandReady, 2_000_000);
}

#[test]
fn locality_never_granted_times_out() {
    expect_timeout(Fault::LocalityNever, Wait::Locality, 750_000);
}

#[test]
fn tpm_error_code_is_reported_and_maps_to_auth_failed() {
    let sim = expect_error(
        &[Fault::Rc(ResponseCode(0x98E))],
        Error::Rc(ResponseCode(0x98E)),
    );
    drop(sim);
    assert_eq!(
        trusted_core::Error::from(Error::Rc(ResponseCode(0x98E))),
        trusted_core::Error::AuthFailed
    );
    assert_eq!(
        trusted_core::Error::from(Error::Rc(ResponseCode(0x99D))),
        trusted_core::Error::AuthFailed
    );
    assert_eq!(
        trusted_core::Error::from(Error::Rc(ResponseCode::FAILURE)),
        trusted_core::Error::Tpm(0x101)
    );
    assert_eq!(
        trusted_core::Error::from(Error::Timeout(Wait::DataAvail)),
        trusted_core::Error::Timeout
    );
}

#[test]
fn canned_backend_exhausted_gives_tpm_failure() {
    let sim: Sim<'static> = RefCell::new(TpmSim::new(CannedBackend::new(&[])));
    let tis = Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay);
    let mut tpm = Tpm::new(tis);
    assert_eq!(
        tpm.get_random(&mut [0u8; 4]),
        Err(Error::Rc(ResponseCode::FAILURE))
    );
}

#[test]
fn init_reads_ids_and_family() {
    let sim: Sim<'static> = RefCell::new(TpmSim::new(CannedBackend::new(CANNED)));
    let mut tis = Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay);
    let info = tis.init().unwrap();
    assert_eq!(info.vendor_id, 0x7357);
    assert_eq!(info.device_id, 0x0001);
    assert_eq!(info.interface_capability >> 28, 3);
    // Another locality cannot get in until 0 is released.
    tis.release_locality().unwrap();
    let mut tis = tis.with_locality(2).unwrap();
    tis.request_locality().unwrap();
    assert!(
        Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay)
            .with_locality(5)
            .is_err()
    );
}

#[test]
fn empty_bus_is_no_device_for_source_selection() {
    use trusted_core::TrustSource;
    // Chip select wired to another TPM: nothing drives MISO, it reads 0xFF.
    let tpm = Sim::new(TpmSim::new(CannedBackend::new(CANNED)));
    let elsewhere = Sim::new(TpmSim::new(CannedBackend::new(CANNED)));
    let tis = Tis::new(SpiTis::new(SimSpi(&tpm), SimCs(&elsewhere)), NoDelay);
    let mut src = hal_tpm_spi::TpmSource::new(tis, trusted_core::test_util::BrokenRng);
    assert_eq!(src.init(), Err(trusted_core::Error::NoDevice));
    assert_eq!(src.name(), "tpm");
    assert!(src.migratable() && src.has_rng());
    assert_eq!(tpm.borrow().stats().transactions, 0);
}
