//! The driver over the TIS-over-SPI sim with swtpm executing the commands:
//! everything goes through SPI frames, the FIFO protocol and a real TPM 2.0.

mod common;

use common::{Counting, provisioned, source, spi, swtpm, swtpm_sim, temp_dir, tpm2_tool};
use hal_tpm_spi::PcrSelection;
use hal_tpm_spi::TpmSource;
use hal_tpm_spi::policy_pcr_update;
use hal_tpm_spi::spec::SRK_HANDLE;
use rand_core::TryRng;
use trusted_core::test_util::{ScriptRng, hex, section, vectors};
use trusted_core::{Error, Key, TrustSource};

fn device(p: &hal_tpm_spi::sim::swtpm::SwtpmProcess) -> std::io::Result<common::Dev> {
    common::device(p)
}

const OPTS: &str = "keyhandle=0x81000001";

#[test]
fn seal_unseal_round_trip_over_spi() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[0x5a; 32]).unwrap();
    let blob = src.seal(&key, OPTS).unwrap();
    // The Linux TPMKey header: SEQUENCE, OID 2.23.133.10.1.5, emptyAuth
    // TRUE as 0x01, parent 0x81000001, then pubkey.
    let b = blob.as_bytes();
    assert_eq!(b[0], 0x30);
    let body = if b[1] == 0x81 { &b[3..] } else { &b[2..] };
    assert_eq!(
        &body[..21],
        &[
            0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05, 0xa0, 0x03, 0x01, 0x01, 0x01, 0x02,
            0x05, 0x00, 0x81, 0x00, 0x00, 0x01, 0x04
        ]
    );
    let d = hal_tpm_spi::blob::decode(b);
    assert!(!d.old_format && d.empty_auth);
    assert_eq!(
        d.object_attributes(),
        Some(0x40),
        "Linux default: userWithAuth only"
    );
    assert_eq!(src.unseal(b, "").unwrap(), key);
    for len in [33, 64, 128] {
        let key = Key::from_slice(&vec![len as u8; len]).unwrap();
        let blob = src.seal(&key, OPTS).unwrap();
        assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
    }
}

#[test]
fn migratable_0_sets_fixed_tpm_and_parent() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[1; 32]).unwrap();
    let blob = src.seal(&key, "keyhandle=81000001 migratable=0").unwrap();
    assert_eq!(
        hal_tpm_spi::blob::decode(blob.as_bytes()).object_attributes(),
        Some(0x52)
    );
    assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
}

#[test]
fn wrong_blobauth_is_rejected() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[7; 48]).unwrap();
    let blob = src
        .seal(&key, "keyhandle=0x81000001 blobauth=hunter2")
        .unwrap();
    let d = hal_tpm_spi::blob::decode(blob.as_bytes());
    assert!(!d.empty_auth, "emptyAuth is omitted with blobauth");
    assert_eq!(src.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
    assert_eq!(
        src.unseal(blob.as_bytes(), "blobauth=hunter3"),
        Err(Error::AuthFailed)
    );
    assert_eq!(
        src.unseal(blob.as_bytes(), "blobauth=hunter2").unwrap(),
        key
    );
    // A 40-hex-digit blobauth is a 20-byte value.
    let hex = "000102030405060708090a0b0c0d0e0f10111213";
    let blob = src.seal(&key, &format!("{OPTS} blobauth={hex}")).unwrap();
    assert_eq!(
        src.unseal(blob.as_bytes(), &format!("blobauth={hex}"))
            .unwrap(),
        key
    );
    assert_eq!(
        src.unseal(blob.as_bytes(), "blobauth=x"),
        Err(Error::AuthFailed)
    );
}

#[test]
fn keyhandle_is_required_to_seal() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[7; 32]).unwrap();
    assert!(matches!(src.seal(&key, ""), Err(Error::Payload(_))));
    assert!(matches!(
        src.seal(&key, "keyhandle=0x81000001 frob=1"),
        Err(Error::Payload(_))
    ));
}

