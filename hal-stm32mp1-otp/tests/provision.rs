//! HUK provisioning: program, verify, lock; refuse before burning; an exact
//! report on every failure.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::{BsecSim, Fault};
use hal_stm32mp1_otp::{
    Error, HukConfig, HukLockState, LockKind, ProvisionOptions, ProvisionStep, SmcOtp, StickyLock,
    Stm32mp15Huk, huk_words_image, provision_huk,
};
use trusted_core::Huk;

const HUK: [u8; 16] = [
    0xc2, 0x51, 0x3a, 0x8e, 0x7a, 0xd7, 0x0b, 0x1f, 0xe1, 0x66, 0x33, 0xc0, 0x04, 0x9d, 0x5a, 0x5a,
];

#[test]
fn image_is_four_little_endian_words() {
    assert_eq!(
        *huk_words_image(&HUK, [60, 61, 62, 63]),
        [
            (60, 0x8e3a51c2),
            (61, 0x1f0bd77a),
            (62, 0xc03366e1),
            (63, 0x5a5a9d04)
        ]
    );
}

#[test]
fn provisioning_programs_verifies_and_locks_then_the_huk_reads_back() {
    let mut sim = BsecSim::new();
    let report = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap();
    assert_eq!(report.words, [60, 61, 62, 63]);
    assert_eq!(report.programmed, [true; 4]);
    assert_eq!(report.already_present, [false; 4]);
    assert!(report.verified);
    assert_eq!(report.lock_issued, [true; 4]);
    assert_eq!(report.locked, [true; 4]);
    sim.reset();
    let mut bsec = secure(&mut sim);
    for w in 60..64 {
        bsec.set_sticky_lock(w, StickyLock::ShadowWrite).unwrap();
    }
    let mut huk = Stm32mp15Huk::new(&mut bsec, HukConfig::default()).unwrap();
    let (key, lock) = huk.read().unwrap();
    assert_eq!(*key, HUK);
    assert_eq!(lock, HukLockState::Locked);
}

#[test]
fn provisioning_again_with_the_same_huk_burns_nothing() {
    let mut sim = BsecSim::new();
    provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap();
    let (p, l) = (sim.program_ops(), sim.lock_ops());
    let report = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap();
    assert_eq!(report.already_present, [true; 4]);
    assert_eq!(report.programmed, [false; 4]);
    assert_eq!(report.lock_issued, [false; 4]);
    assert_eq!(report.locked, [true; 4]);
    assert_eq!((sim.program_ops(), sim.lock_ops()), (p, l));
}

#[test]
fn a_different_value_in_any_word_is_refused_before_any_fuse_is_touched() {
    let mut sim = BsecSim::with_fuses(&[(62, 0xDEAD_BEEF)]);
    let err = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap_err();
    assert_eq!(err.step, ProvisionStep::Precheck);
    assert_eq!(err.word, Some(62));
    assert_eq!(err.error, Error::AlreadyProgrammed(62));
    assert_eq!(err.report.programmed, [false; 4]);
    assert_eq!(sim.program_ops(), 0);
    assert_eq!(sim.fuse(60), 0);
}

#[test]
fn a_locked_blank_word_is_refused_before_any_fuse_is_touched() {
    let mut sim = BsecSim::new();
    secure(&mut sim).permanent_lock(63).unwrap();
    let err = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap_err();
    assert_eq!((err.step, err.word), (ProvisionStep::Precheck, Some(63)));
    assert_eq!(err.error, Error::Locked(63, LockKind::Permanent));
    assert_eq!(sim.program_ops(), 0);
}

#[test]
fn zero_huk_and_bad_words_are_refused() {
    let mut sim = BsecSim::new();
    let e =
        provision_huk(&mut secure(&mut sim), &[0; 16], ProvisionOptions::default()).unwrap_err();
    assert_eq!(e.step, ProvisionStep::Precheck);
    let opts = ProvisionOptions {
        words: [60, 61, 62, 99],
        ..ProvisionOptions::default()
    };
    let e = provision_huk(&mut secure(&mut sim), &HUK, opts).unwrap_err();
    assert_eq!(e.error, Error::BadWord(99));
    let opts = ProvisionOptions {
        words: [60, 60, 62, 63],
        ..ProvisionOptions::default()
    };
    assert!(provision_huk(&mut secure(&mut sim), &HUK, opts).is_err());
    assert_eq!(sim.program_ops(), 0);
}

