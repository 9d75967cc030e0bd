//! Shared test glue: where the driver meets its model.
#![allow(dead_code)]

use hal_stm32mp1_otp::regs::saes::{self as saes_regs, Layout};
use hal_stm32mp1_otp::saes::{SaesKdf, SizeT, Stm32Saes};
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::sim::saes::SaesSim;
use hal_stm32mp1_otp::{Bsec, Smc};
use trusted_core::test_util::{CountingDelay, Section, unhex, vectors};

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

/// Every section of tests/vectors/huk_vectors.txt.
pub fn huk_vectors() -> Vec<Section> {
    vectors(include_str!("../vectors/huk_vectors.txt"))
}

/// A comma-separated list of OTP words (8 hex digits each) of a vector.
pub fn words(section: &Section, key: &str) -> Vec<u32> {
    section
        .get(key)
        .split(',')
        .map(|w| {
            let mut be = [0u8; 4];
            be.copy_from_slice(&unhex(w));
            u32::from_be_bytes(be)
        })
        .collect()
}

/// A model burnt with the OTP key words at 60..63 and the UID at 13..15.
pub fn sim_with(key: &[u32], uid: &[u32]) -> BsecSim {
    let mut fuses: Vec<(u8, u32)> = (60u8..64).zip(key.iter().copied()).collect();
    fuses.extend((13u8..16).zip(uid.iter().copied()));
    BsecSim::with_fuses(&fuses)
}

/// The SAES driver on its model, with the register layout `layout`.
pub fn saes_driver(sim: &mut SaesSim, layout: Layout) -> Stm32Saes<&mut SaesSim, CountingDelay> {
    Stm32Saes::new(sim, CountingDelay::default(), layout)
}

/// OP-TEE's SAES DHUK derivation on an STM32MP13 model.
pub fn saes_kdf(sim: &mut SaesSim, size_t: SizeT) -> SaesKdf<&mut SaesSim, CountingDelay> {
    SaesKdf::new(saes_driver(sim, saes_regs::MP13), size_t)
}

/// The `size_t` layout a vector of tests/vectors/saes_kdf.txt names.
#[allow(clippy::panic, reason = "an unknown vector value fails the test")]
pub fn size_t(v: &Section) -> SizeT {
    match v.get("size_t") {
        "4" => SizeT::Bytes4,
        "8" => SizeT::Bytes8,
        other => panic!("size_t {other}"),
    }
}
