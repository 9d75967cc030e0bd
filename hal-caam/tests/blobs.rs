//! Linux trusted_caam blobs, the MKVB HUK and the RNG, driven through the
//! driver against the behavioural sim.

mod common;

use common::*;
use hal_caam::desc::PointerSize;
use hal_caam::sim::{CaamSim, Moo, SimConfig};
use hal_caam::{
    CaamHuk, CaamSource, Config, Error as CaamError, HukOptions, JobStatus, RngInit, SecurityState,
};
use rand_core::TryRng;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{CountingDelay, leaked_dma};
use trusted_core::{Error, Huk, Key, TrustSource};

#[test]
fn round_trip_32_and_128_bytes_with_blob_length_n_plus_48() {
    let (mut source, bus) = secure_source();
    source.init().unwrap();
    for len in [32, 128] {
        let key = key(len, 7);
        let blob = source.seal(&key, "").unwrap();
        assert_eq!(blob.len(), len + 48);
        assert_ne!(
            &blob.as_bytes()[32..32 + len],
            key.as_bytes(),
            "data must be encrypted"
        );
        assert_eq!(source.unseal(blob.as_bytes(), "").unwrap(), key);
        assert_dma_zeroed(&bus);
    }
}

#[test]
fn two_seals_of_one_key_differ_because_the_blob_key_is_random() {
    let (mut source, _) = secure_source();
    let key = key(32, 9);
    let a = source.seal(&key, "").unwrap();
    let b = source.seal(&key, "").unwrap();
    assert_ne!(a, b);
}

/// Seals under Linux's key modifier, then unseals on another CAAM with the
/// same OTPMK under `keymod`.
fn unseal_under_modifier(keymod: &[u8]) -> Result<Key, Error> {
    let (mut source, _) = secure_source();
    let blob = source.seal(&key(32, 3), "")?;
    let (other, _) = secure_source();
    other.with_key_modifier(keymod)?.unseal(blob.as_bytes(), "")
}

#[test]
fn wrong_key_modifier_fails_authentication() {
    assert_eq!(
        unseal_under_modifier(b"kernel:trusted"),
        Err(Error::AuthFailed)
    );
    // The same path with the same modifier works.
    assert_eq!(unseal_under_modifier(b"SECURE_KEY"), Ok(key(32, 3)));
}

#[test]
fn zero_padded_key_modifier_is_a_different_modifier_in_the_sim() {
    assert_eq!(
        unseal_under_modifier(b"SECURE_KEY\0\0\0\0\0\0"),
        Err(Error::AuthFailed)
    );
}

