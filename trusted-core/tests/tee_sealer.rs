//! TEE sealer: known answers checked against Python `cryptography`
//! (vectors/make_vectors.py), tamper and length rejection, zeroing.

use trusted_core::huk::HukSubkeyUsage;
use trusted_core::one_block::AesEngine;
use trusted_core::tee::{RngAes, TEE_BLOB_OVERHEAD, TeeSealer};
use trusted_core::test_util::{BrokenRng, ScriptRng, hex, section, sections_with, unhex, vectors};
use trusted_core::{
    Error, Key, StaticHuk, StaticSubkey, SubkeyDerive, TrustSource, huk, ta_unique_key,
};

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

// --- The subkey seam: TeeSealer over any SubkeyDerive -----------------------

/// The TA key of [takey] (Python HMAC over HUK = 16 x 00), as an integrator
/// would get it out of band.
fn python_ta_key() -> [u8; 32] {
    section(&vectors(VECTORS), "takey").array("ta_key")
}

#[test]
fn static_subkey_from_the_python_ta_key_seals_the_vector_blobs() {
    let all = vectors(VECTORS);
    let v = section(&all, "tee-1");
    assert_eq!(v.array::<16>("huk"), [0; 16]);
    let key = Key::from_slice(&v.bytes("key")).unwrap();
    let mut tee = TeeSealer::new(
        StaticSubkey::trusted_keys_ta(python_ta_key()),
        ScriptRng::new(&v.bytes("iv")),
    );
    assert_eq!(tee.seal(&key, "").unwrap().to_string(), v.get("blob"));
    assert_eq!(tee.unseal(&v.bytes("blob"), "").unwrap(), key);
}

/// A provider that is not a HUK: records what the sealer asks for and
/// answers with a fixed key (or an error).
struct Recorder {
    asked: Vec<(HukSubkeyUsage, Vec<u8>, usize)>,
    answer: Result<[u8; 32], Error>,
}

impl SubkeyDerive for Recorder {
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        self.asked.push((usage, const_data.to_vec(), out.len()));
        match self.answer {
            Ok(key) => {
                out.iter_mut().zip(key).for_each(|(o, k)| *o = k);
                Ok(())
            }
            Err(e) => {
                out.fill(0);
                Err(e)
            }
        }
    }
}

#[test]
fn sealer_asks_its_provider_for_the_unique_ta_key_over_the_ta_uuid() {
    let mut tee = TeeSealer::new(
        Recorder {
            asked: Vec::new(),
            answer: Ok(python_ta_key()),
        },
        ScriptRng::new(&[]),
    );
    let key = Key::from_slice(&[0x11; 32]).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    // Same answer as the HMAC-over-HUK provider with HUK = 0: same blobs.
    assert_eq!(
        sealer([0; 16], &[]).unseal(blob.as_bytes(), "").unwrap(),
        key
    );
    assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
    let (recorder, _) = tee.into_inner();
    let expected = (
        HukSubkeyUsage::UniqueTa,
        huk::TRUSTED_KEYS_TA_UUID.to_vec(),
        32,
    );
    assert_eq!(recorder.asked, vec![expected.clone(), expected]);
}

#[test]
fn a_failing_provider_fails_seal_and_unseal_and_leaves_no_plaintext() {
    let key = Key::from_slice(&[0x22; 48]).unwrap();
    let blob = sealer([0; 16], &[]).seal(&key, "").unwrap();
    let mut tee = TeeSealer::new(
        Recorder {
            asked: Vec::new(),
            answer: Err(Error::Hardware(0x0302)),
        },
        ScriptRng::new(&[]),
    );
    assert_eq!(tee.seal(&key, ""), Err(Error::Hardware(0x0302)));
    let mut out = [0xAA; 128];
    assert_eq!(
        tee.unseal_into(blob.as_bytes(), &mut out),
        Err(Error::Hardware(0x0302))
    );
    assert!(out.iter().all(|&b| b == 0));
}

