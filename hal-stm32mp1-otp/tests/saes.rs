//! The SAES driver and OP-TEE's SAES DHUK subkey derivation on the
//! register-level model: known answers from the independent Python script
//! (vectors/saes_kdf.py) for both `size_t` layouts, TEE blobs that move
//! between the SAES provider and a provider holding the Python-derived TA
//! key, every fault hook, every refused input, and the wipe.

use hal_stm32mp1_otp::regs::saes as regs;
use hal_stm32mp1_otp::saes::{SAES_TIMEOUT_US, SaesKdf, SizeT, Stm32Saes};
use hal_stm32mp1_otp::sim::saes::{Fault, SaesSim};
use hal_stm32mp1_otp::{Chaining, Error, SaesFault, Wait, error::saes_code};
use trusted_core::huk::{HukSubkeyUsage, TRUSTED_KEYS_TA_UUID};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{
    CountingDelay, ScriptRng, Section, hex, section, sections_with, vectors,
};
use trusted_core::{Key, Mmio, StaticSubkey, SubkeyDerive, TrustSource};

const VECTORS: &str = include_str!("vectors/saes_kdf.txt");

mod common;

use common::{saes_driver, saes_kdf, size_t};

#[allow(clippy::panic, reason = "an unknown vector value fails the test")]
fn usage(v: &Section) -> HukSubkeyUsage {
    match v.get("usage") {
        "0" => HukSubkeyUsage::Rpmb,
        "1" => HukSubkeyUsage::Ssk,
        "2" => HukSubkeyUsage::DieId,
        "3" => HukSubkeyUsage::UniqueTa,
        "4" => HukSubkeyUsage::TaEnc,
        "5" => HukSubkeyUsage::Se050,
        other => panic!("usage {other}"),
    }
}

/// `-` is OP-TEE's NULL, which the seam spells as an empty slice.
fn const_data(v: &Section) -> Vec<u8> {
    match v.get("const_data") {
        "-" => Vec::new(),
        _ => v.bytes("const_data"),
    }
}

#[allow(clippy::unwrap_used, reason = "a malformed vector fails the test")]
fn length(v: &Section) -> usize {
    v.get("length").parse().unwrap()
}

fn ta_key(sim: &mut SaesSim, size_t: SizeT) -> Result<[u8; 32], trusted_core::Error> {
    let mut out = [0u8; 32];
    saes_kdf(sim, size_t).derive_subkey(
        HukSubkeyUsage::UniqueTa,
        &TRUSTED_KEYS_TA_UUID,
        &mut out,
    )?;
    Ok(out)
}

/// Lets the model's BUSY run out (a reset's RNG fetch, a key load), as a
/// driver polling SR would.
fn settle(sim: &mut SaesSim) {
    for _ in 0..10 {
        sim.read32(regs::SR);
    }
}

/// Selects the DHUK by hand, as the driver does, and waits for KEYVALID.
fn load_dhuk(sim: &mut SaesSim, extra: u32) {
    settle(sim);
    sim.write32(regs::CR, regs::CR_KEYSEL_DHUK | extra);
    settle(sim);
    assert!(sim.key_loaded());
}

// --- Known answers --------------------------------------------------------

#[test]
fn kdf_matches_python_for_every_vector_in_both_size_t_layouts() {
    let all = vectors(VECTORS);
    let cases = sections_with(&all, "kdf-");
    assert_eq!(cases.len(), 10);
    for v in cases {
        let mut sim = SaesSim::new(v.array("dhuk"));
        let mut out = vec![0xAA; length(v)];
        saes_kdf(&mut sim, size_t(v))
            .derive_subkey(usage(v), &const_data(v), &mut out)
            .unwrap();
        assert_eq!(hex(&out), v.get("subkey"), "[{}]", v.name);
    }
}

#[test]
fn both_size_t_layouts_are_covered_and_differ() {
    let all = vectors(VECTORS);
    let a = section(&all, "kdf-ta-32");
    let b = section(&all, "kdf-ta-64");
    assert_eq!(a.get("input").len() + 8, b.get("input").len());
    assert!(b.get("input").ends_with("0000010000000000"));
    assert_ne!(a.get("subkey"), b.get("subkey"));
}

