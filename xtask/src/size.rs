//! `cargo xtask size [--check | --bless | --only PKG[,PKG...]]`: code size
//! and stack of every backend, per crate, against a committed baseline.
//!
//! Builds, with Debian's toolchain in `examples/` (release profile:
//! opt-level "z", LTO, one codegen unit, panic=abort; the examples' cargo
//! config sets the RustCrypto size flags):
//!
//! - the size probes: static libraries with just a backend's seal and
//!   unseal entry points, for the common yardstick thumbv7em and the SoC's
//!   own target;
//! - the QEMU examples (model builds) and, where they have one, their `hw`
//!   builds for the real SoC;
//!
//! all in the target directory `cargo xtask qemu` uses (`target/qemu`), so
//! in `cargo xtask test` the examples are already built and `core` is
//! compiled once per target. For each it reads section sizes (`llvm-size`)
//! and attributes `.text` and `.rodata` to crates from the symbol table
//! (`llvm-nm`). It runs each QEMU example once for the stack high-water
//! marks `board-rt` prints. Everything goes to `docs/size.md`.
//!
//! `--check` compares with `docs/size-baseline.txt` and fails when a
//! `.text`, `.rodata` or stack figure grew more than [`TOLERANCE_PERCENT`]
//! over it, printing the per-crate difference; `--bless` rewrites the
//! baseline from this measurement (the deliberate way to accept growth).
//! `--only` measures just the named probes and examples and prints them,
//! without writing the docs or comparing (for a quick look while cutting).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{QEMU_RUNS, Result, THUMBV7A, build_example, check_cross_toolchain, debian_cargo};
use crate::{has_feature, root, run, run_qemu, section_sizes};

/// What `cargo xtask size` does besides measuring and writing the docs.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Measure and write `docs/size.md`.
    Write,
    /// Also compare with the baseline; fail on growth.
    Check,
    /// Also rewrite the baseline.
    Bless,
    /// Only these packages; print, write nothing.
    Only(Vec<String>),
}

impl Mode {
    pub(crate) fn from_args(arg: Option<&str>, list: Option<&str>) -> Result<Self> {
        match (arg, list) {
            (None, _) => Ok(Self::Write),
            (Some("--check"), _) => Ok(Self::Check),
            (Some("--bless"), _) => Ok(Self::Bless),
            (Some("--only"), Some(list)) => {
                Ok(Self::Only(list.split(',').map(str::to_string).collect()))
            }
            (Some(other), _) => Err(format!(
                "size: unknown option {other} (--check, --bless, --only PKG[,PKG...])"
            )),
        }
    }

    /// Whether `package` is measured in this mode.
    fn wants(&self, package: &str) -> bool {
        match self {
            Self::Only(list) => list.iter().any(|p| p == package),
            _ => true,
        }
    }
}

/// Largest growth over the baseline `--check` lets pass, in percent.
const TOLERANCE_PERCENT: u64 = 2;
/// The committed baseline.
const BASELINE: &str = "docs/size-baseline.txt";
/// The one target directory of the examples' builds (shared with `qemu`).
const TARGET_DIR: &str = "qemu";

pub(crate) const THUMB: &str = "thumbv7em-none-eabihf";
const ARMV7A: &str = "armv7a-none-eabihf";
const AARCH64: &str = "aarch64-unknown-none";
/// Every target a probe is built for, in table order: Armv7-A in both
/// instruction sets (A32 as the crates' cross build, Thumb-2 as the
/// Cortex-A7 examples and U-Boot's STM32MP builds), AArch64, Armv7E-M.
const PROBE_TARGETS: [&str; 4] = [ARMV7A, THUMBV7A, AARCH64, THUMB];

/// A size probe: a static library in `examples/` with a backend's seal and
/// unseal entry points.
struct Probe {
    package: &'static str,
    /// Its name in the tables and the baseline.
    label: &'static str,
    /// Extra cargo flags (features).
    flags: &'static [&'static str],
    targets: &'static [&'static str],
    /// `.text` goal in bytes and the targets it is set for (issue 15's
    /// table; the TPM goals are issue 11's).
    goal: Option<(u64, &'static [&'static str])>,
}

const KB: u64 = 1024;

