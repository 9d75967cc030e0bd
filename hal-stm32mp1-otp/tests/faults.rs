//! Every fault hook of the model: the right error, a bounded wait, no panic,
//! and what that means for the HUK and the error it maps to.

mod common;

use common::*;
use hal_stm32mp1_otp::bsec::BSEC_TIMEOUT_US;
use hal_stm32mp1_otp::error::code;
use hal_stm32mp1_otp::sim::{BsecSim, Fault};
use hal_stm32mp1_otp::{Error, HukConfig, SmcOtp, Stm32mp15Huk, Wait, regs};
use trusted_core::{Error as CoreError, Huk};

fn huk_sim() -> BsecSim {
    sim_with(&[1, 2, 3, 4], &[5, 6, 7])
}

/// What the default HUK provider over the secure driver answers.
fn huk_result(sim: &mut BsecSim) -> Result<[u8; 16], CoreError> {
    Stm32mp15Huk::new(secure(sim), HukConfig::default())?
        .hardware_unique_key()
        .map(|k| *k)
}

fn budget_ns() -> u64 {
    // at most three bounded waits (power up, BUSY, power down), each of which
    // may overshoot by one poll step
    3 * u64::from(BSEC_TIMEOUT_US + 10) * 1000
}

#[test]
fn disturbed_word_read_is_an_error() {
    let mut sim = huk_sim();
    sim.inject(Fault::Disturbed(62));
    assert_eq!(secure(&mut sim).read_fuse(62), Err(Error::Disturbed(62)));
    assert_eq!(
        huk_result(&mut sim),
        Err(CoreError::Hardware(code::DISTURBED | 62))
    );
    assert!(!sim.powered());
}

#[test]
fn disturbed_program_is_an_error() {
    let mut sim = BsecSim::new();
    sim.inject(Fault::Disturbed(9));
    assert_eq!(
        secure(&mut sim).program_bits(9, 1),
        Err(Error::Disturbed(9))
    );
}

#[test]
fn ecc_error_is_an_error() {
    let mut sim = huk_sim();
    sim.inject(Fault::EccError(60));
    assert_eq!(secure(&mut sim).read_fuse(60), Err(Error::Ecc(60)));
    assert_eq!(
        huk_result(&mut sim),
        Err(CoreError::Hardware(code::ECC | 60))
    );
}

#[test]
fn program_failure_is_reported_and_nothing_is_burnt() {
    let mut sim = BsecSim::new();
    sim.inject(Fault::ProgramFail(70));
    assert_eq!(
        secure(&mut sim).program(70, 0xFF),
        Err(Error::ProgramFailed(70))
    );
    assert_eq!(sim.fuse(70), 0);
    assert!(!sim.powered());
    assert_eq!(
        CoreError::from(Error::ProgramFailed(70)),
        CoreError::Hardware(code::PROGFAIL | 70)
    );
}

#[test]
fn lock_failure_is_reported() {
    let mut sim = BsecSim::new();
    sim.inject(Fault::LockFail(61));
    assert_eq!(
        secure(&mut sim).permanent_lock(61),
        Err(Error::ProgramFailed(61))
    );
    assert!(!sim.permanently_locked(61));
}

#[test]
fn busy_stuck_times_out_within_the_bound() {
    let mut sim = huk_sim();
    sim.inject(Fault::BusyStuck);
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_fuse(60), Err(Error::Timeout(Wait::Busy)));
    let (_, delay) = bsec.into_inner();
    assert!(
        delay.waited_ns <= budget_ns(),
        "waited {} ns",
        delay.waited_ns
    );
    assert!(delay.waited_ns >= u64::from(BSEC_TIMEOUT_US) * 1000);
    assert_eq!(huk_result(&mut sim), Err(CoreError::Timeout));
    assert_eq!(
        secure(&mut sim).program(61, 1),
        Err(Error::Timeout(Wait::Busy))
    );
    assert_eq!(
        secure(&mut sim).permanent_lock(61),
        Err(Error::Timeout(Wait::Busy))
    );
}

#[test]
fn power_stuck_times_out_within_the_bound() {
    let mut sim = huk_sim();
    sim.inject(Fault::PowerStuck);
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_fuse(60), Err(Error::Timeout(Wait::PowerUp)));
    let (_, delay) = bsec.into_inner();
    assert!(delay.waited_ns <= budget_ns());
}

#[test]
fn invalid_mode_refuses_every_access() {
    let mut sim = huk_sim();
    sim.set_invalid(true);
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_shadow(60), Err(Error::InvalidMode));
    assert_eq!(bsec.read_fuse(60), Err(Error::InvalidMode));
    assert_eq!(bsec.program(60, 1), Err(Error::InvalidMode));
    assert_eq!(bsec.permanent_lock(60), Err(Error::InvalidMode));
    assert!(matches!(
        huk_result(&mut sim),
        Err(CoreError::InsecureState(_))
    ));
}

#[test]
fn faults_through_the_smc_path_answer_failed() {
    let mut sim = huk_sim();
    sim.grant_non_secure(60);
    for arm in [
        |s: &mut BsecSim| s.inject(Fault::BusyStuck),
        |s: &mut BsecSim| s.inject(Fault::Disturbed(60)),
        |s: &mut BsecSim| s.inject(Fault::EccError(60)),
        |s: &mut BsecSim| s.set_invalid(true),
    ] {
        let mut s = sim.clone();
        arm(&mut s);
        let mut otp = SmcOtp::new(SimSmc(&mut s));
        assert_eq!(
            hal_stm32mp1_otp::OtpAccess::read_fuse(&mut otp, 60),
            Err(Error::Smc(regs::SMC_FAILED))
        );
    }
    let mut s = sim.clone();
    s.inject(Fault::ProgramFail(8));
    let mut otp = SmcOtp::new(SimSmc(&mut s));
    assert_eq!(
        hal_stm32mp1_otp::OtpAccess::program(&mut otp, 8, 1),
        Err(Error::Smc(regs::SMC_FAILED))
    );
}

#[test]
fn clear_faults_disarms_every_injected_fault() {
    let mut sim = huk_sim();
    for fault in [
        Fault::Disturbed(60),
        Fault::EccError(61),
        Fault::ProgramFail(70),
        Fault::LockFail(71),
        Fault::BusyStuck,
        Fault::PowerStuck,
    ] {
        sim.inject(fault);
    }
    assert!(secure(&mut sim).read_fuse(60).is_err());
    sim.clear_faults();
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_fuse(60), Ok(1));
    assert_eq!(bsec.read_fuse(61), Ok(2));
    bsec.program(70, 0xFF).unwrap();
    bsec.permanent_lock(71).unwrap();
}

#[test]
fn faults_stay_armed_until_cleared() {
    let mut sim = huk_sim();
    sim.inject(Fault::EccError(60));
    for _ in 0..3 {
        assert_eq!(secure(&mut sim).read_fuse(60), Err(Error::Ecc(60)));
    }
}

#[test]
fn a_timeout_keeps_which_wait_and_maps_to_the_core_timeout() {
    use trusted_core::DriverError;
    for wait in [Wait::Busy, Wait::PowerUp, Wait::PowerDown] {
        assert_eq!(Error::Timeout(wait).kind(), CoreError::Timeout);
        assert_eq!(CoreError::from(Error::Timeout(wait)), CoreError::Timeout);
    }
    assert_ne!(
        Error::Timeout(Wait::Busy).to_string(),
        Error::Timeout(Wait::PowerUp).to_string()
    );
}