#[test]
fn cmac_under_the_dhuk_matches_python_around_block_boundaries() {
    let all = vectors(VECTORS);
    let cases = sections_with(&all, "cmac-");
    assert_eq!(cases.len(), 8);
    for v in cases {
        let mut sim = SaesSim::new(v.array("dhuk"));
        let mut mac = [0xAA; 16];
        saes_driver(&mut sim, regs::MP13)
            .dhuk_cmac(&v.bytes("msg"), &mut mac)
            .unwrap();
        assert_eq!(hex(&mac), v.get("mac"), "[{}]", v.name);
    }
}

/// OP-TEE's own block sequence (ECB for L, a CBC session over all blocks
/// but the last, then a second CBC session from a zero IV for the last
/// block) built from the driver's ECB/CBC primitive gives the same CMAC as
/// the driver's single CBC pass.
#[test]
fn optee_session_sequence_and_the_single_cbc_pass_agree() {
    let all = vectors(VECTORS);
    let v = section(&all, "cmac-45");
    let msg = v.bytes("msg");
    let mut sim = SaesSim::new(v.array("dhuk"));
    let mut saes = saes_driver(&mut sim, regs::MP13);
    let mut l = [0u8; 16];
    saes.dhuk_encrypt(Chaining::Ecb, &mut l).unwrap();
    let dbl = |b: [u8; 16]| {
        let v = u128::from_be_bytes(b);
        ((v << 1) ^ if v >> 127 == 1 { 0x87 } else { 0 }).to_be_bytes()
    };
    let k2 = dbl(dbl(l));
    let processed = (msg.len() - 1) / 16 * 16;
    let mut body = msg[..processed].to_vec();
    saes.dhuk_encrypt(Chaining::Cbc, &mut body).unwrap();
    let mut last = [0u8; 16];
    last.copy_from_slice(&body[processed - 16..]);
    for (b, m) in last.iter_mut().zip(&msg[processed..]) {
        *b ^= m;
    }
    last[msg.len() - processed] ^= 0x80;
    last.iter_mut().zip(k2).for_each(|(b, k)| *b ^= k);
    saes.dhuk_encrypt(Chaining::Cbc, &mut last).unwrap();
    assert_eq!(hex(&last), v.get("mac"));
}

#[test]
fn mp21_register_block_gives_the_same_subkeys() {
    let all = vectors(VECTORS);
    for name in ["kdf-ta-64", "kdf-dieid-null-64"] {
        let v = section(&all, name);
        let mut sim = SaesSim::new(v.array("dhuk")).with_layout(regs::MP21);
        let mut out = vec![0; length(v)];
        SaesKdf::stm32mp2(saes_driver(&mut sim, regs::MP21))
            .derive_subkey(usage(v), &const_data(v), &mut out)
            .unwrap();
        assert_eq!(hex(&out), v.get("subkey"), "[{name}]");
    }
}

#[test]
fn a_driver_for_the_wrong_block_fails_instead_of_deriving() {
    let mut sim = SaesSim::new([7; 16]).with_layout(regs::MP21);
    let mut out = [0xAA; 32];
    let result = SaesKdf::stm32mp2(saes_driver(&mut sim, regs::MP13)).derive_subkey(
        HukSubkeyUsage::UniqueTa,
        &TRUSTED_KEYS_TA_UUID,
        &mut out,
    );
    assert!(result.is_err());
    assert_eq!(out, [0; 32]);
}

// --- TEE blobs: the SAES provider and the Python TA key, both ways ---------

#[test]
fn tee_blobs_through_the_saes_match_python_and_move_both_ways() {
    let all = vectors(VECTORS);
    for name in ["tee-32", "tee-64"] {
        let v = section(&all, name);
        let key = Key::from_slice(&v.bytes("key")).unwrap();
        let python_ta_key = v.array::<32>("ta_key");
        let mut sim = SaesSim::new(v.array("dhuk"));
        let mut saes_tee = TeeSealer::new(
            saes_kdf(&mut sim, size_t(v)),
            ScriptRng::new(&v.bytes("iv")),
        );
        // Sealed through the SAES: the Python blob, byte for byte...
        let blob = saes_tee.seal(&key, "").unwrap();
        assert_eq!(blob.to_string(), v.get("blob"), "[{name}]");
        // ...which a sealer holding only the Python-derived TA key unseals.
        let mut python_tee = TeeSealer::new(
            StaticSubkey::trusted_keys_ta(python_ta_key),
            ScriptRng::counting(40),
        );
        assert_eq!(python_tee.unseal(blob.as_bytes(), "").unwrap(), key);
        // The reverse: sealed with the Python TA key (another IV), unsealed
        // through the SAES.
        let other = Key::from_slice(&[0x5C; 64]).unwrap();
        let blob = python_tee.seal(&other, "").unwrap();
        assert_eq!(saes_tee.unseal(blob.as_bytes(), "").unwrap(), other);
    }
}

