//! Known answers for the sim's stated blob crypto, computed once by the
//! independent Python model in tests/vectors/sim_blob_kat.py (see its
//! header). They pin the BKEK/MKVB derivations, the blob-key wrap and the
//! CCM parameters the sim documents; they are not silicon vectors (the real
//! BKEK derivation is not public).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use hal_caam::sim::SimConfig;
use hal_caam::{CaamSource, HukOptions, KeyMod};
use trusted_core::TrustSource;

fn vector(name: &str) -> Vec<u8> {
    let text = include_str!("vectors/sim_blob_kat.txt");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} = ")))
        .unwrap_or_else(|| panic!("no vector {name}"));
    (0..line.len() / 2)
        .map(|i| u8::from_str_radix(&line[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn python_made_blob_unseals_in_the_sim() {
    let otpmk: [u8; 32] = vector("otpmk").try_into().unwrap();
    let (caam, _) = caam(SimConfig::secure(otpmk), config(), BUS);
    let mut source = CaamSource::new(caam);
    let key = source.unseal(&vector("blob"), "").unwrap();
    assert_eq!(key.as_bytes(), vector("key").as_slice());
}

#[test]
fn mkvb_matches_the_python_model_before_and_after_priblob() {
    let otpmk: [u8; 32] = vector("otpmk").try_into().unwrap();
    let (mut caam, _) = caam(SimConfig::secure(otpmk), config(), BUS);
    caam.init().unwrap();
    let mut mkvb = [0u8; 32];
    caam.master_key_verification_blob(&mut mkvb).unwrap();
    assert_eq!(mkvb.as_slice(), vector("mkvb").as_slice());
    let opts = HukOptions {
        allow_test_key: false,
        increment_priblob: true,
    };
    hal_caam::CaamHuk::read(&mut caam, opts).unwrap();
    caam.master_key_verification_blob(&mut mkvb).unwrap();
    assert_eq!(mkvb.as_slice(), vector("mkvb_priblob1").as_slice());
}

#[test]
fn python_made_blob_fails_under_another_key_modifier() {
    let otpmk: [u8; 32] = vector("otpmk").try_into().unwrap();
    let (mut caam, _) = caam(SimConfig::secure(otpmk), config(), BUS);
    caam.init().unwrap();
    let mut out = [0u8; 32];
    assert!(
        caam.decapsulate(KeyMod::Immediate(b"SECURE_KEX"), &vector("blob"), &mut out)
            .is_err()
    );
}
