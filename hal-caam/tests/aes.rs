//! AES in the CAAM (one block per job) against the sim: the FIPS-197
//! known answers, the descriptor words, scrubbing, failures, and the TEE
//! sealer running its AES-256-GCM on the CAAM with the same blobs as
//! software AES.

mod common;

use common::{BUS, OTPMK, SimCaam, assert_dma_zeroed, caam, config};
use hal_caam::sim::{Fault, SimConfig};
use hal_caam::{CaamHuk, Error as CaamError, HukOptions, JobStatus};
use trusted_core::one_block::AesEngine;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::unhex;
use trusted_core::{Error, Huk, Key, StaticHuk, TrustSource};

fn ready() -> (SimCaam, trusted_core::DmaBus) {
    let (mut c, bus) = caam(SimConfig::secure(OTPMK), config(), BUS);
    assert_eq!(c.init(), Ok(()));
    (c, bus)
}

fn block(hex: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(&unhex(hex));
    b
}

/// FIPS-197 appendix C.1-C.3: plaintext 00112233..ff under the keys
/// 000102.. of 16, 24 and 32 bytes.
#[test]
fn fips_197_known_answers_for_all_three_key_sizes() {
    let answers = [
        (16, "69c4e0d86a7b0430d8cdb78070b4c55a"),
        (24, "dda97ca4864cdfe06eaf70a0ec0d7191"),
        (32, "8ea2b7ca516745bfeafc49904b496089"),
    ];
    let (mut c, bus) = ready();
    for (len, expected) in answers {
        let key: Vec<u8> = (0..len as u8).collect();
        let mut b = block("00112233445566778899aabbccddeeff");
        c.aes_encrypt_block(&key, &mut b).unwrap();
        assert_eq!(b, block(expected), "AES-{}", len * 8);
        assert_dma_zeroed(&bus);
    }
}

/// Header, KEY (class 1, inline), OPERATION AES-ECB encrypt
/// init-final, FIFO LOAD (class 1, inline, message, last), FIFO STORE
/// (message data) with the words of Linux `desc.h`.
#[test]
fn descriptor_words_match_linux_desc_h() {
    let (mut c, _) = ready();
    let mut b = [0u8; 16];
    c.aes_encrypt_block(&[7; 32], &mut b).unwrap();
    let d = c.regs().last_descriptor();
    assert_eq!(d.len(), 18);
    assert_eq!(d[0] & 0x7f, 18, "header length");
    assert_eq!(d[1], 0x0280_0020, "KEY class 1, immediate, 32 bytes");
    assert_eq!(d[10], 0x8210_020d, "OPERATION AES ECB INITFINAL ENCRYPT");
    assert_eq!(d[11], 0x2292_0010, "FIFO LOAD class 1, imm, MSG|LAST1, 16");
    assert_eq!(d[16], 0x6030_0010, "FIFO STORE message data, 16");
}

#[test]
fn key_lengths_other_than_16_24_32_are_refused_before_any_job() {
    let (mut c, _) = ready();
    for len in [0, 15, 17, 31, 33, 64] {
        let mut b = [0x5a; 16];
        assert_eq!(
            c.aes_encrypt_block(&vec![1; len], &mut b),
            Err(CaamError::InvalidArgument(
                "AES key must be 16, 24 or 32 bytes"
            ))
        );
        assert_eq!(b, [0x5a; 16], "block untouched");
    }
    assert_eq!(c.regs().jobs_completed(), 0);
}

#[test]
fn a_failed_or_stuck_job_leaves_no_output_and_the_ring_works_after() {
    let (mut c, bus) = ready();
    let key = [9u8; 32];
    c.regs_mut().inject(Fault::ErrorStatus(0x2000_0013)); // CCB AES key size
    let mut b = [0x11; 16];
    assert!(matches!(
        c.aes_encrypt_block(&key, &mut b),
        Err(CaamError::Job(JobStatus::Ccb { .. }))
    ));
    assert_eq!(b, [0; 16]);
    assert_dma_zeroed(&bus);

    c.regs_mut().inject(Fault::NoCompletion);
    let mut b = [0x11; 16];
    assert!(matches!(
        c.aes_encrypt_block(&key, &mut b),
        Err(CaamError::Timeout(_))
    ));
    assert_eq!(b, [0; 16]);
    assert_dma_zeroed(&bus);

    let mut b = [0x11; 16];
    c.aes_encrypt_block(&key, &mut b).unwrap();
    let mut soft = [0x11; 16];
    {
        use aes::cipher::{BlockCipherEncrypt, KeyInit};
        aes::Aes256::new(&key.into()).encrypt_block((&mut soft).into());
    }
    assert_eq!(b, soft);
}

