#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::drop_non_drop
)]
//! The OP-TEE STM32MP15 HUK in both modes against vectors computed with
//! Python `cryptography` (tests/vectors/gen_huk_vectors.py), and the lock
//! state reporting.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{Bsec, HukConfig, HukLockState, HukMode, SmcOtp, StickyLock, Stm32mp15Huk};
use trusted_core::{Error, Huk};

fn config(mode: HukMode) -> HukConfig {
    HukConfig {
        mode,
        ..HukConfig::default()
    }
}

#[test]
fn huk_matches_python_vectors_in_both_modes_over_bsec() {
    let cases: Vec<_> = vectors().into_iter().filter(|s| s.name != "tee").collect();
    assert_eq!(cases.len(), 3);
    for case in cases {
        for (mode, field) in [
            (HukMode::BsecKey, "huk_bsec_key"),
            (HukMode::DeriveUid, "huk_derive_uid"),
        ] {
            let mut sim = sim_with(&case.words("otp_key"), &case.words("uid"));
            let mut huk = Stm32mp15Huk::new(secure(&mut sim), config(mode)).unwrap();
            let got = huk.hardware_unique_key().unwrap();
            assert_eq!(
                got.as_slice(),
                hex(case.get(field)),
                "{} {field}",
                case.name
            );
        }
    }
}

#[test]
fn huk_matches_python_vectors_over_smc_when_words_are_granted() {
    let case = vectors().into_iter().find(|s| s.name == "board").unwrap();
    for (mode, field) in [
        (HukMode::BsecKey, "huk_bsec_key"),
        (HukMode::DeriveUid, "huk_derive_uid"),
    ] {
        let mut sim = sim_with(&case.words("otp_key"), &case.words("uid"));
        (60..64).for_each(|w| sim.grant_non_secure(w));
        let mut huk = Stm32mp15Huk::new(SmcOtp::new(SimSmc(&mut sim)), config(mode)).unwrap();
        let (got, lock) = huk.read().unwrap();
        assert_eq!(got.as_slice(), hex(case.get(field)));
        assert_eq!(lock, HukLockState::Unknown);
    }
}

#[test]
fn huk_words_are_unreachable_over_smc_by_default() {
    let case = vectors().into_iter().find(|s| s.name == "board").unwrap();
    let mut sim = sim_with(&case.words("otp_key"), &case.words("uid"));
    let mut huk = Stm32mp15Huk::new(SmcOtp::new(SimSmc(&mut sim)), HukConfig::default()).unwrap();
    assert_eq!(
        huk.hardware_unique_key().err(),
        Some(Error::Hardware(hal_stm32mp1_otp::regs::SMC_INVALID_PARAMS))
    );
}

#[test]
fn configurable_words_are_read_in_key_order() {
    let mut sim = BsecSim::with_fuses(&[
        (40, 0x03020100),
        (41, 0x07060504),
        (50, 0x0b0a0908),
        (33, 0x0f0e0d0c),
    ]);
    let cfg = HukConfig {
        words: [40, 41, 50, 33],
        ..HukConfig::default()
    };
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), cfg).unwrap();
    assert_eq!(
        huk.hardware_unique_key().unwrap().as_slice(),
        (0u8..16).collect::<Vec<_>>()
    );
}

