#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::drop_non_drop
)]
//! TEE (OP-TEE trusted_keys TA, Linux `trusted.source=tee`) blobs keyed by
//! the STM32MP15 HUK: byte-exact against the Python vectors, and
//! interchangeable with a `StaticHuk` holding the same HUK bytes.

mod common;

use common::*;
use hal_stm32mp1_otp::{HukConfig, HukMode, Stm32mp15Huk, Stm32mp15Tee};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, Huk, Key, StaticHuk, TrustSource};

fn board() -> (Vec<u32>, Vec<u32>) {
    let case = vectors().into_iter().find(|s| s.name == "board").unwrap();
    (case.words("otp_key"), case.words("uid"))
}

#[test]
fn tee_blobs_match_python_vectors_in_both_modes() {
    let tee = vectors().into_iter().find(|s| s.name == "tee").unwrap();
    let (key_words, uid) = board();
    let plain = Key::from_slice(&hex(tee.get("plain"))).unwrap();
    for (mode, field) in [
        (HukMode::BsecKey, "blob_bsec_key"),
        (HukMode::DeriveUid, "blob_derive_uid"),
    ] {
        let mut sim = sim_with(&key_words, &uid);
        let huk = Stm32mp15Huk::new(
            secure(&mut sim),
            HukConfig {
                mode,
                ..HukConfig::default()
            },
        )
        .unwrap();
        let mut sealer: Stm32mp15Tee<_, _> = TeeSealer::new(huk, FixedRng(hex(tee.get("iv")), 0));
        let blob = sealer.seal(&plain, "").unwrap();
        assert_eq!(blob.as_bytes(), hex(tee.get(field)), "{field}");
        assert_eq!(sealer.unseal(blob.as_bytes(), "").unwrap(), plain);
    }
}

#[test]
fn blob_sealed_with_the_stm32mp1_huk_unseals_with_a_static_huk_and_back() {
    let (key_words, uid) = board();
    for mode in [HukMode::BsecKey, HukMode::DeriveUid] {
        let mut sim = sim_with(&key_words, &uid);
        let mut huk = Stm32mp15Huk::new(
            secure(&mut sim),
            HukConfig {
                mode,
                ..HukConfig::default()
            },
        )
        .unwrap();
        let huk_bytes = *huk.hardware_unique_key().unwrap();
        let mut ours = TeeSealer::new(huk, FixedRng((0..=255).collect(), 7));
        let mut theirs = TeeSealer::new(StaticHuk::new(huk_bytes), FixedRng(vec![9, 8, 7], 0));
        let key = Key::from_slice(&[0x5Au8; 64]).unwrap();
        let blob = ours.seal(&key, "").unwrap();
        assert_eq!(theirs.unseal(blob.as_bytes(), "").unwrap(), key);
        let blob = theirs.seal(&key, "").unwrap();
        assert_eq!(ours.unseal(blob.as_bytes(), "").unwrap(), key);
    }
}

#[test]
fn another_device_cannot_unseal() {
    let (key_words, uid) = board();
    let derive = HukConfig {
        mode: HukMode::DeriveUid,
        ..HukConfig::default()
    };
    let mut sim = sim_with(&key_words, &uid);
    let huk = Stm32mp15Huk::new(secure(&mut sim), derive).unwrap();
    let mut ours = TeeSealer::new(huk, FixedRng(vec![1, 2, 3], 0));
    let blob = ours
        .seal(&Key::from_slice(&[1u8; 32]).unwrap(), "")
        .unwrap();
    // same key words, another UID: the DERIVE_UID HUK differs
    let mut other_sim = sim_with(&key_words, &[uid[0], uid[1], uid[2] ^ 1]);
    let other = Stm32mp15Huk::new(secure(&mut other_sim), derive).unwrap();
    let mut theirs = TeeSealer::new(other, FixedRng(vec![1], 0));
    assert_eq!(theirs.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
}

#[test]
fn a_hardware_fault_stops_sealing_with_the_mapped_error() {
    let (key_words, uid) = board();
    let mut sim = sim_with(&key_words, &uid);
    sim.faults.busy_stuck = true;
    let huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    let mut sealer = TeeSealer::new(huk, FixedRng(vec![1], 0));
    assert_eq!(
        sealer.seal(&Key::from_slice(&[1u8; 32]).unwrap(), "").err(),
        Some(Error::Timeout)
    );
    let mut out = [0xEEu8; 64];
    let blob = [0u8; 65];
    assert_eq!(sealer.unseal_into(&blob, &mut out), Err(Error::Timeout));
    assert_eq!(out, [0u8; 64], "no partial plaintext survives");
}
