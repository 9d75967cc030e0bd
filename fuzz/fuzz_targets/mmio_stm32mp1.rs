//! Register-read corruption in the STM32MP1 blocks (`hal_stm32mp1_otp`):
//! every read of the BSEC, RNG or SAES registers goes through a fuzzed
//! XOR plan while the drivers read the HUK (both OP-TEE derivations, lock
//! checks), provision a blank part, run the RNG, and derive the SAES DHUK
//! subkey under a TEE seal and unseal. Whatever the corruption: no panic,
//! no hang, failed outputs zero.
#![no_main]

use hal_stm32mp1_otp::regs::saes::MP13;
use hal_stm32mp1_otp::sim::{BsecSim, RngSim, SaesSim};
use hal_stm32mp1_otp::{
    Bsec, ProvisionOptions, SaesKdf, Stm32Rng, Stm32Saes, Stm32mp15Huk, provision_huk,
};
use libfuzzer_sys::fuzz_target;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{NoDelay, ScriptRng};
use trusted_core::{Huk, Key, TrustSource};
use trusted_keys_fuzz::{Input, ReadPlan, XorMmio, huk_config, pieces};

/// The `board` words of hal-stm32mp1-otp/tests/vectors/huk_vectors.txt.
const KEY: [u32; 4] = [0x8e3a_51c2, 0x1f0b_d77a, 0xc033_66e1, 0x5a5a_9d04];
const UID: [u32; 3] = [0x0036_003d, 0x3338_510f, 0x3437_3537];

fn burnt() -> BsecSim {
    let mut fuses: Vec<(u8, u32)> = (60u8..64).zip(KEY).collect();
    fuses.extend((13u8..16).zip(UID));
    BsecSim::with_fuses(&fuses)
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let mut control = Input::new(parts.next().unwrap_or_default());
    let plan = ReadPlan::decode(parts.next().unwrap_or_default());
    let flags = control.byte();

    let config = huk_config(flags);
    let sim = if flags & 4 != 0 {
        BsecSim::new()
    } else {
        burnt()
    };
    let bsec = Bsec::new(XorMmio::new(sim, plan.clone()), NoDelay);
    let mut huk = Stm32mp15Huk::new(bsec, config).expect("valid words");
    if let Ok((bytes, _)) = huk.read() {
        assert_ne!(*bytes, [0u8; 16], "an all-zero HUK was accepted");
    }
    let _ = huk.hardware_unique_key();

    let mut blank = Bsec::new(XorMmio::new(BsecSim::new(), plan.clone()), NoDelay);
    let _ = provision_huk(&mut blank, &[0x5a; 16], ProvisionOptions::default());

    let mut rng = Stm32Rng::new(XorMmio::new(RngSim::new(), plan.clone()), NoDelay);
    rng.set_timeout_us(50 + u32::from(control.byte()));
    let _ = rng.init();
    let mut random = [0xa5u8; 40];
    if rng.fill(&mut random).is_err() {
        assert!(random.iter().all(|&b| b == 0), "failed fill left bytes");
    }

    let saes = Stm32Saes::new(XorMmio::new(SaesSim::new([0x3c; 16]), plan), NoDelay, MP13);
    let mut tee = TeeSealer::new(SaesKdf::stm32mp13(saes), ScriptRng::counting(1));
    let key = Key::from_slice(&[0x42; 32]).expect("32 bytes");
    if let Ok(blob) = tee.seal(&key, "")
        && let Ok(k) = tee.unseal(blob.as_bytes(), "")
    {
        assert_eq!(k, key, "unseal gave another key");
    }
});
