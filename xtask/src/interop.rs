//! `cargo xtask interop`: the TPM source against a real Linux kernel.
//!
//! Builds a minimal kernel from Debian's `linux-source-6.12` (`allnoconfig`
//! plus `interop/kernel.config`), cached under
//! `/var/cache/trusted-keys-interop/<package version>-<fragment hash>/`,
//! and boots it under `qemu-system-x86_64 -machine q35 -accel tcg` with
//! swtpm as its TPM (`tpm-tis`) and an initramfs of Debian's busybox,
//! keyutils and dmsetup whose `/init` (`interop/init`) runs one scenario
//! per boot. The same swtpm state directory serves QEMU (unix control
//! socket) and `trustctl` (TCP, through hal-tpm-spi's TIS-over-SPI sim),
//! one at a time. The dm-crypt sectors are checked on the host by
//! `interop/host.py` (Python `cryptography`, not our Rust code).
//!
//! Scenarios (each a fresh boot):
//! 1. Linux `new 32 keyhandle=0x81000001`, dm-crypt writes two sectors;
//!    `trustctl unseal` gives the key that decrypts them.
//! 2. The same with `policydigest=` PolicyPCR(PCR 16 at reset);
//!    `trustctl unseal --pcrs 16` gives the key, plain `trustctl unseal`
//!    is refused.
//! 3. `trustctl seal` of a random key; Linux `load`s it and reads the
//!    sectors the host encrypted with it through dm-crypt.
//! 4. `trustctl seal --pcrs 16`; Linux refuses the load without a policy
//!    session and `load`s it with `policyhandle=` of a PolicyPCR session
//!    the initramfs starts through /dev/tpm0.
//!
//! Then the Linux blob and ours are compared field by field
//! (`trustctl inspect --json`, random parts masked). `--save-vector`
//! writes the Linux-written blobs, the swtpm state they belong to and the
//! dm-crypt sectors to `hal-tpm-spi/tests/vectors/linux-6.12-tpm.txt`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Result, cargo, ensure_packages, root, run, run_with_timeout};

const CACHE: &str = "/var/cache/trusted-keys-interop";
const KERNEL_PACKAGE: &str = "linux-source-6.12";
const KERNEL_TARBALL: &str = "/usr/src/linux-source-6.12.tar.xz";
/// Bumped when the build recipe below changes, so the cache key does too.
const RECIPE: &str = "1";
const KEYHANDLE: &str = "0x81000001";
/// The PCR of the policy cases: resettable, untouched by firmware, so it
/// is all zero both in the VM and in trustctl's swtpm session.
const PCR: u8 = 16;
/// dm-crypt sectors per scenario, and where the VM writes back what it
/// read through dm-crypt.
const SECTORS: usize = 2;
const READBACK_SECTOR: usize = 64;
const SECTOR: usize = 512;
const BOOT_TIMEOUT: Duration = Duration::from_secs(300);
const VECTOR: &str = "hal-tpm-spi/tests/vectors/linux-6.12-tpm.txt";
/// The programs the initramfs needs, with the package each comes from.
const GUEST_TOOLS: [(&str, &str, &str); 3] = [
    ("/bin/busybox", "/bin/busybox", "busybox-static"),
    ("/bin/keyctl", "/bin/keyctl", "keyutils"),
    ("/sbin/dmsetup", "/sbin/dmsetup", "dmsetup"),
];

