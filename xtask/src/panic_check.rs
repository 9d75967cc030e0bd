//! `cargo xtask panic-check [--bless]`: panic paths in what firmware links,
//! proven at link time (issue 14).
//!
//! Builds every size probe (as `cargo xtask size` does, through the same
//! probe list) and the `hw` build of every firmware example, with Debian's
//! toolchain in `examples/` (release: opt-level "z", LTO, panic=abort),
//! then disassembles each (`llvm-objdump -d -r`, demangled) and counts the
//! **panic call sites**: calls and branches, conditional ones included,
//! from a function that is not itself part of the panic machinery into one
//! that is ([`is_panic_fn`]: `core::panicking::*`, the slice and str index
//! failures, `unwrap_failed`, `expect_failed`, the panic handler, ...).
//! In a probe (a static library) only its own LTO object counts, by its
//! relocations; in an image (a linked ELF), by the resolved call targets.
//! The functions holding the sites are printed per image, grouped by crate,
//! and written to `docs/panics.md`.
//!
//! The check fails when an image has more call sites than
//! `docs/panic-baseline.txt` allows (the goal is 0 everywhere; the
//! baseline records what is left and shrinks as it goes); `--bless`
//! rewrites the baseline from this run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::size::{crate_of, llvm_tool, probes};
use crate::{QEMU_RUNS, Result, build_example, check_cross_toolchain, has_feature, root};

/// What `panic-check` does after counting.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Fail when an image has more call sites than the baseline.
    Check,
    /// Rewrite the baseline.
    Bless,
}

impl Mode {
    pub(crate) fn from_arg(arg: Option<&str>) -> Result<Self> {
        match arg {
            None | Some("--check") => Ok(Self::Check),
            Some("--bless") => Ok(Self::Bless),
            Some(other) => Err(format!("panic-check: unknown option {other} (--bless)")),
        }
    }
}

const BASELINE: &str = "docs/panic-baseline.txt";
const REPORT: &str = "docs/panics.md";
/// The examples' target directory shared with `qemu` and `size`, so the
/// builds are already there in `cargo xtask test`.
const BUILD_DIR: &str = "qemu";
/// Where each artifact is copied before the next build overwrites it.
const KEEP_DIR: &str = "target/panic-check";

/// One artifact to inspect.
struct Image {
    label: String,
    target: &'static str,
    path: PathBuf,
    /// A static library: only the member named after `member` counts.
    member: Option<String>,
    /// Its own crate (for `tk_*` entry points and `main`).
    own: String,
}

impl Image {
    fn key(&self) -> String {
        format!("{} @ {}", self.label, self.target)
    }
}

/// Panic call sites of one artifact: holder crate → holder fn → sites.
#[derive(Default)]
struct Findings {
    sites: u64,
    holders: BTreeMap<String, BTreeMap<String, u64>>,
}

pub(crate) fn panic_check(mode: Mode) -> Result {
    check_cross_toolchain()?;
    let start = Instant::now();
    let images = build_all()?;
    let mut results = Vec::new();
    for image in &images {
        let findings = inspect(image)?;
        results.push((image, findings));
    }
    print!("{}", summary(&results));
    let report = render(&results);
    let path = root().join(REPORT);
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("xtask: wrote {}", path.display());
    let counts: Vec<(String, u64)> = results.iter().map(|(i, f)| (i.key(), f.sites)).collect();
    let verdict = match mode {
        Mode::Bless => {
            let path = root().join(BASELINE);
            std::fs::write(&path, render_baseline(&counts))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("xtask: wrote {}", path.display());
            Ok(())
        }
        Mode::Check => {
            let text = std::fs::read_to_string(root().join(BASELINE)).map_err(|e| {
                format!("{BASELINE}: {e} (make one with `cargo xtask panic-check --bless`)")
            })?;
            compare(&parse_baseline(&text)?, &counts)
        }
    };
    eprintln!(
        "xtask: panic-check: {} artifacts, {} call sites in {:.1} s",
        counts.len(),
        counts.iter().map(|(_, n)| n).sum::<u64>(),
        start.elapsed().as_secs_f64()
    );
    verdict
}