const PROBES: &[Probe] = &[
    Probe {
        package: "size-tee",
        label: "size-tee",
        flags: &[],
        targets: &[THUMB, ARMV7A, THUMBV7A, AARCH64],
        goal: Some((10 * KB, &[THUMB])),
    },
    Probe {
        package: "size-dcp",
        label: "size-dcp",
        flags: &[],
        targets: &[THUMB, ARMV7A, THUMBV7A],
        goal: Some((10 * KB, &[THUMB, ARMV7A, THUMBV7A])),
    },
    Probe {
        package: "size-caam",
        label: "size-caam",
        flags: &[],
        targets: &[THUMB, AARCH64],
        goal: Some((5 * KB, &[THUMB, AARCH64])),
    },
    Probe {
        package: "size-stm32mp1",
        label: "size-stm32mp1",
        flags: &[],
        targets: &[THUMB, ARMV7A, THUMBV7A],
        goal: Some((12 * KB, &[THUMB, ARMV7A, THUMBV7A])),
    },
    Probe {
        package: "size-tpm",
        label: "size-tpm (sessions)",
        flags: &[],
        targets: &[THUMB, ARMV7A, THUMBV7A, AARCH64],
        goal: Some((24 * KB, &[THUMB])),
    },
    Probe {
        package: "size-tpm",
        label: "size-tpm (no sessions)",
        flags: &["--no-default-features"],
        targets: &[THUMB, ARMV7A, THUMBV7A, AARCH64],
        goal: Some((8 * KB, &[THUMB])),
    },
];

/// The size probes as `(package, label, cargo flags, targets)`, for the
/// panic check (`panic_check.rs`), which builds the same artifacts.
pub(crate) fn probes() -> impl Iterator<
    Item = (
        &'static str,
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    ),
> {
    PROBES
        .iter()
        .map(|p| (p.package, p.label, p.flags, p.targets))
}

/// `.text` goal of every whole `hw` firmware image (issue 15).
const IMAGE_GOAL: u64 = 24 * KB;
/// Unseal stack goal of every backend (issue 15).
const UNSEAL_STACK_GOAL: u64 = 4 * KB;

/// Stack high-water marks of one flow (one trust source) of an example.
struct Stack {
    source: String,
    seal: u64,
    unseal: u64,
    boot1: u64,
    boot2: u64,
}

/// One measured artifact.
struct Artifact {
    label: String,
    target: &'static str,
    /// .text, .rodata, .data, .bss
    sections: [u64; 4],
    /// crate → (.text, .rodata), from the symbol table
    crates: BTreeMap<String, [u64; 2]>,
    stack: Vec<Stack>,
    goal: Option<u64>,
}

impl Artifact {
    fn key(&self) -> String {
        format!("{} @ {}", self.label, self.target)
    }

    /// The figures the baseline holds and `--check` guards.
    fn figures(&self) -> Vec<(String, u64)> {
        let mut figures = vec![
            ("text".to_string(), self.sections[0]),
            ("rodata".to_string(), self.sections[1]),
        ];
        for s in &self.stack {
            for (phase, bytes) in [
                ("seal", s.seal),
                ("unseal", s.unseal),
                ("boot1", s.boot1),
                ("boot2", s.boot2),
            ] {
                figures.push((format!("stack.{}.{phase}", s.source), bytes));
            }
        }
        figures
    }
}

pub(crate) fn size(mode: Mode) -> Result {
    check_cross_toolchain()?;
    let start = Instant::now();
    let mut probes = Vec::new();
    for target in PROBE_TARGETS {
        probes.extend(measure_probes(target, &mode)?);
    }
    let images = measure_images(&mode)?;
    if let Mode::Only(_) = mode {
        print_summary(&probes, &images);
        for a in probes.iter().chain(&images) {
            println!("{} @ {}: {}", a.label, a.target, top_crates(a, 12));
        }
        return Ok(());
    }
    let doc = render(&probes, &images);
    let path = root().join("docs/size.md");
    std::fs::write(&path, doc).map_err(|e| format!("{}: {e}", path.display()))?;
    print_summary(&probes, &images);
    eprintln!("xtask: wrote {}", path.display());
    let all: Vec<&Artifact> = probes.iter().chain(&images).collect();
    let verdict = match mode {
        Mode::Write => Ok(()),
        Mode::Check => check(&all),
        Mode::Bless => bless(&all),
        Mode::Only(_) => unreachable!("returned above"),
    };
    eprintln!(
        "xtask: size: {} artifacts in {:.1} s",
        all.len(),
        start.elapsed().as_secs_f64()
    );
    verdict
}