#[test]
fn huk_providers_are_subkey_providers_with_the_hmac_derivation() {
    let mut huk = StaticHuk::new([0; 16]);
    let mut out = [0u8; 32];
    huk.derive_subkey(
        HukSubkeyUsage::UniqueTa,
        &huk::TRUSTED_KEYS_TA_UUID,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, python_ta_key());
    // A 16-byte subkey is the first half (HMAC truncated), as OP-TEE does.
    let mut short = [0u8; 16];
    huk.derive_subkey(
        HukSubkeyUsage::UniqueTa,
        &huk::TRUSTED_KEYS_TA_UUID,
        &mut short,
    )
    .unwrap();
    assert_eq!(short, python_ta_key()[..16]);
}

#[test]
fn subkey_lengths_outside_1_to_32_are_refused_and_zeroed() {
    let bad = Error::InvalidArgument("subkey length must be 1..=32");
    let mut huk = StaticHuk::new([3; 16]);
    let mut fixed = StaticSubkey::trusted_keys_ta([5; 32]);
    for len in [0usize, 33, 64] {
        let mut out = vec![0xAA; len];
        assert_eq!(
            huk.derive_subkey(HukSubkeyUsage::Ssk, &[], &mut out),
            Err(bad)
        );
        assert!(out.iter().all(|&b| b == 0), "huk, len {len}");
        let mut out = vec![0xAA; len];
        let r = fixed.derive_subkey(
            HukSubkeyUsage::UniqueTa,
            &huk::TRUSTED_KEYS_TA_UUID,
            &mut out,
        );
        assert_eq!(r, Err(bad));
        assert!(out.iter().all(|&b| b == 0), "static, len {len}");
    }
    assert!(matches!(
        StaticSubkey::new(HukSubkeyUsage::Ssk, &[], &[]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        StaticSubkey::new(HukSubkeyUsage::Ssk, &[], &[1; 33]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn static_subkey_answers_only_the_request_it_was_made_for() {
    let mut fixed = StaticSubkey::new(HukSubkeyUsage::DieId, b"die", &[7; 16]).unwrap();
    let mut out = [0xAA; 16];
    fixed
        .derive_subkey(HukSubkeyUsage::DieId, b"die", &mut out)
        .unwrap();
    assert_eq!(out, [7; 16]);
    for (usage, data, len) in [
        (HukSubkeyUsage::Ssk, &b"die"[..], 16),
        (HukSubkeyUsage::DieId, &b"dies"[..], 16),
        (HukSubkeyUsage::DieId, &b""[..], 16),
        (HukSubkeyUsage::DieId, &b"die"[..], 15),
    ] {
        let mut out = vec![0xAA; len];
        assert!(matches!(
            fixed.derive_subkey(usage, data, &mut out),
            Err(Error::InvalidArgument(_))
        ));
        assert!(out.iter().all(|&b| b == 0));
    }
    assert!(matches!(
        StaticSubkey::new(HukSubkeyUsage::DieId, &[0; 65], &[1; 16]),
        Err(Error::InvalidArgument(_))
    ));
}

/// An AES engine in software for the engine path: the IVs of a
/// [`ScriptRng`], AES-256 from RustCrypto's `aes`, and a failure on
/// block `fail_at` (counting from 0) with every call counted.
struct TestEngine {
    rng: ScriptRng,
    calls: usize,
    fail_at: Option<usize>,
}

impl TestEngine {
    fn new(iv: &[u8], fail_at: Option<usize>) -> Self {
        Self {
            rng: ScriptRng::new(iv),
            calls: 0,
            fail_at,
        }
    }
}

impl rand_core::TryRng for TestEngine {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.rng.try_next_u32()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.rng.try_next_u64()
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
        self.rng.try_fill_bytes(d)
    }
}

impl rand_core::TryCryptoRng for TestEngine {}

impl AesEngine for TestEngine {
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
        use aes::cipher::{BlockCipherEncrypt, KeyInit};
        let n = self.calls;
        self.calls += 1;
        if self.fail_at == Some(n) {
            return Err(Error::Timeout);
        }
        let aes = aes::Aes256::new_from_slice(key).map_err(|_| Error::KeyLength)?;
        aes.encrypt_block(block.into());
        Ok(())
    }
}

fn engine_sealer(
    huk: [u8; 16],
    iv: &[u8],
    fail_at: Option<usize>,
) -> TeeSealer<StaticHuk, TestEngine, RngAes> {
    TeeSealer::with_rng_aes(StaticHuk::new(huk), TestEngine::new(iv, fail_at))
}

#[test]
fn engine_aes_seals_and_unseals_the_independent_vectors() {
    for v in sections_with(&vectors(VECTORS), "tee-") {
        let huk = v.array("huk");
        let key = Key::from_slice(&v.bytes("key")).unwrap();
        let mut tee = engine_sealer(huk, &v.bytes("iv"), None);
        let blob = tee.seal(&key, "").unwrap();
        assert_eq!(blob.to_string(), v.get("blob"));
        // H, J0 for the tag, one block per 16 bytes of key.
        assert_eq!(tee.into_inner().1.calls, 2 + key.len().div_ceil(16));
        let back = engine_sealer(huk, &[], None)
            .unseal(&v.bytes("blob"), "")
            .unwrap();
        assert_eq!(back, key);
    }
}

#[test]
fn a_failing_engine_fails_seal_and_unseal_once_and_leaves_no_plaintext() {
    let key = Key::from_slice(&[0x5c; 64]).unwrap();
    let blob = engine_sealer([3; 16], &[], None).seal(&key, "").unwrap();
    // Block 0 is GCM's H, 1 is J0, 2.. the key's keystream.
    for fail_at in [0, 1, 2, 4] {
        let mut tee = engine_sealer([3; 16], &[], Some(fail_at));
        assert_eq!(tee.seal(&key, "").err(), Some(Error::Timeout));
        assert_eq!(tee.into_inner().1.calls, fail_at + 1, "asked again");

        let mut tee = engine_sealer([3; 16], &[], Some(fail_at));
        let mut out = [0xAAu8; 64];
        assert_eq!(
            tee.unseal_into(blob.as_bytes(), &mut out),
            Err(Error::Timeout)
        );
        assert!(
            out.iter().all(|&b| b == 0),
            "plaintext left after block {fail_at}"
        );
        assert_eq!(tee.into_inner().1.calls, fail_at + 1, "asked again");
    }
}

/// A subkey provider that is also the AES engine (as the STM32MP13 SAES
/// is): the HMAC derivation of a [`StaticHuk`] and the [`TestEngine`].
struct KdfEngine {
    huk: StaticHuk,
    engine: TestEngine,
}

impl SubkeyDerive for KdfEngine {
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        self.huk.derive_subkey(usage, const_data, out)
    }
}

impl AesEngine for KdfEngine {
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
        self.engine.encrypt_block(key, block)
    }
}

#[test]
fn kdf_aes_seals_and_unseals_the_independent_vectors_and_fails_with_its_engine() {
    let kdf = |huk, fail_at| KdfEngine {
        huk: StaticHuk::new(huk),
        engine: TestEngine::new(&[], fail_at),
    };
    for v in sections_with(&vectors(VECTORS), "tee-") {
        let huk = v.array("huk");
        let key = Key::from_slice(&v.bytes("key")).unwrap();
        let mut tee = TeeSealer::with_kdf_aes(kdf(huk, None), ScriptRng::new(&v.bytes("iv")));
        let blob = tee.seal(&key, "").unwrap();
        assert_eq!(blob.to_string(), v.get("blob"));
        assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
        let mut tee = TeeSealer::with_kdf_aes(kdf(huk, Some(2)), ScriptRng::new(&[]));
        let mut out = [0xAAu8; 128];
        assert_eq!(
            tee.unseal_into(blob.as_bytes(), &mut out),
            Err(Error::Timeout)
        );
        assert!(out.iter().all(|&b| b == 0));
        assert_eq!(tee.into_inner().0.engine.calls, 3);
    }
}
