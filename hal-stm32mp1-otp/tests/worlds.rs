//! Secure versus normal world: the SMC service and its access filter, and
//! the non-secure register view.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{Bsec, Error, OtpAccess, SmcOtp, regs};
use trusted_core::Mmio;
use trusted_core::test_util::CountingDelay;

#[test]
fn smc_reads_lower_words_and_refuses_ungranted_upper_words() {
    let mut sim = BsecSim::with_fuses(&[(1, 0x51), (57, 0xAABB), (60, 0x1234)]);
    sim.grant_non_secure(57);
    let mut otp = SmcOtp::new(SimSmc(&mut sim));
    assert_eq!(otp.read_shadow(1).unwrap(), 0x51);
    assert_eq!(otp.read_fuse(57).unwrap(), 0xAABB);
    assert_eq!(
        otp.read_shadow(60),
        Err(Error::Smc(regs::SMC_INVALID_PARAMS))
    );
    assert_eq!(
        otp.program(60, 1),
        Err(Error::Smc(regs::SMC_INVALID_PARAMS))
    );
    assert_eq!(
        otp.permanent_lock(60),
        Err(Error::Smc(regs::SMC_INVALID_PARAMS))
    );
    assert_eq!(otp.read_shadow(96), Err(Error::BadWord(96)));
    assert!(matches!(otp.lock_state(1), Err(Error::Unsupported(_))));
    assert!(matches!(
        otp.lock_shadow_write(1),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn smc_read_otp_restores_the_old_shadow() {
    let mut sim = BsecSim::with_fuses(&[(5, 0x77)]);
    let mut otp = SmcOtp::new(SimSmc(&mut sim));
    otp.write_shadow(5, 0x99).unwrap();
    assert_eq!(otp.read_fuse(5).unwrap(), 0x77);
    assert_eq!(otp.read_shadow(5).unwrap(), 0x99);
}

#[test]
fn smc_program_follows_the_word_rules() {
    let mut sim = BsecSim::new();
    sim.grant_non_secure(58);
    let mut otp = SmcOtp::new(SimSmc(&mut sim));
    otp.program(58, 0x1000).unwrap();
    assert_eq!(otp.program(58, 0x2000), Err(Error::AlreadyProgrammed(58)));
    otp.program(3, 0x1).unwrap();
    otp.program(3, 0x2).unwrap();
    assert_eq!(otp.read_fuse(3).unwrap(), 0x3);
    otp.permanent_lock(3).unwrap();
    // the monitor's program is ignored by the locked hardware: read-back catches it
    assert_eq!(otp.program(3, 0x4), Err(Error::VerifyFailed(3)));
}

#[test]
fn unknown_smc_function_is_not_supported() {
    let mut sim = BsecSim::new();
    assert_eq!(sim.smc([0x8200_1004, 1, 0, 0])[0], regs::SMC_NOT_SUPPORTED);
    assert_eq!(
        sim.smc([regs::SMC_BSEC, 0x42, 0, 0])[0],
        regs::SMC_INVALID_PARAMS
    );
}

#[test]
fn non_secure_view_reads_lower_shadows_only_and_ignores_writes() {
    let mut sim = BsecSim::with_fuses(&[(13, 0x1313), (60, 0x6060)]);
    let mut ns = sim.non_secure();
    assert_eq!(ns.read32(regs::otp_data(13)), 0x1313);
    assert_eq!(ns.read32(regs::otp_data(60)), 0);
    assert_eq!(ns.read32(regs::OTP_STATUS), 0);
    ns.write32(regs::otp_data(13), 0);
    ns.write32(regs::OTP_SPLOCK, 0xFFFF_FFFF);
    assert_eq!(sim.shadow(13), 0x1313);
    let mut bsec = Bsec::new(sim.non_secure(), CountingDelay::default());
    assert_eq!(bsec.probe(), Err(Error::NoDevice));
    assert_eq!(
        trusted_core::Error::from(Error::NoDevice),
        trusted_core::Error::NoDevice
    );
}
