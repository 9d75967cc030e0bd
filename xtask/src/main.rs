//! `cargo xtask`: the project's checks in one place.
//!
//! - `test`: fmt (the workspace, `examples/` and `fuzz/`), clippy (with and
//!   without every optional feature, and over the fuzz targets), rustdoc
//!   with `-D warnings`, `cargo test --workspace`, `cargo package` of every
//!   library crate (built from the packaged sources), `cross`, clippy over
//!   the firmware examples (Debian's clippy), then the steps below.
//! - `cross`: no_std builds of every library crate for the three firmware
//!   targets with Debian's toolchain and `-Zbuild-std=core`.
//! - `clippy-examples`: clippy `-D warnings` over `examples/` (part of `test`).
//! - `size [--check | --bless | --only PKG,...]`: code size (per crate) and stack of the
//!   size probes and the QEMU examples into `docs/size.md`; `--check` (run
//!   by `test`) fails on growth over `docs/size-baseline.txt`, `--bless`
//!   rewrites that baseline (see `size.rs`).
//! - `header [--check]`: regenerates `trusted-keys-ffi/include/trusted_keys.h`
//!   with the pinned cbindgen, or checks it is current.
//! - `ffi`: that check, then the C ABI staticlib for the three targets
//!   (both are part of `test`).
//! - `bench`: the TPM figures of docs/bench.md: SPI bytes per seal and
//!   unseal against their floor, commands per unseal, wall time against
//!   tpm2-tools, `.text` cost of hal-tpm-spi's `sessions` feature.
//! - `interop [--save-vector]`: the TPM source against a real Linux 6.12
//!   kernel under QEMU with swtpm, both directions (see `interop.rs`; part
//!   of `test`; the kernel build is cached under /var/cache).
//! - `fuzz --smoke | --long [SECONDS] [TARGET...]`: the libFuzzer targets
//!   of `fuzz/` (see `fuzz.rs`; `--smoke` is part of `test`).
//! - `panic-check [--bless]`: counts the panic call sites every size probe
//!   and every `hw` image links, against `docs/panic-baseline.txt` (see
//!   `panic_check.rs`; part of `test`).
//!
//! Each step prints what it runs and stops at the first failure.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod fuzz;
mod interop;
mod panic_check;
mod size;

const TARGETS: [&str; 3] = [
    "armv7a-none-eabihf",
    "aarch64-unknown-none",
    "thumbv7em-none-eabihf",
];
/// Armv7-A in the Thumb-2 instruction set: the firmware examples for the
/// Cortex-A7 SoCs and the size probes' second Armv7-A row.
const THUMBV7A: &str = "thumbv7a-none-eabihf";
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
/// Debian's clippy for `rustc-web` (package `rust-web-clippy`).
const DEBIAN_CLIPPY: &str = "/usr/bin/cargo-clippy";
const RUST_SRC: &str = "/usr/lib/rustlib/src/rust/library/core";
const RUST_LLD: &str = "/usr/bin/rust-lld";
const APT_LINE: &str = "apt-get install -y rustc-web cargo-web rust-web-src lld-22";

/// Debian packages the tests need: the cross toolchain and its clippy,
/// QEMU, a real TPM (swtpm) with tpm2-tools for interop, llvm-size for size
/// reports, and the C cross compiler and make for the C example
/// (`c-imx6ull-dcp`);
/// for `interop`: the kernel source and what builds it, x86 QEMU, the
/// initramfs tools (busybox, keyctl, dmsetup) and python3-cryptography.
const PACKAGES: [&str; 26] = [
    "rustc-web",
    "cargo-web",
    "rust-web-src",
    "rust-web-clippy",
    "lld-22",
    "qemu-system-arm",
    "swtpm",
    "swtpm-tools",
    "tpm2-tools",
    "llvm-22",
    "gcc-arm-none-eabi",
    "make",
    "linux-source-6.12",
    "build-essential",
    "flex",
    "bison",
    "bc",
    "libelf-dev",
    "libssl-dev",
    "xz-utils",
    "qemu-system-x86",
    "busybox-static",
    "keyutils",
    "dmsetup",
    "python3",
    "python3-cryptography",
];

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("cross") => cross().map(|_| ()),
        Some("clippy-examples") => check_cross_toolchain().and_then(|()| clippy_examples()),
        Some("size") => size::Mode::from_args(args.get(1).map(String::as_str), args.get(2).map(String::as_str)).and_then(size::size),
        Some("qemu") => qemu(args.get(1).map(String::as_str)),
        Some("bench") => bench(),
        Some("header") => ffi_header(args.get(1).map(String::as_str) != Some("--check")),
        Some("ffi") => ffi_header(false).and_then(|()| ffi_staticlibs()),
        Some("interop") => interop::interop(args.get(1).map(String::as_str) == Some("--save-vector")),
        Some("fuzz") => fuzz::Plan::from_args(args.get(1..).unwrap_or_default()).and_then(|p| fuzz::fuzz(&p)),
        Some("panic-check") => panic_check::Mode::from_arg(args.get(1).map(String::as_str))
            .and_then(panic_check::panic_check),
        _ => Err(
            "usage: cargo xtask <test|cross|clippy-examples|qemu [EXAMPLE]|size [--check|--bless]|bench|header [--check]|ffi|interop [--save-vector]|fuzz --smoke|--long [SECONDS] [TARGET...]|panic-check [--bless]>".into(),
        ),
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