/// Builds the probes of `target`: one cargo run for those without extra
/// flags (the crates they share are compiled once), one per flag set.
fn measure_probes(target: &'static str, mode: &Mode) -> Result<Vec<Artifact>> {
    let here: Vec<&Probe> = PROBES
        .iter()
        .filter(|p| p.targets.contains(&target) && mode.wants(p.package))
        .collect();
    let mut groups: Vec<(&[&str], Vec<&Probe>)> = Vec::new();
    for probe in here {
        match groups.iter_mut().find(|(flags, _)| *flags == probe.flags) {
            Some((_, members)) => members.push(probe),
            None => groups.push((probe.flags, vec![probe])),
        }
    }
    let mut out = Vec::new();
    for (flags, members) in groups {
        let mut cmd = debian_cargo(TARGET_DIR);
        cmd.current_dir(root().join("examples"));
        cmd.args(["build", "--release", "--target", target, "-Zbuild-std=core"]);
        let mut seen = Vec::new();
        for p in &members {
            if !seen.contains(&p.package) {
                seen.push(p.package);
                cmd.args(["-p", p.package]);
            }
        }
        cmd.args(flags);
        let step = format!(
            "size: probes {} {target} {}",
            seen.join(" "),
            flags.join(" ")
        );
        run(&step, &mut cmd)?;
        for p in members {
            let lib = release_dir(target).join(format!("lib{}.a", p.package.replace('-', "_")));
            let own = p.package.replace('-', "_");
            let sections = section_sizes(&lib, Some(p.package))?;
            out.push(Artifact {
                label: p.label.to_string(),
                target,
                sections,
                crates: crate_shares(&lib, Some(&own), &own, sections)?,
                stack: Vec::new(),
                goal: p
                    .goal
                    .filter(|(_, targets)| targets.contains(&target))
                    .map(|(bytes, _)| bytes),
            });
        }
    }
    Ok(out)
}

/// The QEMU examples: the model build (as `cargo xtask qemu` builds it;
/// run once for its stack figures) and, with feature `hw`, the build for
/// the real SoC.
fn measure_images(mode: &Mode) -> Result<Vec<Artifact>> {
    let mut out = Vec::new();
    for run in QEMU_RUNS.iter().filter(|r| mode.wants(r.package)) {
        let start = Instant::now();
        let elf = build_example(run.package, run.target, TARGET_DIR, &[])?;
        let built = start.elapsed().as_secs_f64();
        let (result, secs) = run_qemu(run, &elf)?;
        eprintln!(
            "xtask: size: {} ({}): built in {built:.1} s, ran under QEMU in {secs:.1} s",
            run.package, run.target
        );
        let (code, output) = result?;
        let stack = parse_stack(&output);
        if code != Some(0) || stack.is_empty() {
            return Err(format!(
                "{} ({}) did not pass under QEMU or printed no stack line (exit {code:?}, {secs:.1} s):\n{output}",
                run.package, run.target
            ));
        }
        let own = run.package.replace('-', "_");
        let sections = section_sizes(&elf, None)?;
        out.push(Artifact {
            label: run.package.to_string(),
            target: run.target,
            sections,
            crates: crate_shares(&elf, None, &own, sections)?,
            stack,
            goal: None,
        });
    }
    // The `hw` builds, one cargo run per target (the examples enable the
    // same features of every shared crate, so nothing is unified away).
    for target in crate::qemu_targets() {
        let mut packages: Vec<&str> = QEMU_RUNS
            .iter()
            .filter(|r| {
                r.target == target
                    && mode.wants(r.package)
                    && has_feature(&format!("examples/{}", r.package), "hw")
            })
            .map(|r| r.package)
            .collect();
        packages.dedup();
        if packages.is_empty() {
            continue;
        }
        let mut cmd = debian_cargo(TARGET_DIR);
        cmd.current_dir(root().join("examples"));
        cmd.args(["build", "--release", "--target", target, "-Zbuild-std=core"]);
        packages.iter().for_each(|p| {
            cmd.args(["-p", p]);
        });
        cmd.args(["--no-default-features", "--features", "hw"]);
        run(
            &format!("size: {} --features hw ({target})", packages.join(" ")),
            &mut cmd,
        )?;
        for package in packages {
            let elf = release_dir(target).join(package);
            let own = package.replace('-', "_");
            let sections = section_sizes(&elf, None)?;
            out.push(Artifact {
                label: format!("{package} (hw)"),
                target,
                sections,
                crates: crate_shares(&elf, None, &own, sections)?,
                stack: Vec::new(),
                goal: Some(IMAGE_GOAL),
            });
        }
    }
    Ok(out)
}

fn release_dir(target: &str) -> PathBuf {
    root()
        .join("target")
        .join(TARGET_DIR)
        .join(target)
        .join("release")
}