/// Builds the probes (every target each is measured on) and the `hw`
/// images, copying each artifact out before the next build replaces it.
fn build_all() -> Result<Vec<Image>> {
    let keep = root().join(KEEP_DIR);
    std::fs::create_dir_all(&keep).map_err(|e| format!("{}: {e}", keep.display()))?;
    let mut images = Vec::new();
    for (package, label, flags, targets) in probes() {
        for &target in targets {
            eprintln!("xtask: panic-check: build {label} ({target})");
            let dir = build_example(package, target, BUILD_DIR, flags)?;
            let own = package.replace('-', "_");
            let lib = dir.with_file_name(format!("lib{own}.a"));
            images.push(Image {
                label: label.to_string(),
                target,
                path: keep_copy(&lib, &keep, label, target)?,
                member: Some(own.clone()),
                own,
            });
        }
    }
    for run in QEMU_RUNS {
        let label = format!("{} (hw)", run.package);
        let seen = images
            .iter()
            .any(|i| i.label == label && i.target == run.target);
        if seen || !has_feature(&format!("examples/{}", run.package), "hw") {
            continue;
        }
        eprintln!("xtask: panic-check: build {label} ({})", run.target);
        let flags = ["--no-default-features", "--features", "hw"];
        let elf = build_example(run.package, run.target, BUILD_DIR, &flags)?;
        images.push(Image {
            path: keep_copy(&elf, &keep, &label, run.target)?,
            label,
            target: run.target,
            member: None,
            own: run.package.replace('-', "_"),
        });
    }
    Ok(images)
}

fn keep_copy(from: &Path, dir: &Path, label: &str, target: &str) -> Result<PathBuf> {
    let name: String = format!("{label}@{target}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let to = dir.join(name);
    std::fs::copy(from, &to).map_err(|e| format!("{}: {e}", from.display()))?;
    Ok(to)
}

/// True for the functions a panic runs through: reaching one is a panic
/// path (`core::fmt` is not counted: firmware formats for its logs too).
fn is_panic_fn(name: &str) -> bool {
    const PARTS: &[&str] = &[
        "core::panicking::",
        "::rust_begin_unwind",
        "::do_panic::runtime",
        "core::slice::index::slice_",
        "core::slice::copy_from_slice_impl::len_mismatch_fail",
        "core::str::slice_error_fail",
        "core::result::unwrap_failed",
        "core::option::unwrap_failed",
        "core::option::expect_failed",
        "core::cell::panic_already",
        "core::panic::",
    ];
    let name = name.trim_start_matches('<');
    if name == "rust_begin_unwind" {
        return true;
    }
    PARTS
        .iter()
        .any(|p| name.starts_with(p) || (p.starts_with("::") && name.contains(p)))
        || name.starts_with("core::slice::index::") && name.contains("_fail")
}

/// Removes a `+0x..` offset and a legacy `::h<hash>` suffix.
fn symbol_name(s: &str) -> &str {
    let s = s.trim();
    let s = match s.rfind("+0x") {
        Some(i) if s[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => &s[..i],
        _ => s,
    };
    match s.rfind("::h") {
        Some(i) if s.len() - i == 19 && s[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => {
            &s[..i]
        }
        _ => s,
    }
}

fn inspect(image: &Image) -> Result<Findings> {
    let out = Command::new(llvm_tool("llvm-objdump")?)
        .args(["-d", "-r", "-C", "--no-show-raw-insn"])
        .arg(&image.path)
        .output()
        .map_err(|e| format!("llvm-objdump: {e}"))?;
    if !out.status.success() {
        return Err(format!("llvm-objdump {} failed", image.path.display()));
    }
    let text = demangle_section_symbols(&String::from_utf8_lossy(&out.stdout))?;
    Ok(count_sites(&text, image.member.as_deref(), &image.own))
}

/// Relocations against a function's section instead of its symbol (the
/// assembler's choice for local functions on AArch64) name the section,
/// `.text[.unlikely].<mangled>`: replaces each with the demangled name
/// (`llvm-cxxfilt`, which reads Rust's v0 and legacy manglings).
fn demangle_section_symbols(text: &str) -> Result<String> {
    let mangled_of = |word: &str| -> Option<(usize, usize)> {
        let start = word.find("._R").or_else(|| word.find("._ZN"))? + 1;
        word.starts_with(".text").then_some((start, word.len()))
    };
    let mut names: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        if let Some((a, b)) = mangled_of(word) {
            names.push(word[a..b].to_string());
        }
    }
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(text.to_string());
    }
    let mut child = Command::new(llvm_tool("llvm-cxxfilt")?)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("llvm-cxxfilt: {e}"))?;
    let input = names.join("\n") + "\n";
    let mut stdin = child.stdin.take().ok_or("llvm-cxxfilt: no stdin")?;
    let writer =
        std::thread::spawn(move || std::io::Write::write_all(&mut stdin, input.as_bytes()));
    let out = child
        .wait_with_output()
        .map_err(|e| format!("llvm-cxxfilt: {e}"))?;
    let _ = writer.join();
    let demangled: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    if demangled.len() != names.len() {
        return Err("llvm-cxxfilt did not answer one line per name".into());
    }
    let map: BTreeMap<&str, &str> = names
        .iter()
        .map(String::as_str)
        .zip(demangled.iter().map(String::as_str))
        .collect();
    let mut result = String::with_capacity(text.len());
    for line in text.lines() {
        let mut line = line.to_string();
        if line.contains("R_") {
            let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            for word in words {
                if let Some((a, b)) = mangled_of(&word)
                    && let Some(d) = map.get(&word[a..b])
                {
                    line = line.replace(&word, d);
                }
            }
        }
        result.push_str(&line);
        result.push('\n');
    }
    Ok(result)
}

