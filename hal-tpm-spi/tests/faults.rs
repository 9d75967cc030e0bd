//! Every sim fault hook gives the right error, ends (bounded time, no
//! hang), does not panic, leaves the driver's buffers and the sim's FIFOs
//! zeroed, and the next command works again once the fault is gone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::cell::{Cell, RefCell};

use common::FakeDelay;
use hal_tpm_spi::sim::{CannedBackend, Faults, SimCs, SimSpi, TisSpiDevice, TraceEvent};
use hal_tpm_spi::{SpiTis, Tis, Tpm, TpmError, Wait};

/// GetRandom(8) answer.
const RANDOM8: &[u8] = &[
    0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];
const CANNED: &[&[u8]] = &[RANDOM8; 8];

type Dev<'a> = RefCell<TisSpiDevice<CannedBackend<'a>, 4096>>;

fn run(
    faults: Faults,
    elapsed: &Cell<u64>,
) -> (Result<[u8; 8], TpmError>, bool, bool, Dev<'static>) {
    let dev: Dev<'static> =
        RefCell::new(TisSpiDevice::new(CannedBackend::new(CANNED)).with_faults(faults));
    let (result, zeroed) = {
        let tis = Tis::new(
            SpiTis::new(SimSpi(&dev), SimCs(&dev)),
            FakeDelay(Some(elapsed)),
        );
        let mut tpm = Tpm::new(tis);
        let mut out = [0u8; 8];
        let r = tpm.get_random(&mut out).map(|_| out);
        if r.is_err() {
            assert_eq!(out, [0; 8], "caller buffer zeroed on error");
        }
        (r, tpm.buffers_zeroed())
    };
    let fifos = dev.borrow().fifos_zeroed();
    (result, zeroed, fifos, dev)
}