/// The TEE sealer with its AES on the CAAM opens blobs of the software
/// sealer under the same HUK and the other way round: the same format,
/// the same TA key, the same AES-256-GCM.
#[test]
fn tee_sealer_on_caam_aes_and_on_software_aes_open_each_others_blobs() {
    let (mut c, bus) = ready();
    c.rng_instantiate().unwrap();
    let mut huk = CaamHuk::new(&mut c, HukOptions::default()).unwrap();
    let huk_bytes: [u8; 16] = *huk.hardware_unique_key().unwrap();
    let key = Key::from_slice(&(0..48).collect::<Vec<u8>>()).unwrap();

    let before = c.regs().jobs_completed();
    let mut on_caam = TeeSealer::with_rng_aes(huk, &mut c);
    let blob = on_caam.seal(&key, "").unwrap();
    let mut soft = TeeSealer::new(
        StaticHuk::new(huk_bytes),
        trusted_core::test_util::ScriptRng::new(&[]),
    );
    assert_eq!(soft.unseal(blob.as_bytes(), "").unwrap(), key);
    let soft_blob = soft.seal(&key, "").unwrap();
    assert_eq!(on_caam.unseal(soft_blob.as_bytes(), "").unwrap(), key);
    drop(on_caam);
    // Seal: 1 RNG job for the IV, the FIPS-197 known answer on the first
    // AES block, then H, J0 and 3 blocks of key; unseal: H, J0, 3 blocks to
    // decrypt, then J0 and 3 again for the re-check.
    assert_eq!(c.regs().jobs_completed() - before, 1 + 1 + 5 + 9);
    assert_dma_zeroed(&bus);
}

/// An engine whose block `fail_at` meets a failed CAAM job.
struct FailingAt<'a> {
    caam: &'a mut SimCaam,
    n: usize,
    fail_at: usize,
}

impl AesEngine for FailingAt<'_> {
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
        if self.n == self.fail_at {
            self.caam.regs_mut().inject(Fault::ErrorStatus(0x4000_0016));
        }
        self.n += 1;
        self.caam.encrypt_block(key, block)
    }
}

impl rand_core::TryRng for FailingAt<'_> {
    type Error = CaamError;
    fn try_next_u32(&mut self) -> Result<u32, CaamError> {
        self.caam.try_next_u32()
    }
    fn try_next_u64(&mut self) -> Result<u64, CaamError> {
        self.caam.try_next_u64()
    }
    fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), CaamError> {
        self.caam.try_fill_bytes(d)
    }
}

impl rand_core::TryCryptoRng for FailingAt<'_> {}

#[test]
fn a_caam_job_failing_mid_gcm_fails_seal_and_unseal_and_leaves_no_plaintext() {
    let (mut c, bus) = ready();
    c.rng_instantiate().unwrap();
    let huk_bytes = [0x3c; 16];
    let key = Key::from_slice(&[0xa5; 32]).unwrap();
    let blob = TeeSealer::new(
        StaticHuk::new(huk_bytes),
        trusted_core::test_util::ScriptRng::new(&[]),
    )
    .seal(&key, "")
    .unwrap();
    for fail_at in [0, 1, 3] {
        let engine = FailingAt {
            caam: &mut c,
            n: 0,
            fail_at,
        };
        let mut tee = TeeSealer::with_rng_aes(StaticHuk::new(huk_bytes), engine);
        // The DECO DMA error the sim answered, as the job status.
        let failed = Some(Error::Hardware(0x4000_0016));
        assert_eq!(tee.seal(&key, "").err(), failed);
        let (_, engine) = tee.into_inner();
        assert_eq!(engine.n, fail_at + 1, "asked again after the failure");
        let engine = FailingAt {
            n: 0,
            fail_at,
            ..engine
        };
        let mut tee = TeeSealer::with_rng_aes(StaticHuk::new(huk_bytes), engine);
        let mut out = [0xAA; 32];
        assert_eq!(tee.unseal_into(blob.as_bytes(), &mut out).err(), failed);
        assert_eq!(out, [0; 32], "plaintext left after block {fail_at}");
        assert_dma_zeroed(&bus);
    }
}

/// The first block of a driver is preceded by FIPS-197 C.3: an AES block
/// that comes back wrong with a good status (here the model's
/// `CorruptAesOutput`) is `AesSelfTest`, not a wrong block; the test runs
/// until it passes, and then only once.
#[test]
fn the_first_block_is_preceded_by_a_known_answer_test() {
    let (mut c, bus) = ready();
    c.regs_mut().inject(Fault::CorruptAesOutput);
    let mut b = [0x11; 16];
    assert_eq!(
        c.aes_encrypt_block(&[5; 32], &mut b),
        Err(CaamError::AesSelfTest)
    );
    assert_eq!(b, [0; 16]);
    assert_dma_zeroed(&bus);
    assert_eq!(
        Error::from(CaamError::AesSelfTest),
        Error::Malformed("CAAM AES failed its known-answer test")
    );

    let before = c.regs().jobs_completed();
    let mut b = [0x11; 16];
    c.aes_encrypt_block(&[5; 32], &mut b).unwrap();
    assert_eq!(
        c.regs().jobs_completed() - before,
        2,
        "the test, then the block"
    );
    let mut again = [0x11; 16];
    c.aes_encrypt_block(&[5; 32], &mut again).unwrap();
    assert_eq!(c.regs().jobs_completed() - before, 3, "no second test");
    assert_eq!(b, again);
}
