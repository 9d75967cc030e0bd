//! The driver over the TIS-over-SPI sim with swtpm executing the commands:
//! everything goes through SPI frames, the FIFO protocol and a real TPM 2.0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::cell::RefCell;

use common::{FakeDelay, swtpm, temp_dir, tpm2_tool};
use hal_tpm_spi::sim::swtpm::SwtpmBackend;
use hal_tpm_spi::sim::{SimCs, SimSpi, TisSpiDevice};
use hal_tpm_spi::tpm2::{SRK_HANDLE, policy_pcr_update};
use hal_tpm_spi::{PcrSelection, SpiTis, Tis, TpmSource, Transport};
use rand_core::TryRng;
use trusted_core::{Error, Key, TrustSource};

type Dev = RefCell<TisSpiDevice<SwtpmBackend, 0>>;
type Src<'a> =
    TpmSource<Tis<SpiTis<SimSpi<'a, SwtpmBackend>, SimCs<'a, SwtpmBackend>>, FakeDelay<'static>>>;

fn device(p: &hal_tpm_spi::sim::swtpm::SwtpmProcess) -> Dev {
    RefCell::new(TisSpiDevice::new(p.connect().unwrap()))
}

fn source(dev: &Dev) -> Src<'_> {
    let tis = Tis::new(SpiTis::new(SimSpi(dev), SimCs(dev)), FakeDelay::default());
    let mut src = TpmSource::new(tis);
    src.init().unwrap();
    src
}

fn provisioned(dev: &Dev) -> Src<'_> {
    let mut src = source(dev);
    assert!(src.provision_srk(SRK_HANDLE).unwrap());
    assert!(
        !src.provision_srk(SRK_HANDLE).unwrap(),
        "second provision finds the SRK"
    );
    src
}

const OPTS: &str = "keyhandle=0x81000001";

#[test]
fn seal_unseal_round_trip_over_spi() {
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
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
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
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
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
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
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
    let key = Key::from_slice(&[7; 32]).unwrap();
    assert!(matches!(src.seal(&key, ""), Err(Error::Payload(_))));
    assert!(matches!(
        src.seal(&key, "keyhandle=0x81000001 frob=1"),
        Err(Error::Payload(_))
    ));
}

#[test]
fn pcr_policy_seal_fails_after_pcr_extend() {
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
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
    src.tpm().pcr_extend(16, &[0xAB; 32]).unwrap();
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
    let p = swtpm();
    let dev = device(&p);
    let mut src = source(&dev);
    let sel = PcrSelection::sha256(&[0, 7, 16]).unwrap();
    let tpm = src.tpm();
    tpm.pcr_extend(7, &[3; 32]).unwrap();
    let offline = tpm.pcr_policy_digest(&sel).unwrap();
    let s = tpm.start_policy_session(true).unwrap();
    tpm.policy_pcr(s, &[], &sel).unwrap();
    let trial = tpm.policy_get_digest(s).unwrap();
    tpm.flush_context(s).unwrap();
    assert_eq!(&trial[..], &offline[..]);
    // And the known-answer vector for PCR 16 at reset (all zero), made by
    // tests/vectors/policy_pcr.py.
    let kat = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/policy_pcr16_zero.hex"
    ))
    .unwrap();
    let sel16 = PcrSelection::sha256(&[16]).unwrap();
    let zero_pcrs: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest([0u8; 32]).into();
    let d = policy_pcr_update(&[0; 32], &sel16, &zero_pcrs);
    assert_eq!(hex(&d), kat.trim());
    assert_eq!(hex(&tpm.pcr_policy_digest(&sel16).unwrap()), kat.trim());
}

#[test]
fn linux_policyhandle_unseals_through_caller_session() {
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
    let sel = PcrSelection::sha256(&[23]).unwrap();
    let policy = src.tpm().pcr_policy_digest(&sel).unwrap();
    let key = Key::from_slice(&[0x22; 32]).unwrap();
    let blob = src
        .seal(&key, &format!("{OPTS} policydigest={}", hex(&policy)))
        .unwrap();
    let s = src.tpm().start_policy_session(false).unwrap();
    src.tpm().policy_pcr(s, &[], &sel).unwrap();
    assert_eq!(
        src.unseal(blob.as_bytes(), &format!("policyhandle={s:#x}"))
            .unwrap(),
        key
    );
}