fn expect_error(faults: Faults, want: TpmError) -> Dev<'static> {
    let elapsed = Cell::new(0);
    let (r, zeroed, fifos, dev) = run(faults, &elapsed);
    assert_eq!(r, Err(want), "{faults:?}");
    assert!(zeroed, "driver buffers zeroed after {want:?}");
    assert!(
        fifos,
        "sim FIFOs wiped after {want:?} (driver set commandReady)"
    );
    // Recovery: the fault goes, the same device answers again.
    dev.borrow_mut().faults = Faults::default();
    {
        let tis = Tis::new(SpiTis::new(SimSpi(&dev), SimCs(&dev)), FakeDelay::default());
        let mut tpm = Tpm::new(tis);
        let mut out = [0u8; 8];
        tpm.get_random(&mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
    dev
}

#[test]
fn clean_exchange_and_trace() {
    let elapsed = Cell::new(0);
    let (r, _, _, dev) = run(Faults::default(), &elapsed);
    assert_eq!(r.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let dev = dev.borrow();
    let trace = dev.trace();
    // Every transaction is framed by chip select, starts with a 4-byte
    // header addressed at 0xD4_0xxx.
    assert_eq!(trace[0], TraceEvent::Cs(true));
    let TraceEvent::Byte { mosi, .. } = trace[2] else {
        panic!()
    };
    assert_eq!(mosi, 0xD4);
    let s = dev.stats();
    assert_eq!(s.fifo_written, 12);
    assert_eq!(s.fifo_read, 20);
    assert_eq!(s.wait_bytes, 0);
    assert_eq!(s.commands, 1);
}

#[test]
fn wait_states_within_limit_work() {
    let elapsed = Cell::new(0);
    let (r, _, _, dev) = run(
        Faults {
            wait_states: 7,
            ..Faults::default()
        },
        &elapsed,
    );
    assert_eq!(r.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    let s = dev.borrow().stats();
    assert_eq!(s.wait_bytes, 7 * s.transactions);
}

#[test]
fn too_many_wait_states_time_out() {
    let dev = expect_error(
        Faults {
            wait_states: 51,
            ..Faults::default()
        },
        TpmError::Timeout(Wait::WaitStates),
    );
    assert!(dev.borrow().stats().wait_bytes >= 50);
}

#[test]
fn burst_count_one_still_works() {
    let elapsed = Cell::new(0);
    let (r, _, _, dev) = run(
        Faults {
            burst_one: true,
            ..Faults::default()
        },
        &elapsed,
    );
    assert_eq!(r.unwrap(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(dev.borrow().stats().transactions > 40);
}

#[test]
fn stuck_burst_count_times_out() {
    expect_error(
        Faults {
            burst_zero: true,
            ..Faults::default()
        },
        TpmError::Timeout(Wait::BurstCount),
    );
}

#[test]
fn short_response_is_an_error() {
    expect_error(
        Faults {
            short_response: 3,
            ..Faults::default()
        },
        TpmError::ResponseShort,
    );
}

#[test]
fn oversized_response_is_an_error() {
    expect_error(
        Faults {
            oversized_response: 2000,
            ..Faults::default()
        },
        TpmError::ResponseTooLarge,
    );
}

#[test]
fn trailing_response_bytes_are_an_error() {
    expect_error(
        Faults {
            trailing_bytes: 2,
            ..Faults::default()
        },
        TpmError::ResponseTrailing,
    );
}

#[test]
fn corrupted_tag_size_and_body_are_errors() {
    expect_error(
        Faults {
            corrupt: Some((0, 0xFF)),
            ..Faults::default()
        },
        TpmError::ResponseHeader,
    );
    // Size field says 0x14 ^ 0x01 = 0x15: one byte more than sent.
    expect_error(
        Faults {
            corrupt: Some((5, 0x01)),
            ..Faults::default()
        },
        TpmError::ResponseShort,
    );
    // Size field says 19: one byte left over.
    expect_error(
        Faults {
            corrupt: Some((5, 0x07)),
            ..Faults::default()
        },
        TpmError::ResponseTrailing,
    );
    // randomBytes size 8 → 0x0108: does not fit the response.
    expect_error(
        Faults {
            corrupt: Some((10, 0x01)),
            ..Faults::default()
        },
        TpmError::Parse("randomBytes"),
    );
    // Response code byte.
    expect_error(
        Faults {
            corrupt: Some((8, 0x01)),
            ..Faults::default()
        },
        TpmError::Rc(0x100),
    );
}

#[test]
fn data_avail_never_times_out_within_the_command_budget() {
    let elapsed = Cell::new(0);
    let (r, zeroed, fifos, _) = run(
        Faults {
            data_avail_never: true,
            ..Faults::default()
        },
        &elapsed,
    );
    assert_eq!(r, Err(TpmError::Timeout(Wait::DataAvail)));
    assert!(zeroed && fifos);
    // GetRandom is a "long" command: 2 s, plus at most one poll step.
    let us = elapsed.get() / 1000;
    assert!((2_000_000..2_010_000).contains(&us), "{us} µs");
}

#[test]
fn command_ready_never_times_out() {
    let elapsed = Cell::new(0);
    let (r, zeroed, _, _) = run(
        Faults {
            command_ready_never: true,
            ..Faults::default()
        },
        &elapsed,
    );
    assert_eq!(r, Err(TpmError::Timeout(Wait::CommandReady)));
    assert!(zeroed);
    assert!(elapsed.get() / 1000 >= 2_000_000);
}

#[test]
fn locality_never_granted_times_out() {
    expect_locality_timeout();
}

fn expect_locality_timeout() {
    let elapsed = Cell::new(0);
    let (r, zeroed, _, _) = run(
        Faults {
            locality_never: true,
            ..Faults::default()
        },
        &elapsed,
    );
    assert_eq!(r, Err(TpmError::Timeout(Wait::Locality)));
    assert!(zeroed);
    assert!(elapsed.get() / 1000 >= 750_000);
}

#[test]
fn tpm_error_code_is_reported_and_maps_to_auth_failed() {
    let dev = expect_error(
        Faults {
            response_code: Some(0x98E),
            ..Faults::default()
        },
        TpmError::Rc(0x98E),
    );
    drop(dev);
    assert_eq!(
        trusted_core::Error::from(TpmError::Rc(0x98E)),
        trusted_core::Error::AuthFailed
    );
    assert_eq!(
        trusted_core::Error::from(TpmError::Rc(0x99D)),
        trusted_core::Error::AuthFailed
    );
    assert_eq!(
        trusted_core::Error::from(TpmError::Rc(0x101)),
        trusted_core::Error::Tpm(0x101)
    );
    assert_eq!(
        trusted_core::Error::from(TpmError::Timeout(Wait::DataAvail)),
        trusted_core::Error::Timeout
    );
}

#[test]
fn canned_backend_exhausted_gives_tpm_failure() {
    let dev: Dev<'static> = RefCell::new(TisSpiDevice::new(CannedBackend::new(&[])));
    let tis = Tis::new(SpiTis::new(SimSpi(&dev), SimCs(&dev)), FakeDelay::default());
    let mut tpm = Tpm::new(tis);
    assert_eq!(tpm.get_random(&mut [0u8; 4]), Err(TpmError::Rc(0x101)));
}

#[test]
fn init_reads_ids_and_family() {
    let dev: Dev<'static> = RefCell::new(TisSpiDevice::new(CannedBackend::new(CANNED)));
    let mut tis = Tis::new(SpiTis::new(SimSpi(&dev), SimCs(&dev)), FakeDelay::default());
    let info = tis.init().unwrap();
    assert_eq!(info.vendor_id, 0x7357);
    assert_eq!(info.device_id, 0x0001);
    assert_eq!(info.interface_capability >> 28, 3);
    // Another locality cannot get in until 0 is released.
    tis.release_locality().unwrap();
    let mut tis = tis.with_locality(2).unwrap();
    tis.request_locality().unwrap();
    assert!(
        Tis::new(SpiTis::new(SimSpi(&dev), SimCs(&dev)), FakeDelay::default())
            .with_locality(5)
            .is_err()
    );
}

/// A bus with nothing on it reads 0xFF.
struct EmptyBus;
impl embedded_hal::spi::ErrorType for EmptyBus {
    type Error = core::convert::Infallible;
}
impl embedded_hal::spi::SpiBus for EmptyBus {
    fn read(&mut self, w: &mut [u8]) -> Result<(), Self::Error> {
        w.fill(0xFF);
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<(), Self::Error> {
        Ok(())
    }
    fn transfer(&mut self, r: &mut [u8], _: &[u8]) -> Result<(), Self::Error> {
        r.fill(0xFF);
        Ok(())
    }
    fn transfer_in_place(&mut self, w: &mut [u8]) -> Result<(), Self::Error> {
        w.fill(0xFF);
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}
struct Pin;
impl embedded_hal::digital::ErrorType for Pin {
    type Error = core::convert::Infallible;
}
impl embedded_hal::digital::OutputPin for Pin {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn empty_bus_is_no_device_for_source_selection() {
    use trusted_core::TrustSource;
    let tis = Tis::new(SpiTis::new(EmptyBus, Pin), FakeDelay::default());
    let mut src = hal_tpm_spi::TpmSource::new(tis);
    assert_eq!(src.init(), Err(trusted_core::Error::NoDevice));
    assert_eq!(src.name(), "tpm");
    assert!(src.migratable() && src.has_rng());
}
