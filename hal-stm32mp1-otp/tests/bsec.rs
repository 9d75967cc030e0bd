//! The BSEC driver against the model: fuse vs shadow, program rules,
//! locks, register-level details.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::BsecSim;
use hal_stm32mp1_otp::{Bsec, Error, LockKind, OtpAccess, SecurityState, StickyLock, regs};
use trusted_core::test_util::CountingDelay;

#[test]
fn probe_finds_a_bsec2() {
    let mut sim = BsecSim::new();
    secure(&mut sim).probe().unwrap();
}

#[test]
fn is_ready_needs_a_bsec2_outside_otp_invalid_mode() {
    let mut sim = BsecSim::new();
    assert!(secure(&mut sim).is_ready());
    assert!(!Bsec::new(sim.non_secure(), CountingDelay::default()).is_ready());
    sim.set_invalid(true);
    assert!(!secure(&mut sim).is_ready());
}

#[test]
fn permanent_lock_targets_match_op_tee_table() {
    // optee_os core/drivers/stm32_bsec.c stm32_bsec_permanent_lock_otp comment
    assert_eq!(regs::permanent_lock_target(0), (0x00, 0x3));
    assert_eq!(regs::permanent_lock_target(1), (0x00, 0xC));
    assert_eq!(regs::permanent_lock_target(7), (0x00, 0xC000));
    assert_eq!(regs::permanent_lock_target(8), (0x01, 0x3));
    assert_eq!(regs::permanent_lock_target(31), (0x03, 0xC000));
    assert_eq!(regs::permanent_lock_target(32), (0x04, 0x1));
    assert_eq!(regs::permanent_lock_target(33), (0x04, 0x2));
    assert_eq!(regs::permanent_lock_target(95), (0x07, 0x8000));
}

#[test]
fn shadows_are_distinct_from_fuses_until_reload() {
    let mut sim = BsecSim::with_fuses(&[(5, 0x1234), (70, 0xCAFE_F00D)]);
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_shadow(70).unwrap(), 0xCAFE_F00D);
    bsec.write_shadow(70, 0x1111_1111).unwrap();
    bsec.write_shadow(5, 0).unwrap();
    assert_eq!(bsec.read_shadow(70).unwrap(), 0x1111_1111);
    assert_eq!(bsec.read_fuse(70).unwrap(), 0xCAFE_F00D);
    assert_eq!(bsec.read_shadow(70).unwrap(), 0xCAFE_F00D);
    assert_eq!(bsec.read_fuse(5).unwrap(), 0x1234);
    assert_eq!(sim.fuse(70), 0xCAFE_F00D);
}

#[test]
fn program_does_not_refresh_the_shadow_but_program_verifies_through_a_reload() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.program_bits(40, 0xA5A5_0000).unwrap();
    assert_eq!(
        bsec.read_shadow(40).unwrap(),
        0,
        "program alone leaves the shadow"
    );
    assert_eq!(bsec.read_fuse(40).unwrap(), 0xA5A5_0000);
    bsec.program(41, 0x5A5A).unwrap();
    assert_eq!(bsec.read_shadow(41).unwrap(), 0x5A5A);
}

#[test]
fn lower_words_only_set_bits_and_can_be_programmed_again() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.program(10, 0x0000_00F0).unwrap();
    bsec.program(10, 0x0000_0F00).unwrap();
    assert_eq!(bsec.read_fuse(10).unwrap(), 0x0000_0FF0);
    // asking for zeros where ones are burnt cannot clear them; the bits asked
    // for are set, so this succeeds and the word keeps its other ones
    bsec.program(10, 0x0000_0010).unwrap();
    assert_eq!(bsec.read_fuse(10).unwrap(), 0x0000_0FF0);
    assert_eq!(
        sim.program_ops(),
        2,
        "nothing burnt when the bits were already set"
    );
}

#[test]
fn upper_words_are_programmed_once_and_a_different_value_is_refused_before_burning() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.program(60, 0x1234_5678).unwrap();
    bsec.program(60, 0x1234_5678).unwrap(); // same value: no-op
    assert_eq!(
        bsec.program(60, 0x1234_5679),
        Err(Error::AlreadyProgrammed(60))
    );
    assert_eq!(sim.program_ops(), 1);
    assert_eq!(sim.fuse(60), 0x1234_5678);
}

#[test]
fn a_raw_second_program_of_an_upper_word_breaks_its_ecc() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.program_bits(70, 0x0000_0001).unwrap();
    bsec.program_bits(70, 0x0000_0100).unwrap();
    assert_eq!(bsec.read_fuse(70), Err(Error::Ecc(70)));
}

