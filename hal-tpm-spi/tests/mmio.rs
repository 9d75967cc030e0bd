//! The driver over the memory-mapped TIS: `Tis` → `MmioTis` → the sim's
//! FIFO state machine, reached by register accesses instead of SPI frames.

use std::cell::RefCell;

use hal_tpm_spi::sim::{CannedBackend, Fault, SIM_DID_VID, SimMmio, TpmSim};
use hal_tpm_spi::{Error, MmioTis, MmioTpm, ResponseCode, Tis, Tpm, TpmSource, Wait};
use trusted_core::test_util::NoDelay;

const STARTUP_OK: &[u8] = &[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0];
/// GetRandom(8) answer.
const RANDOM8: &[u8] = &[
    0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

type Sim<'a> = RefCell<TpmSim<CannedBackend<'a>>>;

fn tis<'a, 'b>(sim: &'a Sim<'b>) -> MmioTpm<SimMmio<'a, CannedBackend<'b>>, NoDelay> {
    Tis::new(MmioTis::new(SimMmio(sim)), NoDelay)
}

#[test]
fn init_reads_ids_through_32_bit_registers() {
    let sim = Sim::new(TpmSim::new(CannedBackend::new(&[])));
    let info = tis(&sim).init().unwrap();
    assert_eq!(
        u32::from(info.device_id) << 16 | u32::from(info.vendor_id),
        SIM_DID_VID
    );
    assert_eq!(info.interface_capability >> 28, 3);
}

#[test]
fn seal_path_commands_run_over_mmio() {
    use trusted_core::TrustSource;
    let canned = [STARTUP_OK, RANDOM8];
    let sim = Sim::new(TpmSim::new(CannedBackend::new(&canned)));
    let mut src = TpmSource::new(tis(&sim), trusted_core::test_util::BrokenRng);
    src.init().unwrap();
    let mut out = [0u8; 8];
    // The command layer's plain GetRandom; the source's `random` would run
    // in a salted session (tests/sessions.rs).
    src.driver_mut().get_random(&mut out).unwrap();
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    let stats = sim.borrow().stats();
    assert_eq!(stats.commands, 2);
    assert_eq!(stats.fifo_written, 12 + 12);
    assert_eq!(stats.fifo_read, 10 + 20);
    assert_eq!(stats.transactions, 0, "no SPI frame was clocked");
}

#[test]
fn slow_fifo_and_error_codes_over_mmio() {
    let canned = [RANDOM8; 2];
    let sim = Sim::new(TpmSim::new(CannedBackend::new(&canned)));
    sim.borrow_mut().inject(Fault::BurstOne);
    let mut tis = tis(&sim);
    let mut out = [0u8; 8];
    Tpm::new(&mut tis).get_random(&mut out).unwrap();
    assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    sim.borrow_mut().inject(Fault::Rc(ResponseCode::AUTH_FAIL));
    {
        let mut tpm = Tpm::new(&mut tis);
        assert_eq!(
            tpm.get_random(&mut out),
            Err(Error::Rc(ResponseCode::AUTH_FAIL))
        );
        assert!(tpm.buffers_zeroed());
    }
    assert!(sim.borrow().fifos_zeroed());
    sim.borrow_mut().clear_faults();
    sim.borrow_mut().inject(Fault::LocalityNever);
    let mut tis = tis.with_locality(1).unwrap();
    assert_eq!(tis.request_locality(), Err(Error::Timeout(Wait::Locality)));
}
