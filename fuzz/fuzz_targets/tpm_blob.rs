//! Linux TPM 2.0 trusted-key blobs (`hal_tpm_spi::blob`): any bytes into
//! the DER `TPMKey` decoder, the pre-5.13 raw fallback, the split into
//! TPM2B parts and the public-area decoder; every DER blob that decodes is
//! encoded again and must decode to the same fields.
#![no_main]

use hal_tpm_spi::blob;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let der = blob::decode_der(data);
    let b = blob::decode(data);
    assert_eq!(b.old_format, der.is_none());
    if b.old_format {
        assert_eq!((b.private, b.parent), (data, None));
    }
    let _ = b.object_attributes();
    let Some(parts) = b.parts() else {
        return;
    };
    if let Ok(public) = blob::decode_public(parts.public) {
        assert_eq!(b.object_attributes(), Some(public.object_attributes));
    }
    // Round trip through the encoder, as seal writes blobs.
    let pp = [parts.private, parts.public].concat();
    let mut out = [0u8; 1024];
    let parent = b.parent.unwrap_or(0x8100_0001);
    if let Ok(n) = blob::encode(parent, b.empty_auth, &pp, &mut out) {
        let again = blob::decode_der(&out[..n]).expect("an encoded blob decodes");
        assert_eq!(again.parent, Some(parent));
        assert_eq!(again.empty_auth, b.empty_auth);
        assert_eq!((again.private, again.public), (parts.private, parts.public));
        if let Some(d) = der {
            // Linux's encoding of what was decoded: the same bytes unless
            // the input spelled TRUE other than 0x01 or FALSE explicitly.
            if n == data.len() {
                let differ = out[..n].iter().zip(data).filter(|(a, b)| a != b).count();
                assert!(differ <= 1, "re-encoding changed more than the BOOLEAN");
            }
            assert_eq!(d.parts(), again.parts());
        }
    }
});
