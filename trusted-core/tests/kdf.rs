//! SP 800-108 counter-mode CMAC KDF against Python `cryptography` answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use aes::Aes128;
use cipher::KeyInit;
use common::{unhex, vectors};
use trusted_core::Error;
use trusted_core::kdf::{FieldWidths, kdf_counter_cmac};

#[test]
fn kdf_matches_independent_vectors() {
    let rows = vectors("kdf");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let key: [u8; 16] = unhex(&row[0]).try_into().unwrap();
        let widths = FieldWidths {
            counter: row[3].parse().unwrap(),
            length: row[4].parse().unwrap(),
        };
        let expected = unhex(&row[5]);
        let mut out = vec![0u8; expected.len()];
        kdf_counter_cmac(
            Aes128::new(&key.into()),
            &unhex(&row[1]),
            &unhex(&row[2]),
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