#[test]
fn blobs_are_bound_to_the_dhuk_and_to_the_size_t_layout() {
    let all = vectors(VECTORS);
    let v = section(&all, "tee-32");
    let blob = v.bytes("blob");
    let mut other_device = SaesSim::new(section(&all, "kdf-ta-dhuk2-32").array("dhuk"));
    let mut tee = TeeSealer::new(
        SaesKdf::stm32mp13(saes_driver(&mut other_device, regs::MP13)),
        ScriptRng::new(&[]),
    );
    assert_eq!(tee.unseal(&blob, ""), Err(trusted_core::Error::AuthFailed));
    let mut same_device_64 = SaesSim::new(v.array("dhuk"));
    let mut tee = TeeSealer::new(
        SaesKdf::stm32mp2(saes_driver(&mut same_device_64, regs::MP25)),
        ScriptRng::new(&[]),
    );
    assert_eq!(tee.unseal(&blob, ""), Err(trusted_core::Error::AuthFailed));
}

// --- What a derivation costs ----------------------------------------------

#[test]
fn saes_operations_per_derived_ta_key() {
    // (size_t, first derivation incl. self test, each later one) as
    // (AES blocks, key loads). Per derivation, twice: L = 1 ECB block,
    // K(0) over 25 (29) bytes = 2 CBC blocks, K(1) and K(2) over 45 (49)
    // bytes = 3 (4) CBC blocks each; the self test is 1 block, 1 load.
    for (size_t, first, later) in [
        (SizeT::Bytes4, (19, 9), (18, 8)),
        (SizeT::Bytes8, (23, 9), (22, 8)),
    ] {
        let mut sim = SaesSim::new([0x42; 16]);
        let mut kdf = saes_kdf(&mut sim, size_t);
        let mut out = [0u8; 32];
        kdf.derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut out)
            .unwrap();
        let saes = kdf.driver_mut();
        assert_eq!((saes.blocks(), saes.key_loads()), first, "{size_t:?}");
        kdf.derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut out)
            .unwrap();
        let saes = kdf.driver_mut();
        let total = (first.0 + later.0, first.1 + later.1);
        assert_eq!((saes.blocks(), saes.key_loads()), total, "{size_t:?}");
        // The model counted the same work.
        assert_eq!((sim.blocks(), sim.key_loads()), total, "{size_t:?}");
    }
}

// --- Secrecy and the wipe ---------------------------------------------------

/// Every register of the block, read once.
fn all_registers(mmio: &mut impl Mmio) -> Vec<u32> {
    (0..regs::SAES_SIZE)
        .step_by(4)
        .map(|o| mmio.read32(o))
        .collect()
}

#[allow(clippy::unwrap_used, reason = "a malformed vector fails the test")]
fn reveals(words: &[u32], secret: &[u8; 16]) -> bool {
    secret.windows(4).any(|w| {
        let w: [u8; 4] = w.try_into().unwrap();
        let (be, le) = (u32::from_be_bytes(w), u32::from_le_bytes(w));
        words.iter().any(|&r| r != 0 && (r == be || r == le))
    })
}

#[test]
fn no_register_reveals_the_dhuk_even_while_it_is_loaded() {
    let dhuk = *b"\x8f\x3a\xd1\xc0\x5e\x77\x29\xb4\xc6\xe1\x0d\x5a\xa3\x92\x7f\x61";
    let mut sim = SaesSim::new(dhuk);
    load_dhuk(&mut sim, regs::CR_DATATYPE_BYTE);
    let words = all_registers(&mut sim);
    assert!(!reveals(&words, &dhuk));
    let debug = format!("{sim:?}");
    assert!(!debug.contains(&hex(&dhuk[..4])) && !debug.contains(&format!("{}", dhuk[0])));
}

