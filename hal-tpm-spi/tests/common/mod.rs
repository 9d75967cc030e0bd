//! Shared test harness: swtpm and tpm2-tools.
#![allow(dead_code)]

use hal_tpm_spi::sim::swtpm::SwtpmProcess;

/// Starts swtpm; the error says what to install (tests unwrap it: they
/// fail, never skip, without swtpm).
pub fn swtpm() -> Result<SwtpmProcess, String> {
    SwtpmProcess::start().map_err(|e| {
        format!("swtpm needed for this test: {e} (apt-get install swtpm swtpm-tools tpm2-tools)")
    })
}

/// Runs a tpm2-tools command (`args[0]`) against `tcti`; the error carries
/// the install hint if tpm2-tools is missing, or its stderr if it fails.
pub fn tpm2_tool(tcti: &str, dir: &std::path::Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let (prog, rest) = args.split_first().ok_or("no tpm2-tools command")?;
    let out = std::process::Command::new(prog)
        .args(rest)
        .env("TPM2TOOLS_TCTI", tcti)
        .current_dir(dir)
        .output()
        .map_err(|e| {
            format!("{prog} not runnable ({e}): apt-get install swtpm swtpm-tools tpm2-tools")
        })?;
    if !out.status.success() {
        return Err(format!(
            "{prog} {rest:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// A fresh directory for one test's files.
pub fn temp_dir(tag: &str) -> std::io::Result<std::path::PathBuf> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("hal-tpm-spi-{tag}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}
