//! Shared test glue: where the driver meets its model.
#![allow(dead_code)]

use embedded_hal::delay::DelayNs;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{Bsec, Smc};

/// A delay that only counts the time it was asked to wait.
#[derive(Default)]
pub struct CountingDelay {
    pub waited_ns: u64,
}

impl DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_ns += u64::from(ns);
    }
}

/// The secure-world driver on the model.
pub fn secure(sim: &mut BsecSim) -> Bsec<&mut BsecSim, CountingDelay> {
    Bsec::new(sim, CountingDelay::default())
}

/// The normal world's SMC conduit into the model's monitor.
pub struct SimSmc<'a>(pub &'a mut BsecSim);

impl Smc for SimSmc<'_> {
    fn smc(&mut self, args: [u32; 4]) -> [u32; 4] {
        self.0.smc(args)
    }
}

/// A fixed "RNG" that returns the given bytes cyclically.
pub struct FixedRng(pub Vec<u8>, pub usize);

impl rand_core::TryRng for FixedRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            *d = self.0[self.1 % self.0.len()];
            self.1 += 1;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for FixedRng {}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One `[section]` of tests/vectors/huk_vectors.txt.
pub struct Section {
    pub name: String,
    pub fields: Vec<(String, String)>,
}

impl Section {
    pub fn get(&self, key: &str) -> &str {
        &self.fields.iter().find(|(k, _)| k == key).unwrap().1
    }
    pub fn words(&self, key: &str) -> Vec<u32> {
        self.get(key)
            .split(',')
            .map(|w| u32::from_str_radix(w, 16).unwrap())
            .collect()
    }
}

pub fn vectors() -> Vec<Section> {
    let text = include_str!("../vectors/huk_vectors.txt");
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Section {
                name: name.into(),
                fields: Vec::new(),
            });
        } else {
            let (k, v) = line.split_once(" = ").unwrap();
            out.last_mut().unwrap().fields.push((k.into(), v.into()));
        }
    }
    out
}

/// A model burnt with the OTP key words at 60..63 and the UID at 13..15.
pub fn sim_with(key: &[u32], uid: &[u32]) -> BsecSim {
    let mut fuses: Vec<(u8, u32)> = (60u8..64).zip(key.iter().copied()).collect();
    fuses.extend((13u8..16).zip(uid.iter().copied()));
    BsecSim::with_fuses(&fuses)
}