#[test]
fn nothing_half_derived_is_left_in_the_saes_after_a_derivation() {
    let mut sim = SaesSim::new([0x42; 16]);
    let key = ta_key(&mut sim, SizeT::Bytes4).unwrap();
    assert!(!sim.key_loaded());
    // IVR would hold the last CBC output, K(2), the second half of the TA
    // key, had the driver left it as OP-TEE's saes_end does.
    let iv: Vec<u32> = (0..4)
        .map(|i| sim.read32(regs::MP13.ivr0 + 4 * i))
        .collect();
    assert_eq!(iv, [0; 4]);
    let words = all_registers(&mut sim);
    let halves: [[u8; 16]; 2] = [key[..16].try_into().unwrap(), key[16..].try_into().unwrap()];
    assert!(!halves.iter().any(|h| reveals(&words, h)));
}

// --- Faults -----------------------------------------------------------------

/// Runs a TA-key derivation with `setup` applied to a fresh model; returns
/// the provider's core error and checks that nothing is left behind.
#[allow(
    clippy::unwrap_used,
    reason = "the helper returns the failure; a success fails the test"
)]
fn derive_after(setup: impl FnOnce(&mut SaesSim)) -> trusted_core::Error {
    let mut sim = SaesSim::new([0x42; 16]);
    setup(&mut sim);
    let mut out = [0xAA; 32];
    let err = saes_kdf(&mut sim, SizeT::Bytes4)
        .derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut out)
        .unwrap_err();
    assert_eq!(out, [0; 32], "{err:?}: the output buffer must be zero");
    assert!(!sim.key_loaded(), "{err:?}: the key must be erased");
    sim.clear_faults();
    sim.set_clock(true);
    sim.hold_reset(false);
    let iv: Vec<u32> = (0..4)
        .map(|i| sim.read32(regs::MP13.ivr0 + 4 * i))
        .collect();
    assert_eq!(iv, [0; 4], "{err:?}: the chaining value must be wiped");
    err
}

#[allow(
    clippy::unwrap_used,
    reason = "the helper returns the failure; a success fails the test"
)]
fn saes_fault(sim: &mut SaesSim) -> Error {
    let mut l = [0u8; 16];
    saes_driver(sim, regs::MP13)
        .dhuk_encrypt(Chaining::Ecb, &mut l)
        .unwrap_err()
}

type Setup = fn(&mut SaesSim);

#[test]
fn every_fault_is_its_own_error_on_the_driver_and_the_provider() {
    use trusted_core::Error as Core;
    let cases: [(&str, Setup, Error, Core); 9] = [
        (
            "busy stuck",
            |s| s.inject(Fault::BusyStuck),
            Error::Timeout(Wait::SaesBusy),
            Core::Timeout,
        ),
        (
            "key error",
            |s| s.inject(Fault::KeyError),
            Error::Saes(SaesFault::KeyError),
            Core::Hardware(saes_code::KEY_ERROR),
        ),
        (
            "no DHUK on this part",
            |s| s.set_dhuk_available(false),
            Error::Saes(SaesFault::KeyError),
            Core::Hardware(saes_code::KEY_ERROR),
        ),
        (
            "read error",
            |s| s.inject(Fault::ReadError),
            Error::Saes(SaesFault::ReadError),
            Core::Hardware(saes_code::READ_ERROR),
        ),
        (
            "write error",
            |s| s.inject(Fault::WriteError),
            Error::Saes(SaesFault::WriteError),
            Core::Hardware(saes_code::WRITE_ERROR),
        ),
        (
            "RNG error",
            |s| s.inject(Fault::RngError),
            Error::Saes(SaesFault::RngError),
            Core::Hardware(saes_code::RNG_ERROR),
        ),
        (
            "stuck data bit",
            |s| s.inject(Fault::CorruptOutput),
            Error::Saes(SaesFault::SelfTestFailed),
            Core::Hardware(saes_code::SELF_TEST),
        ),
        (
            "clock off",
            |s| s.set_clock(false),
            Error::Saes(SaesFault::NotResponding),
            Core::NoDevice,
        ),
        (
            "held in reset",
            |s| s.hold_reset(true),
            Error::Saes(SaesFault::NotResponding),
            Core::NoDevice,
        ),
    ];
    for (what, setup, driver_error, core_error) in cases {
        let mut sim = SaesSim::new([1; 16]);
        setup(&mut sim);
        let mut saes = saes_driver(&mut sim, regs::MP13);
        // The self test is where a stuck bit shows; the rest show anywhere.
        let seen = saes.self_test().and_then(|()| {
            let mut l = [0u8; 16];
            saes.dhuk_encrypt(Chaining::Ecb, &mut l)
        });
        assert_eq!(seen, Err(driver_error), "{what}");
        assert_eq!(derive_after(setup), core_error, "{what}");
    }
}

