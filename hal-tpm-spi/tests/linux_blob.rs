//! Blobs a real Linux 6.12 kernel wrote (`keyctl add trusted kmk "new 32
//! keyhandle=0x81000001 [policydigest=...]"`, with the kernel's TPM2 HMAC
//! sessions on), unsealed here on the swtpm state they were sealed in.
//!
//! `vectors/linux-6.12-tpm.txt` comes from `cargo xtask interop
//! --save-vector`: the kernel booted under QEMU with swtpm as its TPM, and
//! the same swtpm state is `[swtpm] permall`. Each `key` there decrypts
//! the sectors the kernel's dm-crypt wrote with that trusted key
//! (`vectors/linux-check.py`, Python `cryptography`), so it is the
//! kernel's key, not something our code produced.

mod common;

use common::{Dev, device};
use hal_tpm_spi::PcrSelection;
use hal_tpm_spi::TpmSource;
use hal_tpm_spi::sim::swtpm::SwtpmProcess;
use trusted_core::TrustSource;
use trusted_core::test_util::{ScriptRng, Section, section, vectors};

const VECTORS: &str = include_str!("vectors/linux-6.12-tpm.txt");
const OPTS: &str = "keyhandle=0x81000001";

fn vector(name: &str) -> Section {
    section(&vectors(VECTORS), name).clone()
}

/// The Linux state's swtpm and an initialised source on it; with
/// `sessions` the storage key is pinned to the vector's SRK Name, without
/// them the source runs password sessions (`allow_insecure`).
fn linux_source(
    dev: &Dev,
    sessions: bool,
) -> trusted_core::Result<TpmSource<common::SpiStack<'_>, ScriptRng>> {
    let mut src = TpmSource::new(common::spi(dev), ScriptRng::counting(3));
    if sessions {
        #[cfg(feature = "sessions")]
        {
            src = src.with_srk_name(vector("swtpm").array("srk_name"));
        }
    } else {
        src = src.allow_insecure();
    }
    src.init()?;
    Ok(src)
}

fn state() -> Vec<u8> {
    vector("swtpm").bytes("permall")
}

#[test]
fn linux_blob_unseals_to_the_kernels_key() {
    let v = vector("linux-plain");
    let tpm = SwtpmProcess::start_with_state(Some(&state())).unwrap();
    let dev = device(&tpm).unwrap();
    for sessions in [true, false] {
        let mut src = linux_source(&dev, sessions).unwrap();
        let key = src.unseal(&v.bytes("blob"), OPTS).unwrap();
        assert_eq!(key.as_bytes(), v.bytes("key"), "sessions {sessions}");
    }
}

#[test]
fn linux_pcr_policy_blob_unseals_only_with_its_policy() {
    let v = vector("linux-pcr16");
    let pcr: u8 = v.get("policy_pcr").parse().unwrap();
    let sel = PcrSelection::sha256(&[pcr]).unwrap();
    let tpm = SwtpmProcess::start_with_state(Some(&state())).unwrap();
    let dev = device(&tpm).unwrap();
    let mut src = linux_source(&dev, true).unwrap();
    let blob = v.bytes("blob");
    // The kernel set no userWithAuth: a plain unseal is refused by the TPM.
    assert!(src.unseal(&blob, OPTS).is_err());
    let key = src.unseal_with_pcrs(&blob, OPTS, &sel).unwrap();
    assert_eq!(key.as_bytes(), v.bytes("key"));
    // As Linux unseals it: a policy session made by the caller, by handle.
    let s = src.driver_mut().start_policy_session(false).unwrap();
    src.driver_mut().policy_pcr(s, &[], &sel).unwrap();
    let key = src
        .unseal(&blob, &format!("{OPTS} policyhandle={s:#x}"))
        .unwrap();
    assert_eq!(key.as_bytes(), v.bytes("key"));
}

#[test]
fn linux_blob_needs_its_tpm_and_is_integrity_checked() {
    let v = vector("linux-plain");
    let blob = v.bytes("blob");
    // Another TPM (a fresh state: another storage seed, its own SRK).
    let other = SwtpmProcess::start().unwrap();
    let dev: Dev = device(&other).unwrap();
    let mut src = TpmSource::new(common::spi(&dev), ScriptRng::counting(5));
    src.init().unwrap();
    src.provision_srk(hal_tpm_spi::spec::SRK_HANDLE).unwrap();
    assert!(src.unseal(&blob, OPTS).is_err());
    #[cfg(feature = "sessions")]
    {
        // Pinned to the Linux TPM's SRK: refused before anything is salted.
        let mut pinned = TpmSource::new(common::spi(&dev), ScriptRng::counting(6))
            .with_srk_name(vector("swtpm").array("srk_name"));
        pinned.init().unwrap();
        assert!(pinned.unseal(&blob, OPTS).is_err());
    }
    drop(src);
    drop(dev);
    // The right TPM, one bit of the sealed private area flipped: the TPM's
    // integrity check fails the load.
    let tpm = SwtpmProcess::start_with_state(Some(&state())).unwrap();
    let dev = device(&tpm).unwrap();
    let mut src = linux_source(&dev, true).unwrap();
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(src.unseal(&bad, OPTS).is_err());
    assert_eq!(src.unseal(&blob, OPTS).unwrap().as_bytes(), v.bytes("key"));
}
