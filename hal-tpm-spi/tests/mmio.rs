//! The driver over the memory-mapped TIS: `Tis` → `MmioTis` → the sim's
//! FIFO state machine, reached by register accesses instead of SPI frames.

use std::cell::RefCell;

use hal_tpm_spi::regs::LOCALITY_WINDOW;
use hal_tpm_spi::sim::{CannedBackend, Fault, SIM_DID_VID, TpmSim};
use hal_tpm_spi::{ByteMmio, Error, MmioTis, MmioTpm, ResponseCode, Tis, Tpm, TpmSource, Wait};
use trusted_core::Mmio;
use trusted_core::test_util::NoDelay;

const STARTUP_OK: &[u8] = &[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0];
/// GetRandom(8) answer.
const RANDOM8: &[u8] = &[
    0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
];

type Sim<'a> = RefCell<TpmSim<CannedBackend<'a>>>;

/// The sim's registers as a memory-mapped TIS block: locality L at
/// L × 4 KiB, one sim register access per byte (so a 32-bit FIFO access
/// would move four FIFO bytes, as on QEMU).
struct SimMmio<'a, 'b>(&'a Sim<'b>);

impl SimMmio<'_, '_> {
    fn split(offset: usize) -> (u8, u16) {
        let locality = u8::try_from(offset / LOCALITY_WINDOW).unwrap_or(u8::MAX);
        (locality, (offset % LOCALITY_WINDOW) as u16)
    }
}

impl Mmio for SimMmio<'_, '_> {
    fn read32(&mut self, offset: usize) -> u32 {
        u32::from_le_bytes([0, 1, 2, 3].map(|i| self.read8(offset + i)))
    }
    fn write32(&mut self, offset: usize, value: u32) {
        for (i, b) in value.to_le_bytes().into_iter().enumerate() {
            self.write8(offset + i, b);
        }
    }
}

impl ByteMmio for SimMmio<'_, '_> {
    fn read8(&mut self, offset: usize) -> u8 {
        let (locality, offset) = Self::split(offset);
        self.0.borrow_mut().read_register(locality, offset)
    }
    fn write8(&mut self, offset: usize, value: u8) {
        let (locality, offset) = Self::split(offset);
        self.0.borrow_mut().write_register(locality, offset, value);
    }
}

fn tis<'a, 'b>(sim: &'a Sim<'b>) -> MmioTpm<SimMmio<'a, 'b>, NoDelay> {
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