#[test]
fn busy_stuck_is_bounded_by_the_saes_timeout() {
    let mut sim = SaesSim::new([1; 16]);
    sim.inject(Fault::BusyStuck);
    let mut saes = saes_driver(&mut sim, regs::MP13);
    let mut l = [0u8; 16];
    assert_eq!(
        saes.dhuk_encrypt(Chaining::Ecb, &mut l),
        Err(Error::Timeout(Wait::SaesBusy))
    );
    let (_, delay) = saes.into_inner();
    let budget_ns = u64::from(SAES_TIMEOUT_US) * 1000;
    assert!(delay.waited_ns >= budget_ns && delay.waited_ns <= budget_ns + 100_000);
}

#[test]
fn a_transient_key_error_passes_but_a_missing_dhuk_stays() {
    let mut sim = SaesSim::new([1; 16]);
    sim.inject(Fault::KeyError);
    assert_eq!(saes_fault(&mut sim), Error::Saes(SaesFault::KeyError));
    let mut l = [0u8; 16];
    saes_driver(&mut sim, regs::MP13)
        .dhuk_encrypt(Chaining::Ecb, &mut l)
        .unwrap();
    sim.set_dhuk_available(false);
    assert_eq!(saes_fault(&mut sim), Error::Saes(SaesFault::KeyError));
    assert_eq!(saes_fault(&mut sim), Error::Saes(SaesFault::KeyError));
}

#[test]
fn a_glitched_output_block_is_caught_by_the_second_derivation() {
    let mut sim = SaesSim::new([1; 16]);
    let mut kdf = saes_kdf(&mut sim, SizeT::Bytes4);
    let mut good = [0u8; 32];
    kdf.derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut good)
        .unwrap();
    kdf.driver_mut().regs_mut().inject(Fault::CorruptOutputOnce);
    let mut out = [0xAA; 32];
    assert_eq!(
        kdf.derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut out),
        Err(trusted_core::Error::Hardware(saes_code::UNSTABLE))
    );
    assert_eq!(out, [0; 32]);
    kdf.derive_subkey(HukSubkeyUsage::UniqueTa, &TRUSTED_KEYS_TA_UUID, &mut out)
        .unwrap();
    assert_eq!(out, good);
}

#[test]
fn readiness_follows_the_clock_the_reset_line_and_the_firewall() {
    let mut sim = SaesSim::new([1; 16]);
    assert!(saes_driver(&mut sim, regs::MP13).is_ready());
    sim.set_clock(false);
    assert!(!saes_driver(&mut sim, regs::MP13).is_ready());
    sim.set_clock(true);
    sim.hold_reset(true);
    assert!(!saes_driver(&mut sim, regs::MP13).is_ready());
    sim.hold_reset(false);
    assert!(saes_driver(&mut sim, regs::MP13).is_ready());
    let mut l = [0u8; 16];
    let ns = Stm32Saes::new(sim.non_secure(), CountingDelay::default(), regs::MP13)
        .dhuk_encrypt(Chaining::Ecb, &mut l);
    assert_eq!(ns, Err(Error::Saes(SaesFault::NotResponding)));
}

#[test]
fn the_normal_world_gets_another_dhuk_and_cannot_open_secure_blobs() {
    let mut sim = SaesSim::new([0x42; 16]);
    let secure = ta_key(&mut sim, SizeT::Bytes4).unwrap();
    let mut tee = TeeSealer::new(
        StaticSubkey::trusted_keys_ta(secure),
        ScriptRng::counting(1),
    );
    let key = Key::from_slice(&[9; 32]).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    sim.open_firewall(true);
    let ns_saes = Stm32Saes::new(sim.non_secure(), CountingDelay::default(), regs::MP13);
    let mut ns_tee = TeeSealer::new(SaesKdf::stm32mp13(ns_saes), ScriptRng::counting(2));
    assert_eq!(
        ns_tee.unseal(blob.as_bytes(), ""),
        Err(trusted_core::Error::AuthFailed)
    );
}