/// `cargo xtask interop [--save-vector]`.
pub fn interop(save_vector: bool) -> Result {
    let start = Instant::now();
    ensure_packages()?;
    let kernel = kernel()?;
    run(
        "cargo build -p trustctl",
        cargo().args(["build", "-p", "trustctl"]),
    )?;
    let trustctl = target_dir().join("debug/trustctl");
    let work = root().join("target/interop");
    let _ = std::fs::remove_dir_all(&work);
    let state = work.join("tpmstate");
    mkdir(&state)?;
    let mut vm = Vm {
        kernel,
        work: work.clone(),
        state: state.clone(),
        base: base_initramfs()?,
        boots: Vec::new(),
    };
    let host = Host {
        trustctl,
        state,
        srk_name: String::new(),
    };
    let srk_name = host.provision()?;
    let host = Host { srk_name, ..host };
    let plain = plaintext();

    // 1 and 2: Linux seals, we unseal.
    let policy = python(&["policy-pcr", &PCR.to_string()])?;
    let mut linux_blobs = Vec::new();
    for (name, digest) in [("plain", ""), ("pcr16", policy.trim())] {
        let what = format!("linux new 32 ({name})");
        let disk = vm.disk(&[])?;
        let serial = vm.boot(
            &what,
            &format!("MODE=create\nPOLICYDIGEST={digest}\n"),
            &[("plain", plain.clone())],
            &disk,
        )?;
        let blob = marker(&serial, "blob")
            .ok_or_else(|| format!("{what}: the VM printed no blob"))?
            .to_string();
        let pcrs = if digest.is_empty() { None } else { Some(PCR) };
        let key = host.unseal(&blob, pcrs)?;
        if pcrs.is_some() && host.unseal(&blob, None).is_ok() {
            return Err(format!(
                "{what}: trustctl unsealed a PolicyPCR blob without the policy"
            ));
        }
        let cipher = read_sectors(&disk, 0, SECTORS)?;
        if cipher == plain {
            return Err(format!("{what}: the disk holds the plaintext"));
        }
        if xts("decrypt", &key, &cipher, &work)? != plain {
            return Err(format!(
                "{what}: the key trustctl unsealed does not decrypt dm-crypt's sectors"
            ));
        }
        eprintln!(
            "xtask: interop: {what}: trustctl unsealed Linux's blob ({} bytes); its key decrypts dm-crypt's sectors",
            blob.len() / 2
        );
        linux_blobs.push((name, blob, key, cipher));
    }
    if save_vector {
        save(&linux_blobs, &plain, &host)?;
    }

    // 3 and 4: we seal, Linux loads.
    let mut our_blobs = Vec::new();
    for pcrs in [None, Some(PCR)] {
        let what = format!(
            "trustctl seal{}, linux load",
            pcrs.map(|p| format!(" --pcrs {p}")).unwrap_or_default()
        );
        let key = hex(&random(32)?);
        let blob = host.seal(&key, pcrs)?;
        let cipher = xts("encrypt", &key, &plain, &work)?;
        let disk = vm.disk(&cipher)?;
        let mut scenario = format!("MODE=load\nBLOB={blob}\n");
        let mut files = vec![("plain", plain.clone())];
        if pcrs.is_some() {
            scenario.push_str("POLICY_PCR=1\n");
            files.push(("tpm/start.bin", start_policy_session()));
            files.push(("tpm/pcr-head.bin", policy_pcr_head()));
            files.push(("tpm/pcr-tail.bin", policy_pcr_tail(PCR)));
        }
        let serial = vm.boot(&what, &scenario, &files, &disk)?;
        if pcrs.is_some() && marker(&serial, "policyhandle").is_none() {
            return Err(format!("{what}: no policy session was started"));
        }
        if pcrs.is_some() && marker(&serial, "refused-without-policy").is_none() {
            return Err(format!("{what}: Linux loaded the blob without its policy"));
        }
        if read_sectors(&disk, READBACK_SECTOR, SECTORS)? != plain {
            return Err(format!(
                "{what}: the sectors Linux read through dm-crypt differ from the host's plaintext"
            ));
        }
        eprintln!(
            "xtask: interop: {what}: Linux loaded our blob; dm-crypt decrypted the host's sectors"
        );
        our_blobs.push(blob);
    }

    // Same format: every field but the random ones.
    for ((name, linux, _, _), ours) in linux_blobs.iter().zip(&our_blobs) {
        let (l, o) = (host.inspect(linux)?, host.inspect(ours)?);
        if l != o {
            return Err(format!(
                "blob formats differ ({name}):\n  linux:    {l}\n  trustctl: {o}"
            ));
        }
        eprintln!("xtask: interop: {name}: Linux's and trustctl's blobs have the same fields: {l}");
    }
    eprintln!("xtask: interop: kernel messages of the last boot:");
    for line in vm.last_dmesg() {
        eprintln!("    {line}");
    }
    for (what, secs) in &vm.boots {
        eprintln!("xtask: interop: boot {what}: {secs:.1} s");
    }
    eprintln!(
        "xtask: interop: both directions passed in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn mkdir(dir: &Path) -> Result {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, data: &[u8]) -> Result {
    std::fs::write(path, data).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `cmd` and returns its stdout; fails with its stderr.
fn output(what: &str, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("{what}: output is not UTF-8"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn random(n: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = vec![0; n];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| format!("/dev/urandom: {e}"))?;
    Ok(buf)
}

/// `interop/host.py ARGS` under Debian's python3 (python3-cryptography).
fn python(args: &[&str]) -> Result<String> {
    output(
        &format!("interop/host.py {}", args.join(" ")),
        Command::new("/usr/bin/python3")
            .arg(root().join("interop/host.py"))
            .args(args),
    )
}

/// dm-crypt's aes-xts-plain64 from sector 0, by `interop/host.py`.
fn xts(direction: &str, key: &str, data: &[u8], work: &Path) -> Result<Vec<u8>> {
    let (src, dst) = (work.join("xts.in"), work.join("xts.out"));
    write(&src, data)?;
    python(&[
        "xts",
        direction,
        key,
        &src.to_string_lossy(),
        &dst.to_string_lossy(),
    ])?;
    read(&dst)
}

/// A known plaintext: each sector says which it is.
fn plaintext() -> Vec<u8> {
    (0..SECTORS)
        .flat_map(|n| {
            let line = format!("trusted-keys-rs interop: sector {n} through dm-crypt. ");
            line.into_bytes()
                .into_iter()
                .cycle()
                .take(SECTOR)
                .collect::<Vec<u8>>()
        })
        .collect()
}

fn read_sectors(disk: &Path, first: usize, count: usize) -> Result<Vec<u8>> {
    read(disk)?
        .get(first * SECTOR..(first + count) * SECTOR)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| format!("{}: too short", disk.display()))
}

// ---------------------------------------------------------------- kernel

/// The cached bzImage, built first if the cache has none for this
/// fragment and package version.
fn kernel() -> Result<PathBuf> {
    let version = output(
        "dpkg-query",
        Command::new("dpkg-query").args(["-W", "-f=${Version}", KERNEL_PACKAGE]),
    )?;
    let fragment = root().join("interop/kernel.config");
    let digest = sha256(&[read(&fragment)?, RECIPE.as_bytes().to_vec()].concat())?;
    let key = format!(
        "{}-{}",
        version.replace(['~', ':', '+'], "_"),
        &digest[..16]
    );
    let cache = Path::new(CACHE);
    let image = cache.join(&key).join("bzImage");
    if image.exists() {
        eprintln!(
            "xtask: interop: kernel {KERNEL_PACKAGE} {version} from the cache: {}",
            image.display()
        );
        return Ok(image);
    }
    eprintln!(
        "xtask: interop: building kernel {KERNEL_PACKAGE} {version} (allnoconfig + interop/kernel.config) into {} \
         — a cold build takes minutes; later runs use the cache",
        image.display()
    );
    let start = Instant::now();
    let build = cache.join(format!("build-{key}"));
    let _ = std::fs::remove_dir_all(&build);
    mkdir(&build)?;
    // Everything but the documentation's subfolders (Documentation/Kconfig
    // is sourced by Kconfig) and the device trees.
    run(
        "unpack the kernel source",
        Command::new("tar")
            .args(["-xf", KERNEL_TARBALL, "-C"])
            .arg(&build)
            .args([
                "--strip-components=1",
                "--exclude=*/Documentation/*/*",
                "--exclude=*/boot/dts/*",
            ]),
    )?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let make = |step: &str, args: &[&str]| {
        run(
            step,
            Command::new("make")
                .arg("-C")
                .arg(&build)
                .arg(format!("-j{jobs}"))
                .args(args),
        )
    };
    make("make allnoconfig", &["-s", "allnoconfig"])?;
    // merge_config.sh keeps its temporary files in the current directory:
    // run it in the build tree (`run` would start it in the work tree).
    eprintln!("xtask: merge interop/kernel.config");
    let merged = Command::new(build.join("scripts/kconfig/merge_config.sh"))
        .current_dir(&build)
        .args(["-m", "-O"])
        .arg(&build)
        .arg(build.join(".config"))
        .arg(&fragment)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("merge_config.sh: {e}"))?;
    if !merged.success() {
        return Err(format!("merge_config.sh failed ({merged})"));
    }
    make("make olddefconfig", &["-s", "olddefconfig"])?;
    let config = std::fs::read_to_string(build.join(".config")).map_err(|e| e.to_string())?;
    let fragment_text = std::fs::read_to_string(&fragment).map_err(|e| e.to_string())?;
    let lost: Vec<&str> = fragment_text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("CONFIG_"))
        .filter(|l| !config.lines().any(|c| c == *l))
        .collect();
    if !lost.is_empty() {
        return Err(format!(
            "kernel config: Kconfig dropped {} from interop/kernel.config (a dependency is missing)",
            lost.join(", ")
        ));
    }
    make("make bzImage", &["-s", "bzImage"])?;
    let staging = cache.join(format!("{key}.new"));
    let _ = std::fs::remove_dir_all(&staging);
    mkdir(&staging)?;
    for (from, to) in [("arch/x86/boot/bzImage", "bzImage"), (".config", "config")] {
        std::fs::copy(build.join(from), staging.join(to)).map_err(|e| format!("{from}: {e}"))?;
    }
    std::fs::rename(&staging, cache.join(&key)).map_err(|e| format!("{}: {e}", cache.display()))?;
    let _ = std::fs::remove_dir_all(&build);
    eprintln!(
        "xtask: interop: kernel built in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    Ok(image)
}

fn sha256(data: &[u8]) -> Result<String> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("sha256sum: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("sha256sum: no stdin")?
        .write_all(data)
        .map_err(|e| format!("sha256sum: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .get(..64)
        .map(str::to_string)
        .ok_or_else(|| "sha256sum printed no digest".into())
}

// ---------------------------------------------------------------- initramfs

/// A newc cpio archive (what the kernel unpacks as its initramfs).
#[derive(Clone, Default)]
struct Cpio(Vec<u8>);

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) {
        let ino = (self.0.len() + 1) as u32;
        let fields = [
            ino,
            mode,
            0,
            0,
            1,
            0,
            data.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.0.extend_from_slice(b"070701");
        for f in fields {
            self.0.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.0.extend_from_slice(name.as_bytes());
        self.0.push(0);
        self.pad();
        self.0.extend_from_slice(data);
        self.pad();
    }
    fn pad(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040_755, (0, 0), &[]);
    }
    fn file(&mut self, name: &str, mode: u32, data: &[u8]) {
        let mut path = String::new();
        for part in name.split('/').filter(|p| !p.is_empty()) {
            if !path.is_empty() {
                self.dir(&path);
                path.push('/');
            }
            path.push_str(part);
        }
        self.entry(&path, 0o100_000 | mode, (0, 0), data);
    }
    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.0
    }
}

/// /init, /dev/console and the guest tools with the shared libraries
/// `ldd` names for them.
fn base_initramfs() -> Result<Cpio> {
    let mut cpio = Cpio::default();
    cpio.dir("dev");
    cpio.entry("dev/console", 0o020_600, (5, 1), &[]);
    cpio.file("init", 0o755, &read(&root().join("interop/init"))?);
    let mut libs: Vec<String> = Vec::new();
    for (host, guest, package) in GUEST_TOOLS {
        let data = std::fs::read(host)
            .map_err(|e| format!("{host}: {e}; install it with: apt-get install -y {package}"))?;
        cpio.file(guest, 0o755, &data);
        if package == "busybox-static" {
            continue;
        }
        let ldd = output(&format!("ldd {host}"), Command::new("ldd").arg(host))?;
        for lib in ldd.split_whitespace().filter(|w| w.starts_with('/')) {
            if !libs.iter().any(|l| l == lib) {
                libs.push(lib.to_string());
            }
        }
    }
    for lib in &libs {
        cpio.file(lib, 0o755, &read(Path::new(lib))?);
    }
    Ok(cpio)
}

// ---------------------------------------------------------------- processes

/// A child killed and reaped on drop.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// swtpm on the shared state directory: `--ctrl` on a unix socket for
/// QEMU, or the TCP command channel (with its own startup) for trustctl.
fn swtpm(state: &Path, channel: &[String]) -> Result<Reaped> {
    Command::new("swtpm")
        .args(["socket", "--tpm2", "--tpmstate"])
        .arg(format!("dir={}", state.display()))
        .args(channel)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Reaped)
        .map_err(|e| format!("cannot start swtpm: {e}; install it with: apt-get install -y swtpm"))
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) -> Result {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        if Instant::now() >= deadline {
            return Err(format!("{what} not ready within 10 s"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

// ---------------------------------------------------------------- host side

/// TPM2_Shutdown(TPM_SU_CLEAR) on swtpm's command channel, as a booted
/// system sends before it goes down (Linux does on reboot). Without it
/// every swtpm stop is a non-orderly shutdown, which the TPM counts as a
/// dictionary-attack failure at the next startup once a DA-protected
/// authorisation was used: after three the TPM answers TPM_RC_LOCKOUT.
fn orderly_shutdown(addr: &str) -> Result {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| format!("swtpm {addr}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let mut rsp = [0u8; 10];
    s.write_all(&[0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x45, 0, 0])
        .and_then(|()| s.read_exact(&mut rsp))
        .map_err(|e| format!("TPM2_Shutdown: {e}"))?;
    match rsp.get(6..10) {
        Some([0, 0, 0, 0]) => Ok(()),
        _ => Err(format!("TPM2_Shutdown answered {}", hex(&rsp))),
    }
}

/// trustctl against the shared swtpm state.
struct Host {
    trustctl: PathBuf,
    state: PathBuf,
    srk_name: String,
}

impl Host {
    /// Runs trustctl with `args` against a swtpm started for it (`--swtpm
    /// ADDR` is appended).
    fn trustctl(&self, what: &str, args: &[&str]) -> Result<String> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let ctrl = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let ctrl_port = ctrl.local_addr().map_err(|e| e.to_string())?.port();
        drop((listener, ctrl));
        let _tpm = swtpm(
            &self.state,
            &[
                "--server".into(),
                format!("type=tcp,port={port},bindaddr=127.0.0.1"),
                "--ctrl".into(),
                format!("type=tcp,port={ctrl_port},bindaddr=127.0.0.1"),
                "--flags".into(),
                "not-need-init,startup-clear".into(),
            ],
        )?;
        // Probe the control port: the command port serves one client.
        wait_for("swtpm (tcp)", || {
            std::net::TcpStream::connect(("127.0.0.1", ctrl_port)).is_ok()
        })?;
        let addr = format!("127.0.0.1:{port}");
        let out = output(
            what,
            Command::new(&self.trustctl)
                .args(args)
                .args(["--swtpm", &addr]),
        );
        orderly_shutdown(&addr)?;
        out
    }

    fn provision(&self) -> Result<String> {
        let out = self.trustctl("trustctl tpm provision", &["tpm", "provision"])?;
        let name = out
            .lines()
            .find_map(|l| l.strip_prefix("srk name: "))
            .and_then(|l| l.split_whitespace().next())
            .ok_or_else(|| format!("trustctl tpm provision printed no srk name: {out}"))?;
        eprintln!("xtask: interop: storage key at {KEYHANDLE}, name {name}");
        Ok(name.to_string())
    }

    fn tpm_args(&self, pcrs: Option<u8>) -> Vec<String> {
        let mut args = vec![
            "--source".into(),
            "tpm".into(),
            "--keyhandle".into(),
            KEYHANDLE.into(),
            "--srk-name".into(),
            self.srk_name.clone(),
        ];
        if let Some(p) = pcrs {
            args.extend(["--pcrs".into(), p.to_string()]);
        }
        args
    }

    fn unseal(&self, blob: &str, pcrs: Option<u8>) -> Result<String> {
        let mut args = vec!["unseal".to_string(), "--blob".into(), blob.into()];
        args.extend(self.tpm_args(pcrs));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(self.trustctl("trustctl unseal", &args)?.trim().to_string())
    }

    fn seal(&self, key: &str, pcrs: Option<u8>) -> Result<String> {
        let mut args = vec!["seal".to_string(), "--key".into(), key.into()];
        args.extend(self.tpm_args(pcrs));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(self.trustctl("trustctl seal", &args)?.trim().to_string())
    }

    /// `trustctl inspect --json` of a blob with the parts that are random
    /// per blob (the sealed data's `unique`, the private area) masked.
    fn inspect(&self, blob: &str) -> Result<String> {
        let json = output(
            "trustctl inspect",
            Command::new(&self.trustctl).args(["inspect", "--json", blob]),
        )?;
        Ok(mask_random(json.trim()))
    }
}

/// Replaces the values of the random fields of `trustctl inspect --json`.
fn mask_random(json: &str) -> String {
    let mut out = json.to_string();
    for field in [
        "\"unique\":\"",
        "\"private\":\"",
        "\"privkey\":\"",
        "\"pubkey\":\"",
    ] {
        let mut from = 0;
        while let Some(at) = out.get(from..).and_then(|s| s.find(field)) {
            let start = from + at + field.len();
            let end = out
                .get(start..)
                .and_then(|s| s.find('"'))
                .map_or(out.len(), |e| start + e);
            out.replace_range(start..end, "*");
            from = start + 1;
        }
    }
    out
}

// ---------------------------------------------------------------- guest side

/// The kernel, the swtpm state and the initramfs every boot shares.
struct Vm {
    kernel: PathBuf,
    work: PathBuf,
    state: PathBuf,
    base: Cpio,
    /// What each boot was, and its seconds.
    boots: Vec<(String, f64)>,
}

impl Vm {
    /// A fresh 1 MiB disk image with `sectors` at sector 0.
    fn disk(&self, sectors: &[u8]) -> Result<PathBuf> {
        let path = self.work.join("disk.img");
        let mut data = vec![0u8; 1 << 20];
        data.get_mut(..sectors.len())
            .ok_or("disk contents too large")?
            .copy_from_slice(sectors);
        write(&path, &data)?;
        Ok(path)
    }

    /// Boots once with `scenario` as /scenario and `files` added; returns
    /// the serial output, or the error with it when /init did not print
    /// `interop: done`.
    fn boot(
        &mut self,
        what: &str,
        scenario: &str,
        files: &[(&str, Vec<u8>)],
        disk: &Path,
    ) -> Result<String> {
        let mut cpio = self.base.clone();
        cpio.file(
            "scenario",
            0o644,
            format!("KEYHANDLE={KEYHANDLE}\nSECTORS={SECTORS}\n{scenario}").as_bytes(),
        );
        for (name, data) in files {
            cpio.file(name, 0o644, data);
        }
        let initramfs = self.work.join("initramfs.cpio");
        write(&initramfs, &cpio.finish())?;
        let sock_dir = self.work.join("qemu");
        mkdir(&sock_dir)?;
        let socket = sock_dir.join("swtpm.sock");
        let _ = std::fs::remove_file(&socket);
        let _tpm = swtpm(
            &self.state,
            &[
                "--ctrl".into(),
                format!("type=unixio,path={}", socket.display()),
            ],
        )?;
        wait_for("swtpm (unix socket)", || socket.exists())?;
        let mut qemu = Command::new("qemu-system-x86_64");
        qemu.args(["-machine", "q35", "-accel", "tcg", "-m", "256M"])
            .args(["-display", "none", "-vga", "none", "-monitor", "none"])
            .args(["-serial", "stdio", "-no-reboot"])
            .arg("-kernel")
            .arg(&self.kernel)
            .arg("-initrd")
            .arg(&initramfs)
            .args([
                "-append",
                "console=ttyS0 quiet panic=-1 tpm_tis.force=1 tpm_tis.interrupts=0",
            ])
            .arg("-drive")
            .arg(format!("file={},format=raw,if=none,id=d0", disk.display()))
            .args(["-device", "virtio-blk-pci,drive=d0"])
            .arg("-chardev")
            .arg(format!("socket,id=chrtpm,path={}", socket.display()))
            .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm"])
            .args(["-device", "tpm-tis,tpmdev=tpm0"])
            .stdin(Stdio::null());
        eprintln!("xtask: interop: boot: {what}");
        let start = Instant::now();
        let (code, serial) = run_with_timeout(&mut qemu, BOOT_TIMEOUT)
            .map_err(|e| format!("{e}; install QEMU with: apt-get install -y qemu-system-x86"))?;
        let secs = start.elapsed().as_secs_f64();
        self.boots.push((what.to_string(), secs));
        let serial = serial.replace('\r', "");
        write(&self.work.join("serial.log"), serial.as_bytes())?;
        if code.is_none() {
            return Err(format!(
                "{what}: the VM did not finish within {} s; serial output:\n{serial}",
                BOOT_TIMEOUT.as_secs()
            ));
        }
        if let Some(why) = marker(&serial, "FAIL") {
            return Err(format!("{what}: {why}; serial output:\n{serial}"));
        }
        // The kernel's TPM2 HMAC sessions are on: the sysfs Name of the
        // NULL primary they are salted to is set (all zero or absent if not).
        let null_name = marker(&serial, "null_name").unwrap_or_default();
        if null_name.len() != 68 || null_name.bytes().all(|b| b == b'0') {
            return Err(format!(
                "{what}: the kernel's TPM HMAC sessions are off (null_name '{null_name}'); serial output:\n{serial}"
            ));
        }
        if self.boots.len() == 1 {
            eprintln!(
                "xtask: interop: kernel {}, TPM HMAC sessions on (null primary {null_name})",
                marker(&serial, "kernel").unwrap_or("?")
            );
        }
        if marker(&serial, "done").is_none() {
            return Err(format!(
                "{what}: /init did not finish (QEMU exit {code:?}); serial output:\n{serial}"
            ));
        }
        Ok(serial)
    }

    /// The kernel's TPM messages of the last boot.
    fn last_dmesg(&self) -> Vec<String> {
        std::fs::read_to_string(self.work.join("serial.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("interop: dmesg "))
            .map(str::to_string)
            .collect()
    }
}

/// The text after `interop: WORD` on the serial console ("" when nothing
/// follows the word).
fn marker<'a>(serial: &'a str, word: &str) -> Option<&'a str> {
    serial.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("interop: ")?.strip_prefix(word)?;
        (rest.is_empty() || rest.starts_with(' ')).then(|| rest.trim())
    })
}

// TPM2 commands for the initramfs (TPM 2.0 Part 3), sent raw through
// /dev/tpm0: the kernel takes a policy session by handle but cannot start one.

/// TPM2_StartAuthSession: unsalted, unbound policy session, no symmetric
/// algorithm, SHA-256.
fn start_policy_session() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&0x8001u16.to_be_bytes()); // TPM_ST_NO_SESSIONS
    c.extend_from_slice(&43u32.to_be_bytes());
    c.extend_from_slice(&0x0000_0176u32.to_be_bytes()); // TPM_CC_StartAuthSession
    c.extend_from_slice(&0x4000_0007u32.to_be_bytes()); // tpmKey: TPM_RH_NULL
    c.extend_from_slice(&0x4000_0007u32.to_be_bytes()); // bind: TPM_RH_NULL
    c.extend_from_slice(&16u16.to_be_bytes()); // nonceCaller
    c.extend_from_slice(&[0x5a; 16]);
    c.extend_from_slice(&0u16.to_be_bytes()); // encryptedSalt
    c.push(0x01); // TPM_SE_POLICY
    c.extend_from_slice(&0x0010u16.to_be_bytes()); // symmetric: TPM_ALG_NULL
    c.extend_from_slice(&0x000Bu16.to_be_bytes()); // authHash: SHA-256
    c
}