/// The `stack: <source> seal=N unseal=N boot1=N boot2=N` lines of
/// `board_rt::boot_twice`.
fn parse_stack(output: &str) -> Vec<Stack> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("stack: "))
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let source = words.next()?.to_string();
            let fields: BTreeMap<&str, u64> = words
                .filter_map(|w| w.split_once('='))
                .filter_map(|(k, v)| Some((k, v.parse().ok()?)))
                .collect();
            Some(Stack {
                source,
                seal: *fields.get("seal")?,
                unseal: *fields.get("unseal")?,
                boot1: *fields.get("boot1")?,
                boot2: *fields.get("boot2")?,
            })
        })
        .collect()
}

pub(crate) fn llvm_tool(name: &str) -> Result<PathBuf> {
    [
        PathBuf::from("/usr/lib/llvm-22/bin").join(name),
        PathBuf::from(name),
    ]
    .into_iter()
    .find(|p| Command::new(p).arg("--version").output().is_ok())
    .ok_or_else(|| format!("{name} not found: apt-get install -y llvm-22"))
}

/// `.text` and `.rodata` bytes per crate, from the sizes of the defined
/// symbols (`llvm-nm`, demangled). In an archive only the member whose
/// name contains `member` counts (the probe's LTO object). What no symbol
/// covers of the `sections` sizes (alignment, anonymous constants) is
/// `(unattributed)`.
fn crate_shares(
    file: &Path,
    member: Option<&str>,
    own: &str,
    sections: [u64; 4],
) -> Result<BTreeMap<String, [u64; 2]>> {
    let out = Command::new(llvm_tool("llvm-nm")?)
        .args(["-f", "sysv", "--demangle", "--defined-only"])
        .arg(file)
        .output()
        .map_err(|e| format!("llvm-nm: {e}"))?;
    if !out.status.success() {
        return Err(format!("llvm-nm {} failed", file.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut shares: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    let mut counted = member.is_none();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("Symbols from ") {
            if let Some(member) = member {
                counted = name.contains(member) && !name.contains("compiler_builtins");
            }
            continue;
        }
        if !counted {
            continue;
        }
        // Name | Value | Class | Type | Size | Line | Section
        let fields: Vec<&str> = line.rsplitn(7, '|').collect();
        let [section, _line, size, _type, _class, _value, name] = fields[..] else {
            continue;
        };
        let Ok(size) = u64::from_str_radix(size.trim(), 16) else {
            continue;
        };
        let slot = match section.trim() {
            s if s.starts_with(".text") => 0,
            s if s.starts_with(".rodata") => 1,
            _ => continue,
        };
        if size > 0 {
            shares.entry(crate_of(name.trim(), own)).or_default()[slot] += size;
        }
    }
    let attributed = shares
        .values()
        .fold([0, 0], |a, s| [a[0] + s[0], a[1] + s[1]]);
    shares.insert(
        "(unattributed)".into(),
        [
            sections[0].saturating_sub(attributed[0]),
            sections[1].saturating_sub(attributed[1]),
        ],
    );
    Ok(shares)
}

/// The crate a demangled symbol's code belongs to: the first path segment,
/// for `<T as Trait>::f` the crate of `T` (of `Trait` when `T` is a
/// primitive, slice, array, tuple or reference), for drop glue the dropped
/// type's crate. Unmangled names: `tk_*` and `main` are the artifact's
/// own (`own`), `_start`/`__board_rt_*` board-rt's, machine-outlined
/// fragments `(outlined)`, the rest (`memcpy`, `__aeabi_*`, ...)
/// compiler_builtins'.
pub(crate) fn crate_of(symbol: &str, own: &str) -> String {
    if let Some(inner) = symbol.strip_prefix("core::ptr::drop_in_place::<")
        && let Some(c) = type_crate(inner)
    {
        return c;
    }
    if let Some(rest) = symbol.strip_prefix('<') {
        let (self_ty, trait_ty) = split_qualified(rest);
        return type_crate(self_ty)
            .or_else(|| trait_ty.and_then(type_crate))
            .unwrap_or_else(|| "core".into());
    }
    if let Some(c) = type_crate(symbol) {
        return c;
    }
    match symbol {
        s if s.starts_with("tk_") || s == "main" => own.into(),
        s if s == "_start" || s.starts_with("__board_rt") => "board_rt".into(),
        s if s.starts_with("OUTLINED_FUNCTION") => "(outlined)".into(),
        _ => "compiler_builtins".into(),
    }
}

/// Splits `T as Trait>::rest` (the text after a leading `<`) into `T` and
/// `Trait`, or `T>::rest` into `T` and `None`, at angle-bracket depth 0.
fn split_qualified(s: &str) -> (&str, Option<&str>) {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if depth == 0 => return (&s[..i], None),
            '>' => depth -= 1,
            ' ' if depth == 0 && s[i..].starts_with(" as ") => {
                let rest = &s[i + 4..];
                return (&s[..i], Some(split_qualified(rest).0));
            }
            _ => {}
        }
    }
    (s, None)
}

