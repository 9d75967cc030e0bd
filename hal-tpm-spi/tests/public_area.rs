//! `blob::decode_public` and `TpmKeyBlob::parts`: the public area of a
//! sealed object as Linux writes it (research linux-formats.md §5.1/§5.2),
//! the other keyedhash schemes, and every malformed input refused.

use hal_tpm_spi::blob::{self, KeyedHashScheme};
use hal_tpm_spi::spec::{SRK_HANDLE, alg, attr};

/// TPM2B_PUBLIC: size, then type, nameAlg, attributes, authPolicy,
/// scheme (+ details), unique.
fn public(name_alg: u16, attrs: u32, policy: &[u8], scheme: &[u8], unique: &[u8]) -> Vec<u8> {
    let mut area = Vec::new();
    area.extend(alg::KEYEDHASH.to_be_bytes());
    area.extend(name_alg.to_be_bytes());
    area.extend(attrs.to_be_bytes());
    area.extend((policy.len() as u16).to_be_bytes());
    area.extend(policy);
    area.extend(scheme);
    area.extend((unique.len() as u16).to_be_bytes());
    area.extend(unique);
    let mut out = (area.len() as u16).to_be_bytes().to_vec();
    out.extend(area);
    out
}

const NULL_SCHEME: [u8; 2] = [0x00, 0x10];

#[test]
fn decodes_the_public_area_linux_writes() {
    // §5.1: 002e | 0008 | 000b | 00000040 | 0000 | 0010 | 0020 + 32 bytes.
    let mut bytes = vec![
        0x00, 0x2e, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x10, 0x00,
        0x20,
    ];
    bytes.extend([0xC3; 32]);
    assert_eq!(bytes.len(), 48);
    let p = blob::decode_public(&bytes).unwrap();
    assert_eq!(p.name_alg, alg::SHA256);
    assert_eq!(p.object_attributes, attr::USER_WITH_AUTH);
    assert!(p.auth_policy.is_empty());
    assert_eq!(p.scheme, KeyedHashScheme::Null);
    assert_eq!(p.unique, &[0xC3; 32][..]);
}

#[test]
fn decodes_a_policy_and_the_hmac_and_xor_schemes() {
    let policy = [0x5Au8; 32];
    let bytes = public(alg::SHA384, 0x12, &policy, &NULL_SCHEME, &[1; 48]);
    let p = blob::decode_public(&bytes).unwrap();
    assert_eq!((p.name_alg, p.object_attributes), (alg::SHA384, 0x12));
    assert_eq!(p.auth_policy, &policy[..]);
    let hmac = public(alg::SHA256, 0x40, &[], &[0x00, 0x05, 0x00, 0x0b], &[]);
    assert_eq!(
        blob::decode_public(&hmac).unwrap().scheme,
        KeyedHashScheme::Hmac {
            hash_alg: alg::SHA256
        }
    );
    let xor = public(
        alg::SHA256,
        0x40,
        &[],
        &[0x00, 0x0a, 0x00, 0x04, 0x00, 0x22],
        &[],
    );
    assert_eq!(
        blob::decode_public(&xor).unwrap().scheme,
        KeyedHashScheme::Xor {
            hash_alg: alg::SHA1,
            kdf: 0x0022
        }
    );
}

#[test]
fn every_truncation_and_extension_is_refused() {
    let good = public(alg::SHA256, 0x40, &[7; 32], &NULL_SCHEME, &[9; 32]);
    assert!(blob::decode_public(&good).is_ok());
    for n in 0..good.len() {
        assert!(blob::decode_public(&good[..n]).is_err(), "prefix {n}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(
        blob::decode_public(&longer).is_err(),
        "byte after the TPM2B"
    );
    // The size field covering one byte more than the TPMT_PUBLIC has.
    let mut inner_extra = good.clone();
    inner_extra.push(0);
    inner_extra[1] += 1;
    assert!(
        blob::decode_public(&inner_extra).is_err(),
        "byte inside the TPM2B"
    );
    // The inner TPM2Bs claiming more than is there.
    let mut policy_long = good.clone();
    policy_long[11] = 0xff;
    assert!(blob::decode_public(&policy_long).is_err());
}

#[test]
fn refuses_other_object_types_and_schemes() {
    let mut rsa = public(alg::SHA256, 0x40, &[], &NULL_SCHEME, &[]);
    rsa[2..4].copy_from_slice(&0x0001u16.to_be_bytes());
    let e = blob::decode_public(&rsa).unwrap_err();
    assert!(e.to_string().contains("not keyedhash"), "{e}");
    let odd = public(alg::SHA256, 0x40, &[], &[0x00, 0x14], &[]);
    let e = blob::decode_public(&odd).unwrap_err();
    assert!(e.to_string().contains("scheme"), "{e}");
}

fn private_public() -> (Vec<u8>, Vec<u8>) {
    let mut private = vec![0x00, 0x06];
    private.extend([0xAB; 6]);
    (
        private,
        public(alg::SHA256, 0x40, &[], &NULL_SCHEME, &[3; 32]),
    )
}

#[test]
fn parts_of_a_der_blob_are_its_two_octet_strings() {
    let (private, public) = private_public();
    let mut der = [0u8; 256];
    let n = blob::encode(
        SRK_HANDLE,
        true,
        &[private.clone(), public.clone()].concat(),
        &mut der,
    )
    .unwrap();
    let parts = blob::decode(&der[..n]).parts().unwrap();
    assert_eq!(parts.private, &private[..]);
    assert_eq!(parts.public, &public[..]);
    assert!(parts.trailing.is_empty());
    // An OCTET STRING whose TPM2B size disagrees with it: decodes as DER,
    // but has no parts.
    let at = der[..n]
        .windows(public.len())
        .position(|w| w == &public[..])
        .unwrap();
    der[at + 1] -= 1;
    let d = blob::decode_der(&der[..n]).unwrap();
    assert_eq!(d.parts(), None);
}

#[test]
fn parts_of_an_old_format_blob_keep_the_creation_data_apart() {
    let (private, public) = private_public();
    let mut raw = [private.clone(), public.clone()].concat();
    raw.extend([0xEE; 40]);
    let d = blob::decode(&raw);
    assert!(d.old_format);
    let parts = d.parts().unwrap();
    assert_eq!(
        (parts.private, parts.public, parts.trailing),
        (&private[..], &public[..], &[0xEE; 40][..])
    );
    assert!(blob::decode_public(parts.public).is_ok());
    for n in 0..private.len() + public.len() {
        assert_eq!(blob::decode(&raw[..n]).parts(), None, "prefix {n}");
    }
}
