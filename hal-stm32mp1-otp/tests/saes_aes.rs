//! AES with a software key in the SAES (`Stm32Saes::encrypt_block`): the
//! FIPS-197 answers for 128- and 256-bit keys on every register layout,
//! the key registers written as OP-TEE writes them, wiped after, refused
//! lengths and a faulty block; and the TEE sealer running its AES-256-GCM
//! on the SAES (`TeeSealer::with_kdf_aes`) with the blobs of the Python
//! vectors.

use hal_stm32mp1_otp::regs::saes::{self as regs, Layout};
use hal_stm32mp1_otp::saes::{SaesKdf, SizeT};
use hal_stm32mp1_otp::sim::saes::{Fault, SaesSim};
use hal_stm32mp1_otp::{Error, SaesFault};
use trusted_core::one_block::AesEngine;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{CountingDelay, ScriptRng, section, unhex, vectors};
use trusted_core::{Key, SubkeyDerive, TrustSource};

mod common;

use common::{saes_driver, saes_kdf, size_t};

const VECTORS: &str = include_str!("vectors/saes_kdf.txt");

fn block(hex: &str) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(&unhex(hex));
    b
}

/// FIPS-197 appendix C.1 and C.3: plaintext 00112233..ff under the keys
/// 000102.. of 16 and 32 bytes.
#[test]
fn fips_197_known_answers_for_128_and_256_bit_keys_on_every_layout() {
    for layout in [regs::MP13, regs::MP25, regs::MP21] {
        let mut sim = SaesSim::new([7; 16]).with_layout(layout);
        let mut saes = saes_driver(&mut sim, layout);
        for (len, expected) in [
            (16u8, "69c4e0d86a7b0430d8cdb78070b4c55a"),
            (32, "8ea2b7ca516745bfeafc49904b496089"),
        ] {
            let key: Vec<u8> = (0..len).collect();
            let mut b = block("00112233445566778899aabbccddeeff");
            saes.encrypt_block(&key, &mut b).unwrap();
            assert_eq!(b, block(expected), "AES-{} {layout:?}", len * 8);
        }
        assert!(!sim.key_loaded(), "key registers wiped after the block");
    }
}

fn sim_layout(layout: Layout) -> SaesSim {
    SaesSim::new([7; 16]).with_layout(layout)
}

#[test]
fn other_key_lengths_are_refused_and_the_block_zeroed() {
    let mut sim = sim_layout(regs::MP13);
    let mut saes = saes_driver(&mut sim, regs::MP13);
    for len in [0, 15, 24, 31, 33] {
        let mut b = [0x5a; 16];
        assert_eq!(
            saes.encrypt_block(&vec![1; len], &mut b),
            Err(Error::Saes(SaesFault::BadLength))
        );
        assert_eq!(b, [0; 16]);
    }
}

#[test]
fn a_read_error_fails_the_block_and_zeroes_it() {
    let mut sim = sim_layout(regs::MP13);
    sim.inject(Fault::ReadError);
    let mut saes = saes_driver(&mut sim, regs::MP13);
    let mut b = [0x11; 16];
    assert!(saes.encrypt_block(&[3; 32], &mut b).is_err());
    assert_eq!(b, [0; 16]);
    // The next block works.
    let mut b = [0x11; 16];
    saes.encrypt_block(&[3; 32], &mut b).unwrap();
    assert_ne!(b, [0x11; 16]);
}

/// A 256-bit key written out of order (KEYR0..3, then KEYR5): key writing
/// sequence error, as for a 128-bit key.
#[test]
fn a_256_bit_key_written_out_of_order_raises_keif() {
    use trusted_core::Mmio;
    let l = regs::MP13;
    let mut sim = sim_layout(l);
    sim.write32(regs::CR, regs::CR_IPRST);
    sim.write32(regs::CR, regs::CR_KEYSIZE_256 | regs::CR_DATATYPE_BYTE);
    for _ in 0..8 {
        let _ = sim.read32(regs::SR);
    }
    for i in 0..4 {
        sim.write32(l.keyr0 + 4 * i, 0x0102_0304);
    }
    sim.write32(l.keyr4 + 4, 0x0506_0708);
    assert!(!sim.key_loaded());
    assert_ne!(sim.read32(regs::ISR) & l.i_keif, 0, "KEIF");
}

