//! `cargo xtask`: the project's checks in one place.
//!
//! - `test`: fmt, clippy (with and without every optional feature), rustdoc
//!   with `-D warnings`, `cargo test --workspace`, then `cross`.
//! - `cross`: no_std builds of every library crate for the three firmware
//!   targets with Debian's toolchain and `-Zbuild-std=core`.
//! - `size`: opt-level "z" sizes of the size probes (see `examples/`).
//!
//! Each step prints what it runs and stops at the first failure.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const TARGETS: [&str; 3] = [
    "armv7a-none-eabihf",
    "aarch64-unknown-none",
    "thumbv7em-none-eabihf",
];
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
const RUST_SRC: &str = "/usr/lib/rustlib/src/rust/library/core";
const RUST_LLD: &str = "/usr/bin/rust-lld";
const APT_LINE: &str = "apt-get install -y rustc-web cargo-web rust-web-src lld-22";

/// Debian packages the tests need: the cross toolchain, QEMU, a real TPM
/// (swtpm) with tpm2-tools for interop, and llvm-size for size reports.
const PACKAGES: [&str; 9] = [
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "lld-22",
    "qemu-system-arm",
    "swtpm",
    "swtpm-tools",
    "tpm2-tools",
    "llvm-22",
];

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("cross") => cross().map(|_| ()),
        Some("size") => size(),
        Some("qemu") => qemu(args.get(1).map(String::as_str)),
        _ => Err("usage: cargo xtask <test|cross|qemu [EXAMPLE]|size>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Library crates: trusted-core and every hal-* directory with a manifest.
fn library_crates() -> Vec<String> {
    let mut crates = vec!["trusted-core".to_string()];
    let mut hals: Vec<String> = std::fs::read_dir(root())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("hal-") && root().join(n).join("Cargo.toml").exists())
        .collect();
    hals.sort();
    crates.extend(hals);
    crates
}

fn has_feature(krate: &str, feature: &str) -> bool {
    std::fs::read_to_string(root().join(krate).join("Cargo.toml"))
        .map(|t| {
            t.lines()
                .any(|l| l.trim_start().starts_with(&format!("{feature} =")))
        })
        .unwrap_or(false)
}

