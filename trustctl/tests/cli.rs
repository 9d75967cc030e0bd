//! The CLI as a user meets it: outputs on stdout, and for every bad input
//! one line on stderr and a non-zero exit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::{Command, Output};

const HUK: &str = "00000000000000000000000000000000";
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// Vector F of the research notes: KEY sealed with the all-zero HUK, IV a0..af.
const VECTOR_F: &str = "00a0a1a2a3a4a5a6a7a8a9aaabacadaeaf363937a392663a64f22ec11df2c6a49ee2a6da6d636c47671a0d899769cc4b6c2320adcb239a57ca61bfe581ec13fb41";

fn trustctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trustctl"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Asserts a failure with exactly one stderr line containing `needle`.
fn fails_with(args: &[&str], needle: &str) {
    let o = trustctl(args);
    let err = String::from_utf8(o.stderr.clone()).unwrap();
    assert!(!o.status.success(), "{args:?} succeeded");
    assert_eq!(err.lines().count(), 1, "{args:?}: stderr {err:?}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
}

#[test]
fn seal_then_unseal_round_trips_and_prints_lowercase_hex() {
    let o = trustctl(&["seal", "--source", "tee", "--huk", HUK, "--key", KEY]);
    assert!(o.status.success());
    let blob = stdout(&o).trim().to_string();
    assert_eq!(blob.len(), 2 * (32 + 33));
    assert!(
        blob.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    let o = trustctl(&["unseal", "--source", "tee", "--huk", HUK, "--blob", &blob]);
    assert_eq!(stdout(&o).trim(), KEY);
}

#[test]
fn unseal_reads_vector_f() {
    let o = trustctl(&[
        "unseal", "--source", "tee", "--huk", HUK, "--blob", VECTOR_F,
    ]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), format!("{KEY}\n"));
}

#[test]
fn seal_new_key_prints_the_key_on_stderr_and_blob_on_stdout() {
    let o = trustctl(&["seal", "--source", "tee", "--huk", HUK, "--new", "48"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o).trim().len(), 2 * (48 + 33));
}

#[test]
fn bad_inputs_fail_with_one_clear_line() {
    fails_with(
        &["unseal", "--source", "tee", "--huk", HUK, "--blob", "zz"],
        "invalid hex",
    );
    fails_with(
        &["unseal", "--source", "tee", "--huk", HUK, "--blob", "abc"],
        "odd",
    );
    fails_with(
        &["seal", "--source", "tee", "--huk", "00", "--key", KEY],
        "--huk must be 32 hex digits",
    );
    fails_with(
        &["seal", "--source", "tee", "--huk", HUK, "--key", "00"],
        "key length",
    );
    fails_with(
        &["seal", "--source", "tee", "--huk", HUK, "--new", "16"],
        "key length",
    );
    fails_with(
        &["seal", "--source", "nosuch", "--huk", HUK, "--key", KEY],
        "nosuch",
    );
    fails_with(&["seal", "--source", "tee", "--key", KEY], "--huk");
    fails_with(
        &[
            "unseal",
            "--source",
            "tee",
            "--huk",
            HUK,
            "--blob",
            &VECTOR_F[..60],
        ],
        "unseal failed",
    );
    let mut tampered = VECTOR_F.to_string();
    tampered.replace_range(80..81, "f");
    fails_with(
        &[
            "unseal", "--source", "tee", "--huk", HUK, "--blob", &tampered,
        ],
        "authentication failed",
    );
    fails_with(
        &[
            "unseal",
            "--source",
            "tee",
            "--huk",
            "11111111111111111111111111111111",
            "--blob",
            VECTOR_F,
        ],
        "authentication failed",
    );
    fails_with(&["frobnicate"], "frobnicate");
}

#[test]
fn keyctl_prints_the_parse_or_the_reason() {
    let o = trustctl(&["keyctl", "new 32 keyhandle=81000001 hash=sha256"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("tpm options: keyhandle=0x81000001 hash=sha256"));
    fails_with(&["keyctl", "new 16"], "key length must be 32..=128");
    fails_with(&["keyctl", "new 32 keyhandle=1 keyhandle=1"], "given twice");
    fails_with(
        &["keyctl", "create 32"],
        "command must be new, load or update",
    );
}

#[test]
fn demo_runs_every_source_to_ok() {
    let o = trustctl(&["demo"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    assert!(out.contains("source") && out.contains("result"));
    assert!(!out.contains("FAILED"));
    // The TPM row runs in salted sessions and says so.
    assert!(out.contains("tpm (swtpm, sessions)"), "{out}");
    assert!(out.contains("sessions: salted to the pinned SRK"), "{out}");
}

#[test]
fn tpm_provision_prints_the_srk_name_that_seal_and_unseal_pin() {
    let p = hal_tpm_spi::sim::swtpm::SwtpmProcess::start()
        .unwrap_or_else(|e| panic!("{e}: apt-get install swtpm swtpm-tools tpm2-tools"));
    let addr = p.addr();
    let out = ok(&["tpm", "provision", "--swtpm", &addr]);
    let name = out
        .lines()
        .find_map(|l| l.strip_prefix("srk name: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no srk name in {out:?}"))
        .to_string();
    assert_eq!(name.len(), 68);
    let tpm = ["--source", "tpm", "--swtpm", &addr, "--srk-name", &name];
    let blob = ok(&[&["seal"][..], &tpm, &["--key", KEY]].concat());
    let key = ok(&[&["unseal"][..], &tpm, &["--blob", &blob]].concat());
    assert_eq!(key, KEY);
    // Another TPM's name: one clear line, nothing unsealed.
    let other = format!("{}{}", &name[..67], if name.ends_with('0') { "1" } else { "0" });
    fails_with(
        &[
            "unseal", "--source", "tpm", "--swtpm", &addr, "--srk-name", &other, "--blob", &blob,
        ],
        "pinned",
    );
    fails_with(
        &[
            "unseal", "--source", "tpm", "--swtpm", &addr, "--srk-name", "00", "--blob", &blob,
        ],
        "--srk-name",
    );
}

const UNIQUE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const MASTER: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn ok(args: &[&str]) -> String {
    let o = trustctl(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout(&o).trim().to_string()
}

#[test]
fn dcp_sim_blobs_round_trip_and_bind_to_the_unique_key() {
    let blob = ok(&[
        "seal",
        "--source",
        "dcp-sim",
        "--unique-key",
        UNIQUE,
        "--key",
        KEY,
    ]);
    assert_eq!(blob.len(), 2 * (32 + 53));
    assert_eq!(
        ok(&[
            "unseal",
            "--source",
            "dcp-sim",
            "--unique-key",
            UNIQUE,
            "--blob",
            &blob
        ]),
        KEY
    );
    let other = "1f1e2d3c4b5a69788796a5b4c3d2e1f0";
    fails_with(
        &[
            "unseal",
            "--source",
            "dcp-sim",
            "--unique-key",
            other,
            "--blob",
            &blob,
        ],
        "authentication failed",
    );
    // An unfused (all-zero) DCP is refused, as Linux's zero-key test does.
    fails_with(&["seal", "--source", "dcp-sim", "--key", KEY], "zero");
}

#[test]
fn dcp_huk_of_an_all_zero_key_is_vector_b() {
    assert_eq!(
        ok(&["huk", "--source", "dcp-sim"]),
        "11474a5a5c78ef24224da96237ebbd3d"
    );
}

#[test]
fn tee_blob_from_a_device_huk_unseals_with_that_huk_given_as_hex() {
    for device in [
        vec!["--huk-from", "dcp-sim", "--unique-key", UNIQUE],
        vec!["--huk-from", "caam-sim", "--master-key", MASTER],
        vec![
            "--huk-from",
            "stm32mp1-sim",
            "--otp",
            "60=11111111,61=22222222,62=33333333,63=44444444",
        ],
    ] {
        let huk_source = device[1];
        let mut huk_args = vec!["huk", "--source", huk_source];
        huk_args.extend_from_slice(&device[2..]);
        let huk = ok(&huk_args);
        let mut seal = vec!["seal", "--source", "tee", "--key", KEY];
        seal.extend_from_slice(&device);
        let blob = ok(&seal);
        assert_eq!(
            ok(&["unseal", "--source", "tee", "--huk", &huk, "--blob", &blob]),
            KEY,
            "{huk_source}"
        );
    }
}

#[test]
fn caam_sim_blobs_bind_to_the_key_modifier_and_master_key() {
    let blob = ok(&[
        "seal",
        "--source",
        "caam-sim",
        "--master-key",
        MASTER,
        "--key",
        KEY,
    ]);
    assert_eq!(blob.len(), 2 * (32 + 48));
    assert_eq!(
        ok(&[
            "unseal",
            "--source",
            "caam-sim",
            "--master-key",
            MASTER,
            "--blob",
            &blob
        ]),
        KEY
    );
    fails_with(
        &[
            "unseal",
            "--source",
            "caam-sim",
            "--master-key",
            MASTER,
            "--keymod",
            "OTHER",
            "--blob",
            &blob,
        ],
        "authentication failed",
    );
    let other = MASTER.replace('5', "6");
    fails_with(
        &[
            "unseal",
            "--source",
            "caam-sim",
            "--master-key",
            &other,
            "--blob",
            &blob,
        ],
        "authentication failed",
    );
}

#[test]
fn stm32mp1_provision_image_lists_the_huk_words() {
    let out = ok(&[
        "stm32mp1",
        "provision-image",
        "--huk",
        "00112233445566778899aabbccddeeff",
    ]);
    assert!(
        out.contains("word 60 = 0x33221100") && out.contains("word 63 = 0xffeeddcc"),
        "{out}"
    );
    fails_with(&["stm32mp1", "provision-image", "--huk", "00"], "--huk");
}

#[test]
fn tpm_without_swtpm_address_is_one_clear_line() {
    fails_with(&["unseal", "--source", "tpm", "--blob", "00"], "--swtpm");
    fails_with(
        &[
            "seal",
            "--source",
            "tpm",
            "--swtpm",
            "127.0.0.1:1",
            "--key",
            KEY,
        ],
        "cannot reach swtpm",
    );
}
