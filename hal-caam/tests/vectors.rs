//! Known answers for the sim's stated blob crypto, computed once by the
//! independent Python model in tests/vectors/sim_blob_kat.py (see its
//! header). They pin the BKEK/MKVB derivations, the blob-key wrap and the
//! CCM parameters the sim documents; they are not silicon vectors (the real
//! BKEK derivation is not public).

mod common;

use common::*;
use hal_caam::sim::SimConfig;
use hal_caam::{CaamSource, HukOptions, KeyMod};
use trusted_core::TrustSource;
use trusted_core::test_util::{Section, section, vectors};

/// The `[sim-blob]` section of the vector file.
fn kat() -> Section {
    let all = vectors(include_str!("vectors/sim_blob_kat.txt"));
    section(&all, "sim-blob").clone()
}

/// An initialised driver over a secure sim whose OTPMK is the vector's.
fn kat_caam(v: &Section) -> SimCaam {
    let (mut caam, _) = caam(SimConfig::secure(v.array("otpmk")), config(), BUS);
    assert_eq!(caam.init(), Ok(()));
    caam
}

#[test]
fn python_made_blob_unseals_in_the_sim() {
    let v = kat();
    let mut source = CaamSource::new(kat_caam(&v));
    let key = source.unseal(&v.bytes("blob"), "").unwrap();
    assert_eq!(key.as_bytes(), v.bytes("key").as_slice());
}

#[test]
fn mkvb_matches_the_python_model_before_and_after_priblob() {
    let v = kat();
    let mut caam = kat_caam(&v);
    let mut mkvb = [0u8; 32];
    caam.master_key_verification_blob(&mut mkvb).unwrap();
    assert_eq!(mkvb.as_slice(), v.bytes("mkvb").as_slice());
    let opts = HukOptions::new().increment_priblob();
    hal_caam::CaamHuk::new(&mut caam, opts).unwrap();
    caam.master_key_verification_blob(&mut mkvb).unwrap();
    assert_eq!(mkvb.as_slice(), v.bytes("mkvb_priblob1").as_slice());
}

#[test]
fn python_made_blob_fails_under_another_key_modifier() {
    let v = kat();
    let mut caam = kat_caam(&v);
    let mut out = [0u8; 32];
    assert!(
        caam.decapsulate(KeyMod::Immediate(b"SECURE_KEX"), &v.bytes("blob"), &mut out)
            .is_err()
    );
}
