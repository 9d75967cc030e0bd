//! TEE sealer: known answers checked against Python `cryptography`
//! (vectors/make_vectors.py), tamper and length rejection, zeroing.

use trusted_core::test_util::{
    BrokenRng, ScriptRng, hex, section, sections_with, unhex, vectors,
};
use trusted_core::tee::{TEE_BLOB_OVERHEAD, TeeSealer};
use trusted_core::{Error, Key, StaticHuk, TrustSource, huk, ta_unique_key};

const VECTORS: &str = include_str!("vectors/vectors.txt");

fn sealer(huk: [u8; 16], iv: &[u8]) -> TeeSealer<StaticHuk, ScriptRng> {
    TeeSealer::new(StaticHuk::new(huk), ScriptRng::new(iv))
}

#[test]
fn seal_matches_independent_vectors_including_vector_f() {
    let all = vectors(VECTORS);
    let cases = sections_with(&all, "tee-");
    assert_eq!(cases.len(), 3);
    for v in cases {
        let huk = v.array("huk");
        let key = Key::from_slice(&v.bytes("key")).unwrap();
        let blob = sealer(huk, &v.bytes("iv")).seal(&key, "").unwrap();
        assert_eq!(blob.to_string(), v.get("blob"));
        assert_eq!(blob.len(), key.len() + TEE_BLOB_OVERHEAD);
        let back = sealer(huk, &[]).unseal(&v.bytes("blob"), "").unwrap();
        assert_eq!(back, key);
    }
}

#[test]
fn vector_f_from_the_research_notes() {
    let f = "00a0a1a2a3a4a5a6a7a8a9aaabacadaeaf363937a392663a64f22ec11df2c6a49ee2a6da6d636c47671a0d899769cc4b6c2320adcb239a57ca61bfe581ec13fb41";
    let key = sealer([0; 16], &[])
        .unseal(&unhex(f), "ignored options")
        .unwrap();
    assert_eq!(key.as_bytes(), (0u8..32).collect::<Vec<_>>().as_slice());
}

#[test]
fn ta_unique_key_matches_vector_c() {
    let all = vectors(VECTORS);
    let v = section(&all, "takey");
    let mut out = [0u8; 32];
    ta_unique_key(&v.array("huk"), &huk::TRUSTED_KEYS_TA_UUID, &[], &mut out).unwrap();
    assert_eq!(hex(&out), v.get("ta_key"));
}

#[test]
fn unseal_rejects_every_single_bit_flip_except_reserved_byte() {
    let key = Key::from_slice(&[0x33; 32]).unwrap();
    let blob = sealer([9; 16], &[]).seal(&key, "").unwrap();
    let mut tee = sealer([9; 16], &[]);
    for bit in 0..blob.len() * 8 {
        let mut bad = blob.as_bytes().to_vec();
        bad[bit / 8] ^= 1 << (bit % 8);
        let result = tee.unseal(&bad, "");
        if bit < 8 {
            // OP-TEE neither checks nor authenticates the reserved byte.
            assert_eq!(result.unwrap(), key, "reserved bit {bit}");
        } else {
            assert_eq!(result.unwrap_err(), Error::AuthFailed, "bit {bit}");
        }
    }
}

#[test]
fn unseal_rejects_wrong_huk() {
    let key = Key::from_slice(&[1; 48]).unwrap();
    let blob = sealer([1; 16], &[]).seal(&key, "").unwrap();
    assert_eq!(
        sealer([2; 16], &[]).unseal(blob.as_bytes(), ""),
        Err(Error::AuthFailed)
    );
}

#[test]
fn unseal_rejects_wrong_lengths() {
    let mut tee = sealer([0; 16], &[]);
    for len in [0, 1, 33, 33 + 31, 33 + 129, 513, 600] {
        let err = tee.unseal(&vec![0u8; len], "").unwrap_err();
        assert!(
            matches!(err, Error::BlobLength | Error::KeyLength),
            "len {len}: {err:?}"
        );
    }
    let key = Key::from_slice(&[1; 32]).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    assert_eq!(
        tee.unseal(&blob.as_bytes()[..64], ""),
        Err(Error::KeyLength)
    );
}

#[test]
fn key_buffer_is_zero_after_a_failed_unseal() {
    let key = Key::from_slice(&[0x77; 64]).unwrap();
    let mut blob = sealer([5; 16], &[])
        .seal(&key, "")
        .unwrap()
        .as_bytes()
        .to_vec();
    blob[40] ^= 0x80;
    let mut out = [0xAAu8; 128];
    assert_eq!(
        sealer([5; 16], &[]).unseal_into(&blob, &mut out),
        Err(Error::AuthFailed)
    );
    assert!(out.iter().all(|&b| b == 0));
    let mut out = [0xAAu8; 128];
    assert_eq!(
        sealer([5; 16], &[]).unseal_into(&blob[..20], &mut out),
        Err(Error::BlobLength)
    );
    assert!(out.iter().all(|&b| b == 0));
}

#[test]
fn key_is_zero_after_drop() {
    use std::mem::MaybeUninit;
    let mut slot = MaybeUninit::new(Key::from_slice(&[0xEE; 128]).unwrap());
    // SAFETY: `slot` holds an initialised Key; after drop_in_place we only
    // read its bytes as plain memory, never use it as a Key again.
    let bytes = unsafe {
        core::ptr::drop_in_place(slot.as_mut_ptr());
        core::slice::from_raw_parts(slot.as_ptr().cast::<u8>(), size_of::<Key>()).to_vec()
    };
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn seal_reports_a_failing_rng() {
    let mut tee = TeeSealer::new(StaticHuk::new([0; 16]), BrokenRng);
    let key = Key::from_slice(&[1; 32]).unwrap();
    assert_eq!(tee.seal(&key, ""), Err(Error::Rng));
    assert_eq!(tee.random(&mut [0; 32]), Err(Error::Rng));
}

#[test]
fn two_seals_of_one_key_differ_by_iv() {
    let key = Key::from_slice(&[3; 32]).unwrap();
    let mut tee = sealer([0; 16], &[]);
    let a = tee.seal(&key, "").unwrap();
    let b = tee.seal(&key, "").unwrap();
    assert_ne!(a, b);
}

