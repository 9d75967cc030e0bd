//! The `derive-uid` feature: with it `HukMode::DeriveUid` is accepted;
//! without it (`cargo test -p hal-stm32mp1-otp --no-default-features
//! --features sim,hazmat --test derive_uid_feature`, run by `cargo xtask
//! test`) `Stm32mp15Huk::new` refuses the mode with a clear error, before
//! touching the fuses, and `BsecKey` still works.

#![allow(clippy::unwrap_used, reason = "a failure fails the test")]

use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{Bsec, HukConfig, HukMode, Stm32mp15Huk};
use trusted_core::test_util::NoDelay;
use trusted_core::{Error, Huk};

fn provider(mode: HukMode) -> Result<Stm32mp15Huk<Bsec<BsecSim, NoDelay>>, Error> {
    let sim = BsecSim::with_fuses(&[(60, 1), (61, 2), (62, 3), (63, 4), (13, 5)]);
    let config = HukConfig {
        mode,
        ..HukConfig::default()
    };
    Stm32mp15Huk::new(Bsec::new(sim, NoDelay), config)
}

#[test]
fn bsec_key_mode_works_either_way() {
    provider(HukMode::BsecKey)
        .unwrap()
        .hardware_unique_key()
        .unwrap();
}

#[test]
#[cfg(feature = "derive-uid")]
fn derive_uid_is_accepted_with_the_feature() {
    let mut uid = provider(HukMode::DeriveUid).unwrap();
    let mut key = provider(HukMode::BsecKey).unwrap();
    assert_ne!(
        *uid.hardware_unique_key().unwrap(),
        *key.hardware_unique_key().unwrap()
    );
}

#[test]
#[cfg(not(feature = "derive-uid"))]
fn derive_uid_is_refused_without_the_feature() {
    match provider(HukMode::DeriveUid) {
        Err(Error::Unsupported(why)) => assert!(why.contains("derive-uid"), "{why}"),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("DeriveUid accepted without the feature"),
    }
}
