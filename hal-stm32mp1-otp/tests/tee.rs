//! TEE (OP-TEE trusted_keys TA, Linux `trusted.source=tee`) blobs keyed by
//! the STM32MP15 HUK: byte-exact against the Python vectors, and
//! interchangeable with a `StaticHuk` holding the same HUK bytes.

mod common;

use common::*;
use hal_stm32mp1_otp::sim::Fault;
use hal_stm32mp1_otp::{HukConfig, HukMode, Stm32mp15Huk, Stm32mp15Tee};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{ScriptRng, section};
use trusted_core::{Error, Huk, Key, StaticHuk, TrustSource};

fn board() -> (Vec<u32>, Vec<u32>) {
    let all = huk_vectors();
    let case = section(&all, "board");
    (words(case, "otp_key"), words(case, "uid"))
}

/// `bytes` over and over (the sealer draws one 16-byte IV per blob).
fn cyclic(bytes: &[u8]) -> ScriptRng {
    ScriptRng::new(&bytes.repeat(256 / bytes.len() + 1))
}

#[test]
fn tee_blobs_match_python_vectors_in_both_modes() {
    let all = huk_vectors();
    let tee = section(&all, "tee");
    let (key_words, uid) = board();
    let plain = Key::from_slice(&tee.bytes("plain")).unwrap();
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
        let mut sealer: Stm32mp15Tee<_, _> = TeeSealer::new(huk, cyclic(&tee.bytes("iv")));
        let blob = sealer.seal(&plain, "").unwrap();
        assert_eq!(blob.as_bytes(), tee.bytes(field), "{field}");
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
        let mut ours = TeeSealer::new(huk, ScriptRng::counting(6));
        let mut theirs = TeeSealer::new(StaticHuk::new(huk_bytes), cyclic(&[9, 8, 7]));
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
    let mut ours = TeeSealer::new(huk, cyclic(&[1, 2, 3]));
    let blob = ours
        .seal(&Key::from_slice(&[1u8; 32]).unwrap(), "")
        .unwrap();
    // same key words, another UID: the DERIVE_UID HUK differs
    let mut other_sim = sim_with(&key_words, &[uid[0], uid[1], uid[2] ^ 1]);
    let other = Stm32mp15Huk::new(secure(&mut other_sim), derive).unwrap();
    let mut theirs = TeeSealer::new(other, cyclic(&[1]));
    assert_eq!(theirs.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
}

#[test]
fn a_hardware_fault_stops_sealing_with_the_mapped_error() {
    let (key_words, uid) = board();
    let mut sim = sim_with(&key_words, &uid);
    sim.inject(Fault::BusyStuck);
    let huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
    let mut sealer = TeeSealer::new(huk, cyclic(&[1]));
    assert_eq!(
        sealer.seal(&Key::from_slice(&[1u8; 32]).unwrap(), "").err(),
        Some(Error::Timeout)
    );
    let mut out = [0xEEu8; 64];
    let blob = [0u8; 65];
    assert_eq!(sealer.unseal_into(&blob, &mut out), Err(Error::Timeout));
    assert_eq!(out, [0u8; 64], "no partial plaintext survives");
}
