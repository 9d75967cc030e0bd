//! What the CLI tests share: the binary as a user runs it, the inputs of
//! the research notes' vector F, and a provisioned swtpm.
#![allow(dead_code)]

use std::process::{Command, Output};

use hal_tpm_spi::sim::swtpm::SwtpmProcess;

pub const HUK: &str = "00000000000000000000000000000000";
pub const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// Vector F of the research notes: KEY sealed with the all-zero HUK, IV a0..af.
pub const VECTOR_F: &str = "00a0a1a2a3a4a5a6a7a8a9aaabacadaeaf363937a392663a64f22ec11df2c6a49ee2a6da6d636c47671a0d899769cc4b6c2320adcb239a57ca61bfe581ec13fb41";

pub fn trustctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustctl"))
        .args(args)
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Stdout of a run that must succeed, trimmed.
pub fn ok(args: &[&str]) -> String {
    let o = trustctl(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o).trim().to_string()
}

/// Asserts a failure with exactly one stderr line, returned.
pub fn fails(args: &[&str]) -> String {
    let o = trustctl(args);
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: stderr {err:?}");
    err
}

/// Asserts a failure with exactly one stderr line containing `needle`.
pub fn fails_with(args: &[&str], needle: &str) {
    let err = fails(args);
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

/// A running swtpm after `trustctl tpm provision`: the process (the TPM
/// lives while it does), its address and the SRK Name provisioning printed.
pub fn provisioned_swtpm() -> (SwtpmProcess, String, String) {
    let p = SwtpmProcess::start()
        .unwrap_or_else(|e| panic!("{e}: apt-get install swtpm swtpm-tools tpm2-tools"));
    let addr = p.addr();
    let out = ok(&["tpm", "provision", "--swtpm", &addr]);
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("srk name: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no srk name in {out:?}"))
        .to_string();
    (p, addr, name)
}