/// Counts panic call sites in `llvm-objdump -d -r -C` output. With
/// `member` (an archive) only that member counts and call targets come
/// from relocations; otherwise from the resolved `<symbol>` annotations.
fn count_sites(disassembly: &str, member: Option<&str>, own: &str) -> Findings {
    let mut findings = Findings::default();
    let mut counted = member.is_none();
    let mut function = String::new();
    for line in disassembly.lines() {
        if line.contains("file format") {
            if let Some(member) = member {
                counted = line.contains(member) && !line.contains("compiler_builtins");
            }
            continue;
        }
        if !counted {
            continue;
        }
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_suffix(">:")
            .and_then(|l| l.split_once(" <"))
            .filter(|(addr, _)| addr.chars().all(|c| c.is_ascii_hexdigit()))
            .map(|(_, name)| name)
        {
            function = symbol_name(name).to_string();
            continue;
        }
        let target = if member.is_some() {
            relocation_target(trimmed)
        } else {
            branch_target(trimmed)
        };
        if let Some(target) = target
            && is_panic_fn(symbol_name(target))
            && !is_panic_fn(&function)
        {
            findings.sites += 1;
            *findings
                .holders
                .entry(crate_of(&function, own))
                .or_default()
                .entry(function.clone())
                .or_default() += 1;
        }
    }
    findings
}

/// The symbol of a call or branch relocation line (`R_ARM_CALL`,
/// `R_ARM_THM_JUMP24`, `R_AARCH64_CALL26`, `R_AARCH64_CONDBR19`, ...).
fn relocation_target(line: &str) -> Option<&str> {
    let mut fields = line.split_whitespace();
    let kind = fields.find(|f| f.starts_with("R_"))?;
    let branch = ["CALL", "JUMP", "CONDBR", "TSTBR"]
        .iter()
        .any(|k| kind.contains(k));
    branch.then(|| line.split_once(kind).map(|(_, s)| s.trim()))?
}

