//! Shared test harness: a driver over the sim, a DMA region with a second
//! (device-side) view for inspecting it, and a delay that only counts.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamSource, Config};
use trusted_core::embedded_hal::delay::DelayNs;
use trusted_core::{DmaBus, NoCache, StaticDma};

/// Bus address of the DMA region in the 32-bit tests.
pub const BUS: u64 = 0x8000_0000;
/// DMA region size.
pub const DMA_LEN: usize = 4096;
pub const OTPMK: [u8; 32] = [0x11; 32];

/// A delay that returns at once and adds up what it was asked to wait.
#[derive(Default)]
pub struct CountingDelay {
    pub waited_ns: u64,
}

impl DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_ns += u64::from(ns);
    }
}

pub type SimCaam = Caam<CaamSim, StaticDma, CountingDelay>;

/// A fresh driver over a fresh sim; the `DmaBus` sees the driver's region.
pub fn caam(sim: SimConfig, cfg: Config, bus_address: u64) -> (SimCaam, DmaBus) {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; DMA_LEN].into_boxed_slice());
    let dma = StaticDma::new(buffer, bus_address, NoCache);
    let bus = dma.bus();
    let sim = CaamSim::new(bus, sim);
    let caam = Caam::new(sim, dma, CountingDelay::default(), cfg).unwrap();
    (caam, bus)
}

/// A short timeout so timeout tests finish quickly (the wait is still
/// bounded by the counted delay, not by wall time).
pub fn config() -> Config {
    let mut c = Config::new(0);
    c.timeout_us = 10_000;
    c
}

pub fn secure_caam() -> (SimCaam, DmaBus) {
    caam(SimConfig::secure(OTPMK), config(), BUS)
}

pub fn source_with(sim: SimConfig) -> (CaamSource<CaamSim, StaticDma, CountingDelay>, DmaBus) {
    let (caam, bus) = caam(sim, config(), BUS);
    (CaamSource::new(caam), bus)
}

pub fn secure_source() -> (CaamSource<CaamSim, StaticDma, CountingDelay>, DmaBus) {
    source_with(SimConfig::secure(OTPMK))
}

/// The whole DMA region is zero.
pub fn assert_dma_zeroed(bus: &DmaBus) {
    let mut all = vec![0xAAu8; DMA_LEN];
    bus.read(BUS, &mut all).unwrap();
    assert!(all.iter().all(|&b| b == 0), "DMA region not zeroed");
}

pub fn key(len: usize, seed: u8) -> trusted_core::Key {
    let bytes: Vec<u8> = (0..len).map(|i| seed.wrapping_add(i as u8)).collect();
    trusted_core::Key::from_slice(&bytes).unwrap()
}
