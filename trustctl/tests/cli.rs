//! The CLI as a user meets it: outputs on stdout, and for every bad input
//! one line on stderr and a non-zero exit.

mod common;

use std::process::Command;

use common::*;

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
    let mut tampered = VECTOR_F.to_string();
    tampered.replace_range(80..81, "f");
    let other_huk = "11111111111111111111111111111111";
    // `trustctl CMD --source tee --huk HUK REST`, and what its one line says.
    let tee: [(&str, &str, [&str; 2], &str); 8] = [
        ("unseal", HUK, ["--blob", "zz"], "invalid hex"),
        ("unseal", HUK, ["--blob", "abc"], "odd"),
        ("seal", "00", ["--key", KEY], "--huk must be 32 hex digits"),
        ("seal", HUK, ["--key", "00"], "key length"),
        ("seal", HUK, ["--new", "16"], "key length"),
        ("unseal", HUK, ["--blob", &VECTOR_F[..60]], "unseal failed"),
        (
            "unseal",
            HUK,
            ["--blob", &tampered],
            "authentication failed",
        ),
        (
            "unseal",
            other_huk,
            ["--blob", VECTOR_F],
            "authentication failed",
        ),
    ];
    for (cmd, huk, rest, needle) in tee {
        let args = [&[cmd, "--source", "tee", "--huk", huk][..], &rest].concat();
        fails_with(&args, needle);
    }
    fails_with(
        &["seal", "--source", "nosuch", "--huk", HUK, "--key", KEY],
        "nosuch",
    );
    fails_with(&["seal", "--source", "tee", "--key", KEY], "--huk");
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
    let (_swtpm, addr, name) = provisioned_swtpm();
    assert_eq!(name.len(), 68);
    let tpm = ["--source", "tpm", "--swtpm", &addr, "--srk-name", &name];
    let blob = ok(&[&["seal"][..], &tpm, &["--key", KEY]].concat());
    let key = ok(&[&["unseal"][..], &tpm, &["--blob", &blob]].concat());
    assert_eq!(key, KEY);
    // Another TPM's name, and a name that is not one: one clear line each,
    // nothing unsealed.
    let other = format!(
        "{}{}",
        &name[..67],
        if name.ends_with('0') { "1" } else { "0" }
    );
    for (srk_name, needle) in [(other.as_str(), "pinned"), ("00", "--srk-name")] {
        let tpm = ["--source", "tpm", "--swtpm", &addr, "--srk-name", srk_name];
        fails_with(
            &[&["unseal"][..], &tpm, &["--blob", &blob]].concat(),
            needle,
        );
    }
}