#[test]
fn a_key_loaded_by_one_world_raises_keif_when_touched_by_the_other() {
    let mut sim = SaesSim::new([3; 16]);
    sim.open_firewall(true);
    load_dhuk(&mut sim, 0);
    let isr = sim.non_secure().read32(regs::ISR);
    assert_ne!(isr & regs::MP13.i_keif, 0);
    assert!(!sim.key_loaded());
}

// --- Refused input ------------------------------------------------------------

#[test]
fn subkey_lengths_optee_does_not_accept_are_refused_before_the_saes_is_touched() {
    let mut sim = SaesSim::new([1; 16]);
    for len in [0usize, 33, 48] {
        let mut out = vec![0xAA; len];
        assert_eq!(
            saes_kdf(&mut sim, SizeT::Bytes4).derive_subkey(
                HukSubkeyUsage::UniqueTa,
                &[],
                &mut out
            ),
            Err(trusted_core::Error::InvalidArgument(
                "subkey length must be 1..=32"
            ))
        );
        assert!(out.iter().all(|&b| b == 0));
    }
    assert_eq!((sim.blocks(), sim.key_loads()), (0, 0));
}

#[test]
fn partial_or_empty_blocks_are_refused_and_zeroed() {
    let mut sim = SaesSim::new([1; 16]);
    let mut saes = saes_driver(&mut sim, regs::MP13);
    for len in [0usize, 15, 17, 31] {
        let mut data = vec![0xAA; len];
        assert_eq!(
            saes.dhuk_encrypt(Chaining::Cbc, &mut data),
            Err(Error::Saes(SaesFault::BadLength))
        );
        assert!(data.iter().all(|&b| b == 0));
    }
}

#[test]
fn probe_self_test_and_readiness_on_a_healthy_saes() {
    let mut sim = SaesSim::new([1; 16]);
    let mut saes = saes_driver(&mut sim, regs::MP13);
    assert_eq!(saes.probe(), Ok(()));
    assert!(saes.is_ready());
    assert_eq!(saes.self_test(), Ok(()));
    assert!(!sim.key_loaded());
}

// --- The model itself follows the reference manual ---------------------------

#[test]
fn model_refuses_software_keys_written_out_of_order() {
    let mut sim = SaesSim::new([1; 16]);
    settle(&mut sim);
    sim.write32(regs::CR, regs::CR_KEYSEL_SOFT);
    sim.write32(regs::MP13.keyr0 + 4, 1);
    assert_ne!(sim.read32(regs::ISR) & regs::MP13.i_keif, 0);
    assert!(!sim.key_loaded());
}

#[test]
fn model_keeps_en_clear_without_a_key_and_flags_early_dinr_writes() {
    let mut sim = SaesSim::new([1; 16]);
    settle(&mut sim);
    sim.write32(regs::CR, regs::CR_EN);
    assert_eq!(sim.read32(regs::CR) & regs::CR_EN, 0);
    // Load the DHUK, enable, feed a block, then write again before reading.
    load_dhuk(&mut sim, 0);
    sim.write32(regs::CR, regs::CR_KEYSEL_DHUK | regs::CR_EN);
    for _ in 0..4 {
        sim.write32(regs::DINR, 0);
    }
    assert_ne!(sim.read32(regs::ISR) & regs::MP13.i_ccf, 0);
    sim.write32(regs::DINR, 0);
    assert_ne!(sim.read32(regs::SR) & regs::MP13.sr_wrerr, 0);
    // Reading past the output is a read error that returns zero.
    for _ in 0..4 {
        sim.read32(regs::DOUTR);
    }
    assert_eq!(sim.read32(regs::DOUTR), 0);
    assert_ne!(sim.read32(regs::SR) & regs::MP13.sr_rderr, 0);
}

/// OP-TEE's `restore_context`: IPRST set, then the whole CR (DHUK, CBC,
/// byte swapping) written in the write that releases it; the key loads.
#[test]
fn model_takes_the_configuration_written_with_the_reset_release() {
    let mut sim = SaesSim::new([1; 16]);
    settle(&mut sim);
    let cr = regs::CR_KEYSEL_DHUK | regs::CR_CHMOD_CBC | regs::CR_DATATYPE_BYTE;
    let before = sim.read32(regs::CR);
    sim.write32(regs::CR, before | regs::CR_IPRST);
    sim.write32(regs::CR, cr);
    assert_eq!(sim.read32(regs::CR), cr);
    settle(&mut sim);
    assert!(sim.key_loaded());
}
