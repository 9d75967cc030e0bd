//! Shared test harness: no-op delay that counts time, swtpm start.
#![allow(dead_code)]

use std::cell::Cell;

use hal_tpm_spi::sim::swtpm::SwtpmProcess;

/// A DelayNs that does not sleep but adds up what it was asked to wait.
#[derive(Default)]
pub struct FakeDelay<'a>(pub Option<&'a Cell<u64>>);

impl embedded_hal::delay::DelayNs for FakeDelay<'_> {
    fn delay_ns(&mut self, ns: u32) {
        if let Some(c) = self.0 {
            c.set(c.get() + u64::from(ns));
        }
    }
}

/// Starts swtpm or fails the test with what to install (never skips).
pub fn swtpm() -> SwtpmProcess {
    match SwtpmProcess::start() {
        Ok(p) => p,
        Err(e) => {
            panic!("swtpm needed for this test: {e} (apt-get install swtpm swtpm-tools tpm2-tools)")
        }
    }
}

/// Runs a tpm2-tools command against `tcti`; fails the test with the
/// install hint if tpm2-tools is missing, or with its stderr if it fails.
pub fn tpm2_tool(tcti: &str, dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let (prog, rest) = args.split_first().unwrap();
    let out = std::process::Command::new(prog)
        .args(rest)
        .env("TPM2TOOLS_TCTI", tcti)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{prog} not runnable ({e}): apt-get install swtpm swtpm-tools tpm2-tools")
        });
    assert!(
        out.status.success(),
        "{prog} {rest:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("hal-tpm-spi-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
