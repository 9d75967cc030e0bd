//! Glitch sweeps (issue 14, item 3): every single-bit corruption of every
//! register read the security-state check and the blob ICV decision depend
//! on ends in a refusal. Each sweep starts from a case that must be refused
//! (a non-secure or failed CAAM; a tampered blob), arms one
//! `Fault::FlipReadBit` (read `k` of the operation, bit `b`), runs the
//! operation on a fresh model and asserts it fails. Run with
//! `--nocapture` for the counts.

mod common;

use common::*;
use hal_caam::sim::{CaamSim, Fault, Moo, ReadGlitch, SimConfig};
use hal_caam::{CaamHuk, HukOptions, KeyMod};
use trusted_core::fih::Sweep;
use trusted_core::test_util::{assert_sweep_refused, sweep_reads};
use trusted_core::{Error, TrustSource};

/// Flips every bit of every read `op` makes on rigs from `make`.
fn sweep<R>(
    make: impl Fn() -> R,
    sim: impl Fn(&mut R) -> &mut CaamSim,
    op: impl Fn(&mut R) -> bool,
) -> Sweep {
    let flip = |rig: &mut R, nth, bit| {
        let fault = Fault::FlipReadBit(ReadGlitch {
            offset: None,
            nth,
            bit,
        });
        sim(rig).inject(fault);
    };
    sweep_reads(make, |rig| sim(rig).reads(), flip, op)
}

fn insecure(moo: Moo) -> impl Fn() -> SimSource {
    move || {
        let mut cfg = SimConfig::secure(OTPMK);
        cfg.moo = moo;
        source_with(cfg).0
    }
}

fn source_sim(s: &mut SimSource) -> &mut CaamSim {
    s.driver_mut().regs_mut()
}

#[test]
fn security_state_check_refuses_every_single_bit_glitch_of_every_read() {
    // The first use of a source on a CAAM whose blobs would use the test
    // key: init (ring reset, blob protocol, the state check) and the seal.
    let seal = |s: &mut SimSource| s.seal(&key(32, 1), "").is_ok();
    assert_sweep_refused(
        "caam security state, non-secure (register reads)",
        sweep(insecure(Moo::NonSecure), source_sim, seal),
    );
    assert_sweep_refused(
        "caam security state, fail (register reads)",
        sweep(insecure(Moo::Fail), source_sim, seal),
    );
}

#[test]
fn huk_state_check_refuses_every_single_bit_glitch_of_every_read() {
    let make = || {
        let (mut caam, _) = caam(SimConfig::non_secure(OTPMK), config(), BUS);
        caam.init().unwrap();
        caam
    };
    let huk = |c: &mut SimCaam| CaamHuk::new(c, HukOptions::new()).is_ok();
    assert_sweep_refused(
        "caam HUK security state (register reads)",
        sweep(make, |c: &mut SimCaam| c.regs_mut(), huk),
    );
}

/// A secure source, initialised, and one of its blobs with a MAC bit flipped.
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a failed set-up fails the test"
)]
fn tampered() -> Vec<u8> {
    let (mut s, _) = secure_source();
    let mut blob = s.seal(&key(32, 7), "").unwrap().as_bytes().to_vec();
    let last = blob.len() - 1;
    blob[last] ^= 0x10;
    blob
}

#[test]
fn blob_icv_decision_refuses_every_single_bit_glitch_of_every_read() {
    let blob = tampered();
    let make = || {
        let (mut s, _) = secure_source();
        s.init().unwrap();
        s
    };
    let unseal = |s: &mut SimSource| s.unseal(&blob, "").is_ok();
    assert_sweep_refused(
        "caam blob ICV (register reads)",
        sweep(make, source_sim, unseal),
    );
}

#[test]
fn blob_icv_decision_refuses_every_single_bit_flip_of_the_status_word() {
    // The ICV failure status (CCB, AES, ICV check failed) the job writes to
    // the output ring, each bit flipped: never a zero (success) word, and
    // nothing is released into the caller's buffer.
    let icv = 0x2000_071A_u32;
    let blob = tampered();
    let sweep = Sweep::run(32, |bit| {
        let (mut s, bus) = secure_source();
        s.init().unwrap();
        source_sim(&mut s).inject(Fault::ErrorStatus(icv ^ (1 << bit)));
        let mut out = [0xEEu8; 32];
        let r = s
            .driver_mut()
            .decapsulate(KeyMod::Immediate(b"SECURE_KEY"), &blob, &mut out);
        assert_dma_zeroed(&bus);
        r.is_err() && out == [0; 32] && s.unseal(&blob, "").is_err()
    });
    assert_sweep_refused("caam blob ICV (status word in the output ring)", sweep);
    // The reference: the unglitched ICV failure is AuthFailed.
    let (mut s, _) = secure_source();
    assert_eq!(s.unseal(&blob, ""), Err(Error::AuthFailed));
}
