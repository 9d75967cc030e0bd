//! OP-TEE trusted_keys TA blobs (`trusted_core::tee`): any bytes into
//! `unseal` under the HUKs of the committed vectors (so the seeds open and
//! the success path runs), and seal→unseal round trips of any key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trusted_core::tee::{TEE_BLOB_OVERHEAD, TeeSealer};
use trusted_core::test_util::ScriptRng;
use trusted_core::{Key, StaticHuk, TrustSource};
use trusted_keys_fuzz::{VectorFile, vector};

fuzz_target!(|data: &[u8]| {
    for name in ["tee-1", "tee-2", "tee-3"] {
        let v = vector(VectorFile::Core, name);
        let mut tee = TeeSealer::new(StaticHuk::new(v.array("huk")), ScriptRng::counting(0));
        let mut out = [0xa5u8; 160];
        match tee.unseal_into(data, &mut out) {
            Ok(n) => {
                assert_eq!(n + TEE_BLOB_OVERHEAD, data.len());
                let key = tee
                    .unseal(data, "")
                    .expect("unseal agrees with unseal_into");
                assert_eq!(key.as_bytes(), &out[..n]);
            }
            Err(_) => {
                assert!(
                    out.iter().all(|&b| b == 0),
                    "a failed unseal leaves no bytes"
                );
                assert!(tee.unseal(data, "").is_err());
            }
        }
    }
    // Round trip: the input as a key.
    if let Ok(key) = Key::from_slice(data) {
        let mut tee = TeeSealer::new(StaticHuk::new([7; 16]), ScriptRng::new(data));
        let blob = tee.seal(&key, "").expect("seal of a valid key");
        assert_eq!(blob.len(), key.len() + TEE_BLOB_OVERHEAD);
        assert_eq!(
            tee.unseal(blob.as_bytes(), "").expect("own blob opens"),
            key
        );
        let mut tampered = blob.clone();
        if let Some(b) = tampered
            .as_mut_bytes()
            .get_mut(usize::from(data[0]) % blob.len())
        {
            *b ^= 1;
        }
        // Byte 0 is reserved and ignored; every other bit is authenticated.
        let reserved = usize::from(data[0]) % blob.len() == 0;
        assert_eq!(tee.unseal(tampered.as_bytes(), "").is_ok(), reserved);
    }
});
