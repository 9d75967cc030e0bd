//! SP 800-108 counter-mode CMAC KDF against Python `cryptography` answers.

use aes::Aes128;
use cipher::KeyInit;
use trusted_core::Error;
use trusted_core::kdf::{FieldWidths, kdf_counter_cmac};
use trusted_core::test_util::{sections_with, vectors};

#[test]
fn kdf_matches_independent_vectors() {
    let all = vectors(include_str!("vectors/vectors.txt"));
    let cases = sections_with(&all, "kdf-");
    assert_eq!(cases.len(), 2);
    for v in cases {
        let key: [u8; 16] = v.array("key");
        let widths = FieldWidths {
            counter: v.get("counter_bytes").parse().unwrap(),
            length: v.get("length_bytes").parse().unwrap(),
        };
        let expected = v.bytes("out");
        let mut out = vec![0u8; expected.len()];
        kdf_counter_cmac(
            Aes128::new(&key.into()),
            &v.bytes("label"),
            &v.bytes("context"),
            widths,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, expected);
    }
}

#[test]
fn kdf_rejects_outputs_its_fields_cannot_describe() {
    let cipher = || Aes128::new(&[0u8; 16].into());
    // 32 bytes = 256 bits does not fit an 8-bit length field.
    let mut out = [0u8; 32];
    assert!(matches!(
        kdf_counter_cmac(cipher(), b"", b"", FieldWidths::BYTES, &mut out),
        Err(Error::InvalidArgument(_))
    ));
    let bad = FieldWidths {
        counter: 0,
        length: 4,
    };
    assert!(kdf_counter_cmac(cipher(), b"", b"", bad, &mut out).is_err());
    let bad = FieldWidths {
        counter: 4,
        length: 5,
    };
    assert!(kdf_counter_cmac(cipher(), b"", b"", bad, &mut out).is_err());
}
