//! Glitch sweeps (issue 14, item 3): every single-bit corruption of every
//! register read the BSEC lock, closed-device and blank-key decisions and
//! the TEE tag check depend on ends in a refusal. Each sweep starts from a
//! case that must be refused, arms one `Fault::FlipReadBit` (read `k` of
//! the operation, bit `b`) on a fresh model, runs the operation and
//! asserts it fails. Run with `--nocapture` for the counts.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::{BsecSim, Fault, ReadGlitch};
use hal_stm32mp1_otp::{HukConfig, SecurityState, StickyLock, Stm32mp15Huk};
use trusted_core::fih::Sweep;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{ScriptRng, assert_sweep_refused, sweep_reads};
use trusted_core::{Huk, Key, TrustSource};

/// Flips every bit of every read `op` makes on models from `make`;
/// `op` returns true when it granted what it must refuse.
fn sweep(make: impl Fn() -> BsecSim, op: impl Fn(&mut BsecSim) -> bool) -> Sweep {
    let flip = |sim: &mut BsecSim, nth, bit| {
        let fault = Fault::FlipReadBit(ReadGlitch {
            offset: None,
            nth,
            bit,
        });
        sim.inject(fault);
    };
    sweep_reads(make, |sim| sim.reads(), flip, op)
}

const KEY: [u32; 4] = [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444];

fn require_locked() -> HukConfig {
    HukConfig {
        require_locked: true,
        ..HukConfig::default()
    }
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn huk_granted(sim: &mut BsecSim, cfg: HukConfig) -> bool {
    Stm32mp15Huk::new(secure(sim), cfg)
        .unwrap()
        .hardware_unique_key()
        .is_ok()
}

#[test]
fn lock_check_refuses_every_single_bit_glitch_of_every_read() {
    // An open device whose HUK words are not locked at all.
    let unlocked = || sim_with(&KEY, &[0, 0, 0]);
    assert_sweep_refused(
        "bsec lock/closed-device check, unlocked words (register reads)",
        sweep(unlocked, |sim| huk_granted(sim, require_locked())),
    );
    // Every word permanently locked, one shadow not write-locked: one lock
    // bit short of "locked".
    let one_short = || {
        let mut sim = sim_with(&KEY, &[0, 0, 0]);
        let mut bsec = secure(&mut sim);
        for w in 60..64 {
            bsec.permanent_lock(w).unwrap();
        }
        for w in 60..63 {
            bsec.set_sticky_lock(w, StickyLock::ShadowWrite).unwrap();
        }
        sim
    };
    assert_sweep_refused(
        "bsec lock check, one SWLOCK missing (register reads)",
        sweep(one_short, |sim| huk_granted(sim, require_locked())),
    );
}

#[test]
fn blank_key_check_refuses_every_single_bit_glitch_of_every_read() {
    let blank = || sim_with(&[0; 4], &[0, 0, 0]);
    assert_sweep_refused(
        "bsec blank HUK words (register reads)",
        sweep(blank, |sim| huk_granted(sim, HukConfig::default())),
    );
}

#[test]
fn closed_device_state_survives_every_single_bit_glitch_of_every_read() {
    // An open (secured, not closed) device must never read as closed.
    let open = || sim_with(&KEY, &[0, 0, 0]);
    let closed = |sim: &mut BsecSim| secure(sim).security_state() == SecurityState::Closed;
    assert_sweep_refused(
        "bsec closed-device state (register reads)",
        sweep(open, closed),
    );
    // And a closed one reads as closed, or (on a glitch) as refused
    // (Invalid), never as a different usable state.
    let mut sim = open();
    sim.close_device();
    assert_eq!(secure(&mut sim).security_state(), SecurityState::Closed);
}

#[test]
fn tee_tag_check_over_the_bsec_huk_refuses_every_single_bit_glitch() {
    let key = Key::from_slice(&[0x24; 32]).unwrap();
    let mut sealer_sim = sim_with(&KEY, &[0, 0, 0]);
    let mut tee = TeeSealer::new(
        Stm32mp15Huk::new(secure(&mut sealer_sim), HukConfig::default()).unwrap(),
        ScriptRng::counting(0),
    );
    let mut blob = tee.seal(&key, "").unwrap().as_bytes().to_vec();
    blob[40] ^= 0x04; // in the ciphertext
    let unseal = |sim: &mut BsecSim| {
        let huk = Stm32mp15Huk::new(secure(sim), HukConfig::default()).unwrap();
        let mut tee = TeeSealer::new(huk, ScriptRng::counting(0));
        let mut out = [0xEEu8; 32];
        let ok = tee.unseal_into(&blob, &mut out).is_ok();
        assert!(
            ok || out == [0; 32],
            "plaintext left in the caller's buffer"
        );
        ok
    };
    assert_sweep_refused(
        "tee blob tag over the BSEC HUK (register reads)",
        sweep(|| sim_with(&KEY, &[0, 0, 0]), unseal),
    );
}