#[test]
fn bad_word_configuration_is_refused() {
    let mut sim = BsecSim::new();
    let cfg = HukConfig {
        words: [60, 61, 62, 96],
        ..HukConfig::default()
    };
    assert!(matches!(
        Stm32mp15Huk::new(secure(&mut sim), cfg),
        Err(Error::InvalidArgument(_))
    ));
    let cfg = HukConfig {
        words: [60, 61, 61, 63],
        ..HukConfig::default()
    };
    assert!(matches!(
        Stm32mp15Huk::new(secure(&mut sim), cfg),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn blank_huk_words_are_refused_unless_allowed() {
    let mut sim = BsecSim::new();
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert!(matches!(
        huk.hardware_unique_key(),
        Err(Error::InsecureState(_))
    ));
    let cfg = HukConfig {
        allow_blank: true,
        ..HukConfig::default()
    };
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), cfg).unwrap();
    assert_eq!(huk.hardware_unique_key().unwrap().as_slice(), [0u8; 16]);
}

#[test]
fn lock_state_reports_unlocked_then_locked_after_permanent_and_sw_locks() {
    let mut sim = sim_with(&[1, 2, 3, 4], &[0, 0, 0]);
    {
        let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
        assert_eq!(huk.lock_state(), None);
        assert_eq!(huk.read().unwrap().1, HukLockState::Unlocked);
        assert_eq!(huk.lock_state(), Some(HukLockState::Unlocked));
    }
    let mut bsec = secure(&mut sim);
    for w in 60..64 {
        bsec.permanent_lock(w).unwrap();
    }
    // Permanent locks alone: OP-TEE still wants the shadow write-locked.
    let mut huk = Stm32mp15Huk::new(&mut bsec, HukConfig::default()).unwrap();
    assert_eq!(huk.read().unwrap().1, HukLockState::Unlocked);
    drop(huk);
    for w in 60..64 {
        bsec.set_sticky_lock(w, StickyLock::ShadowWrite).unwrap();
    }
    let mut huk = Stm32mp15Huk::new(&mut bsec, HukConfig::default()).unwrap();
    assert_eq!(huk.read().unwrap().1, HukLockState::Locked);
}

#[test]
fn require_locked_refuses_unlocked_words() {
    let mut sim = sim_with(&[1, 2, 3, 4], &[0, 0, 0]);
    let cfg = HukConfig {
        require_locked: true,
        ..HukConfig::default()
    };
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), cfg).unwrap();
    assert!(matches!(
        huk.hardware_unique_key(),
        Err(Error::InsecureState(_))
    ));
}

#[test]
fn closed_device_skips_the_lock_check_as_op_tee_does() {
    let mut sim = sim_with(&[1, 2, 3, 4], &[0, 0, 0]);
    sim.close_device();
    let cfg = HukConfig {
        require_locked: true,
        ..HukConfig::default()
    };
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), cfg).unwrap();
    assert_eq!(huk.read().unwrap().1, HukLockState::ClosedDevice);
}

#[test]
fn huk_comes_from_the_fuses_not_from_a_rewritten_shadow() {
    let mut sim = sim_with(
        &[0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c],
        &[0, 0, 0],
    );
    let mut bsec = secure(&mut sim);
    bsec.write_shadow(60, 0xAAAA_AAAA).unwrap();
    let mut huk = Stm32mp15Huk::new(&mut bsec, HukConfig::default()).unwrap();
    assert_eq!(
        huk.hardware_unique_key().unwrap().as_slice(),
        (0u8..16).collect::<Vec<_>>()
    );
}

#[test]
fn srlocked_words_fall_back_to_the_shadow_loaded_at_reset() {
    let mut sim = sim_with(
        &[0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c],
        &[0, 0, 0],
    );
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(61, StickyLock::ShadowReload).unwrap();
    assert!(bsec.reload(61).is_err());
    let mut huk = Stm32mp15Huk::new(&mut bsec, HukConfig::default()).unwrap();
    assert_eq!(
        huk.hardware_unique_key().unwrap().as_slice(),
        (0u8..16).collect::<Vec<_>>()
    );
}

#[test]
fn derive_uid_write_locks_the_uid_shadows_first() {
    let case = vectors().into_iter().find(|s| s.name == "board").unwrap();
    let mut sim = sim_with(&case.words("otp_key"), &case.words("uid"));
    let mut bsec = secure(&mut sim);
    let mut huk = Stm32mp15Huk::new(&mut bsec, config(HukMode::DeriveUid)).unwrap();
    huk.hardware_unique_key().unwrap();
    for w in 13..16 {
        assert!(bsec.lock_state(w).unwrap().sticky_shadow_write);
        // so a later attempt to swap the UID in the shadow is refused
        assert!(bsec.write_shadow(w, 0).is_err());
    }
}

#[test]
fn huk_provider_works_with_a_moved_driver() {
    let mut sim = sim_with(&[1, 2, 3, 4], &[0, 0, 0]);
    let bsec = Bsec::new(&mut sim, CountingDelay::default());
    let mut huk = Stm32mp15Huk::new(bsec, HukConfig::default()).unwrap();
    let a = huk.hardware_unique_key().unwrap();
    let b = huk.hardware_unique_key().unwrap();
    assert_eq!(a.as_slice(), b.as_slice());
    let _bsec: Bsec<_, _> = huk.into_inner();
}
