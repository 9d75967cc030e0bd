//! Glitch sweeps (issue 14, item 3): every single-bit corruption of every
//! register read a security decision depends on, and of every bit of the
//! DCP output it compares, ends in a refusal.
//!
//! Each sweep starts from a case that must be refused (an unfused part
//! with the all-zero key; a tampered blob), arms one flip with
//! `Fault::FlipReadBit` (read `k` of the operation, bit `b`) or
//! `Fault::CorruptOutput`, runs the whole operation on a fresh model and
//! asserts it fails. Run with `--nocapture` for the counts.
mod common;

use common::*;
use hal_dcp::DcpSource;
use hal_dcp::sim::{DcpSim, Fault, ReadGlitch};
use trusted_core::fih::Sweep;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{NoDelay, ScriptRng, assert_sweep_refused, sweep_reads};
use trusted_core::{Error, Key, StaticDma, TrustSource};

type Source = DcpSource<DcpSim, StaticDma, NoDelay, ScriptRng>;

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn key() -> Key {
    Key::from_slice(&[0x42; 32]).unwrap()
}

fn unfused() -> Source {
    DcpSource::new(dcp([0; 16], [0; 16]), ScriptRng::counting(0))
}

fn sim(src: &mut Source) -> &mut DcpSim {
    src.driver_mut().regs_mut()
}

/// Arms a flip of bit `bit` of the `nth` register read from now on.
fn flip(sim: &mut DcpSim, nth: u32, bit: u8) {
    sim.inject(Fault::FlipReadBit(ReadGlitch {
        offset: None,
        nth,
        bit,
    }));
}

/// Flips every bit of every read of `op` on fresh rigs.
fn sweep(make: impl Fn() -> Source, op: impl Fn(&mut Source) -> bool) -> Sweep {
    let reads = |src: &mut Source| sim(src).reads();
    sweep_reads(make, reads, |src, nth, bit| flip(sim(src), nth, bit), op)
}

/// Flips every bit of the first `bytes` output bytes of the next job.
fn sweep_output(
    bytes: u32,
    make: impl Fn() -> Source,
    refused: impl Fn(&mut Source) -> bool,
) -> Sweep {
    Sweep::run(bytes * 8, |bit| {
        let mut rig = make();
        sim(&mut rig).inject(Fault::CorruptOutput {
            index: (bit / 8) as usize,
            xor: 1 << (bit % 8),
        });
        refused(&mut rig)
    })
}

#[test]
fn zero_key_test_refuses_every_single_bit_glitch_of_every_read() {
    // The whole first use: init (reset, probe job, the comparisons) and
    // the seal that would wrap a blob key under the all-zero key.
    let seal = |src: &mut Source| src.seal(&key(), "").is_ok();
    assert_sweep_refused("dcp zero-key (register reads)", sweep(unfused, seal));
}

#[test]
fn zero_key_test_refuses_every_single_bit_flip_of_the_probe_output() {
    // Linux compares one block once: a flip in that block (128 of these
    // 256 cases) would pass its test and seal under the public key.
    let sweep = sweep_output(32, unfused, |src| {
        let refused = matches!(src.seal(&key(), ""), Err(Error::InsecureState(_)));
        // The one job that ran was the probe, and nothing was sealed.
        refused && src.driver_mut().jobs() == 1
    });
    assert_sweep_refused("dcp zero-key (probe output in DMA)", sweep);
}

/// A source on a fused part (the UNIQUE key of `[device-1]`), initialised.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn fused() -> Source {
    let mut src = DcpSource::new(device("device-1"), ScriptRng::counting(0));
    src.init().unwrap();
    src
}

/// A blob the fused part sealed, with one tag bit flipped.
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "a failed set-up fails the test"
)]
fn tampered_blob() -> Vec<u8> {
    let mut blob = fused().seal(&key(), "").unwrap().as_bytes().to_vec();
    let last = blob.len() - 1;
    blob[last] ^= 0x01;
    blob
}

#[test]
fn dcp_tag_check_refuses_every_single_bit_glitch_of_every_read() {
    let blob = tampered_blob();
    let unseal = |src: &mut Source| {
        let mut out = [0xEEu8; 32];
        let ok = src.unseal_into(&blob, &mut out).is_ok();
        assert!(
            ok || out == [0; 32],
            "plaintext left in the caller's buffer"
        );
        ok
    };
    assert_sweep_refused("dcp blob tag (register reads)", sweep(fused, unseal));
}

#[test]
fn dcp_tag_check_refuses_every_flip_of_the_unwrapped_blob_key() {
    let blob = tampered_blob();
    let sweep = sweep_output(16, fused, |src| {
        src.unseal(&blob, "") == Err(Error::AuthFailed)
    });
    assert_sweep_refused("dcp blob tag (unwrapped BEK in DMA)", sweep);
}

#[test]
fn tee_tag_check_over_the_dcp_huk_refuses_every_single_bit_glitch() {
    type Tee = TeeSealer<hal_dcp::DcpHuk<DcpSim, StaticDma, NoDelay>, ScriptRng>;
    let make = || -> Tee {
        TeeSealer::new(
            hal_dcp::DcpHuk::new(device("device-1")),
            ScriptRng::counting(0),
        )
    };
    let mut blob = make().seal(&key(), "").unwrap().as_bytes().to_vec();
    blob[20] ^= 0x80; // in the GCM tag
    let unseal = |tee: &mut Tee| {
        let mut out = [0xEEu8; 32];
        let ok = tee.unseal_into(&blob, &mut out).is_ok();
        assert!(
            ok || out == [0; 32],
            "plaintext left in the caller's buffer"
        );
        ok
    };
    fn tee_sim(tee: &mut Tee) -> &mut DcpSim {
        tee.driver_mut().driver_mut().regs_mut()
    }
    let reads = |tee: &mut Tee| tee_sim(tee).reads();
    let sweep = sweep_reads(
        make,
        reads,
        |tee, nth, bit| flip(tee_sim(tee), nth, bit),
        unseal,
    );
    assert_sweep_refused("tee blob tag over the DCP HUK (register reads)", sweep);
}