/// Cargo unpacks each package of the local registry `cargo package` makes
/// into `$CARGO_HOME/registry/src/<registry>/<crate>-<version>` once and
/// reuses that copy while the version stays 0.1.0, so a second run in the
/// same checkout would verify against the first run's sources (and its
/// build cache, keyed by name and version, against the first run's
/// objects). Forget those copies and `target/package` first.
fn forget_unpacked_packages(crates: &[&str]) {
    let _ = std::fs::remove_dir_all(root().join("target").join("package"));
    let _ = std::fs::remove_dir_all(root().join("target").join("package-verify"));
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(sources) = home.map(|h| h.join("registry").join("src")) else {
        return;
    };
    let version = env!("CARGO_PKG_VERSION");
    for registry in std::fs::read_dir(sources).into_iter().flatten().flatten() {
        for krate in crates {
            let unpacked = registry.path().join(format!("{krate}-{version}"));
            if unpacked.is_dir() {
                let _ = std::fs::remove_dir_all(&unpacked);
            }
        }
    }
}

/// Runs `cmd` (in the repository root unless it names a directory),
/// saying what and how long.
fn run(step: &str, cmd: &mut Command) -> Result {
    eprintln!("xtask: {step}");
    let start = Instant::now();
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let status = cmd
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
    let mut install: Vec<String> = missing.iter().map(|p| p.to_string()).collect();
    install.extend(qemu_utils_pin(&missing));
    run(
        &line,
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--allow-downgrades"])
            .args(&install)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Some machine images carry a newer `qemu-utils` (qemu-img) from a
/// backports archive that is not in their sources; it breaks the
/// `qemu-system-*` of the configured release, so apt refuses the install.
/// Pin `qemu-utils` to the release's version (a downgrade of qemu-img only)
/// when a QEMU system package is to be installed and the versions differ.
fn qemu_utils_pin(missing: &[&str]) -> Option<String> {
    if !missing.iter().any(|p| p.starts_with("qemu-system-")) {
        return None;
    }
    let policy = |package: &str, field: &str| -> Option<String> {
        let out = Command::new("apt-cache")
            .args(["policy", package])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.trim().strip_prefix(field).map(|v| v.trim().to_string()))
            .filter(|v| v != "(none)")
    };
    let installed = policy("qemu-utils", "Installed:")?;
    let wanted = policy("qemu-system-arm", "Candidate:")?;
    (installed != wanted).then(|| {
        eprintln!("xtask: qemu-utils {installed} does not match qemu-system {wanted}: installing qemu-utils={wanted}");
        format!("qemu-utils={wanted}")
    })
}

fn test() -> Result {
    ensure_packages()?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    // The two workspaces of their own: the firmware examples and the fuzz
    // targets.
    for manifest in ["examples/Cargo.toml", "fuzz/Cargo.toml"] {
        run(
            &format!("cargo fmt --check ({manifest})"),
            cargo().args(["fmt", "--all", "--manifest-path", manifest, "--", "--check"]),
        )?;
    }
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
    fuzz::clippy()?;
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
    // A feature that removes code: the build without it refuses clearly.
    run(
        "hal-stm32mp1-otp without derive-uid",
        cargo().args([
            "test",
            "-p",
            "hal-stm32mp1-otp",
            "--no-default-features",
            "--features",
            "sim,hazmat",
            "--test",
            "derive_uid_feature",
        ]),
    )?;
    // Every fuzz target for a few seconds from its seeds (fuzz/).
    fuzz::fuzz(&fuzz::Plan::smoke())?;
    // Every library crate as crates.io would get it, verified by building
    // the packaged sources; cargo packages the crates together and resolves
    // their versioned path dependencies on each other through a local
    // registry of the fresh packages (target/package/tmp-registry), so
    // nothing is published. trustctl and xtask are `publish = false`.
    // --allow-dirty: the check is of the package contents, not of git state.
    let published = [
        "trusted-core",
        "hal-caam",
        "hal-dcp",
        "hal-stm32mp1-otp",
        "hal-tpm-spi",
        "trusted-keys-ffi",
    ];
    forget_unpacked_packages(&published);
    let mut package = cargo();
    // A target dir of its own, made anew: cargo's build cache knows the
    // packages only by name and version, so a reused one would link objects
    // of an earlier run's sources.
    package
        .env(
            "CARGO_TARGET_DIR",
            root().join("target").join("package-verify"),
        )
        .args(["package", "--allow-dirty"]);
    for krate in published {
        package.args(["-p", krate]);
    }
    run("cargo package (library crates)", &mut package)?;
    let times = cross()?;
    for (target, secs) in times {
        eprintln!("xtask: cross {target}: {secs:.1} s");
    }
    clippy_examples()?;
    ffi_header(false)?;
    ffi_staticlibs()?;
    qemu(None)?;
    // A real Linux 6.12 kernel and the TPM source, both directions; the
    // first run on a machine builds the kernel (cached under /var/cache).
    interop::interop(false)?;
    size::size(size::Mode::Check)?;
    // Every probe and `hw` image, disassembled: no new panic paths.
    panic_check::panic_check(panic_check::Mode::Check)?;
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

/// Clippy with `-D warnings` over the firmware examples, which are their
/// own cross-compiled workspace: Debian's clippy (the cross rustc's own
/// version, so `-Zbuild-std=core` builds `core` from the same source), on
/// each target the QEMU examples run on, with their default (model)
/// features and, where they have one, feature `hw`; the size probes on
/// Armv7E-M with the flags they are measured with.
fn clippy_examples() -> Result {
    if !Path::new(DEBIAN_CLIPPY).exists() {
        return Err(format!(
            "{DEBIAN_CLIPPY} is missing; install Debian's clippy with:\n    \
             apt-get install -y rust-web-clippy"
        ));
    }
    let mut jobs: Vec<(&str, Vec<&str>, &[&str])> = Vec::new();
    for target in qemu_targets() {
        let mut packages: Vec<&str> = QEMU_RUNS
            .iter()
            .filter(|r| r.target == target)
            .map(|r| r.package)
            .collect();
        packages.dedup();
        let hw: Vec<&str> = packages
            .iter()
            .copied()
            .filter(|p| has_feature(&format!("examples/{p}"), "hw"))
            .collect();
        jobs.push((target, packages, &[]));
        if !hw.is_empty() {
            jobs.push((target, hw, &["--no-default-features", "--features", "hw"]));
        }
    }
    for (package, _, flags, _) in size::probes() {
        match jobs
            .iter_mut()
            .find(|(t, _, f)| *t == size::THUMB && *f == flags)
        {
            Some((_, packages, _)) if !packages.contains(&package) => packages.push(package),
            Some(_) => {}
            None => jobs.push((size::THUMB, vec![package], flags)),
        }
    }
    for (target, packages, flags) in jobs {
        let mut cmd = debian_cargo("clippy");
        // Debian's cargo-clippy, found first on PATH, runs Debian's cargo.
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.current_dir(root().join("examples"))
            .env("PATH", format!("/usr/bin:{path}"))
            .env("CARGO", DEBIAN_CARGO)
            .args(["clippy", "--target", target, "-Zbuild-std=core"])
            .args(flags);
        for package in &packages {
            cmd.args(["-p", package]);
        }
        cmd.args(["--", "-D", "warnings"]);
        run(
            &format!(
                "clippy examples {} ({target})",
                [packages, flags.to_vec()].concat().join(" ")
            ),
            &mut cmd,
        )?;
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

/// The targets of [`QEMU_RUNS`], each once, in order.
fn qemu_targets() -> Vec<&'static str> {
    let mut targets: Vec<&'static str> = Vec::new();
    for run in QEMU_RUNS {
        if !targets.contains(&run.target) {
            targets.push(run.target);
        }
    }
    targets
}

const QEMU_RUNS: &[QemuRun] = &[
    // The Cortex-A7 examples (i.MX6ULL, STM32MP1) are built in the Thumb-2
    // instruction set, as U-Boot builds STM32MP (`select SYS_THUMB_BUILD`
    // in arch/arm/Kconfig): 0.7× the code of A32. Their start-up is A32.
    QemuRun {
        package: "core-tee",
        target: THUMBV7A,
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
    // The M-profile build, executed: a Cortex-M4F (as the STM32MP1's M4)
    // with the image at 0x0, started from board-rt's vector table.
    QemuRun {
        package: "core-tee",
        target: "thumbv7em-none-eabihf",
        qemu: "qemu-system-arm",
        machine: &["-M", "mps2-an386"],
        swtpm: false,
    },
    QemuRun {
        package: "imx6ull-dcp",
        target: THUMBV7A,
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx6ul-evk", "-m", "512M"],
        swtpm: false,
    },
    // No STM32MP15 machine in QEMU: the i.MX7D's Cortex-A7 with DDR at
    // 0x8000_0000..0xFFFF_FFFF (2 GiB) runs the image linked at 0xC000_0000.
    QemuRun {
        package: "stm32mp1-otp-tee",
        target: THUMBV7A,
        qemu: "qemu-system-arm",
        machine: &["-M", "mcimx7d-sabre", "-m", "2G"],
        swtpm: false,
    },
    // No STM32MP13 machine either: the same Cortex-A7 stand-in, image
    // linked at the MP13's DDR base 0xC000_0000.
    QemuRun {
        package: "stm32mp13-saes-tee",
        target: THUMBV7A,
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
/// PASS line, a time-out, or (Rust examples) a key found on the dead stack
/// after the flow's scrub.
fn qemu(only: Option<&str>) -> Result {
    check_cross_toolchain()?;
    let mut failures = Vec::new();
    for run in QEMU_RUNS
        .iter()
        .filter(|r| only.is_none_or(|p| p == r.package))
    {
        let image = build_example(run.package, run.target, "qemu", &[])?;
        let (result, secs) = run_qemu(run, &image)?;
        let scrubbed = result
            .as_ref()
            .is_ok_and(|(_, output)| residue_clean(run.package, output));
        if !qemu_verdict(run.package, run.qemu, run.machine, result, secs)? || !scrubbed {
            failures.push(run.package);
        }
    }
    if only.is_none_or(|p| p == C_EXAMPLE) && !qemu_c_example()? {
        failures.push(C_EXAMPLE);
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("QEMU examples failed: {}", failures.join(", ")))
    }
}

/// Whether a Rust example's output has `residue:` lines (board-rt's
/// search of the dead stack for the key) and every one found no copy after
/// the flow's stack scrub; prints them.
fn residue_clean(name: &str, output: &str) -> bool {
    let lines: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("residue: "))
        .collect();
    for line in &lines {
        eprintln!("xtask: qemu {name}: {line}");
    }
    let clean = !lines.is_empty() && lines.iter().all(|l| l.ends_with(" scrubbed=0"));
    if !clean {
        eprintln!(
            "xtask: qemu {name}: no `residue:` line, or key bytes left on the stack after the scrub"
        );
    }
    clean
}

/// What a QEMU run ended with: its exit code (`None` when killed) and
/// output, or why it could not start.
type QemuOutcome = Result<(Option<i32>, String)>;

/// Runs `image` as `run` says (with a swtpm behind it if it needs one);
/// returns the exit code and output (see [`run_with_timeout`]) and the
/// seconds it took.
fn run_qemu(run: &QemuRun, image: &Path) -> Result<(QemuOutcome, f64)> {
    let mut cmd = qemu_command(run.qemu, run.machine);
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
    cmd.arg("-kernel").arg(image);
    let start = Instant::now();
    let result = run_with_timeout(&mut cmd, QEMU_TIMEOUT);
    let secs = start.elapsed().as_secs_f64();
    drop(tpm);
    Ok((result, secs))
}

/// QEMU with `machine`, no display, no monitor, serial discarded, and
/// semihosting as the only output (stdout) and exit status.
fn qemu_command(qemu: &str, machine: &[&str]) -> Command {
    let mut cmd = Command::new(qemu);
    cmd.args(machine)
        .args(["-nographic", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native"]);
    cmd
}

/// Prints the verdict of one QEMU run of `name`: passed when it exited 0
/// and printed `<name>: PASS`; the output is shown when it did not.
fn qemu_verdict(
    name: &str,
    qemu: &str,
    machine: &[&str],
    result: Result<(Option<i32>, String)>,
    secs: f64,
) -> Result<bool> {
    let (code, output) = result
        .map_err(|e| format!("{e}; install QEMU with: apt-get install -y qemu-system-arm"))?;
    let passed = code == Some(0) && output.contains(&format!("{name}: PASS"));
    eprintln!(
        "xtask: qemu {name} ({qemu} {}): {} exit={code:?} in {secs:.2} s",
        machine.join(" "),
        if passed { "PASS" } else { "FAIL" }
    );
    if !passed {
        eprintln!("{output}");
    }
    Ok(passed)
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

/// `cargo xtask bench`: runs hal-tpm-spi's ignored `bench` test (release
/// build, swtpm and tpm2-tools on this machine), which prints `BENCH key
/// value` lines; builds the `tpm-spi` example with and without the
/// `sessions` feature for its `.text`; writes `docs/bench.md`. Figures are
/// measured and reported, never asserted.
fn bench() -> Result {
    ensure_packages()?;
    eprintln!("xtask: bench: hal-tpm-spi bench test (release)");
    let out = cargo()
        .current_dir(root())
        .args([
            "test",
            "--release",
            "-p",
            "hal-tpm-spi",
            "--test",
            "bench",
            "--",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("the bench test failed:\n{text}"));
    }
    let figures: std::collections::BTreeMap<&str, f64> = text
        .lines()
        // libtest prints "test NAME ... " before the first line of output.
        .filter_map(|l| l.split_once("BENCH ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| Some((k, v.trim().parse::<f64>().ok()?)))
        .collect();
    let get = |key: &str| {
        figures
            .get(key)
            .copied()
            .ok_or_else(|| format!("bench test printed no {key}"))
    };

    check_cross_toolchain()?;
    let target = "aarch64-unknown-none";
    eprintln!("xtask: bench: tpm-spi with sessions");
    let with = section_sizes(&build_example("tpm-spi", target, "bench", &[])?, None)?;
    eprintln!("xtask: bench: tpm-spi without sessions");
    let without = section_sizes(
        &build_example("tpm-spi", target, "bench-plain", &["--no-default-features"])?,
        None,
    )?;

    let mut bytes = String::from(
        "| sim burstCount | sessions | operation | TPM commands | SPI bytes | floor | ratio |\n\
         |---|---|---|---:|---:|---:|---:|\n",
    );
    for (tag, burst) in [("burst64", "64 (sim default)"), ("burst4096", "FIFO size")] {
        for (mode, label) in [("sessions", "on"), ("password", "off")] {
            for (op, what) in [
                ("first_seal", "first seal of a source (+ ReadPublic)"),
                ("seal", "seal"),
                ("unseal", "unseal"),
            ] {
                let key = |f: &str| format!("{tag}.{mode}.{op}.{f}");
                let (b, floor) = (get(&key("bytes"))?, get(&key("floor"))?);
                bytes.push_str(&format!(
                    "| {burst} | {label} | {what} | {} | {b} | {floor} | {:.2}× |\n",
                    get(&key("commands"))?,
                    b / floor
                ));
            }
        }
    }
    let (ours, tools) = (get("wall.ours_us")?, get("wall.tools_us")?);
    let doc = format!(
        "# TPM benchmarks\n\n\
         Written by `cargo xtask bench` (do not edit). Measured, never asserted in \
         tests. The TPM is swtpm behind hal-tpm-spi's TIS-over-SPI sim \
         (`tests/bench.rs`, release build).\n\n\
         ## SPI bytes per seal and unseal\n\n\
         Every byte clocked with chip select low, against the floor for the same \
         command sequence: each command and response as 64-byte frames with a \
         4-byte header each, nothing else (no status polls, no tpmGo, no \
         commandReady). \"sessions on\": salted HMAC session (StartAuthSession, \
         encrypted Create/Unseal, response HMACs); \"off\": password sessions \
         (`allow_insecure`). \"first seal\" includes the one TPM2_ReadPublic of the \
         storage key each source does once. The sim's burstCount is capped at 64 \
         by default; a TPM that announces its whole free FIFO (QEMU's tpm-tis does) \
         needs no status read between frames.\n\n{bytes}\n\
         Per command the driver spends 34 bytes beyond the floor: one 3-byte STS \
         read (commandReady + burstCount, 7), the Expect check after the last byte \
         (5), tpmGo (5), the dataAvail + burstCount read (7), the dataAvail-clear \
         check (5), commandReady (5); plus 7 per extra frame when burstCount runs \
         out.\n\n\
         ## TPM commands per unseal\n\n\
         With sessions: {} (StartAuthSession, Load, Unseal ending the session, \
         FlushContext), plus one ReadPublic of the storage key per source; without: \
         {}.\n\n\
         ## Wall time of an unseal\n\n\
         Median of {} runs on the same swtpm. Ours: a whole boot's unseal over the \
         SPI sim (connect, TIS init, Startup, ReadPublic, StartAuthSession, Load, \
         Unseal, FlushContext). tpm2-tools: `tpm2_startauthsession --hmac-session -c \
         0x81000001` + `tpm2_load -P session:` + `tpm2_unseal -p session:` (the same \
         salted HMAC session kind).\n\n\
         | ours | tpm2-tools | ratio |\n|---:|---:|---:|\n\
         | {:.1} ms | {:.1} ms | {:.3}× |\n\n\
         ## Code size of the `sessions` feature\n\n\
         `.text` of the `tpm-spi` example ({target}, opt-level \"z\", LTO; the whole \
         firmware image: start-up, semihosting, boot flow, MMIO TIS, TPM commands), \
         built as `cargo xtask size` builds it, with and without hal-tpm-spi's \
         `sessions` feature.\n\n\
         | build | .text | .rodata |\n|---|---:|---:|\n\
         | sessions on | {} | {} |\n| sessions off | {} | {} |\n\
         | cost of `sessions` | {} | {} |\n",
        get("burst64.sessions.unseal.commands")?,
        get("burst64.password.unseal.commands")?,
        get("wall.runs")?,
        ours / 1000.0,
        tools / 1000.0,
        ours / tools,
        with[0],
        with[1],
        without[0],
        without[1],
        with[0] as i64 - without[0] as i64,
        with[1] as i64 - without[1] as i64,
    );
    print!("{doc}");
    let path = root().join("docs/bench.md");
    std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// The C example: plain C on the staticlib, under QEMU like the Rust ones.
const C_EXAMPLE: &str = "c-imx6ull-dcp";
/// cbindgen version the committed header is generated with (Debian's
/// 0.24 cannot parse edition-2024 `#[unsafe(no_mangle)]`).
const CBINDGEN_VERSION: &str = "0.29.4";
const FFI_HEADER: &str = "trusted-keys-ffi/include/trusted_keys.h";

/// The pinned cbindgen: on PATH or in cargo's bin directory at exactly
/// [`CBINDGEN_VERSION`], else installed with `cargo install --locked`.
fn cbindgen() -> Result<PathBuf> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin/cbindgen");
    let pinned = |p: &Path| {
        Command::new(p).arg("--version").output().is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).trim() == format!("cbindgen {CBINDGEN_VERSION}")
        })
    };
    for candidate in [PathBuf::from("cbindgen"), cargo_bin.clone()] {
        if pinned(&candidate) {
            return Ok(candidate);
        }
    }
    eprintln!(
        "xtask: cbindgen {CBINDGEN_VERSION} not found (Debian's 0.24 cannot read edition 2024); \
         installing it with cargo install (a few minutes, once per machine)"
    );
    run(
        &format!("cargo install cbindgen --locked --version {CBINDGEN_VERSION}"),
        cargo().args([
            "install",
            "cbindgen",
            "--locked",
            "--version",
            CBINDGEN_VERSION,
        ]),
    )?;
    if pinned(&cargo_bin) {
        Ok(cargo_bin)
    } else {
        Err(format!(
            "cbindgen {CBINDGEN_VERSION} still not found at {}",
            cargo_bin.display()
        ))
    }
}

/// Generates the C header; with `write`, into the repository
/// (`cargo xtask header`), else into a temporary file compared with the
/// committed one, failing with how to regenerate when they differ.
fn ffi_header(write: bool) -> Result {
    let cbindgen = cbindgen()?;
    let committed = root().join(FFI_HEADER);
    let output = if write {
        committed.clone()
    } else {
        root().join("target/ffi/trusted_keys.h.fresh")
    };
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    run(
        &format!("cbindgen {CBINDGEN_VERSION} -> {}", output.display()),
        Command::new(&cbindgen)
            .args(["--quiet", "--config", "trusted-keys-ffi/cbindgen.toml"])
            .args(["--crate", "trusted-keys-ffi", "--output"])
            .arg(&output),
    )?;
    if write {
        return Ok(());
    }
    let fresh = std::fs::read(&output).map_err(|e| format!("{}: {e}", output.display()))?;
    let old = std::fs::read(&committed).unwrap_or_default();
    if fresh != old {
        return Err(format!(
            "{FFI_HEADER} is not what cbindgen makes of trusted-keys-ffi/src now; \
             regenerate it with `cargo xtask header` and commit it \
             (fresh version: {})",
            output.display()
        ));
    }
    eprintln!("xtask: {FFI_HEADER} is up to date");
    Ok(())
}

/// Builds the C ABI staticlib for `target` with `features`, and copies it
/// to `target/ffi/<target>/<flavour>/` (the features share one cargo
/// output file); returns that path. `cargo rustc --crate-type staticlib`,
/// not `cargo build`: with the manifest's `["staticlib", "rlib"]` cargo
/// silently drops the profile's LTO (cargo#14612). With the RustCrypto
/// size flags of the firmware examples' cargo config, so C firmware links
/// the same compact back ends as the Rust examples and probes.
fn ffi_staticlib(target: &str, features: &str, flavour: &str) -> Result<PathBuf> {
    let mut cmd = debian_cargo("ffi");
    let size_flags = root().join("examples/.cargo/config.toml");
    cmd.arg("--config").arg(size_flags);
    cmd.args([
        "rustc",
        "--release",
        "-p",
        "trusted-keys-ffi",
        "--target",
        target,
    ])
    .args(["-Zbuild-std=core", "--features", features])
    .args(["--crate-type", "staticlib"]);
    run(&format!("staticlib {target} ({features})"), &mut cmd)?;
    let release = root().join("target/ffi").join(target).join("release");
    let dir = release.join(flavour);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let lib = dir.join("libtrusted_keys_ffi.a");
    std::fs::copy(release.join("libtrusted_keys_ffi.a"), &lib)
        .map_err(|e| format!("{}: {e}", lib.display()))?;
    Ok(lib)
}

/// The staticlib a C firmware links, for each firmware target (registers,
/// no models; `panic-handler` since no Rust firmware provides one).
fn ffi_staticlibs() -> Result {
    check_cross_toolchain()?;
    for target in TARGETS {
        let lib = ffi_staticlib(target, "panic-handler", "hw")?;
        eprintln!("xtask: {}", lib.display());
    }
    Ok(())
}

/// Builds the staticlib with the DCP model, compiles and links the C
/// example with Debian's arm-none-eabi-gcc (its Makefile), and runs it on
/// `mcimx6ul-evk`.
fn qemu_c_example() -> Result<bool> {
    let lib = ffi_staticlib("armv7a-none-eabihf", "panic-handler,dcp-sim", "dcp-sim")?;
    let out = root().join("target/ffi").join(C_EXAMPLE);
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(root().join("examples").join(C_EXAMPLE))
        .arg(format!("LIB={}", lib.display()))
        .arg(format!("OUT={}", out.display()));
    run(&format!("make {C_EXAMPLE}"), &mut make).map_err(|e| {
        format!("{e}; the C example needs: apt-get install -y gcc-arm-none-eabi make")
    })?;
    let machine = ["-M", "mcimx6ul-evk", "-m", "512M"];
    let mut cmd = qemu_command("qemu-system-arm", &machine);
    cmd.arg("-kernel").arg(out.join(C_EXAMPLE));
    let start = Instant::now();
    let result = run_with_timeout(&mut cmd, QEMU_TIMEOUT);
    let secs = start.elapsed().as_secs_f64();
    qemu_verdict(C_EXAMPLE, "qemu-system-arm", &machine, result, secs)
}