/// The crate of a type or path: its first `::` segment; `None` for
/// primitives, slices, arrays, tuples, references and pointers.
fn type_crate(ty: &str) -> Option<String> {
    let ty = ty.trim();
    if ty.starts_with(['&', '*', '[', '(']) || ty.starts_with("dyn ") {
        return None;
    }
    let (head, _) = ty.split_once("::")?;
    (!head.is_empty() && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| head.to_string())
}

/// Crates written here, RustCrypto's (and its helpers), the compiler's.
fn group(krate: &str) -> &'static str {
    const RUSTCRYPTO: &[&str] = &[
        "aead",
        "aes",
        "aes_gcm",
        "block_buffer",
        "ccm",
        "cfb_mode",
        "cipher",
        "cmac",
        "cmov",
        "cpubits",
        "crypto_bigint",
        "crypto_common",
        "ctr",
        "ctutils",
        "dbl",
        "der",
        "digest",
        "elliptic_curve",
        "ff",
        "ghash",
        "group",
        "hmac",
        "hybrid_array",
        "inout",
        "p256",
        "polyval",
        "primeorder",
        "sec1",
        "sha2",
        "universal_hash",
        "zeroize",
    ];
    match krate {
        "core" => "core",
        "compiler_builtins" => "compiler_builtins",
        "(unattributed)" | "(outlined)" => "unattributed",
        k if RUSTCRYPTO.contains(&k) => "RustCrypto",
        k if k == "trusted_core"
            || k == "board_rt"
            || k.starts_with("hal_")
            || k.starts_with("size_")
            || QEMU_RUNS.iter().any(|r| r.package.replace('-', "_") == k) =>
        {
            "ours"
        }
        _ => "other",
    }
}

const GROUPS: [&str; 6] = [
    "ours",
    "RustCrypto",
    "core",
    "compiler_builtins",
    "other",
    "unattributed",
];

fn group_totals(a: &Artifact) -> [u64; 6] {
    let mut totals = [0u64; 6];
    for (krate, [text, _]) in &a.crates {
        if let Some(i) = GROUPS.iter().position(|g| *g == group(krate)) {
            totals[i] += text;
        }
    }
    totals
}

/// The largest crates of `a` by `.text`, for the summary line.
fn top_crates(a: &Artifact, n: usize) -> String {
    let mut by_size: Vec<(&String, &[u64; 2])> = a.crates.iter().collect();
    by_size.sort_by(|x, y| y.1[0].cmp(&x.1[0]).then(x.0.cmp(y.0)));
    by_size
        .iter()
        .filter(|(_, s)| s[0] > 0)
        .take(n)
        .map(|(k, s)| format!("{k} {}", s[0]))
        .collect::<Vec<_>>()
        .join(", ")
}

fn goal_cell(a: &Artifact) -> String {
    match a.goal {
        Some(goal) => format!(
            "≤ {} KB {}",
            goal / KB,
            if a.sections[0] <= goal { "✓" } else { "✗" }
        ),
        None => String::new(),
    }
}

fn section_row(a: &Artifact) -> String {
    let s = a.sections;
    format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        a.label,
        a.target,
        s[0],
        s[1],
        s[2],
        s[3],
        goal_cell(a)
    )
}

