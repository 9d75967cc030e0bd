//! Shared test harness: a sim-backed driver over a leaked DMA region and
//! the vector file.
#![allow(dead_code)]

use std::sync::OnceLock;

use hal_dcp::Dcp;
use hal_dcp::sim::DcpSim;
use trusted_core::DmaRegion;
use trusted_core::StaticDma;
use trusted_core::test_util::{NoDelay, Section, leaked_dma, section, vectors};

pub type SimDcp = Dcp<DcpSim, StaticDma, NoDelay>;

/// A 32-bit bus address unlike any host address, so a driver that handed
/// the sim a CPU pointer would fault.
pub const BUS: u64 = 0x8010_0000;

#[allow(clippy::expect_used, reason = "a refused test set-up fails the test")]
pub fn dcp_with(region: usize, unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    let dma = leaked_dma(region, BUS);
    let sim = DcpSim::new(dma.bus())
        .with_unique_key(unique)
        .with_otp_key(otp);
    Dcp::new(sim, dma, NoDelay).expect("a 32-bit, aligned, large enough region")
}

pub fn dcp(unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    dcp_with(1024, unique, otp)
}

pub fn ready_dcp(unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    let mut d = dcp(unique, otp);
    assert_eq!(d.init(), Ok(()), "the sim initialises");
    d
}

/// The sim with the fused keys of vector section `[device]`.
pub fn device(device: &str) -> SimDcp {
    let keys = vector(device);
    dcp(keys.array("unique"), keys.array("otp"))
}

pub fn dma_is_zero(dcp: &SimDcp) -> bool {
    let mut all = vec![0u8; dcp.dma().len()];
    dcp.dma().read(0, &mut all).is_ok() && all.iter().all(|&b| b == 0)
}

/// Section `[name]` of `tests/vectors/dcp_vectors.txt`.
pub fn vector(name: &str) -> &'static Section {
    static ALL: OnceLock<Vec<Section>> = OnceLock::new();
    let all = ALL.get_or_init(|| vectors(include_str!("../vectors/dcp_vectors.txt")));
    section(all, name)
}
