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
        Some("qemu") => qemu(),
        _ => Err("usage: cargo xtask <test|cross|qemu|size>".into()),
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
    qemu()?;
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
    let sims: Vec<String> = crates
        .iter()
        .filter(|c| has_feature(c, "sim"))
        .map(|c| format!("{c}/sim"))
        .collect();
    let mut times = Vec::new();
    for target in TARGETS {
        let start = Instant::now();
        let mut plain = debian_cargo("cross");
        plain.args(["build", "--release", "--target", target, "-Zbuild-std=core"]);
        crates.iter().for_each(|c| {
            plain.args(["-p", c]);
        });
        run(&format!("cross {target}: {}", crates.join(" ")), &mut plain)?;
        if !sims.is_empty() {
            let mut with_sims = debian_cargo("cross");
            with_sims.args([
                "build",
                "--release",
                "--target",
                target,
                "-Zbuild-std=core",
                "--features",
                &sims.join(","),
            ]);
            crates.iter().for_each(|c| {
                with_sims.args(["-p", c]);
            });
            run(
                &format!("cross {target} with sims: {}", sims.join(" ")),
                &mut with_sims,
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
}

const QEMU_RUNS: &[QemuRun] = &[
    QemuRun {
        package: "core-tee",
        target: "armv7a-none-eabihf",
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx6ul-evk", "-m", "512M"],
    },
    QemuRun {
        package: "core-tee",
        target: "aarch64-unknown-none",
        qemu: "qemu-system-aarch64",
        machine: &["-M", "virt", "-cpu", "cortex-a53", "-m", "512M"],
    },
];

/// Longest a QEMU example may run before it counts as hung.
const QEMU_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds every firmware example and runs it under QEMU with semihosting;
/// fails on a non-zero exit, a missing PASS line or a time-out.
fn qemu() -> Result {
    check_cross_toolchain()?;
    let examples = root().join("examples");
    let mut failures = Vec::new();
    for run in QEMU_RUNS {
        let mut build = debian_cargo("qemu");
        build.current_dir(&examples);
        build.args([
            "build",
            "--release",
            "-p",
            run.package,
            "--target",
            run.target,
            "-Zbuild-std=core",
        ]);
        let status = build.status().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("building {} failed", run.package));
        }
        let image = root()
            .join("target/qemu")
            .join(run.target)
            .join("release")
            .join(run.package);
        let mut cmd = Command::new(run.qemu);
        cmd.args(run.machine)
            .args(["-nographic", "-monitor", "none", "-serial", "null"])
            .args(["-semihosting-config", "enable=on,target=native", "-kernel"])
            .arg(&image);
        let start = Instant::now();
        let (code, output) = run_with_timeout(&mut cmd, QEMU_TIMEOUT)
            .map_err(|e| format!("{e}; install QEMU with: apt-get install -y qemu-system-arm"))?;
        let secs = start.elapsed().as_secs_f64();
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

/// Builds the size probes in `examples/` (their own workspace) and prints
/// the section sizes of their code.
fn size() -> Result {
    check_cross_toolchain()?;
    let probes = root().join("examples");
    let mut report = String::from(
        "| probe | target | .text | .rodata | .data | .bss |\n|---|---|---:|---:|---:|---:|\n",
    );
    for &(probe, target) in PROBES {
        let mut cmd = debian_cargo("size");
        cmd.current_dir(&probes);
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
        let sizes = section_sizes(&lib, probe)?;
        report.push_str(&format!(
            "| {probe} | {target} | {} | {} | {} | {} |\n",
            sizes[0], sizes[1], sizes[2], sizes[3]
        ));
    }
    print!("{report}");
    Ok(())
}

/// Sums .text*, .rodata*, .data*, .bss* of the probe's own object (the LTO
/// output), leaving out compiler_builtins, which a firmware links anyway.
fn section_sizes(lib: &Path, probe: &str) -> Result<[u64; 4]> {
    let llvm_size = ["/usr/lib/llvm-22/bin/llvm-size", "llvm-size"]
        .into_iter()
        .find(|p| Command::new(p).arg("--version").output().is_ok())
        .ok_or("llvm-size not found: apt-get install -y llvm-22")?;
    let out = Command::new(llvm_size)
        .args(["-A"])
        .arg(lib)
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sums = [0u64; 4];
    let mut in_probe = false;
    for line in text.lines() {
        if line.contains("(ex ") || line.ends_with(':') {
            in_probe =
                line.contains(&probe.replace('-', "_")) && !line.contains("compiler_builtins");
            continue;
        }
        if !in_probe {
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