/// TPM2_PolicyPCR up to its handle (the session the VM just started).
fn policy_pcr_head() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&0x8001u16.to_be_bytes());
    c.extend_from_slice(&26u32.to_be_bytes());
    c.extend_from_slice(&0x0000_017Fu32.to_be_bytes()); // TPM_CC_PolicyPCR
    c
}

/// TPM2_PolicyPCR after its handle: empty pcrDigest (the TPM's current
/// values), one SHA-256 selection of `pcr`.
fn policy_pcr_tail(pcr: u8) -> Vec<u8> {
    let mut select = [0u8; 3];
    if let Some(b) = select.get_mut(usize::from(pcr / 8)) {
        *b |= 1 << (pcr % 8);
    }
    let mut c = Vec::new();
    c.extend_from_slice(&0u16.to_be_bytes()); // pcrDigest
    c.extend_from_slice(&1u32.to_be_bytes()); // TPML_PCR_SELECTION count
    c.extend_from_slice(&0x000Bu16.to_be_bytes());
    c.push(3);
    c.extend_from_slice(&select);
    c
}

// ---------------------------------------------------------------- vector

/// Writes the Linux-written blobs, their keys (as trustctl unsealed them),
/// the dm-crypt sectors that prove those keys are the kernel's, and the
/// swtpm state the blobs belong to.
fn save(blobs: &[(&str, String, String, Vec<u8>)], plain: &[u8], host: &Host) -> Result {
    let state = read(&host.state.join("tpm2-00.permall"))?;
    let version = output(
        "dpkg-query",
        Command::new("dpkg-query").args(["-W", "-f=${Version}", KERNEL_PACKAGE]),
    )?;
    let mut text = format!(
        "# Written by `cargo xtask interop --save-vector`; do not edit.\n\
         # Blobs made by Linux {version} ({KERNEL_PACKAGE}, TCG_TPM2_HMAC=y) with\n\
         # `keyctl add trusted kmk \"new 32 keyhandle={KEYHANDLE} [policydigest=...]\"`\n\
         # on swtpm, whose state after the run is [swtpm] permall (tpm2-00.permall).\n\
         # key: what trustctl unsealed; ciphertext: the {SECTORS} sectors the kernel's\n\
         # dm-crypt (aes-xts-plain64, :32:trusted:kmk) wrote for `plaintext`.\n\
         # linux-check.py decrypts them with `key` (Python cryptography): the key is\n\
         # the kernel's own.\n\n\
         [swtpm]\nsrk_name = {}\npermall = {}\n",
        host.srk_name,
        hex(&state)
    );
    for (name, blob, key, cipher) in blobs {
        let policy = if *name == "plain" {
            String::new()
        } else {
            format!("policy_pcr = {PCR}\n")
        };
        let _ = write!(
            text,
            "\n[linux-{name}]\n{policy}blob = {blob}\nkey = {key}\nciphertext = {}\n",
            hex(cipher)
        );
    }
    let _ = write!(text, "\n[dm-crypt]\nplaintext = {}\n", hex(plain));
    write(&root().join(VECTOR), text.as_bytes())?;
    eprintln!("xtask: interop: wrote {VECTOR}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tpm_commands_carry_their_own_size() {
        let start = start_policy_session();
        assert_eq!(start.get(2..6), Some(&43u32.to_be_bytes()[..]));
        assert_eq!(start.len(), 43);
        let pcr = [policy_pcr_head(), vec![3, 0, 0, 0], policy_pcr_tail(16)].concat();
        assert_eq!(pcr.len(), 26);
        assert_eq!(pcr.get(2..6), Some(&26u32.to_be_bytes()[..]));
        // PCR 16 is bit 0 of the third select byte; PCR 23 bit 7.
        assert_eq!(policy_pcr_tail(16).get(9..), Some(&[0, 0, 1][..]));
        assert_eq!(policy_pcr_tail(23).get(9..), Some(&[0, 0, 0x80][..]));
    }

    #[test]
    fn markers_are_whole_words_on_their_own_lines() {
        let serial = "boot noise\ninterop: blob 3081\ninterop: blobs no\n interop: done \n";
        assert_eq!(marker(serial, "blob"), Some("3081"));
        assert_eq!(marker(serial, "done"), Some(""));
        assert_eq!(marker(serial, "FAIL"), None);
        assert_eq!(marker("xinterop: done", "done"), None);
    }

    #[test]
    fn only_random_fields_are_masked() {
        let a = mask_random(r#"{"unique":"ab12","auth_policy":"ff","pubkey":"00"}"#);
        assert_eq!(a, r#"{"unique":"*","auth_policy":"ff","pubkey":"*"}"#);
        assert_ne!(
            mask_random(r#"{"unique":"ab","value":64}"#),
            mask_random(r#"{"unique":"cd","value":0}"#)
        );
    }

    #[test]
    fn cpio_is_newc_with_parents_and_padding() {
        let mut c = Cpio::default();
        c.file("tpm/start.bin", 0o644, b"abc");
        let bytes = c.finish();
        let text = String::from_utf8_lossy(&bytes);
        // The parent directory first, then the file, then the trailer.
        let dir = text.find("tpm\0").unwrap_or(usize::MAX);
        let file = text.find("tpm/start.bin\0").unwrap_or(usize::MAX);
        assert!(dir < file && text.contains("TRAILER!!!"));
        assert!(bytes.starts_with(b"070701"));
        assert_eq!(bytes.len() % 4, 0);
        // The file's header: mode 0100644, size 3, name length 14.
        let header = bytes.get(file - 110..file).unwrap_or_default();
        let field = |i: usize| std::str::from_utf8(&header[6 + 8 * i..14 + 8 * i]).unwrap_or("");
        assert_eq!(field(1), "000081a4");
        assert_eq!(field(6), "00000003");
        assert_eq!(field(11), "0000000e");
    }

    #[test]
    fn plaintext_names_each_sector() {
        let p = plaintext();
        assert_eq!(p.len(), SECTORS * SECTOR);
        assert!(p.starts_with(b"trusted-keys-rs interop: sector 0 "));
        assert!(p[SECTOR..].starts_with(b"trusted-keys-rs interop: sector 1 "));
    }
}