/// The `<symbol>` a branch instruction targets (`bl`, `b.w`, `bhs`,
/// `cbz`, `tbnz`, ...), from `addr:  mnemonic operands <symbol> @ comment`
/// (the symbol may hold `<>` of its own).
fn branch_target(line: &str) -> Option<&str> {
    let (addr, insn) = line.split_once(':')?;
    if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let insn = insn.trim_start();
    let mnemonic = insn.split_whitespace().next()?;
    if !["b", "cb", "tb"].iter().any(|p| mnemonic.starts_with(p)) {
        return None;
    }
    let symbol = &insn[insn.find(" <")? + 2..];
    let mut depth = 1usize;
    for (i, c) in symbol.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&symbol[..i]);
                }
            }
            _ => {}
        }
    }
    None
}

fn summary(results: &[(&Image, Findings)]) -> String {
    let mut s = String::new();
    for (image, f) in results {
        let _ = writeln!(s, "{}: {} panic call sites", image.key(), f.sites);
        for (krate, fns) in &f.holders {
            let n: u64 = fns.values().sum();
            let _ = writeln!(s, "    {krate}: {n} in {} functions", fns.len());
        }
    }
    s
}

fn render(results: &[(&Image, Findings)]) -> String {
    let mut s = String::from(
        "# Panic paths\n\n\
         Written by `cargo xtask panic-check` (do not edit): the calls and \
         branches into the panic machinery (`core::panicking::*`, slice and str \
         index failures, `unwrap_failed`, the panic handler) that each firmware \
         artifact still links, counted in its disassembly (`llvm-objdump`); \
         release builds as `cargo xtask size` makes them (opt-level \"z\", LTO, \
         panic=abort). Probes: the probe's own LTO object; images: the `hw` \
         firmware (registers, no models). Goal: 0 everywhere. \
         `docs/panic-baseline.txt` holds the counts the check lets pass.\n\n\
         | artifact | target | call sites | holders by crate |\n|---|---|---:|---|\n",
    );
    for (image, f) in results {
        let crates: Vec<String> = f
            .holders
            .iter()
            .map(|(k, fns)| format!("{k} {}", fns.values().sum::<u64>()))
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            image.label,
            image.target,
            f.sites,
            crates.join(", ")
        );
    }
    s.push_str("\n## Holders\n");
    for (image, f) in results.iter().filter(|(_, f)| f.sites > 0) {
        let _ = write!(s, "\n### {}\n\n", image.key());
        for (krate, fns) in &f.holders {
            let _ = writeln!(s, "- `{krate}`:");
            for (name, n) in fns {
                let _ = writeln!(s, "  - `{name}`: {n}");
            }
        }
    }
    s
}

fn render_baseline(counts: &[(String, u64)]) -> String {
    let mut s = String::from(
        "# Panic call sites each artifact may still have (`cargo xtask panic-check --bless`).\n\
         # The check fails when one has more; lower these as paths are removed (goal 0).\n",
    );
    for (key, n) in counts {
        let _ = writeln!(s, "{key} = {n}");
    }
    s
}

fn parse_baseline(text: &str) -> Result<BTreeMap<String, u64>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (key, n) = l
                .rsplit_once(" = ")
                .ok_or_else(|| format!("{BASELINE}: not `artifact @ target = N`: {l}"))?;
            let n = n
                .parse()
                .map_err(|_| format!("{BASELINE}: not a count: {l}"))?;
            Ok((key.to_string(), n))
        })
        .collect()
}