#[test]
fn pcr_policy_seal_fails_after_pcr_extend() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let sel = PcrSelection::sha256(&[16, 23]).unwrap();
    let key = Key::from_slice(&[0x11; 32]).unwrap();
    let blob = src.seal_with_pcrs(&key, OPTS, &sel).unwrap();
    assert_eq!(
        hal_tpm_spi::blob::decode(blob.as_bytes()).object_attributes(),
        Some(0)
    );
    // Password unseal is refused: no userWithAuth on a policy object.
    assert_eq!(src.unseal(blob.as_bytes(), ""), Err(Error::AuthFailed));
    assert_eq!(
        src.unseal_with_pcrs(blob.as_bytes(), "", &sel).unwrap(),
        key
    );
    src.driver_mut().pcr_extend(16, &[0xAB; 32]).unwrap();
    assert_eq!(
        src.unseal_with_pcrs(blob.as_bytes(), "", &sel),
        Err(Error::AuthFailed)
    );
    // No session leaks: the TPM has 3 session slots at least; fail 5 times.
    for _ in 0..5 {
        assert_eq!(
            src.unseal_with_pcrs(blob.as_bytes(), "", &sel),
            Err(Error::AuthFailed)
        );
    }
}

#[test]
fn offline_policy_digest_equals_trial_session() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = source(&dev).unwrap();
    let sel = PcrSelection::sha256(&[0, 7, 16]).unwrap();
    let tpm = src.driver_mut();
    tpm.pcr_extend(7, &[3; 32]).unwrap();
    let offline = tpm.pcr_policy_digest(&sel).unwrap();
    let s = tpm.start_policy_session(true).unwrap();
    tpm.policy_pcr(s, &[], &sel).unwrap();
    let trial = tpm.policy_get_digest(s).unwrap();
    tpm.flush_context(s).unwrap();
    assert_eq!(&trial[..], &offline[..]);
    // And the known-answer vector for PCR 16 at reset (all zero), made by
    // tests/vectors/policy_pcr.py.
    let all = vectors(include_str!("vectors/policy_pcr.txt"));
    let kat = section(&all, "policy-pcr16-zero");
    let sel16 = PcrSelection::sha256(&[16]).unwrap();
    let zero_pcrs: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest([0u8; 32]).into();
    assert_eq!(zero_pcrs, kat.array::<32>("pcr_digest"));
    let d = policy_pcr_update(&[0; 32], &sel16, &zero_pcrs);
    assert_eq!(hex(&d), kat.get("policy"));
    assert_eq!(
        hex(&tpm.pcr_policy_digest(&sel16).unwrap()),
        kat.get("policy")
    );
}

#[test]
fn linux_policyhandle_unseals_through_caller_session() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let sel = PcrSelection::sha256(&[23]).unwrap();
    let policy = src.driver_mut().pcr_policy_digest(&sel).unwrap();
    let key = Key::from_slice(&[0x22; 32]).unwrap();
    let blob = src
        .seal(&key, &format!("{OPTS} policydigest={}", hex(&policy)))
        .unwrap();
    let s = src.driver_mut().start_policy_session(false).unwrap();
    src.driver_mut().policy_pcr(s, &[], &sel).unwrap();
    assert_eq!(
        src.unseal(blob.as_bytes(), &format!("policyhandle={s:#x}"))
            .unwrap(),
        key
    );
}

#[test]
fn old_format_blob_loads_with_keyhandle() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    // Pre-5.13 Linux sealed key ‖ migratable byte and stored the raw
    // TPM2B_PRIVATE ‖ TPM2B_PUBLIC ‖ creation data.
    let mut data = vec![0x33u8; 32];
    data.push(1);
    let mut raw = [0u8; 512];
    let n = src
        .driver_mut()
        .create_sealed(
            SRK_HANDLE,
            hal_tpm_spi::Auth::Password(&[]),
            &[],
            &data,
            0x000B,
            0x40,
            &[],
            &mut raw,
        )
        .unwrap();
    let mut old = raw[..n].to_vec();
    old.extend_from_slice(&[0xEE; 40]); // trailing creation data, ignored
    assert!(matches!(src.unseal(&old, ""), Err(Error::Payload(_))));
    assert_eq!(
        src.unseal(&old, OPTS).unwrap(),
        Key::from_slice(&[0x33; 32]).unwrap()
    );
}

#[test]
fn get_random_as_try_crypto_rng() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    // With sessions the random bytes come in a session salted to the SRK.
    let mut src = provisioned(&dev).unwrap();
    let mut a = [0u8; 100];
    let mut b = [0u8; 100];
    src.rng().try_fill_bytes(&mut a).unwrap();
    src.random(&mut b).unwrap();
    assert_ne!(a, b);
    assert!(a.iter().any(|&x| x != 0));
    let _ = src.rng().try_next_u64().unwrap();
    assert!(
        src.driver_mut().tpm_property(0x105).unwrap() > 0,
        "TPM_PT_MANUFACTURER"
    );
    src.driver_mut().self_test(false).unwrap();
}

