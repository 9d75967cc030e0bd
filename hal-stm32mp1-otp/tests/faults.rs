#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::drop_non_drop
)]
//! Every fault hook of the model: the right error, a bounded wait, no panic,
//! and what that means for the HUK and the error it maps to.

mod common;

use common::*;
use hal_stm32mp1_otp::bsec::BSEC_TIMEOUT_US;
use hal_stm32mp1_otp::error::code;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{HukConfig, OtpError, SmcOtp, Stm32mp15Huk, regs};
use trusted_core::{Error, Huk};

fn huk_sim() -> BsecSim {
    sim_with(&[1, 2, 3, 4], &[5, 6, 7])
}

fn budget_ns() -> u64 {
    // at most three bounded waits (power up, BUSY, power down), each of which
    // may overshoot by one poll step
    3 * u64::from(BSEC_TIMEOUT_US + 10) * 1000
}

#[test]
fn disturbed_word_read_is_an_error() {
    let mut sim = huk_sim();
    sim.faults.disturbed = Some(62);
    assert_eq!(secure(&mut sim).read_fuse(62), Err(OtpError::Disturbed(62)));
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert_eq!(
        huk.hardware_unique_key().err(),
        Some(Error::Hardware(code::DISTURBED | 62))
    );
    assert!(!sim.powered());
}

#[test]
fn disturbed_program_is_an_error() {
    let mut sim = BsecSim::new();
    sim.faults.disturbed = Some(9);
    assert_eq!(
        secure(&mut sim).program_bits(9, 1),
        Err(OtpError::Disturbed(9))
    );
}

#[test]
fn ecc_error_is_an_error() {
    let mut sim = huk_sim();
    sim.faults.ecc_error = Some(60);
    assert_eq!(secure(&mut sim).read_fuse(60), Err(OtpError::Ecc(60)));
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert_eq!(
        huk.hardware_unique_key().err(),
        Some(Error::Hardware(code::ECC | 60))
    );
}

#[test]
fn program_failure_is_reported_and_nothing_is_burnt() {
    let mut sim = BsecSim::new();
    sim.faults.program_fail = Some(70);
    assert_eq!(
        secure(&mut sim).program(70, 0xFF),
        Err(OtpError::ProgramFailed(70))
    );
    assert_eq!(sim.fuse(70), 0);
    assert!(!sim.powered());
    assert_eq!(
        Error::from(OtpError::ProgramFailed(70)),
        Error::Hardware(code::PROGFAIL | 70)
    );
}

#[test]
fn lock_failure_is_reported() {
    let mut sim = BsecSim::new();
    sim.faults.lock_fail = Some(61);
    assert_eq!(
        secure(&mut sim).permanent_lock(61),
        Err(OtpError::ProgramFailed(61))
    );
    assert!(!sim.permanently_locked(61));
}

#[test]
fn busy_stuck_times_out_within_the_bound() {
    let mut sim = huk_sim();
    sim.faults.busy_stuck = true;
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_fuse(60), Err(OtpError::Timeout));
    let (_, delay) = bsec.release();
    assert!(
        delay.waited_ns <= budget_ns(),
        "waited {} ns",
        delay.waited_ns
    );
    assert!(delay.waited_ns >= u64::from(BSEC_TIMEOUT_US) * 1000);
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert_eq!(huk.hardware_unique_key().err(), Some(Error::Timeout));
    assert_eq!(secure(&mut sim).program(61, 1), Err(OtpError::Timeout));
    assert_eq!(secure(&mut sim).permanent_lock(61), Err(OtpError::Timeout));
}

#[test]
fn power_stuck_times_out_within_the_bound() {
    let mut sim = huk_sim();
    sim.faults.power_stuck = true;
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_fuse(60), Err(OtpError::Timeout));
    let (_, delay) = bsec.release();
    assert!(delay.waited_ns <= budget_ns());
}

#[test]
fn invalid_mode_refuses_every_access() {
    let mut sim = huk_sim();
    sim.set_invalid(true);
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_shadow(60), Err(OtpError::InvalidMode));
    assert_eq!(bsec.read_fuse(60), Err(OtpError::InvalidMode));
    assert_eq!(bsec.program(60, 1), Err(OtpError::InvalidMode));
    assert_eq!(bsec.permanent_lock(60), Err(OtpError::InvalidMode));
    let mut huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    assert!(matches!(
        huk.hardware_unique_key(),
        Err(Error::InsecureState(_))
    ));
}

#[test]
fn faults_through_the_smc_path_answer_failed() {
    let mut sim = huk_sim();
    sim.grant_non_secure(60);
    for arm in [
        |s: &mut BsecSim| s.faults.busy_stuck = true,
        |s: &mut BsecSim| s.faults.disturbed = Some(60),
        |s: &mut BsecSim| s.faults.ecc_error = Some(60),
        |s: &mut BsecSim| s.set_invalid(true),
    ] {
        let mut s = sim.clone();
        arm(&mut s);
        let mut otp = SmcOtp::new(SimSmc(&mut s));
        assert_eq!(
            hal_stm32mp1_otp::OtpAccess::read_fuse(&mut otp, 60),
            Err(OtpError::Smc(regs::SMC_FAILED))
        );
    }
    let mut s = sim.clone();
    s.faults.program_fail = Some(8);
    let mut otp = SmcOtp::new(SimSmc(&mut s));
    assert_eq!(
        hal_stm32mp1_otp::OtpAccess::program(&mut otp, 8, 1),
        Err(OtpError::Smc(regs::SMC_FAILED))
    );
}
