//! `cargo xtask fuzz --smoke | --long [SECONDS] [TARGET...]`: the libFuzzer
//! targets of `fuzz/` (issue 14).
//!
//! The targets are built with the stable toolchain and `libfuzzer-sys`,
//! instrumented the way cargo-fuzz instruments them (sanitizer coverage
//! with inline 8-bit counters, PC table and comparison tracing; debug
//! assertions and overflow checks on, `--cfg fuzzing`), so neither nightly
//! nor cargo-fuzz is needed. No AddressSanitizer: the code under test is
//! safe Rust but for the DMA copies, and a panic is what the targets look
//! for (libfuzzer-sys turns it into a crash).
//!
//! Each target starts from its committed seeds (`fuzz/corpus/<target>/`)
//! and a working corpus under `target/fuzz/corpus/<target>/` that `--long`
//! runs grow; crashes go to `target/fuzz/artifacts/<target>/`. `--smoke`
//! (part of `cargo xtask test`) runs every target for [`SMOKE_SECS`];
//! `--long` for `SECONDS` each (default one hour); as many targets at a
//! time as there are cores, each one's libFuzzer log in
//! `target/fuzz/logs/`. Both print executions per target and fail on the
//! first crash, naming the input to turn into a regression test.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::{Result, cargo, root, run};

/// Seconds each target runs in `--smoke`.
const SMOKE_SECS: u64 = 10;
/// Seconds each target runs in `--long` without a figure.
const LONG_SECS: u64 = 3600;

/// The coverage instrumentation of cargo-fuzz (`cargo fuzz build -s none`).
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
     -Cllvm-args=-sanitizer-coverage-level=4 \
     -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
     -Cllvm-args=-sanitizer-coverage-pc-table \
     -Cllvm-args=-sanitizer-coverage-trace-compares \
     --cfg fuzzing";

/// How long each target runs.
pub(crate) struct Plan {
    secs: u64,
    only: Vec<String>,
}

impl Plan {
    /// `--smoke`, or `--long [SECONDS] [TARGET...]`.
    pub(crate) fn from_args(args: &[String]) -> Result<Self> {
        let usage = "usage: cargo xtask fuzz --smoke | --long [SECONDS] [TARGET...]";
        match args.first().map(String::as_str) {
            Some("--smoke") if args.len() == 1 => Ok(Self {
                secs: SMOKE_SECS,
                only: Vec::new(),
            }),
            Some("--long") => {
                let mut rest = args.get(1..).unwrap_or_default().to_vec();
                let secs = match rest.first().map(|s| s.parse::<u64>()) {
                    Some(Ok(secs)) => {
                        rest.remove(0);
                        secs
                    }
                    _ => LONG_SECS,
                };
                Ok(Self { secs, only: rest })
            }
            _ => Err(usage.into()),
        }
    }

    /// The smoke run of `cargo xtask test`.
    pub(crate) fn smoke() -> Self {
        Self {
            secs: SMOKE_SECS,
            only: Vec::new(),
        }
    }
}

/// What one target did.
struct Outcome {
    target: String,
    execs: u64,
    secs: f64,
    corpus: usize,
    crash: Option<PathBuf>,
    log: PathBuf,
}

pub(crate) fn fuzz(plan: &Plan) -> Result {
    let start = Instant::now();
    let all = targets()?;
    for name in &plan.only {
        if !all.contains(name) {
            return Err(format!(
                "no fuzz target {name} (targets: {})",
                all.join(" ")
            ));
        }
    }
    let mut queue: Vec<&String> = all
        .iter()
        .filter(|t| plan.only.is_empty() || plan.only.contains(t))
        .rev()
        .collect();
    let bin = build()?;
    let built = start.elapsed().as_secs_f64();
    // One target per core: a libFuzzer process is single-threaded.
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut running: Vec<Running> = Vec::new();
    let mut outcomes = Vec::new();
    while !queue.is_empty() || !running.is_empty() {
        let crashed = outcomes.iter().any(|o: &Outcome| o.crash.is_some());
        while running.len() < jobs && !crashed {
            let Some(target) = queue.pop() else { break };
            running.push(spawn(&bin, target, plan.secs)?);
        }
        if crashed {
            queue.clear();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut i = 0;
        while i < running.len() {
            if running[i]
                .child
                .try_wait()
                .map_err(|e| e.to_string())?
                .is_some()
            {
                outcomes.push(finish(running.swap_remove(i))?);
            } else {
                i += 1;
            }
        }
    }
    eprintln!("xtask: fuzz: target | executions | seconds | exec/s | corpus");
    for o in &outcomes {
        eprintln!(
            "xtask: fuzz: {} | {} | {:.0} | {:.0} | {}",
            o.target,
            o.execs,
            o.secs,
            o.execs as f64 / o.secs.max(0.001),
            o.corpus
        );
    }
    eprintln!(
        "xtask: fuzz: {} targets, {} executions, {} at a time; build {built:.1} s, total {:.1} s",
        outcomes.len(),
        outcomes.iter().map(|o| o.execs).sum::<u64>(),
        jobs.min(outcomes.len()),
        start.elapsed().as_secs_f64()
    );
    match outcomes
        .iter()
        .find_map(|o| o.crash.as_ref().map(|c| (o, c)))
    {
        Some((o, crash)) => Err(format!(
            "fuzz target {} crashed on {} (log: {}): reproduce with `{} {}`, then add the \
             input as a regression test (fuzz/README.md)",
            o.target,
            crash.display(),
            o.log.display(),
            bin.join(&o.target).display(),
            crash.display()
        )),
        None => Ok(()),
    }
}

/// The `[[bin]]` names of `fuzz/Cargo.toml`.
fn targets() -> Result<Vec<String>> {
    let path = root().join("fuzz/Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(name) = line
                .strip_prefix("name = \"")
                .and_then(|l| l.strip_suffix('"'))
        {
            names.push(name.to_string());
        }
    }
    if names.is_empty() {
        return Err(format!("{}: no [[bin]] targets", path.display()));
    }
    Ok(names)
}

/// The host triple: with `--target` set explicitly, RUSTFLAGS (the
/// instrumentation) stay off build scripts and proc macros.
fn host() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host".into())
}

