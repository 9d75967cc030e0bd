//! Every TPM 2.0 response parser (`hal_tpm_spi::{tpm2, object, policy,
//! salted, source}`): the fuzz input is a list of operations, a blob, and
//! the TPM's answers in order, fed through a scripted transport (with the
//! response header made plausible when asked, so the parameter parsers
//! behind it run). Seal, unseal and random must leave the command and
//! response buffers zeroed on every path, and an unseal that succeeds
//! must return a key of a valid length.
#![no_main]

use hal_tpm_spi::spec::SRK_HANDLE;
use hal_tpm_spi::{Auth, PcrSelection, Tpm, TpmSource};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::ScriptRng;
use trusted_core::{Key, MAX_KEY_SIZE, MIN_KEY_SIZE, TrustSource};
use trusted_keys_fuzz::{ScriptedTpm, pieces};

const OPTIONS: &str = "keyhandle=0x81000001";

fn raw_command(tpm: &mut Tpm<ScriptedTpm<'_>>, op: u8, sel: &PcrSelection, blob: &[u8]) {
    let mut buf = [0u8; 512];
    match op {
        0 => drop(tpm.startup()),
        1 => drop(tpm.self_test(true)),
        2 => drop(tpm.get_random(&mut buf[..40])),
        3 => drop(tpm.tpm_property(0x105)),
        4 => drop(tpm.create_primary_ecc_srk(0x4000_0001, Auth::Password(&[]))),
        5 => drop(tpm.evict_control(Auth::Password(&[]), 0x8000_0000, SRK_HANDLE)),
        6 => drop(tpm.read_public(SRK_HANDLE, &mut buf)),
        7 => drop(tpm.create_sealed(
            SRK_HANDLE,
            Auth::Password(&[0; 20]),
            b"pw",
            &[1; 128],
            0x000B,
            0x40,
            &[2; 32],
            &mut buf,
        )),
        8 => drop(tpm.load(SRK_HANDLE, Auth::Password(&[]), blob)),
        9 => drop(tpm.unseal(
            0x8000_0001,
            Auth::Policy {
                session: 0x0300_0000,
                password: b"x",
            },
            &mut buf[..129],
        )),
        10 => drop(tpm.flush_context(0x8000_0001)),
        11 => drop(tpm.pcr_read(sel, |_, _| {})),
        12 => drop(tpm.pcr_digest(sel)),
        13 => drop(tpm.pcr_extend(16, &[0; 32])),
        14 => drop(tpm.start_policy_session(true)),
        15 => drop(tpm.policy_pcr(0x0300_0000, &[], sel)),
        16 => drop(tpm.policy_get_digest(0x0300_0000)),
        17 => drop(tpm.pcr_policy_digest(sel)),
        _ => {
            let mut rng = ScriptRng::counting(op);
            if let Ok(salt) = tpm.read_salt_key(SRK_HANDLE)
                && let Ok(mut s) = tpm.start_salted_session(&salt, 0x00, &mut rng)
            {
                let _ = tpm.get_random_encrypted(&mut s, &mut rng, &mut buf[..40], true);
                tpm.end_session(&mut s);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let control = parts.next().unwrap_or_default();
    let blob = parts.next().unwrap_or_default();
    let answers: Vec<&[u8]> = parts.collect();
    let (flags, ops) = control.split_first().unwrap_or((&0, &[]));
    let sel = PcrSelection::sha256(&[0, 7, 16]).expect("valid PCRs");
    let transport = ScriptedTpm::new(answers, flags & 1 != 0);
    let mut src = TpmSource::new(transport, ScriptRng::counting(*flags));
    if flags & 2 != 0 {
        src = src.allow_insecure();
    }
    if flags & 4 != 0 {
        src = src.with_srk_name([0x5a; 34]);
    }
    let key = Key::from_slice(&[0x42; 32]).expect("32 bytes");
    for &op in ops.iter().take(16) {
        match op % 32 {
            0 => drop(src.init()),
            1 => {
                let mut out = [0xa5u8; 40];
                if src.random(&mut out).is_err() {
                    assert!(out.iter().all(|&b| b == 0), "failed random leaves bytes");
                }
            }
            2 => drop(src.seal(&key, OPTIONS)),
            3 => {
                if let Ok(k) = src.unseal(blob, OPTIONS) {
                    assert!((MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&k.len()));
                }
            }
            4 => drop(src.seal_with_pcrs(&key, OPTIONS, &sel)),
            5 => drop(src.unseal_with_pcrs(blob, OPTIONS, &sel)),
            6 => drop(src.srk_name(SRK_HANDLE)),
            7 => drop(src.provision_srk(SRK_HANDLE)),
            op => raw_command(src.driver_mut(), op - 8, &sel, blob),
        }
        if matches!(op % 32, 1..=3 | 5) {
            assert!(
                src.driver_mut().buffers_zeroed(),
                "op {} left buffers",
                op % 32
            );
        }
    }
});
