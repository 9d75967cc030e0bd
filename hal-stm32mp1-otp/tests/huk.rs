//! The OP-TEE STM32MP15 HUK in both modes against vectors computed with
//! Python `cryptography` (tests/vectors/gen_huk_vectors.py), and the lock
//! state reporting.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{
    Bsec, HukConfig, HukLockState, HukMode, OtpAccess, SmcOtp, StickyLock, Stm32mp15Huk,
};
use trusted_core::test_util::{CountingDelay, section};
use trusted_core::{Error, Huk};

/// OTP key words whose BSEC_KEY HUK is 00 01 .. 0f.
const COUNTING_KEY: [u32; 4] = [0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c];

fn counting_huk() -> Vec<u8> {
    (0u8..16).collect()
}

/// The HUK read through `access` with the default configuration.
fn default_huk<A: OtpAccess>(access: A) -> Result<Vec<u8>, Error> {
    let mut huk = Stm32mp15Huk::new(access, HukConfig::default())?;
    Ok(huk.hardware_unique_key()?.to_vec())
}

fn config(mode: HukMode) -> HukConfig {
    HukConfig {
        mode,
        ..HukConfig::default()
    }
}

#[test]
fn huk_matches_python_vectors_in_both_modes_over_bsec() {
    let cases: Vec<_> = huk_vectors()
        .into_iter()
        .filter(|s| s.name != "tee")
        .collect();
    assert_eq!(cases.len(), 3);
    for case in cases {
        for (mode, field) in [
            (HukMode::BsecKey, "huk_bsec_key"),
            (HukMode::DeriveUid, "huk_derive_uid"),
        ] {
            let mut sim = sim_with(&words(&case, "otp_key"), &words(&case, "uid"));
            let mut huk = Stm32mp15Huk::new(secure(&mut sim), config(mode)).unwrap();
            let got = huk.hardware_unique_key().unwrap();
            assert_eq!(got.as_slice(), case.bytes(field), "{} {field}", case.name);
        }
    }
}

#[test]
fn huk_matches_python_vectors_over_smc_when_words_are_granted() {
    let all = huk_vectors();
    let case = section(&all, "board");
    for (mode, field) in [
        (HukMode::BsecKey, "huk_bsec_key"),
        (HukMode::DeriveUid, "huk_derive_uid"),
    ] {
        let mut sim = sim_with(&words(case, "otp_key"), &words(case, "uid"));
        (60..64).for_each(|w| sim.grant_non_secure(w));
        let mut huk = Stm32mp15Huk::new(SmcOtp::new(SimSmc(&mut sim)), config(mode)).unwrap();
        let (got, lock) = huk.read().unwrap();
        assert_eq!(got.as_slice(), case.bytes(field));
        assert_eq!(lock, HukLockState::Unknown);
    }
}

#[test]
fn huk_words_are_unreachable_over_smc_by_default() {
    let all = huk_vectors();
    let case = section(&all, "board");
    let mut sim = sim_with(&words(case, "otp_key"), &words(case, "uid"));
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
        counting_huk()
    );
}

#[test]
fn bad_word_configuration_is_refused() {
    let mut sim = BsecSim::new();
    // a word above 95, then a repeated word
    for words in [[60, 61, 62, 96], [60, 61, 61, 63]] {
        let cfg = HukConfig {
            words,
            ..HukConfig::default()
        };
        assert!(matches!(
            Stm32mp15Huk::new(secure(&mut sim), cfg),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn blank_huk_words_are_refused_unless_allowed() {
    let mut sim = BsecSim::new();
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert!(matches!(
        huk.hardware_unique_key(),
        Err(Error::InsecureState(_))
    ));
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default())
        .unwrap()
        .allow_insecure();
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
    let mut sim = sim_with(&COUNTING_KEY, &[0, 0, 0]);
    let mut bsec = secure(&mut sim);
    bsec.write_shadow(60, 0xAAAA_AAAA).unwrap();
    assert_eq!(default_huk(&mut bsec).unwrap(), counting_huk());
}

#[test]
fn srlocked_words_fall_back_to_the_shadow_loaded_at_reset() {
    let mut sim = sim_with(&COUNTING_KEY, &[0, 0, 0]);
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(61, StickyLock::ShadowReload).unwrap();
    assert!(bsec.reload(61).is_err());
    assert_eq!(default_huk(&mut bsec).unwrap(), counting_huk());
}

#[test]
fn derive_uid_write_locks_the_uid_shadows_first() {
    let all = huk_vectors();
    let case = section(&all, "board");
    let mut sim = sim_with(&words(case, "otp_key"), &words(case, "uid"));
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
