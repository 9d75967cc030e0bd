//! Shared test harness: a sim-backed driver over a leaked DMA buffer,
//! the vector file, and a scripted RNG.
#![allow(dead_code)]

use hal_dcp::Dcp;
use hal_dcp::sim::{DcpSim, NoDelay};
use trusted_core::{DmaRegion, NoCache, StaticDma};

pub type SimDcp = Dcp<DcpSim, StaticDma, NoDelay>;

/// A 32-bit bus address unlike any host address, so a driver that handed
/// the sim a CPU pointer would fault.
pub const BUS: u64 = 0x8010_0000;

pub fn dcp_with(region: usize, unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; region].into_boxed_slice());
    let dma = StaticDma::new(buffer, BUS, NoCache);
    let sim = DcpSim::new(dma.bus())
        .with_unique_key(unique)
        .with_otp_key(otp);
    Dcp::new(sim, dma, NoDelay).unwrap()
}

pub fn dcp(unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    dcp_with(1024, unique, otp)
}

pub fn ready_dcp(unique: [u8; 16], otp: [u8; 16]) -> SimDcp {
    let mut d = dcp(unique, otp);
    d.init().unwrap();
    d
}

pub fn dma_is_zero(dcp: &SimDcp) -> bool {
    let mut all = vec![0u8; dcp.dma().len()];
    dcp.dma().read(0, &mut all).unwrap();
    all.iter().all(|&b| b == 0)
}

pub fn vector(name: &str) -> Vec<u8> {
    let text = include_str!("../vectors/dcp_vectors.txt");
    for line in text.lines() {
        if let Some((k, v)) = line.split_once(" = ") {
            if k.trim() == name {
                return hex(v.trim());
            }
        } else if line.trim_end().strip_suffix(" =") == Some(name) {
            return Vec::new();
        }
    }
    panic!("no vector {name}");
}

pub fn vector16(name: &str) -> [u8; 16] {
    vector(name).try_into().unwrap()
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Hands out the given byte strings in order, then fails.
pub struct ScriptRng(pub Vec<Vec<u8>>);

impl rand_core::TryRng for ScriptRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unimplemented!()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unimplemented!()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        let next = self.0.remove(0);
        dst.copy_from_slice(&next);
        Ok(())
    }
}
impl rand_core::TryCryptoRng for ScriptRng {}

/// A failing RNG.
pub struct BrokenRng;
#[derive(Debug)]
pub struct RngDown;
impl core::fmt::Display for RngDown {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("down")
    }
}
impl core::error::Error for RngDown {}
impl rand_core::TryRng for BrokenRng {
    type Error = RngDown;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Err(RngDown)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Err(RngDown)
    }
    fn try_fill_bytes(&mut self, _dst: &mut [u8]) -> Result<(), Self::Error> {
        Err(RngDown)
    }
}
impl rand_core::TryCryptoRng for BrokenRng {}

/// Counter bytes, for round trips.
pub struct CountRng(pub u8);
impl rand_core::TryRng for CountRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(0)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.iter_mut().for_each(|b| {
            self.0 = self.0.wrapping_add(1);
            *b = self.0
        });
        Ok(())
    }
}
impl rand_core::TryCryptoRng for CountRng {}