/// Clippy over the fuzz crate (its own workspace), in the root target
/// directory so the library crates checked by the workspace's clippy run
/// are reused; without the instrumentation flags, which only the fuzz
/// builds need.
pub(crate) fn clippy() -> Result {
    run(
        "clippy (fuzz targets)",
        cargo()
            .args([
                "clippy",
                "--all-targets",
                "--manifest-path",
                "fuzz/Cargo.toml",
            ])
            .args(["--", "-D", "warnings"])
            .env("CARGO_TARGET_DIR", root().join("target"))
            .env_remove("RUSTFLAGS"),
    )
}

/// Builds every target; returns the directory of the binaries.
fn build() -> Result<PathBuf> {
    let host = host()?;
    let target_dir = root().join("target/fuzz");
    run(
        "fuzz: build the targets (libFuzzer, sanitizer coverage)",
        cargo()
            // Not --locked: fuzz/Cargo.lock follows the library crates'
            // dependencies as they change (libfuzzer-sys is pinned in the
            // manifest).
            .args(["build", "--release", "--bins"])
            .args(["--manifest-path", "fuzz/Cargo.toml", "--target", &host])
            .env("RUSTFLAGS", RUSTFLAGS)
            .env("CARGO_TARGET_DIR", &target_dir)
            .env_remove("RUSTDOCFLAGS"),
    )?;
    Ok(target_dir.join(host).join("release"))
}

/// Files in `dir` (0 if it does not exist).
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.flatten().count())
}

/// A target being fuzzed.
struct Running {
    target: String,
    child: Child,
    log: PathBuf,
    artifacts: PathBuf,
    work: PathBuf,
    before: Vec<PathBuf>,
    start: Instant,
}

fn spawn(bin: &Path, target: &str, secs: u64) -> Result<Running> {
    let fuzz_dir = root().join("target/fuzz");
    let work = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let logs = fuzz_dir.join("logs");
    for dir in [&work, &artifacts, &logs] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let log = logs.join(format!("{target}.log"));
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut cmd = Command::new(bin.join(target));
    cmd.arg(&work)
        .arg(root().join("fuzz/corpus").join(target))
        .arg(format!("-max_total_time={secs}"))
        .args(["-timeout=10", "-rss_limit_mb=2048", "-max_len=4096"])
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let dict = root().join("fuzz/dict").join(format!("{target}.dict"));
    if dict.exists() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    eprintln!("xtask: fuzz {target} for {secs} s (log: {})", log.display());
    let before = list(&artifacts);
    let child = cmd
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.join(target).display()))?;
    Ok(Running {
        target: target.to_string(),
        child,
        log,
        artifacts,
        work,
        before,
        start: Instant::now(),
    })
}

fn finish(mut r: Running) -> Result<Outcome> {
    let status = r.child.wait().map_err(|e| e.to_string())?;
    let secs = r.start.elapsed().as_secs_f64();
    let log = std::fs::read_to_string(&r.log).unwrap_or_default();
    let execs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units: "))
        .or_else(|| {
            log.lines().rev().find_map(|l| {
                l.strip_prefix('#')
                    .and_then(|l| l.split_whitespace().next())
            })
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    let new = list(&r.artifacts)
        .into_iter()
        .find(|p| !r.before.contains(p));
    let crash = match (new, status.success()) {
        (Some(c), _) => Some(c),
        (None, true) => None,
        (None, false) => Some(r.artifacts.join(format!("(no artifact; exit {status})"))),
    };
    if crash.is_some() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    Ok(Outcome {
        target: r.target,
        execs,
        secs,
        corpus: count_files(&r.work),
        crash,
        log: r.log,
    })
}

fn list(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_choose_the_plan() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let smoke = Plan::from_args(&args(&["--smoke"])).unwrap();
        assert_eq!((smoke.secs, smoke.only.len()), (SMOKE_SECS, 0));
        let long = Plan::from_args(&args(&["--long"])).unwrap();
        assert_eq!(long.secs, LONG_SECS);
        let some = Plan::from_args(&args(&["--long", "60", "keyctl", "store"])).unwrap();
        assert_eq!((some.secs, some.only), (60, args(&["keyctl", "store"])));
        let named = Plan::from_args(&args(&["--long", "keyctl"])).unwrap();
        assert_eq!((named.secs, named.only), (LONG_SECS, args(&["keyctl"])));
        assert!(Plan::from_args(&args(&[])).is_err());
        assert!(Plan::from_args(&args(&["--smoke", "x"])).is_err());
    }

    #[test]
    fn every_target_has_seeds() {
        for t in targets().unwrap() {
            assert!(
                count_files(&root().join("fuzz/corpus").join(&t)) > 0,
                "fuzz/corpus/{t} is empty"
            );
        }
    }
}