#[test]
fn other_master_key_fails_authentication() {
    let (mut source, _) = secure_source();
    let blob = source.seal(&key(64, 3), "").unwrap();
    let (mut other, _) = source_with(SimConfig::secure([0x22; 32]));
    assert_eq!(other.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
}

#[test]
fn every_single_bit_flip_fails_authentication() {
    let (mut source, bus) = secure_source();
    let key = key(32, 0x40);
    let blob = source.seal(&key, "").unwrap();
    let mut tampered = blob.as_bytes().to_vec();
    for bit in 0..tampered.len() * 8 {
        tampered[bit / 8] ^= 1 << (bit % 8);
        assert_eq!(
            source.unseal(&tampered, ""),
            Err(Error::AuthFailed),
            "bit {bit}"
        );
        tampered[bit / 8] ^= 1 << (bit % 8);
    }
    assert_dma_zeroed(&bus);
    assert_eq!(source.unseal(&tampered, "").unwrap(), key);
}

#[test]
fn icv_failure_is_a_ccb_aes_status_at_the_operation_index() {
    let (mut caam, _) = secure_caam();
    caam.init().unwrap();
    caam.rng_instantiate().unwrap();
    let data = [1u8; 32];
    let mut blob = [0u8; 80];
    caam.encapsulate(hal_caam::KeyMod::Immediate(b"a"), &data, &mut blob)
        .unwrap();
    let mut out = [0xFFu8; 32];
    let err = caam
        .decapsulate(hal_caam::KeyMod::Immediate(b"b"), &blob, &mut out)
        .unwrap_err();
    // CCB, desc idx 7 (the OPERATION word after header, KEY + 1 data word,
    // two SEQ PTRs), CHA AES, ICV check failed.
    assert_eq!(err, CaamError::Job(JobStatus::decode(0x2000_071A).unwrap()));
    assert_eq!(out, [0u8; 32], "output zeroed on failure");
}

#[test]
fn unseal_rejects_lengths_linux_rejects() {
    let (mut source, _) = secure_source();
    assert_eq!(source.unseal(&[0u8; 47], ""), Err(Error::BlobLength));
    assert_eq!(source.unseal(&[0u8; 177], ""), Err(Error::BlobLength));
    // Linux would decapsulate a 16-byte key; Key cannot hold it.
    assert_eq!(source.unseal(&[0u8; 64], ""), Err(Error::KeyLength));
}

#[test]
fn key_modifier_longer_than_16_bytes_is_rejected() {
    let (source, _) = secure_source();
    assert!(matches!(
        source.with_key_modifier(&[b'x'; 17]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn non_secure_state_is_refused_unless_the_test_key_is_allowed() {
    let (mut source, _) = source_with(SimConfig::non_secure(OTPMK));
    assert!(matches!(source.init(), Err(Error::InsecureState(_))));
    assert!(matches!(
        source.seal(&key(32, 1), ""),
        Err(Error::InsecureState(_))
    ));
    assert!(matches!(
        source.unseal(&[0u8; 80], ""),
        Err(Error::InsecureState(_))
    ));
    let mut source = source.allow_insecure();
    let key = key(32, 1);
    let blob = source.seal(&key, "").unwrap();
    assert_eq!(source.unseal(blob.as_bytes(), "").unwrap(), key);
    // Test-key blobs open on any non-secure CAAM, whatever its OTPMK ...
    let (other, _) = source_with(SimConfig::non_secure([0x99; 32]));
    let mut other = other.allow_insecure();
    assert_eq!(other.unseal(blob.as_bytes(), "").unwrap(), key);
    // ... and never on a secure one.
    let (mut secure, _) = secure_source();
    assert_eq!(secure.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
}

#[test]
fn fail_state_is_refused() {
    let (mut source, _) = secure_source();
    source.init().unwrap();
    source.driver_mut().regs_mut().set_moo(Moo::Fail);
    assert_eq!(source.driver_mut().security_state(), SecurityState::Fail);
    assert!(matches!(
        source.seal(&key(32, 1), ""),
        Err(Error::InsecureState(_))
    ));
}

#[test]
fn no_blob_protocol_is_no_device() {
    let mut cfg = SimConfig::secure(OTPMK);
    cfg.blob_present = false;
    let (mut source, _) = source_with(cfg);
    assert_eq!(source.init(), Err(Error::NoDevice));
    assert_eq!(source.name(), "caam");
    assert!(!source.has_rng());
}

/// Linux's source has no RNG; `with_rng4` serves `random` from RNG4 and
/// says so, and the blobs it makes open with the plain source.
#[test]
fn with_rng4_draws_from_rng4_and_seals_the_same_blobs() {
    let (mut plain, _) = source_with(SimConfig::secure(OTPMK));
    let mut out = [0u8; 48];
    assert!(matches!(plain.random(&mut out), Err(Error::Unsupported(_))));
    assert_eq!(out, [0; 48]);

    let (source, _) = source_with(SimConfig::secure(OTPMK));
    let mut source = source.with_rng4();
    assert!(source.has_rng());
    source.random(&mut out).unwrap();
    let mut more = [0u8; 48];
    source.random(&mut more).unwrap();
    assert!(out != [0; 48] && more != out);

    let key = key(32, 9);
    let blob = source.seal(&key, "").unwrap();
    assert_eq!(plain.unseal(blob.as_bytes(), "").unwrap(), key);
}

#[test]
fn sixty_four_bit_pointer_mode_round_trips_above_4_gib() {
    let mut cfg = config();
    cfg.pointer_size = PointerSize::Bits64;
    let (caam, _) = caam(SimConfig::secure(OTPMK), cfg, 0x1_2000_0000);
    let mut source = CaamSource::new(caam);
    let key = key(128, 2);
    let blob = source.seal(&key, "").unwrap();
    assert_eq!(source.unseal(blob.as_bytes(), "").unwrap(), key);
    assert_eq!(source.driver_mut().regs().last_descriptor()[0], 0xB080_000C);
}

#[test]
fn sixty_four_bit_mode_needs_ctpr_ps() {
    let mut cfg = config();
    cfg.pointer_size = PointerSize::Bits64;
    let mut sim = SimConfig::secure(OTPMK);
    sim.long_pointers = false;
    let (mut caam, _) = caam(sim, cfg, BUS);
    assert!(matches!(caam.init(), Err(CaamError::Unsupported(_))));
}

#[test]
fn thirty_two_bit_mode_refuses_a_dma_region_above_4_gib() {
    let dma = leaked_dma(DMA_LEN, 0x1_0000_0000);
    let sim = CaamSim::new(dma.bus(), SimConfig::secure(OTPMK));
    let r = hal_caam::Caam::new(sim, dma, CountingDelay::default(), Config::new(0));
    assert!(matches!(
        r,
        Err(CaamError::Config(hal_caam::ConfigError::DmaRange(
            0x1_0000_0000
        )))
    ));
}

#[test]
fn rng_must_be_instantiated_before_use() {
    let (mut caam, bus) = secure_caam();
    caam.init().unwrap();
    let mut out = [0xAAu8; 16];
    let err = caam.random(&mut out).unwrap_err();
    // CCB, CHA RNG, "not instantiated", at the OPERATION (index 1).
    assert_eq!(err, CaamError::Job(JobStatus::decode(0x2000_0154).unwrap()));
    assert_eq!(out, [0; 16]);
    assert_dma_zeroed(&bus);
    // A blob needs the RNG too (for its blob key).
    let mut blob = [0u8; 80];
    assert!(
        caam.encapsulate(hal_caam::KeyMod::Immediate(b"k"), &[0; 32], &mut blob)
            .is_err()
    );

    assert_eq!(caam.rng_instantiate().unwrap(), RngInit::Instantiated(2));
    assert_eq!(
        caam.regs().rdsta() & 0x4000_0033,
        0x4000_0033,
        "IF0/1, PR0/1, SKVN"
    );
    assert_eq!(
        caam.rng_instantiate().unwrap(),
        RngInit::AlreadyInstantiated
    );
    caam.random(&mut out).unwrap();
    assert_ne!(out, [0; 16]);
    let mut more = [0u8; 16];
    caam.random(&mut more).unwrap();
    assert_ne!(out, more);
}

#[test]
fn rng_instantiation_retries_with_longer_entropy_delay() {
    let mut sim = SimConfig::secure(OTPMK);
    sim.min_entropy_delay = 3600; // two retries: 3200, 3400, 3600
    let (mut caam, _) = caam(sim, config(), BUS);
    caam.init().unwrap();
    assert_eq!(caam.rng_instantiate().unwrap(), RngInit::Instantiated(2));
    let mut sim = SimConfig::secure(OTPMK);
    sim.min_entropy_delay = 20_000; // beyond OP-TEE's 12800 limit
    let (mut caam, _) = caam_fresh(sim);
    let err = caam.rng_instantiate().unwrap_err();
    assert!(matches!(err, CaamError::Job(s) if s.is_rng_hardware_error()));
}

fn caam_fresh(sim: SimConfig) -> (SimCaam, trusted_core::DmaBus) {
    let (mut c, b) = caam(sim, config(), BUS);
    assert_eq!(c.init(), Ok(()));
    (c, b)
}

#[test]
fn caam_rng_is_a_rand_core_try_rng() {
    let (mut caam, _) = caam_fresh(SimConfig::secure(OTPMK));
    assert!(caam.try_next_u32().is_err(), "not instantiated yet");
    caam.rng_instantiate().unwrap();
    let a = caam.try_next_u64().unwrap();
    let b = caam.try_next_u64().unwrap();
    assert_ne!(a, b);
    let mut big = vec![0u8; 1200]; // more than one DMA chunk
    caam.try_fill_bytes(&mut big).unwrap();
    assert!(big[600..].iter().any(|&b| b != 0));
}

#[test]
fn huk_is_the_first_16_bytes_of_the_mkvb() {
    let (mut caam, bus) = caam_fresh(SimConfig::secure(OTPMK));
    let mut mkvb = [0u8; 32];
    caam.master_key_verification_blob(&mut mkvb).unwrap();
    assert_dma_zeroed(&bus);
    let mut huk = CaamHuk::new(&mut caam, HukOptions::default()).unwrap();
    assert_eq!(*huk.hardware_unique_key().unwrap(), mkvb[..16]);
    // Same OTPMK, same HUK; other OTPMK, other HUK.
    let (mut again, _) = caam_fresh(SimConfig::secure(OTPMK));
    let mut other = CaamHuk::new(&mut again, HukOptions::default()).unwrap();
    assert_eq!(*other.hardware_unique_key().unwrap(), mkvb[..16]);
    let (mut third, _) = caam_fresh(SimConfig::secure([0x33; 32]));
    let mut third = CaamHuk::new(&mut third, HukOptions::default()).unwrap();
    assert_ne!(*third.hardware_unique_key().unwrap(), mkvb[..16]);
}

#[test]
fn priblob_increment_changes_the_mkvb_and_stops_at_3() {
    let (mut caam, _) = caam_fresh(SimConfig::secure(OTPMK));
    let opts = HukOptions::new().increment_priblob();
    let mut first = CaamHuk::new(&mut caam, opts).unwrap();
    let mut second = CaamHuk::new(&mut caam, opts).unwrap();
    assert_ne!(
        *first.hardware_unique_key().unwrap(),
        *second.hardware_unique_key().unwrap()
    );
    // PRIBLOB is now 3: reading works, incrementing again is refused.
    assert_eq!(CaamHuk::new(&mut caam, opts).err(), Some(Error::Locked));
    assert_eq!(caam.increment_priblob(), Err(CaamError::PriblobExhausted));
}

#[test]
fn huk_refuses_non_secure_state_unless_allowed() {
    let (mut caam, _) = caam_fresh(SimConfig::non_secure(OTPMK));
    assert!(matches!(
        CaamHuk::new(&mut caam, HukOptions::default()),
        Err(Error::InsecureState(_))
    ));
    let opts = HukOptions::new().allow_insecure();
    assert!(CaamHuk::new(&mut caam, opts).is_ok());
}

#[test]
fn tee_sealer_runs_on_the_caam_huk_and_rng() {
    let (mut caam, _) = caam_fresh(SimConfig::secure(OTPMK));
    caam.rng_instantiate().unwrap();
    let huk = CaamHuk::new(&mut caam, HukOptions::default()).unwrap();
    let mut tee = TeeSealer::new(huk, &mut caam);
    let key = Key::from_slice(&[0x42; 48]).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    assert_eq!(blob.len(), 48 + 33);
    assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
}

/// A CAAM with one state handle (CTPR_MS.RNG_I = 1): only SH0 is
/// instantiated, SH1 is neither asked for nor expected in RDSTA.
#[test]
fn rng_instantiation_with_one_state_handle() {
    let mut sim = SimConfig::secure(OTPMK);
    sim.rng_handles = 1;
    let (mut caam, _) = caam_fresh(sim);
    assert_eq!(caam.rng_instantiate().unwrap(), RngInit::Instantiated(1));
    assert_eq!(caam.regs().rdsta() & 0x4000_0003, 0x4000_0001, "IF0, SKVN");
    // SH0 instantiate, jump, clear written; then the secure keys.
    assert_eq!(caam.regs().last_descriptor().len(), 6);
    assert_eq!(
        caam.rng_instantiate().unwrap(),
        RngInit::AlreadyInstantiated
    );
}