fn run(step: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {step}");
    let start = Instant::now();
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("{step}: cannot start: {e}"))?;
    if !status.success() {
        return Err(format!("{step} failed ({status})"));
    }
    eprintln!(
        "xtask: {step}: ok in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Installs missing packages when running as root with apt, saying so;
/// otherwise stops with the exact apt-get line to run.
fn ensure_packages() -> Result {
    let missing: Vec<&str> = PACKAGES
        .into_iter()
        .filter(|p| {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output();
            !out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let line = format!("apt-get install -y {}", missing.join(" "));
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let has_apt = Path::new("/usr/bin/apt-get").exists();
    if !(is_root && has_apt) {
        return Err(format!(
            "missing Debian packages; run as root:\n    apt-get update && {line}"
        ));
    }
    eprintln!(
        "xtask: installing missing Debian packages: {}",
        missing.join(" ")
    );
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        &line,
        Command::new("apt-get")
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn test() -> Result {
    ensure_packages()?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    run(
        "clippy (default features)",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "clippy (all features, defmt included)",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "rustdoc -D warnings",
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--all-features"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    run(
        "cargo test --workspace",
        cargo().args(["test", "--workspace"]),
    )?;
    let times = cross()?;
    for (target, secs) in times {
        eprintln!("xtask: cross {target}: {secs:.1} s");
    }
    qemu(None)?;
    size()?;
    eprintln!("xtask: all checks passed");
    Ok(())
}

/// Fails with the apt-get line when Debian's cross toolchain is missing.
fn check_cross_toolchain() -> Result {
    for (path, what) in [
        (DEBIAN_RUSTC, "rustc-web"),
        (DEBIAN_CARGO, "cargo-web"),
        (RUST_SRC, "rust-web-src"),
        (RUST_LLD, "lld-22"),
    ] {
        // rust-lld is a symlink to lld-22: `exists` follows it, so a
        // dangling link is reported as missing too.
        if !Path::new(path).exists() {
            return Err(format!(
                "{path} is missing ({what}); install the cross toolchain with:\n    {APT_LINE}"
            ));
        }
    }
    Ok(())
}

/// A cargo of Debian's toolchain, with nothing of rustup's environment.
fn debian_cargo(target_dir: &str) -> Command {
    let mut cmd = Command::new(DEBIAN_CARGO);
    for var in [
        "RUSTUP_TOOLCHAIN",
        "RUSTFLAGS",
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTC", DEBIAN_RUSTC)
        .env("CARGO_TARGET_DIR", root().join("target").join(target_dir));
    cmd
}

fn cross() -> Result<Vec<(&'static str, f64)>> {
    check_cross_toolchain()?;
    let crates = library_crates();
    let sims: Vec<&String> = crates.iter().filter(|c| has_feature(c, "sim")).collect();
    let mut times = Vec::new();
    for target in TARGETS {
        let start = Instant::now();
        let mut plain = debian_cargo("cross");
        plain.args(["build", "--release", "--target", target, "-Zbuild-std=core"]);
        crates.iter().for_each(|c| {
            plain.args(["-p", c]);
        });
        run(&format!("cross {target}: {}", crates.join(" ")), &mut plain)?;
        // One build per crate: `--features crate/sim` across several `-p`
        // is not applied by every cargo, so each sim gets its own run.
        for krate in &sims {
            let mut with_sim = debian_cargo("cross");
            with_sim.args([
                "build",
                "--release",
                "--target",
                target,
                "-Zbuild-std=core",
                "-p",
                krate,
                "--features",
                "sim",
            ]);
            run(
                &format!("cross {target}: {krate} with its sim"),
                &mut with_sim,
            )?;
        }
        times.push((target, start.elapsed().as_secs_f64()));
    }
    Ok(times)
}

/// A firmware example and the QEMU machine it runs on.
struct QemuRun {
    package: &'static str,
    target: &'static str,
    qemu: &'static str,
    machine: &'static [&'static str],
    /// Needs a swtpm behind QEMU's `tpm-tis-device` (started and stopped
    /// around the run).
    swtpm: bool,
}

const QEMU_RUNS: &[QemuRun] = &[
    QemuRun {
        package: "core-tee",
        target: "armv7a-none-eabihf",
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx6ul-evk", "-m", "512M"],
        swtpm: false,
    },
    QemuRun {
        package: "core-tee",
        target: "aarch64-unknown-none",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a53", "-m", "512M"],
        swtpm: false,
    },
    QemuRun {
        package: "imx6ull-dcp",
        target: "armv7a-none-eabihf",
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx6ul-evk", "-m", "512M"],
        swtpm: false,
    },
    // No STM32MP15 machine in QEMU: the i.MX7D's Cortex-A7 with DDR at
    // 0x8000_0000..0xFFFF_FFFF (2 GiB) runs the image linked at 0xC000_0000.
    QemuRun {
        package: "stm32mp1-otp-tee",
        target: "armv7a-none-eabihf",
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx7d-sabre", "-m", "2G"],
        swtpm: false,
    },
    QemuRun {
        package: "imx8-caam",
        target: "aarch64-unknown-none",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a53", "-m", "512M"],
        swtpm: false,
    },
    // A real TPM: swtpm behind tpm-tis-device, which only `virt` can host.
    QemuRun {
        package: "tpm-spi",
        target: "aarch64-unknown-none",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a53", "-m", "512M"],
        swtpm: true,
    },
];

/// Longest a QEMU example may run before it counts as hung.
const QEMU_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the firmware example `package` for `target` in `examples/` with
/// extra cargo `flags`, into `target/<target_dir>`; returns the ELF path.
fn build_example(package: &str, target: &str, target_dir: &str, flags: &[&str]) -> Result<PathBuf> {
    let mut cmd = debian_cargo(target_dir);
    cmd.current_dir(root().join("examples"));
    cmd.args([
        "build",
        "--release",
        "-p",
        package,
        "--target",
        target,
        "-Zbuild-std=core",
    ]);
    cmd.args(flags);
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("building {package} {} failed", flags.join(" ")));
    }
    Ok(root()
        .join("target")
        .join(target_dir)
        .join(target)
        .join("release")
        .join(package))
}

/// Builds every firmware example (or only `only`, by package name) and
/// runs it under QEMU with semihosting; fails on a non-zero exit, a missing
/// PASS line or a time-out.
fn qemu(only: Option<&str>) -> Result {
    check_cross_toolchain()?;
    let mut failures = Vec::new();
    for run in QEMU_RUNS.iter().filter(|r| only.is_none_or(|p| p == r.package)) {
        let image = build_example(run.package, run.target, "qemu", &[])?;
        let mut cmd = Command::new(run.qemu);
        cmd.args(run.machine)
            .args(["-nographic", "-monitor", "none", "-serial", "null"])
            .args(["-semihosting-config", "enable=on,target=native"]);
        let tpm = if run.swtpm {
            let tpm = Swtpm::start(run.package)?;
            cmd.arg("-chardev")
                .arg(format!("socket,id=chrtpm,path={}", tpm.socket.display()))
                .args(["-tpmdev", "emulator,id=tpm0,chardev=chrtpm"])
                .args(["-device", "tpm-tis-device,tpmdev=tpm0"]);
            Some(tpm)
        } else {
            None
        };
        cmd.arg("-kernel").arg(&image);
        let start = Instant::now();
        let result = run_with_timeout(&mut cmd, QEMU_TIMEOUT);
        let secs = start.elapsed().as_secs_f64();
        drop(tpm);
        let (code, output) = result
            .map_err(|e| format!("{e}; install QEMU with: apt-get install -y qemu-system-arm"))?;
        let passed = code == Some(0) && output.contains(&format!("{}: PASS", run.package));
        eprintln!(
            "xtask: qemu {} ({} {}): {} exit={code:?} in {secs:.2} s",
            run.package,
            run.qemu,
            run.machine.join(" "),
            if passed { "PASS" } else { "FAIL" }
        );
        if !passed {
            eprintln!("{output}");
            failures.push(run.package);
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("QEMU examples failed: {}", failures.join(", ")))
    }
}

/// A swtpm child serving one QEMU run through a unix socket, with a fresh
/// state directory; killed, reaped and cleaned up on drop.
struct Swtpm {
    child: std::process::Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Swtpm {
    fn start(name: &str) -> Result<Self> {
        let dir = root()
            .join("target/qemu")
            .join(format!("swtpm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let socket = dir.join("swtpm.sock");
        let child = Command::new("swtpm")
            .args(["socket", "--tpm2", "--flags", "startup-clear", "--ctrl"])
            .arg(format!("type=unixio,path={}", socket.display()))
            .arg("--tpmstate")
            .arg(format!("dir={}", dir.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start swtpm: {e}; install it with: apt-get install -y swtpm swtpm-tools"
                )
            })?;
        let tpm = Self { child, dir, socket };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !tpm.socket.exists() {
            if Instant::now() >= deadline {
                return Err("swtpm did not create its socket within 5 s".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(tpm)
    }
}

impl Drop for Swtpm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd`, collecting stdout; kills it after `limit`. Returns the exit
/// code (`None` when killed) and the output.
fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Result<(Option<i32>, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut text);
        text
    });
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = reader.join().unwrap_or_default();
    Ok((code, output))
}

/// Size probes under `examples/` and the target each is measured on.
const PROBES: &[(&str, &str)] = &[("size-tee", "thumbv7em-none-eabihf")];

/// Builds the size probes and the QEMU examples in `examples/` (their own
/// workspace; release profile: opt-level "z", LTO, one codegen unit,
/// panic=abort), prints the section sizes and writes them to `docs/size.md`.
fn size() -> Result {
    check_cross_toolchain()?;
    let examples = root().join("examples");
    let header =
        "| {what} | target | .text | .rodata | .data | .bss |\n|---|---|---:|---:|---:|---:|\n";
    let mut probes = header.replace("{what}", "probe");
    for &(probe, target) in PROBES {
        let mut cmd = debian_cargo("size");
        cmd.current_dir(&examples);
        cmd.args([
            "rustc",
            "--release",
            "-p",
            probe,
            "--target",
            target,
            "-Zbuild-std=core",
            "--crate-type",
            "staticlib",
        ]);
        eprintln!("xtask: size {probe} ({target})");
        let status = cmd.status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("building {probe} failed"));
        }
        let lib = root()
            .join("target/size")
            .join(target)
            .join("release")
            .join(format!("lib{}.a", probe.replace('-', "_")));
        let sizes = section_sizes(&lib, Some(probe))?;
        probes.push_str(&size_row(probe, target, sizes));
    }
    // Whole firmware images: everything the example links, start-up,
    // semihosting output, the sim or driver, flash store and boot flow
    // (.bss includes the 16 KiB DMA pool; the 64 KiB stack is not counted).
    let mut images = header.replace("{what}", "example (ELF)");
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for run in QEMU_RUNS {
        if seen.contains(&(run.package, run.target)) {
            continue;
        }
        seen.push((run.package, run.target));
        eprintln!("xtask: size {} ({})", run.package, run.target);
        let elf = build_example(run.package, run.target, "qemu", &[])?;
        let sizes = section_sizes(&elf, None)?;
        images.push_str(&size_row(run.package, run.target, sizes));
        // The same firmware for the real SoC: registers instead of the model.
        if has_feature(&format!("examples/{}", run.package), "hw") {
            eprintln!("xtask: size {} --features hw ({})", run.package, run.target);
            let elf = build_example(
                run.package,
                run.target,
                "size-hw",
                &["--no-default-features", "--features", "hw"],
            )?;
            let sizes = section_sizes(&elf, None)?;
            let name = format!("{} (`hw`)", run.package);
            images.push_str(&size_row(&name, run.target, sizes));
        }
    }
    print!("{probes}\n{images}");
    let doc = format!(
        "# Sizes\n\n\
         Written by `cargo xtask size` (do not edit): release builds with \
         opt-level \"z\", LTO, one codegen unit and panic=abort, Debian's \
         toolchain with `-Zbuild-std=core`; bytes per section as `llvm-size -A` \
         reports them.\n\n\
         ## Size probes\n\n\
         Static libraries with just the seal and unseal entry points, so only \
         the library code a bootloader links is counted (compiler_builtins \
         left out).\n\n{probes}\n\
         ## Firmware examples\n\n\
         Whole firmware images of `examples/`: the QEMU build (feature `sim`: \
         the backend's model is linked in place of the device) and, marked \
         (`hw`), the build for the real SoC (register accesses, spin delay). \
         They include start-up, semihosting output, the RAM flash store and \
         the boot flow. `.bss` is the 16 KiB DMA pool of `board-rt` in the \
         DCP and CAAM examples; the 64 KiB stack is not counted.\n\n{images}"
    );
    let path = root().join("docs/size.md");
    std::fs::create_dir_all(root().join("docs")).map_err(|e| e.to_string())?;
    std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

fn size_row(name: &str, target: &str, sizes: [u64; 4]) -> String {
    format!(
        "| {name} | {target} | {} | {} | {} | {} |\n",
        sizes[0], sizes[1], sizes[2], sizes[3]
    )
}

/// Sums .text*, .rodata*, .data*, .bss* of `file`. For an archive, pass
/// the probe: only its own object (the LTO output) counts, leaving out
/// compiler_builtins, which a firmware links anyway. For an ELF, `None`.
fn section_sizes(file: &Path, probe: Option<&str>) -> Result<[u64; 4]> {
    let llvm_size = ["/usr/lib/llvm-22/bin/llvm-size", "llvm-size"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .ok_or("llvm-size not found: apt-get install -y llvm-22")?;
    let out = Command::new(llvm_size)
        .args(["-A"])
        .arg(file)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("llvm-size {} failed", file.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sums = [0u64; 4];
    let mut counted = probe.is_none();
    for line in text.lines() {
        if line.contains("(ex ") || line.ends_with(':') {
            if let Some(probe) = probe {
                counted =
                    line.contains(&probe.replace('-', "_")) && !line.contains("compiler_builtins");
            }
            continue;
        }
        if !counted {
            continue;
        }
        let mut cols = line.split_whitespace();
        let (Some(name), Some(size)) =
            (cols.next(), cols.next().and_then(|s| s.parse::<u64>().ok()))
        else {
            continue;
        };
        let slot = [".text", ".rodata", ".data", ".bss"]
            .iter()
            .position(|p| name.starts_with(p));
        if let Some(i) = slot {
            sums[i] += size;
        }
    }
    Ok(sums)
}