#[test]
fn pcrlock_extends_after_seal() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let sel = PcrSelection::sha256(&[16]).unwrap();
    let before = src.driver_mut().pcr_digest(&sel).unwrap();
    let key = Key::from_slice(&[9; 32]).unwrap();
    src.seal(&key, "keyhandle=0x81000001 pcrlock=16").unwrap();
    assert_ne!(src.driver_mut().pcr_digest(&sel).unwrap(), before);
}

#[test]
fn srk_template_equals_tpm2_tools() {
    let p = swtpm().unwrap();
    let name = {
        let dev = device(&p).unwrap();
        let mut src = provisioned(&dev).unwrap();
        let mut public = [0u8; 512];
        src.driver_mut()
            .read_public(SRK_HANDLE, &mut public)
            .unwrap()
            .1
    }; // connection closed: swtpm serves one client at a time
    let dir = temp_dir("srk").unwrap();
    let tcti = p.tcti();
    tpm2_tool(
        &tcti,
        &dir,
        &[
            "tpm2_createprimary",
            "-Q",
            "-C",
            "o",
            "-g",
            "sha256",
            "-G",
            "ecc256",
            "-c",
            "prim.ctx",
        ],
    )
    .unwrap();
    tpm2_tool(
        &tcti,
        &dir,
        &["tpm2_readpublic", "-Q", "-c", "prim.ctx", "-n", "prim.name"],
    )
    .unwrap();
    tpm2_tool(&tcti, &dir, &["tpm2_flushcontext", "-t"]).unwrap();
    let tools_name = std::fs::read(dir.join("prim.name")).unwrap();
    assert_eq!(&name[..], &tools_name[..]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tpm2_tools_interop_both_ways() {
    let p = swtpm().unwrap();
    let dir = temp_dir("interop").unwrap();
    let tcti = p.tcti();
    // Provision here, seal here.
    let key = Key::from_slice(&[0x42; 32]).unwrap();
    let blob = {
        let dev = device(&p).unwrap();
        let mut src = provisioned(&dev).unwrap();
        src.seal(&key, OPTS).unwrap()
    };
    // Ours → tpm2_load + tpm2_unseal: the octet strings are the TPM2B files.
    common::tools_load(&tcti, &dir, blob.as_bytes(), "ours", &[]).unwrap();
    let out = tpm2_tool(&tcti, &dir, &["tpm2_unseal", "-c", "ours.ctx"]).unwrap();
    tpm2_tool(&tcti, &dir, &["tpm2_flushcontext", "-t"]).unwrap();
    assert_eq!(out, key.as_bytes());

    // tpm2_create -i → unsealed here (wrapped in Linux's TPMKey format).
    let secret: Vec<u8> = (0..48u8).collect();
    let (private, public) = common::tools_create(&tcti, &dir, &secret, &[]).unwrap();
    let priv_pub = [private, public].concat();
    let mut der = [0u8; 512];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &priv_pub, &mut der).unwrap();
    let dev = device(&p).unwrap();
    let mut src = source(&dev).unwrap();
    assert_eq!(src.unseal(&der[..n], "").unwrap().as_bytes(), &secret[..]);
    // The tpm2-tools object as a raw (old-format-shaped) blob also loads
    // through the Tpm layer directly.
    let tpm = src.driver_mut();
    let h = tpm
        .load(SRK_HANDLE, hal_tpm_spi::Auth::Password(&[]), &priv_pub)
        .unwrap();
    let mut out = [0u8; 128];
    let n = tpm
        .unseal(h, hal_tpm_spi::Auth::Password(&[]), &mut out)
        .unwrap();
    tpm.flush_context(h).unwrap();
    assert_eq!(&out[..n], &secret[..]);
    std::fs::remove_dir_all(dir).unwrap();
}

/// The distinct commands sent since the last call (a RETRY resend is the
/// same command).
fn codes<T: hal_tpm_spi::Transport, R: rand_core::TryCryptoRng>(
    src: &mut TpmSource<Counting<T>, R>,
) -> Vec<u32> {
    let t = src.driver_mut().transport_mut();
    let mut c = t.codes.clone();
    c.dedup();
    t.clear();
    c
}

/// The TPM commands of each operation, with sessions and without (as
/// built and at run time with `allow_insecure`): the minimum for each.
#[test]
fn commands_per_seal_and_unseal() {
    use hal_tpm_spi::spec::cc::*;
    let (_swtpm, dev) = swtpm_sim().unwrap();
    provisioned(&dev).unwrap();
    let key = Key::from_slice(&[0x77; 32]).unwrap();
    let sel = PcrSelection::sha256(&[16]).unwrap();
    for insecure in [false, true] {
        let mut src = TpmSource::new(Counting::new(spi(&dev)), ScriptRng::counting(0));
        if insecure {
            src = src.allow_insecure();
        }
        src.init().unwrap();
        let s = src.sessions_enabled();
        assert_eq!(s, cfg!(feature = "sessions") && !insecure);
        src.driver_mut().transport_mut().clear();
        let blob = src.seal(&key, OPTS).unwrap();
        let want: &[u32] = if s {
            &[READ_PUBLIC, START_AUTH_SESSION, CREATE]
        } else {
            &[CREATE]
        };
        assert_eq!(codes(&mut src), want, "first seal");
        src.seal(&key, OPTS).unwrap();
        let want: &[u32] = if s {
            &[START_AUTH_SESSION, CREATE]
        } else {
            &[CREATE]
        };
        assert_eq!(codes(&mut src), want, "seal, storage key known");
        dev.borrow_mut().reset_stats();
        assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
        let want: &[u32] = if s {
            &[START_AUTH_SESSION, LOAD, UNSEAL, FLUSH_CONTEXT]
        } else {
            &[LOAD, UNSEAL, FLUSH_CONTEXT]
        };
        let stats = dev.borrow().stats();
        let payload = src.driver_mut().transport_mut().payload();
        assert_eq!(
            stats.fifo_written as usize + stats.fifo_read as usize,
            payload
        );
        assert_eq!(codes(&mut src), want, "unseal");
        let pblob = src.seal_with_pcrs(&key, OPTS, &sel).unwrap();
        codes(&mut src);
        assert_eq!(
            src.unseal_with_pcrs(pblob.as_bytes(), "", &sel).unwrap(),
            key
        );
        let want: &[u32] = if s {
            &[
                START_AUTH_SESSION,
                LOAD,
                START_AUTH_SESSION,
                POLICY_PCR,
                UNSEAL,
                FLUSH_CONTEXT,
            ]
        } else {
            &[LOAD, START_AUTH_SESSION, POLICY_PCR, UNSEAL, FLUSH_CONTEXT]
        };
        assert_eq!(codes(&mut src), want, "PCR unseal");
        src.random(&mut [0u8; 32]).unwrap();
        let want: &[u32] = if s {
            &[START_AUTH_SESSION, GET_RANDOM]
        } else {
            &[GET_RANDOM]
        };
        assert_eq!(codes(&mut src), want, "random");
    }
}

/// Sessions change the bus, not the blob: a blob sealed in one mode
/// unseals in the other (with and without blobauth, and PCR-bound).
#[test]
fn blobs_cross_between_session_modes() {
    let (_swtpm, dev) = swtpm_sim().unwrap();
    let mut with = provisioned(&dev).unwrap();
    let mut without = TpmSource::new(spi(&dev), ScriptRng::counting(7)).allow_insecure();
    without.init().unwrap();
    let key = Key::from_slice(&[0x19; 64]).unwrap();
    let sel = PcrSelection::sha256(&[16]).unwrap();
    for (opts, auth) in [
        (OPTS, ""),
        ("keyhandle=0x81000001 blobauth=pw", "blobauth=pw"),
    ] {
        let a = with.seal(&key, opts).unwrap();
        let b = without.seal(&key, opts).unwrap();
        assert_eq!(without.unseal(a.as_bytes(), auth).unwrap(), key);
        assert_eq!(with.unseal(b.as_bytes(), auth).unwrap(), key);
        // Same layout: only the TPM's encrypted private part differs.
        let (da, db) = (
            hal_tpm_spi::blob::decode(a.as_bytes()),
            hal_tpm_spi::blob::decode(b.as_bytes()),
        );
        assert_eq!(a.len(), b.len());
        assert_eq!((da.empty_auth, da.parent), (db.empty_auth, db.parent));
        assert_eq!(da.object_attributes(), db.object_attributes());
    }
    let a = with.seal_with_pcrs(&key, OPTS, &sel).unwrap();
    let b = without.seal_with_pcrs(&key, OPTS, &sel).unwrap();
    assert_eq!(
        without.unseal_with_pcrs(a.as_bytes(), "", &sel).unwrap(),
        key
    );
    assert_eq!(with.unseal_with_pcrs(b.as_bytes(), "", &sel).unwrap(), key);
}