fn render(probes: &[Artifact], images: &[Artifact]) -> String {
    let header = "| {what} | target | .text | .rodata | .data | .bss | goal (.text) |\n\
                  |---|---|---:|---:|---:|---:|---|\n";
    let mut doc = String::from(
        "# Sizes\n\n\
         Written by `cargo xtask size` (do not edit): release builds with opt-level \"z\", \
         LTO, one codegen unit and panic=abort, Debian's toolchain with \
         `-Zbuild-std=core`, and the RustCrypto size flags of `examples/.cargo/config.toml` \
         (`aes_backend_soft=\"compact\"`, `sha2_backend_soft=\"compact\"`; on AArch64 \
         also `aes_backend`, `polyval_backend` and `sha2_backend` = `\"soft\"`; on 32-bit \
         targets `cpubits=\"32\"`); bytes per \
         section as `llvm-size -A` reports them. Goals are issue 15's (1 KB = 1024 B; the \
         TPM probes' are issue 11's). `cargo xtask size --check` (run by `cargo xtask \
         test`) fails when a `.text`, `.rodata` or stack figure grows more than 2 % over \
         [`size-baseline.txt`](size-baseline.txt); `cargo xtask size --bless` accepts the \
         new figures.\n\n\
         ## Size probes\n\n\
         Static libraries with just a backend's seal and unseal entry points \
         (`examples/size-*`), so only the library code a bootloader links is counted \
         (compiler_builtins left out). Platform services (RNG, delay, SPI) are external \
         functions the firmware provides. Armv7-A is measured in both instruction sets: \
         A32 (armv7a-none-eabihf) and Thumb-2 (thumbv7a-none-eabihf, as U-Boot builds \
         STM32MP and the Cortex-A7 examples are built); both builds align every access \
         (`+strict-align`: the MMU is off at boot), which Armv7E-M does not need.\n\n",
    );
    doc.push_str(&header.replace("{what}", "probe"));
    probes.iter().for_each(|a| doc.push_str(&section_row(a)));
    doc.push_str(
        "\n## Firmware examples\n\n\
         Whole firmware images of `examples/`: the QEMU build (feature `sim`: the \
         backend's model is linked in place of the device) and, marked (hw), the build for \
         the real SoC (register accesses, spin delay). They include start-up, semihosting \
         output (raw calls, no `core::fmt`), the RAM flash store and the boot flow, run \
         twice across an in-process reboot; the QEMU builds also the stack meter and the \
         search for key residue (`board-rt` feature `meter`), which the `hw` builds leave \
         out (they scrub the stack after each boot instead). `.bss` is the 16 KiB DMA \
         pool of `board-rt` in the DCP and CAAM examples; the 64 KiB stack is not \
         counted.\n\n",
    );
    doc.push_str(&header.replace("{what}", "example (ELF)"));
    images.iter().for_each(|a| doc.push_str(&section_row(a)));
    doc.push_str(
        "\n## Stack\n\n\
         High-water marks under QEMU (`board_rt::stack`): the stack is painted before the \
         call and the deepest overwritten word found after it. *seal* and *unseal*: one \
         `TrustSource` call, deepest of all calls in the run; *boot 1*: the whole boot flow \
         of the first boot (`provision_or_unseal` on an empty store: new key, seal, store, \
         read back, unseal to prove); *boot 2*: the flow of the second boot (read the \
         store, unseal). Bytes below the caller's stack pointer, ± a few dozen for the \
         meter's own frames; the meter calls the source through `&mut dyn TrustSource`, \
         so no part of a seal or unseal is inlined above its mark. Goal for unseal: ≤ 4 KB. \
         In the DCP, CAAM and STM32MP13 SAES examples the device is a register-level \
         model that runs each job inside the driver's register access, on the same \
         stack; `board_rt::stack::Model` notes the driver's use before each access and \
         paints over the model's frames after it, so the figures are the driver's \
         (the model's are not counted). `tpm-spi` talks to swtpm outside the VM, and \
         `core-tee` and `stm32mp1-otp-tee` model only an RNG and fuses, so theirs are \
         the library's own.\n\n\
         | example | target | source | seal | unseal | boot 1 | boot 2 |\n\
         |---|---|---|---:|---:|---:|---:|\n",
    );
    for a in images {
        for s in &a.stack {
            let mark = if s.unseal <= UNSEAL_STACK_GOAL {
                ""
            } else {
                " ✗"
            };
            let _ = writeln!(
                doc,
                "| {} | {} | {} | {} | {}{mark} | {} | {} |",
                a.label, a.target, s.source, s.seal, s.unseal, s.boot1, s.boot2
            );
        }
    }
    doc.push_str(
        "\n## Per-crate share of `.text`\n\n\
         From the symbol table (`llvm-nm`, demangled): each function's bytes go to the \
         crate that defines it (for `<T as Trait>::f`, the crate of `T`); with LTO, code \
         inlined into a function counts for that function's crate. *ours*: trusted-core, \
         the hal crates, board-rt, the probe or example; *RustCrypto*: its crates and \
         helpers (`hybrid-array`, `zeroize`, `der`, ...); *other*: heapless, crc, \
         semihosting, embedded-hal, subtle, ...; *unattributed*: alignment, \
         machine-outlined fragments and code without a symbol.\n\n\
         | artifact | target | ours | RustCrypto | core | compiler_builtins | other | unattributed | largest |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for a in probes.iter().chain(images) {
        let t = group_totals(a);
        let _ = writeln!(
            doc,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            a.label,
            a.target,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[5],
            top_crates(a, 5)
        );
    }
    doc.push_str("\n### Every crate\n\n");
    for a in probes.iter().chain(images) {
        let _ = write!(
            doc,
            "<details><summary>{}</summary>\n\n| crate | group | .text | .rodata |\n|---|---|---:|---:|\n",
            a.key()
        );
        let mut rows: Vec<(&String, &[u64; 2])> = a.crates.iter().collect();
        rows.sort_by(|x, y| {
            y.1[0]
                .cmp(&x.1[0])
                .then(y.1[1].cmp(&x.1[1]))
                .then(x.0.cmp(y.0))
        });
        for (krate, [text, rodata]) in rows {
            let _ = writeln!(doc, "| {krate} | {} | {text} | {rodata} |", group(krate));
        }
        doc.push_str("\n</details>\n\n");
    }
    doc
}