#[test]
fn program_refuses_locked_words_without_touching_fuses() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(3, StickyLock::Program).unwrap();
    assert_eq!(
        bsec.program(3, 1),
        Err(Error::Locked(3, LockKind::StickyProgram))
    );
    bsec.permanent_lock(4).unwrap();
    assert_eq!(
        bsec.program(4, 1),
        Err(Error::Locked(4, LockKind::Permanent))
    );
    bsec.set_sticky_lock(5, StickyLock::ShadowReload).unwrap();
    assert_eq!(
        bsec.program(5, 1),
        Err(Error::Locked(5, LockKind::StickyShadowReload))
    );
    bsec.set_global_program_lock().unwrap();
    assert_eq!(
        bsec.program(6, 1),
        Err(Error::Locked(6, LockKind::GlobalProgram))
    );
    assert_eq!(
        bsec.permanent_lock(7),
        Err(Error::Locked(7, LockKind::GlobalProgram))
    );
    assert_eq!(sim.program_ops(), 0);
    assert!((3..8).all(|w| sim.fuse(w) == 0));
}

#[test]
fn the_hardware_ignores_programming_under_splock_so_verification_catches_a_bypass() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(70, StickyLock::Program).unwrap();
    // bypassing the driver's check: write the registers by hand
    use trusted_core::Mmio;
    let regs_mut = bsec.regs_mut();
    regs_mut.write32(regs::OTP_CONF, regs::CONF_POWER_UP);
    while regs_mut.read32(regs::OTP_STATUS) & regs::STATUS_PWRON == 0 {}
    regs_mut.write32(regs::OTP_WRDATA, 0xFFFF);
    regs_mut.write32(regs::OTP_CONTROL, 70 | regs::CONTROL_WRITE);
    while regs_mut.read32(regs::OTP_STATUS) & regs::STATUS_BUSY != 0 {}
    assert_eq!(sim.fuse(70), 0);
}

#[test]
fn swlock_makes_the_shadow_read_only_and_srlock_stops_reloads() {
    let mut sim = BsecSim::with_fuses(&[(20, 7)]);
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(20, StickyLock::ShadowWrite).unwrap();
    assert_eq!(
        bsec.write_shadow(20, 9),
        Err(Error::Locked(20, LockKind::StickyShadowWrite))
    );
    assert_eq!(bsec.read_shadow(20).unwrap(), 7);
    bsec.set_sticky_lock(21, StickyLock::ShadowReload).unwrap();
    assert_eq!(
        bsec.reload(21),
        Err(Error::Locked(21, LockKind::StickyShadowReload))
    );
    let state = bsec.lock_state(20).unwrap();
    assert!(state.sticky_shadow_write && !state.sticky_shadow_reload && !state.permanent);
}

#[test]
fn sticky_locks_clear_on_reset_and_permanent_locks_stay() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    bsec.set_sticky_lock(50, StickyLock::Program).unwrap();
    bsec.permanent_lock(51).unwrap();
    bsec.permanent_lock(2).unwrap();
    sim.reset();
    let mut bsec = secure(&mut sim);
    assert!(!bsec.lock_state(50).unwrap().sticky_program);
    assert!(bsec.lock_state(51).unwrap().permanent);
    assert!(bsec.lock_state(2).unwrap().permanent);
    assert!(
        !bsec.lock_state(3).unwrap().permanent,
        "lower lock bits are per word"
    );
    bsec.program(50, 1).unwrap();
}

#[test]
fn every_word_index_is_checked() {
    let mut sim = BsecSim::new();
    let mut bsec = secure(&mut sim);
    assert_eq!(bsec.read_shadow(96), Err(Error::BadWord(96)));
    assert_eq!(bsec.program(200, 1), Err(Error::BadWord(200)));
    assert_eq!(bsec.permanent_lock(96), Err(Error::BadWord(96)));
    assert_eq!(
        bsec.set_sticky_lock(255, StickyLock::Program),
        Err(Error::BadWord(255))
    );
    bsec.read_shadow(95).unwrap();
}

#[test]
fn safmem_power_is_restored_after_each_operation() {
    let mut sim = BsecSim::with_fuses(&[(1, 1)]);
    let mut bsec = secure(&mut sim);
    bsec.read_fuse(1).unwrap();
    bsec.program(2, 1).unwrap();
    bsec.permanent_lock(2).unwrap();
    assert!(!sim.powered());
}

#[test]
fn security_state_follows_status_and_cfg0() {
    let mut sim = BsecSim::new();
    assert_eq!(secure(&mut sim).security_state(), SecurityState::Open);
    sim.close_device();
    assert_eq!(secure(&mut sim).security_state(), SecurityState::Closed);
    sim.set_invalid(true);
    assert_eq!(secure(&mut sim).security_state(), SecurityState::Invalid);
}

#[test]
fn otp_access_trait_drives_the_direct_path() {
    fn roundtrip<A: OtpAccess>(a: &mut A) {
        a.program(45, 0xABCD).unwrap();
        assert_eq!(a.read_fuse(45).unwrap(), 0xABCD);
        a.permanent_lock(45).unwrap();
        assert!(a.lock_state(45).unwrap().permanent);
        assert_eq!(
            a.program(45, 0xABCD),
            Ok(()),
            "already there: nothing to burn"
        );
    }
    let mut sim = BsecSim::new();
    roundtrip(&mut secure(&mut sim));
}