#[test]
fn old_format_blob_loads_with_keyhandle() {
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
    // Pre-5.13 Linux sealed key ‖ migratable byte and stored the raw
    // TPM2B_PRIVATE ‖ TPM2B_PUBLIC ‖ creation data.
    let mut data = vec![0x33u8; 32];
    data.push(1);
    let mut raw = [0u8; 512];
    let n = src
        .tpm()
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
    let p = swtpm();
    let dev = device(&p);
    let mut src = source(&dev);
    let mut a = [0u8; 100];
    let mut b = [0u8; 100];
    src.rng().try_fill_bytes(&mut a).unwrap();
    src.random(&mut b).unwrap();
    assert_ne!(a, b);
    assert!(a.iter().any(|&x| x != 0));
    let _ = src.rng().try_next_u64().unwrap();
    assert!(
        src.tpm().tpm_property(0x105).unwrap() > 0,
        "TPM_PT_MANUFACTURER"
    );
    src.tpm().self_test(false).unwrap();
}

#[test]
fn pcrlock_extends_after_seal() {
    let p = swtpm();
    let dev = device(&p);
    let mut src = provisioned(&dev);
    let sel = PcrSelection::sha256(&[16]).unwrap();
    let before = src.tpm().pcr_digest(&sel).unwrap();
    let key = Key::from_slice(&[9; 32]).unwrap();
    src.seal(&key, "keyhandle=0x81000001 pcrlock=16").unwrap();
    assert_ne!(src.tpm().pcr_digest(&sel).unwrap(), before);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn srk_template_equals_tpm2_tools() {
    let p = swtpm();
    let name = {
        let dev = device(&p);
        let mut src = provisioned(&dev);
        let mut public = [0u8; 512];
        src.tpm().read_public(SRK_HANDLE, &mut public).unwrap().1
    }; // connection closed: swtpm serves one client at a time
    let dir = temp_dir("srk");
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
    );
    tpm2_tool(
        &tcti,
        &dir,
        &["tpm2_readpublic", "-Q", "-c", "prim.ctx", "-n", "prim.name"],
    );
    tpm2_tool(&tcti, &dir, &["tpm2_flushcontext", "-t"]);
    let tools_name = std::fs::read(dir.join("prim.name")).unwrap();
    assert_eq!(&name[..], &tools_name[..]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn tpm2_tools_interop_both_ways() {
    let p = swtpm();
    let dir = temp_dir("interop");
    let tcti = p.tcti();
    // Provision here, seal here.
    let key = Key::from_slice(&[0x42; 32]).unwrap();
    let blob = {
        let dev = device(&p);
        let mut src = provisioned(&dev);
        src.seal(&key, OPTS).unwrap()
    };
    // Ours → tpm2_load + tpm2_unseal: the octet strings are the TPM2B files.
    let d = hal_tpm_spi::blob::decode(blob.as_bytes());
    std::fs::write(dir.join("ours.pub"), d.public).unwrap();
    std::fs::write(dir.join("ours.priv"), d.private).unwrap();
    tpm2_tool(
        &tcti,
        &dir,
        &[
            "tpm2_load",
            "-Q",
            "-C",
            "0x81000001",
            "-u",
            "ours.pub",
            "-r",
            "ours.priv",
            "-c",
            "ours.ctx",
        ],
    );
    let out = tpm2_tool(&tcti, &dir, &["tpm2_unseal", "-c", "ours.ctx"]);
    tpm2_tool(&tcti, &dir, &["tpm2_flushcontext", "-t"]);
    assert_eq!(out, key.as_bytes());

    // tpm2_create -i → unsealed here (wrapped in Linux's TPMKey format).
    let secret: Vec<u8> = (0..48u8).collect();
    std::fs::write(dir.join("secret.bin"), &secret).unwrap();
    tpm2_tool(
        &tcti,
        &dir,
        &[
            "tpm2_create",
            "-Q",
            "-C",
            "0x81000001",
            "-i",
            "secret.bin",
            "-u",
            "t.pub",
            "-r",
            "t.priv",
        ],
    );
    tpm2_tool(&tcti, &dir, &["tpm2_flushcontext", "-t"]);
    let mut priv_pub = std::fs::read(dir.join("t.priv")).unwrap();
    priv_pub.extend(std::fs::read(dir.join("t.pub")).unwrap());
    let mut der = [0u8; 512];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &priv_pub, &mut der).unwrap();
    let dev = device(&p);
    let mut src = source(&dev);
    assert_eq!(src.unseal(&der[..n], "").unwrap().as_bytes(), &secret[..]);
    // The tpm2-tools object as a raw (old-format-shaped) blob also loads
    // through the Tpm layer directly.
    let tpm = src.tpm();
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
    let _ = unhex("");
}

/// Counts command/response sizes per exchange for the closing figures.
struct Counting<T> {
    inner: T,
    sizes: Vec<(usize, usize)>,
    codes: Vec<u32>,
}

impl<T> Counting<T> {
    fn clear(&mut self) {
        self.sizes.clear();
        self.codes.clear();
    }

    /// Distinct commands: a resend after TPM_RC_RETRY is the same command.
    fn commands(&self) -> usize {
        let mut c = self.codes.clone();
        c.dedup();
        c.len()
    }
}

impl<T: Transport> Transport for Counting<T> {
    fn probe(&mut self) -> Result<(), hal_tpm_spi::TpmError> {
        self.inner.probe()
    }
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize, hal_tpm_spi::TpmError> {
        let n = self.inner.transact(cmd, rsp)?;
        self.sizes.push((cmd.len(), n));
        self.codes
            .push(u32::from_be_bytes(cmd[6..10].try_into().unwrap()));
        Ok(n)
    }
}

fn frames(n: usize) -> usize {
    n + 4 * n.div_ceil(64)
}

#[test]
fn bus_figures_per_seal_and_unseal() {
    let p = swtpm();
    let dev = device(&p);
    provisioned(&dev);
    let tis = Tis::new(SpiTis::new(SimSpi(&dev), SimCs(&dev)), FakeDelay::default());
    let mut src = TpmSource::new(Counting {
        inner: tis,
        sizes: vec![],
        codes: vec![],
    });
    src.init().unwrap();
    let key = Key::from_slice(&[0x77; 32]).unwrap();

    src.tpm().transport_mut().clear();
    let blob = src.seal(&key, OPTS).unwrap();
    let seal_cmds = src.tpm().transport_mut().commands();
    let seal_exchanges = src.tpm().transport_mut().sizes.len();

    src.tpm().transport_mut().clear();
    dev.borrow_mut().reset_stats();
    assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
    let stats = dev.borrow().stats();
    let sizes = src.tpm().transport_mut().sizes.clone();
    let payload: usize = sizes.iter().map(|(c, r)| c + r).sum();
    let minimum: usize = sizes.iter().map(|(c, r)| frames(*c) + frames(*r)).sum();

    let sel = PcrSelection::sha256(&[16]).unwrap();
    src.tpm().transport_mut().clear();
    let pblob = src.seal_with_pcrs(&key, OPTS, &sel).unwrap();
    let pseal_cmds = src.tpm().transport_mut().commands();
    src.tpm().transport_mut().clear();
    src.unseal_with_pcrs(pblob.as_bytes(), "", &sel).unwrap();
    let punseal_cmds = src.tpm().transport_mut().commands();

    println!(
        "FIGURES: seal {seal_cmds} TPM commands ({seal_exchanges} exchanges with RETRY resends); unseal {} commands; unseal bus bytes {} \
         ({} transactions, {} header, {} data) vs minimum {minimum} (payload {payload}); \
         PCR seal {pseal_cmds} commands, PCR unseal {punseal_cmds} commands",
        sizes.len(),
        stats.bytes,
        stats.transactions,
        stats.header_bytes,
        stats.data_bytes
    );
    assert_eq!(seal_cmds, 1);
    assert_eq!(sizes.len(), 3);
    assert_eq!(
        stats.fifo_written as usize + stats.fifo_read as usize,
        payload
    );
}