fn print_summary(probes: &[Artifact], images: &[Artifact]) {
    for a in probes.iter().chain(images) {
        let stack: Vec<String> = a
            .stack
            .iter()
            .map(|s| format!("{} seal {} unseal {}", s.source, s.seal, s.unseal))
            .collect();
        println!(
            "{:<40} .text {:>6} .rodata {:>5} {}{}",
            a.key(),
            a.sections[0],
            a.sections[1],
            goal_cell(a),
            if stack.is_empty() {
                String::new()
            } else {
                format!(" stack: {}", stack.join("; "))
            }
        );
    }
}

/// The baseline: `[label @ target]` sections of `key = bytes` lines, the
/// guarded figures (`text`, `rodata`, `stack.<source>.<phase>`) and, for
/// the differences `--check` prints, `crate.<name>` (`.text` per crate).
type Baseline = BTreeMap<String, BTreeMap<String, u64>>;

fn parse_baseline(text: &str) -> Result<Baseline> {
    let mut baseline = Baseline::new();
    let mut section: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            baseline.entry(name.to_string()).or_default();
            section = Some(name.to_string());
            continue;
        }
        let parsed = line
            .split_once('=')
            .and_then(|(k, v)| Some((k.trim(), v.trim().parse::<u64>().ok()?)));
        match (&section, parsed) {
            (Some(s), Some((k, v))) => {
                baseline
                    .entry(s.clone())
                    .or_default()
                    .insert(k.to_string(), v);
            }
            _ => return Err(format!("{BASELINE}:{}: cannot read `{line}`", n + 1)),
        }
    }
    Ok(baseline)
}

fn render_baseline(all: &[&Artifact]) -> String {
    let mut out = format!(
        "# Written by `cargo xtask size --bless`; `cargo xtask size --check` (in `cargo xtask\n\
         # test`) fails when text, rodata or a stack figure grows more than {TOLERANCE_PERCENT} % over\n\
         # these. crate.* lines (.text per crate) only explain a difference. Bytes.\n"
    );
    for a in all {
        let _ = writeln!(out, "\n[{}]", a.key());
        for (k, v) in a.figures() {
            let _ = writeln!(out, "{k} = {v}");
        }
        for (krate, [text, _]) in &a.crates {
            let _ = writeln!(out, "crate.{krate} = {text}");
        }
    }
    out
}

fn bless(all: &[&Artifact]) -> Result {
    let path = root().join(BASELINE);
    std::fs::write(&path, render_baseline(all)).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: size: wrote the baseline {}", path.display());
    Ok(())
}

/// Compares every guarded figure with the baseline; prints each growth
/// with the per-crate difference of its artifact, and fails on growth
/// beyond the tolerance, on figures the baseline lacks and on baseline
/// entries no longer measured.
fn check(all: &[&Artifact]) -> Result {
    let path = root().join(BASELINE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e}; make it with `cargo xtask size --bless`",
            path.display()
        )
    })?;
    let baseline = parse_baseline(&text)?;
    let mut failures = Vec::new();
    for a in all {
        let key = a.key();
        let Some(base) = baseline.get(&key) else {
            failures.push(format!("{key}: not in the baseline"));
            continue;
        };
        let mut grew = Vec::new();
        for (figure, now) in a.figures() {
            match base.get(&figure) {
                None => failures.push(format!("{key}: {figure} not in the baseline")),
                Some(&was) if now * 100 > was * (100 + TOLERANCE_PERCENT) => {
                    grew.push(format!("{figure} {was} -> {now} ({})", percent(was, now)));
                }
                Some(&was) if now * 100 < was * (100 - TOLERANCE_PERCENT) => {
                    eprintln!(
                        "xtask: size: {key}: {figure} {was} -> {now} ({}): smaller; \
                         `cargo xtask size --bless` keeps the gain",
                        percent(was, now)
                    );
                }
                Some(_) => {}
            }
        }
        if !grew.is_empty() {
            eprintln!("xtask: size: {key} grew: {}", grew.join(", "));
            eprint!("{}", crate_diff(base, a));
            failures.push(format!("{key}: {}", grew.join(", ")));
        }
    }
    for key in baseline.keys() {
        if !all.iter().any(|a| &a.key() == key) {
            failures.push(format!("{key}: in the baseline but no longer measured"));
        }
    }
    if failures.is_empty() {
        eprintln!("xtask: size: every figure within {TOLERANCE_PERCENT} % of {BASELINE}");
        return Ok(());
    }
    Err(format!(
        "size check against {BASELINE} failed:\n  {}\n\
         If the growth is deliberate, accept it with `cargo xtask size --bless` and commit {BASELINE}.",
        failures.join("\n  ")
    ))
}