#[test]
fn tee_sealer_on_the_saes_aes_seals_the_python_blobs() {
    let all = vectors(VECTORS);
    for name in ["tee-32", "tee-64"] {
        let v = section(&all, name);
        let key = Key::from_slice(&v.bytes("key")).unwrap();
        let mut sim = SaesSim::new(v.array("dhuk"));
        let kdf = saes_kdf(&mut sim, size_t(v));
        let mut tee = TeeSealer::with_kdf_aes(kdf, ScriptRng::new(&v.bytes("iv")));
        let blob = tee.seal(&key, "").unwrap();
        assert_eq!(blob.to_string(), v.get("blob"), "[{name}]");
        assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
    }
}

/// An engine whose block `fail_at` meets a corrupted-then-refused SAES
/// read.
struct FailingAt<'a> {
    kdf: SaesKdf<&'a mut SaesSim, CountingDelay>,
    n: usize,
    fail_at: usize,
}

impl SubkeyDerive for FailingAt<'_> {
    fn derive_subkey(
        &mut self,
        usage: trusted_core::huk::HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<(), trusted_core::Error> {
        self.kdf.derive_subkey(usage, const_data, out)
    }
}

impl AesEngine for FailingAt<'_> {
    fn encrypt_block(&mut self, key: &[u8], b: &mut [u8; 16]) -> Result<(), trusted_core::Error> {
        if self.n == self.fail_at {
            self.kdf.driver_mut().regs_mut().inject(Fault::ReadError);
        }
        self.n += 1;
        self.kdf.encrypt_block(key, b)
    }
}

#[test]
fn an_saes_block_failing_mid_gcm_fails_seal_and_unseal_and_leaves_no_plaintext() {
    let all = vectors(VECTORS);
    let v = section(&all, "tee-32");
    let blob = unhex(v.get("blob"));
    let key = Key::from_slice(&v.bytes("key")).unwrap();
    for fail_at in [0, 1, 2] {
        for sealing in [false, true] {
            let mut sim = SaesSim::new(v.array("dhuk"));
            let kdf = saes_kdf(&mut sim, SizeT::Bytes4);
            let engine = FailingAt { kdf, n: 0, fail_at };
            let mut tee = TeeSealer::with_kdf_aes(engine, ScriptRng::new(&[]));
            if sealing {
                assert!(tee.seal(&key, "").is_err(), "seal, block {fail_at}");
            } else {
                let mut out = [0xAA; 32];
                assert!(tee.unseal_into(&blob, &mut out).is_err());
                assert_eq!(out, [0; 32], "plaintext left after block {fail_at}");
            }
            assert_eq!(tee.into_inner().0.n, fail_at + 1, "asked again");
        }
    }
}

/// Before its first block as the sealer's engine, `SaesKdf` proves the
/// 256-bit path with FIPS-197 C.3: a corrupted output block there is
/// `SelfTestFailed`, and no block is handed out.
#[test]
fn the_engine_runs_an_aes256_known_answer_test_before_its_first_block() {
    let mut sim = sim_layout(regs::MP13);
    let mut kdf = saes_kdf(&mut sim, SizeT::Bytes4);
    kdf.driver_mut().regs_mut().inject(Fault::CorruptOutputOnce);
    let mut b = [0x11; 16];
    let failed = AesEngine::encrypt_block(&mut kdf, &[4; 32], &mut b);
    assert_eq!(failed, Err(Error::Saes(SaesFault::SelfTestFailed).into()));
    assert_eq!(b, [0; 16]);
    // The test passes now, once; the block is computed.
    let blocks = kdf.driver_mut().blocks();
    let mut b = [0x11; 16];
    AesEngine::encrypt_block(&mut kdf, &[4; 32], &mut b).unwrap();
    assert_eq!(kdf.driver_mut().blocks() - blocks, 2, "KAT, then the block");
    let mut c = [0x11; 16];
    AesEngine::encrypt_block(&mut kdf, &[4; 32], &mut c).unwrap();
    assert_eq!(kdf.driver_mut().blocks() - blocks, 3, "no second KAT");
    assert_eq!(b, c);
}