#[test]
fn a_program_failure_midway_reports_exactly_which_words_were_programmed() {
    let mut sim = BsecSim::new();
    sim.inject(Fault::PartialBurn {
        word: 62,
        mask: 0x0000_FFFF,
    });
    let err = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap_err();
    assert_eq!((err.step, err.word), (ProvisionStep::Program, Some(62)));
    assert_eq!(err.error, Error::ProgramFailed(62));
    assert_eq!(err.report.programmed, [true, true, true, false]);
    assert_eq!(err.report.lock_issued, [false; 4]);
    assert!(!err.report.verified);
    // and the report tells the truth about the fuses
    assert_eq!(sim.fuse(60), 0x8e3a51c2);
    assert_eq!(sim.fuse(61), 0x1f0bd77a);
    assert_eq!(sim.fuse(62), 0xc03366e1 & 0xFFFF);
    assert_eq!(sim.fuse(63), 0);
    assert!(err.to_string().contains("word 62"));
}

#[test]
fn a_lock_failure_reports_which_locks_were_issued() {
    let mut sim = BsecSim::new();
    sim.inject(Fault::LockFail(61));
    let err = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap_err();
    assert_eq!((err.step, err.word), (ProvisionStep::Lock, Some(61)));
    assert!(err.report.verified);
    assert_eq!(err.report.programmed, [true; 4]);
    assert_eq!(err.report.lock_issued, [true, true, false, false]);
    assert!(sim.permanently_locked(60));
    assert!(!sim.permanently_locked(61) && !sim.permanently_locked(62));
    // running again after the fault is cleared finishes the job
    sim.clear_faults();
    let report = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap();
    assert_eq!(report.lock_issued, [false, true, true, true]);
    assert_eq!(report.locked, [true; 4]);
}

#[test]
fn a_disturbed_word_stops_provisioning_before_any_lock() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    provision_huk(
        &mut bsec,
        &HUK,
        ProvisionOptions {
            lock: false,
            ..ProvisionOptions::default()
        },
    )
    .unwrap();
    sim.inject(Fault::Disturbed(61));
    let err = provision_huk(&mut secure(&mut sim), &HUK, ProvisionOptions::default()).unwrap_err();
    assert_eq!(err.error, Error::Disturbed(61));
    assert_eq!(err.report.lock_issued, [false; 4]);
}

#[test]
fn without_lock_the_words_stay_unlocked() {
    let mut sim = BsecSim::new();
    let opts = ProvisionOptions {
        lock: false,
        ..ProvisionOptions::default()
    };
    let report = provision_huk(&mut secure(&mut sim), &HUK, opts).unwrap();
    assert!(report.verified);
    assert_eq!(report.locked, [false; 4]);
    assert!(!sim.permanently_locked(60));
}

#[test]
fn provisioning_through_the_smc_on_granted_words() {
    let mut sim = BsecSim::new();
    (60..64).for_each(|w| sim.grant_non_secure(w));
    let opts = ProvisionOptions {
        verify_lock: false,
        ..ProvisionOptions::default()
    };
    let report = provision_huk(&mut SmcOtp::new(SimSmc(&mut sim)), &HUK, opts).unwrap();
    assert!(report.verified);
    assert_eq!(report.lock_issued, [true; 4]);
    assert!((60..64).all(|w| sim.permanently_locked(w)));
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert_eq!(*huk.hardware_unique_key().unwrap(), HUK);
}

#[test]
fn provisioning_through_the_smc_is_refused_on_secure_only_words() {
    let mut sim = BsecSim::new();
    let err = provision_huk(
        &mut SmcOtp::new(SimSmc(&mut sim)),
        &HUK,
        ProvisionOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.step, ProvisionStep::Precheck);
    assert_eq!(
        err.error,
        Error::Smc(hal_stm32mp1_otp::regs::SMC_INVALID_PARAMS)
    );
    assert_eq!(sim.program_ops(), 0);
}