/// Fails for every artifact with more sites than its baseline (an artifact
/// the baseline does not name may have none).
fn compare(baseline: &BTreeMap<String, u64>, counts: &[(String, u64)]) -> Result {
    let mut grown = Vec::new();
    for (key, n) in counts {
        let allowed = baseline.get(key).copied().unwrap_or(0);
        if *n > allowed {
            grown.push(format!("{key}: {n} panic call sites (baseline {allowed})"));
        } else if *n < allowed {
            eprintln!(
                "xtask: panic-check: {key}: {n} < baseline {allowed}; lower it with `cargo xtask panic-check --bless`"
            );
        }
    }
    if grown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "new panic paths (see {REPORT} for the functions holding them):\n  {}",
            grown.join("\n  ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_functions_are_recognised_and_others_are_not() {
        for name in [
            "core::panicking::panic_bounds_check",
            "core::panicking::panic_const::panic_const_div_by_zero",
            "core::slice::index::slice_index_fail",
            "core::slice::index::slice_end_index_len_fail",
            "core::slice::index::slice_index_fail::do_panic::runtime",
            "core::result::unwrap_failed",
            "core::option::expect_failed",
            "rust_begin_unwind",
            "__rustc::rust_begin_unwind",
        ] {
            assert!(is_panic_fn(name), "{name}");
        }
        for name in [
            "core::fmt::write",
            "trusted_core::tee::TeeSealer<K,R>::unseal_into",
            "<core::slice::iter::Iter<T> as core::iter::Iterator>::next",
            "memcpy",
        ] {
            assert!(!is_panic_fn(name), "{name}");
        }
    }

    #[test]
    fn sites_are_counted_from_resolved_branches_and_relocations() {
        let elf = "\
80000000 <hal_dcp::dcp::Dcp<M,D,T>::crypt>:
80000004:      \tbl\t0x8000d920 <core::panicking::panic_bounds_check> @ imm = #0xa49c
80000008:      \tbhs.w\t0x8000d920 <core::panicking::panic_bounds_check>
8000000c:      \tbl\t0x80000100 <memcpy>
80000010:      \tb\t0x80000004 <hal_dcp::dcp::Dcp<M,D,T>::crypt+0x4>
8000d920 <core::panicking::panic_bounds_check>:
8000d924:      \tbl\t0x8000cc58 <core::panicking::panic_fmt>
";
        let f = count_sites(elf, None, "imx6ull_dcp");
        assert_eq!(f.sites, 2);
        assert_eq!(f.holders["hal_dcp"]["hal_dcp::dcp::Dcp<M,D,T>::crypt"], 2);

        let archive = "\
libp.a(compiler_builtins-1.o):\tfile format elf32-littlearm
00000000 <__aeabi_memcpy>:
       0: \tbl\t0x0
\t\t00000000:  R_ARM_CALL\tcore::panicking::panic
libp.a(size_tee-2.size_tee.cgu.0.rcgu.o):\tfile format elf32-littlearm
00000000 <trusted_core::tee::TeeSealer<K,R>::cipher>:
       4: \tbl\t0x0 <trusted_core::tee::TeeSealer<K,R>::cipher>
\t\t00000004:  R_ARM_CALL\tcore::slice::index::slice_index_fail
       8: \tbl\t0x0
\t\t00000008:  R_ARM_CALL\tmemcpy
";
        let f = count_sites(archive, Some("size_tee"), "size_tee");
        assert_eq!(f.sites, 1);
        assert_eq!(f.holders["trusted_core"].len(), 1);
    }

    #[test]
    fn baseline_round_trips_and_growth_fails() {
        let counts = vec![("size-tee @ thumbv7em-none-eabihf".to_string(), 3)];
        let base = parse_baseline(&render_baseline(&counts)).unwrap();
        assert_eq!(base["size-tee @ thumbv7em-none-eabihf"], 3);
        assert!(compare(&base, &counts).is_ok());
        let grown = vec![("size-tee @ thumbv7em-none-eabihf".to_string(), 4)];
        assert!(compare(&base, &grown).is_err());
        let unknown = vec![("new @ t".to_string(), 1)];
        assert!(compare(&base, &unknown).is_err());
        assert!(parse_baseline("nonsense").is_err());
    }
}