const UNIQUE: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const MASTER: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

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
fn dcp_huk_of_an_all_zero_key_is_refused_unless_told_then_vector_b() {
    // As `seal` does: the all-zero DCP key is the public test key.
    fails_with(&["huk", "--source", "dcp-sim"], "all-zero test key");
    assert_eq!(
        ok(&["huk", "--source", "dcp-sim", "--skip-zero-key-test"]),
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

/// Runs trustctl with `args` (owned, any length) and asserts a refusal:
/// non-zero exit, never a panic (101) or a signal, nothing on stdout, and
/// exactly one line on stderr that says what is wrong.
fn refused(args: &[String], needle: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_trustctl"))
        .args(args)
        .output()
        .unwrap();
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if a.len() > 80 {
                format!("<{} bytes>", a.len())
            } else {
                a.clone()
            }
        })
        .collect();
    let err = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code();
    assert!(
        code.is_some_and(|c| c != 0 && c != 101),
        "{shown:?}: exit {code:?}, stderr {err:?}"
    );
    assert!(
        o.stdout.is_empty(),
        "{shown:?}: printed {:?}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(err.lines().count(), 1, "{shown:?}: stderr {err:?}");
    assert!(
        err.starts_with("trustctl: ") && err.len() > 12,
        "{shown:?}: {err:?}"
    );
    assert!(err.contains(needle), "{shown:?}: {err:?} lacks {needle:?}");
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Issue 14, item 7: bad input to every subcommand, one table.
#[test]
fn bad_input_to_every_subcommand_is_one_clear_line_never_a_panic() {
    let big = "a".repeat(64 * 1024);
    let bad_hex = |len: usize| "g".repeat(len);
    let mut cases: Vec<(Vec<String>, String)> = Vec::new();
    let mut add = |args: Vec<String>, needle: &str| cases.push((args, needle.to_string()));

    // Every hex flag: odd length, not hex, whitespace, prefix, sign, empty, 64 KiB.
    let hex_flags: [(&[&str], &str, usize); 8] = [
        (
            &["seal", "--source", "tee", "--huk", HUK, "--key"],
            "--key",
            32,
        ),
        (
            &["seal", "--source", "tee", "--key", KEY, "--huk"],
            "--huk",
            16,
        ),
        (
            &["huk", "--source", "dcp-sim", "--unique-key"],
            "--unique-key",
            16,
        ),
        (
            &["huk", "--source", "dcp-sim", "--otp-key"],
            "--otp-key",
            16,
        ),
        (
            &["huk", "--source", "caam-sim", "--master-key"],
            "--master-key",
            32,
        ),
        (
            &[
                "seal",
                "--source",
                "tee",
                "--huk-from",
                "stm32mp13-sim",
                "--key",
                KEY,
                "--dhuk",
            ],
            "--dhuk",
            16,
        ),
        (&["stm32mp1", "provision-image", "--huk"], "--huk", 16),
        (
            &["unseal", "--source", "tee", "--huk", HUK, "--blob"],
            "--blob",
            65,
        ),
    ];
    for (prefix, flag, n) in hex_flags {
        let good = "ab".repeat(n);
        let variants = [
            good[1..].to_string(),       // odd length
            bad_hex(2 * n),              // not hex
            format!(" {}", &good[1..]),  // leading space (was trimmed)
            format!("{} ", &good[1..]),  // trailing space
            format!("0x{}", &good[2..]), // prefix
            format!("+{}", &good[1..]),  // sign
            String::new(),               // empty
            big.clone(),                 // 64 KiB
            // One byte too many, one too few (a key may be 32..=128 bytes).
            "ab".repeat(if flag == "--key" { 129 } else { n + 1 }),
            "ab".repeat(if flag == "--key" { 31 } else { n - 1 }),
        ];
        for (i, v) in variants.into_iter().enumerate() {
            let mut args = strings(prefix);
            args.push(v);
            // A blob of a wrong but even length is well-formed hex: the
            // source refuses it (length, format or authentication).
            let needle = if flag == "--blob" && i >= 8 { "" } else { flag };
            add(args, needle);
        }
    }
    // Wrong HUK lengths, spelled out.
    for len in [0, 2, 30, 31, 33, 34, 64] {
        add(
            strings(&[
                "seal",
                "--source",
                "tee",
                "--key",
                KEY,
                "--huk",
                &"0".repeat(len),
            ]),
            "--huk",
        );
        add(
            strings(&["stm32mp1", "provision-image", "--huk", &"1".repeat(len)]),
            "--huk",
        );
    }
    // --otp entries: exact WORD=HEX, nothing skipped or trimmed.
    for entry in [
        "",
        " 60=1",
        "60= 1",
        "60=+1",
        "60=",
        "=1",
        "60",
        "96=1",
        "60=1ffffffff",
        &big,
    ] {
        add(
            strings(&["huk", "--source", "stm32mp1-sim", "--otp", entry]),
            "",
        );
    }
    // Keys and lengths.
    for n in [
        "0",
        "16",
        "31",
        "129",
        "-1",
        "x",
        "",
        "99999999999999999999",
    ] {
        add(
            strings(&["seal", "--source", "tee", "--huk", HUK, "--new", n]),
            "",
        );
    }
    add(
        strings(&["seal", "--source", "dcp-sim", "--new", "32"]),
        "zero",
    );
    add(
        strings(&[
            "seal", "--source", "tee", "--huk", HUK, "--keymod", "x", "--key", KEY,
        ]),
        "",
    );
    for keymod in ["k".repeat(17), big.clone()] {
        let args = [
            "seal",
            "--source",
            "caam-sim",
            "--master-key",
            MASTER,
            "--keymod",
            &keymod,
        ];
        add(strings(&[&args[..], &["--key", KEY]].concat()), "--keymod");
    }
    // Flags of another device: refused, not silently ignored.
    add(
        strings(&[
            "seal",
            "--source",
            "tee",
            "--huk",
            HUK,
            "--master-key",
            MASTER,
            "--key",
            KEY,
        ]),
        "--master-key does not apply",
    );
    add(
        strings(&[
            "seal",
            "--source",
            "tee",
            "--huk-from",
            "caam-sim",
            "--master-key",
            MASTER,
            "--unique-key",
            UNIQUE,
            "--key",
            KEY,
        ]),
        "--unique-key does not apply",
    );
    add(
        strings(&[
            "unseal",
            "--source",
            "caam-sim",
            "--master-key",
            MASTER,
            "--otp",
            "60=1",
            "--blob",
            "00",
        ]),
        "--otp does not apply",
    );
    add(
        strings(&[
            "unseal", "--source", "dcp-sim", "--huk", HUK, "--blob", "00",
        ]),
        "--huk",
    );
    add(
        strings(&["huk", "--source", "dcp-sim", "--master-key", MASTER]),
        "--master-key does not apply",
    );
    add(
        strings(&[
            "huk",
            "--source",
            "caam-sim",
            "--master-key",
            MASTER,
            "--skip-zero-key-test",
        ]),
        "--skip-zero-key-test does not apply",
    );
    // HUKs the CLI must not print.
    add(
        strings(&["huk", "--source", "dcp-sim"]),
        "all-zero test key",
    );
    add(strings(&["huk", "--source", "stm32mp1-sim"]), "blank");
    add(strings(&["huk", "--source", "stm32mp13-sim"]), "DHUK");
    add(strings(&["huk", "--source", "caam-sim"]), "--master-key");
    add(strings(&["huk", "--source", "nosuch"]), "nosuch");
    add(strings(&["huk"]), "--source");
    // keyctl: bad payloads and options, each refused before anything prints.
    let payloads = [
        ("", "payload"),
        ("new", "key length"),
        ("new 31", "32..=128"),
        ("new 32x", "decimal"),
        ("frob 32", "new, load or update"),
        ("load zz", "not hex"),
        ("new 32 keyhandle=zz", "keyhandle"),
        ("new 32 keyauth=00", "keyauth"),
        ("new 32 hash=sha257", "hash"),
        ("new 32 policydigest=00", "policydigest"),
        ("new 32 migratable=2", "migratable"),
        ("new 32 pcrlock=x", "pcrlock"),
        ("new 32 unknown=1", "unknown"),
        ("new 32 keyhandle=", "unknown"),
        ("new 32 keyhandle=1 keyhandle=1", "twice"),
        ("new 32 policydigest=00 hash=sha1", ""),
    ];
    for (payload, needle) in payloads {
        add(strings(&["keyctl", payload]), needle);
    }
    add(
        strings(&["keyctl", &format!("new 32 blobauth={}", "p".repeat(21))]),
        "blobauth",
    );
    add(
        strings(&["keyctl", &format!("new 32 pcrinfo={}", "00".repeat(65))]),
        "pcrinfo",
    );
    add(
        strings(&["keyctl", &format!("load {}", "00".repeat(513))]),
        "512",
    );
    add(strings(&["keyctl", &big]), "1..=32767");
    add(strings(&["keyctl"]), "PAYLOAD");
    // Other subcommands.
    add(strings(&["demo", "extra"]), "extra");
    add(strings(&["tpm", "provision"]), "--swtpm");
    add(strings(&["tpm", "provision", "--swtpm", ""]), "swtpm");
    add(strings(&["stm32mp1"]), "");
    add(
        strings(&["unseal", "--source", "tpm", "--blob", "00"]),
        "--swtpm",
    );
    add(strings(&["frobnicate"]), "frobnicate");
    add(Vec::new(), "");

    let mut count = 0;
    for (args, needle) in &cases {
        refused(args, needle);
        count += 1;
    }
    println!("cli bad-input table: {count} cases refused with one line");
    assert!(count >= 150, "{count}");
}

/// Every truncation of a valid blob of every blob-opening path, and wrong
/// versions: refused with one line, never opened, never a panic.
#[test]
fn every_truncation_of_a_valid_blob_is_refused() {
    let stm = [
        "--huk-from",
        "stm32mp1-sim",
        "--otp",
        "60=11111111,61=22222222,62=33333333,63=44444444",
    ];
    let sources: Vec<Vec<&str>> = vec![
        vec!["--source", "tee", "--huk", HUK],
        vec!["--source", "dcp-sim", "--unique-key", UNIQUE],
        vec!["--source", "caam-sim", "--master-key", MASTER],
        [&["--source", "tee"][..], &stm[..]].concat(),
    ];
    let mut count = 0;
    for source in &sources {
        let blob = ok(&[&["seal"][..], source, &["--key", KEY]].concat());
        assert_eq!(
            ok(&[&["unseal"][..], source, &["--blob", &blob]].concat()),
            KEY
        );
        // Every whole-byte truncation; every 8th odd one (the hex itself
        // is refused for those).
        let cuts = (0..blob.len()).filter(|c| c % 2 == 0 || c % 16 == 1);
        for cut in cuts {
            let mut args = strings(&[&["unseal"][..], source].concat());
            args.extend(["--blob".to_string(), blob[..cut].to_string()]);
            refused(&args, if cut % 2 == 1 { "odd" } else { "" });
            count += 1;
        }
    }
    // Wrong versions: the DCP blob's version byte is 1.
    let dcp = ["--source", "dcp-sim", "--unique-key", UNIQUE];
    let blob = ok(&[&["seal"][..], &dcp, &["--key", KEY]].concat());
    for version in ["00", "02", "ff"] {
        let wrong = format!("{version}{}", &blob[2..]);
        let mut args = strings(&[&["unseal"][..], &dcp].concat());
        args.extend(["--blob".to_string(), wrong]);
        refused(&args, "version");
        count += 1;
    }
    println!("cli truncated/wrong-version blobs: {count} cases refused with one line");
}

#[test]
fn hex_output_and_keyctl_canonical_form_parse_back() {
    // The reported case: an empty pcrinfo prints as text that parses.
    let out = ok(&["keyctl", "new 32 pcrinfo=p"]);
    assert!(out.contains("canonical: new 32 pcrinfo=0"), "{out}");
    let out = ok(&[
        "keyctl",
        "load AbC keyhandle=81000001 keyauth=00000000000000000000000000000000000000AB",
    ]);
    let canonical = out
        .lines()
        .find_map(|l| l.strip_prefix("canonical: "))
        .unwrap()
        .to_string();
    assert_eq!(
        canonical,
        "load ab keyhandle=0x81000001 keyauth=00000000000000000000000000000000000000ab"
    );
    // The canonical text is itself accepted and is a fixed point.
    let again = ok(&["keyctl", &canonical]);
    assert!(
        again.contains(&format!("canonical: {canonical}")),
        "{again}"
    );
    // A new key is printed only once the seal worked (one line on failure).
    let o = trustctl(&["seal", "--source", "tee", "--huk", HUK, "--new", "32"]);
    assert!(o.status.success());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        err.starts_with("new key: ") && err.trim().len() == 9 + 64,
        "{err:?}"
    );
}

/// `-` and `@PATH` keep secrets off the command line (argv is readable in
/// `/proc/PID/cmdline`): the same key sealed from stdin and HUK from a
/// file unseals to what was given; a missing file or empty stdin is one
/// clear line.
#[test]
fn secrets_come_from_stdin_or_a_file_instead_of_argv() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = std::env::temp_dir().join(format!("trustctl-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let huk_file = dir.join("huk");
    std::fs::write(&huk_file, format!("{HUK}\n")).unwrap();
    let huk_arg = format!("@{}", huk_file.display());

    let mut child = Command::new(env!("CARGO_BIN_EXE_trustctl"))
        .args(["seal", "--source", "tee", "--huk", &huk_arg, "--key", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{KEY}\n").as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let blob = stdout(&o).trim().to_string();
    let unsealed = ok(&[
        "unseal", "--source", "tee", "--huk", &huk_arg, "--blob", &blob,
    ]);
    assert_eq!(unsealed, KEY);

    let missing = format!("@{}", dir.join("absent").display());
    let e = fails(&[
        "unseal", "--source", "tee", "--huk", &missing, "--blob", &blob,
    ]);
    assert!(e.contains("absent"), "{e}");
    // `Command::output` gives the child an empty stdin.
    let e = fails(&["seal", "--source", "tee", "--huk", HUK, "--key", "-"]);
    assert!(e.contains("stdin is empty"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}
