//! Shared test harness: a driver over the sim, a DMA region with a second
//! (device-side) view for inspecting it, and a delay that only counts.
// Each test crate uses a subset of these helpers.
#![allow(dead_code)]

use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamSource, Config};
use trusted_core::test_util::{CountingDelay, leaked_dma};
use trusted_core::{DmaBus, Key, StaticDma};

/// Bus address of the DMA region in the 32-bit tests.
pub const BUS: u64 = 0x8000_0000;
/// DMA region size.
pub const DMA_LEN: usize = 4096;
/// OTPMK of the default sim.
pub const OTPMK: [u8; 32] = [0x11; 32];

/// The driver over the sim, as the tests use it.
pub type SimCaam = Caam<CaamSim, StaticDma, CountingDelay>;
/// The Linux trusted_caam source over [`SimCaam`].
pub type SimSource = CaamSource<CaamSim, StaticDma, CountingDelay>;

/// A fresh driver over a fresh sim; the `DmaBus` sees the driver's region.
#[allow(clippy::expect_used, reason = "a refused test set-up fails the test")]
pub fn caam(sim: SimConfig, cfg: Config, bus_address: u64) -> (SimCaam, DmaBus) {
    let dma = leaked_dma(DMA_LEN, bus_address);
    let bus = dma.bus();
    let sim = CaamSim::new(bus, sim);
    let caam = Caam::new(sim, dma, CountingDelay::default(), cfg).expect("test configuration");
    (caam, bus)
}

/// A short timeout so timeout tests finish quickly (the wait is still
/// bounded by the counted delay, not by wall time).
pub fn config() -> Config {
    let mut c = Config::new(0);
    c.timeout_us = 10_000;
    c
}

/// A driver over a secure-state sim with [`OTPMK`].
pub fn secure_caam() -> (SimCaam, DmaBus) {
    caam(SimConfig::secure(OTPMK), config(), BUS)
}

/// The Linux source over a sim built from `sim`.
pub fn source_with(sim: SimConfig) -> (SimSource, DmaBus) {
    let (caam, bus) = caam(sim, config(), BUS);
    (CaamSource::new(caam), bus)
}

/// The Linux source over a secure-state sim with [`OTPMK`].
pub fn secure_source() -> (SimSource, DmaBus) {
    source_with(SimConfig::secure(OTPMK))
}

/// Asserts the whole DMA region is zero.
pub fn assert_dma_zeroed(bus: &DmaBus) {
    let mut all = vec![0xAAu8; DMA_LEN];
    assert_eq!(bus.read(BUS, &mut all), Ok(()));
    assert!(all.iter().all(|&b| b == 0), "DMA region not zeroed");
}

/// A `len`-byte key counting up from `seed`.
#[allow(
    clippy::expect_used,
    reason = "a test key of a bad length fails the test"
)]
pub fn key(len: usize, seed: u8) -> Key {
    let bytes: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8)).collect();
    Key::from_slice(&bytes).expect("test key length 32..=128")
}