fn percent(was: u64, now: u64) -> String {
    let delta = now as f64 - was as f64;
    format!("{:+.1} %", 100.0 * delta / (was.max(1) as f64))
}

/// Per-crate `.text` differences of `a` against its baseline section.
fn crate_diff(base: &BTreeMap<String, u64>, a: &Artifact) -> String {
    let mut names: Vec<&str> = base
        .keys()
        .filter_map(|k| k.strip_prefix("crate."))
        .chain(a.crates.keys().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = String::new();
    for name in names {
        let was = base.get(&format!("crate.{name}")).copied().unwrap_or(0);
        let now = a.crates.get(name).map_or(0, |s| s[0]);
        if was != now {
            let _ = writeln!(
                out,
                "    {name:<24} {was:>7} -> {now:>7} ({:+})",
                now as i64 - was as i64
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_go_to_the_crate_that_defines_them() {
        let own = "size_tee";
        for (symbol, krate) in [
            ("sha2::sha256::compress256", "sha2"),
            ("<trusted_core::fih::Verdict>::and", "trusted_core"),
            (
                "<u64 as aes::backends::soft::fixslice::word::Word>::bitslice",
                "aes",
            ),
            ("<[u8] as zeroize::Zeroize>::zeroize", "zeroize"),
            (
                "<[u16; 120] as core::ops::index::Index<core::ops::range::Range<usize>>>::index",
                "core",
            ),
            ("<[u8]>::reverse", "core"),
            (
                "<ctr::ctr_core::CtrCore<&aes::Aes256, ctr::flavors::ctr32::Ctr32BE> as cipher::stream::core_api::StreamCipherCore>::apply_keystream_partial",
                "ctr",
            ),
            (
                "core::ptr::drop_in_place::<aes_gcm::AesGcm<aes::Aes256, U16>>",
                "aes_gcm",
            ),
            ("core::ptr::drop_in_place::<[u8; 4]>", "core"),
            (
                "size_probe::copy_out::<&trusted_core::error::Error>",
                "size_probe",
            ),
            ("tk_tee_seal", own),
            ("main", own),
            ("_start", "board_rt"),
            ("OUTLINED_FUNCTION_12", "(outlined)"),
            ("__aeabi_memcpy", "compiler_builtins"),
        ] {
            assert_eq!(crate_of(symbol, own), krate, "{symbol}");
        }
    }

    #[test]
    fn baseline_round_trips_and_rejects_garbage() {
        let a = Artifact {
            label: "size-tee".into(),
            target: THUMB,
            sections: [100, 10, 0, 0],
            crates: BTreeMap::from([("aes".to_string(), [60, 0]), ("core".to_string(), [40, 10])]),
            stack: vec![Stack {
                source: "tee".into(),
                seal: 1,
                unseal: 2,
                boot1: 3,
                boot2: 4,
            }],
            goal: None,
        };
        let parsed = parse_baseline(&render_baseline(&[&a])).unwrap();
        let section = &parsed["size-tee @ thumbv7em-none-eabihf"];
        assert_eq!(section["text"], 100);
        assert_eq!(section["stack.tee.boot2"], 4);
        assert_eq!(section["crate.aes"], 60);
        assert!(parse_baseline("[x]\ntext = many\n").is_err());
        assert!(parse_baseline("text = 1\n").is_err());
    }

    #[test]
    fn crate_diff_names_what_changed() {
        let base = BTreeMap::from([("crate.aes".to_string(), 60), ("crate.sha2".to_string(), 5)]);
        let a = Artifact {
            label: "p".into(),
            target: THUMB,
            sections: [0; 4],
            crates: BTreeMap::from([("aes".to_string(), [70, 0]), ("core".to_string(), [3, 0])]),
            stack: Vec::new(),
            goal: None,
        };
        let diff = crate_diff(&base, &a);
        assert!(diff.contains("aes") && diff.contains("(+10)"), "{diff}");
        assert!(diff.contains("sha2") && diff.contains("(-5)"), "{diff}");
        assert!(diff.contains("core") && diff.contains("(+3)"), "{diff}");
    }
}
