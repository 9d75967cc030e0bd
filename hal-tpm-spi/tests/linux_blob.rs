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

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Dev, temp_dir};
use hal_tpm_spi::PcrSelection;
use hal_tpm_spi::TpmSource;
use hal_tpm_spi::sim::TpmSim;
use hal_tpm_spi::sim::swtpm::SwtpmBackend;
use trusted_core::TrustSource;
use trusted_core::test_util::{ScriptRng, Section, section, vectors};

const VECTORS: &str = include_str!("vectors/linux-6.12-tpm.txt");
const OPTS: &str = "keyhandle=0x81000001";

/// swtpm on a copy of the vector's state (killed and removed on drop).
struct LinuxTpm {
    child: Child,
    dir: std::path::PathBuf,
    port: u16,
}

impl LinuxTpm {
    /// swtpm on the state the Linux blobs were sealed in, or on a fresh
    /// state (another storage seed) when `permall` is `None`.
    fn start(permall: Option<&[u8]>) -> Result<Self, String> {
        let dir = temp_dir("linux-blob").map_err(|e| e.to_string())?;
        if let Some(state) = permall {
            std::fs::write(dir.join("tpm2-00.permall"), state).map_err(|e| e.to_string())?;
        }
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(|e| e.to_string())
        };
        let (port, ctrl) = (free()?, free()?);
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--server"])
            .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
            .arg("--ctrl")
            .arg(format!("type=tcp,port={ctrl},bindaddr=127.0.0.1"))
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .args(["--flags", "not-need-init,startup-clear"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{e}: {}", hal_tpm_spi::sim::swtpm::INSTALL_HINT))?;
        let tpm = Self { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        // The command port, as `SwtpmProcess::start` waits: swtpm may
        // listen on its control port before it does on this one.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("swtpm did not start within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(tpm)
    }

    fn device(&self) -> std::io::Result<Dev> {
        Ok(std::cell::RefCell::new(TpmSim::new(SwtpmBackend::connect(
            ("127.0.0.1", self.port),
        )?)))
    }
}

impl Drop for LinuxTpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

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
    let tpm = LinuxTpm::start(Some(&state())).unwrap();
    let dev = tpm.device().unwrap();
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
    let tpm = LinuxTpm::start(Some(&state())).unwrap();
    let dev = tpm.device().unwrap();
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
    let other = LinuxTpm::start(None).unwrap();
    let dev = other.device().unwrap();
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
    let tpm = LinuxTpm::start(Some(&state())).unwrap();
    let dev = tpm.device().unwrap();
    let mut src = linux_source(&dev, true).unwrap();
    let mut bad = blob.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(src.unseal(&bad, OPTS).is_err());
    assert_eq!(src.unseal(&blob, OPTS).unwrap().as_bytes(), v.bytes("key"));
}
