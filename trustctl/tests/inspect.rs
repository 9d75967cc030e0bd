//! `trustctl inspect` on real blobs of every kind: the research notes'
//! vector F (OP-TEE TA), the DCP blobs of hal-dcp's independent vector
//! script, blobs sealed by `trustctl seal` on the sims and on a TPM
//! (swtpm), the blobs a Linux 6.12 kernel wrote (hal-tpm-spi's interop
//! vector), a blob in the byte layout Linux 6.1 writes, and the pre-5.13
//! raw TPM format; then truncations, flipped fields and garbage, each
//! refused in one line or read as something other than what it was.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;
use trusted_core::test_util::{Section, hex, section, unhex, vectors};

const MASTER_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c";
const UNIQUE_KEY: &str = "00112233445566778899aabbccddeeff";

fn json(hex: &str) -> Value {
    serde_json::from_str(&ok(&["inspect", "--json", hex])).unwrap()
}

fn kinds(v: &Value) -> Vec<&str> {
    v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect()
}

/// The one reading of `hex`, which must be of `kind`.
fn only(hex: &str, kind: &str) -> Value {
    let v = json(hex);
    assert_eq!(kinds(&v), [kind], "{v}");
    assert_eq!(v["length"], hex.len() / 2);
    v["matches"][0].clone()
}

fn dcp_vector(name: &str) -> &'static Section {
    static ALL: std::sync::OnceLock<Vec<Section>> = std::sync::OnceLock::new();
    let all =
        ALL.get_or_init(|| vectors(include_str!("../../hal-dcp/tests/vectors/dcp_vectors.txt")));
    section(all, name)
}

/// The Linux 6.1 `keyctl pipe` layout of research linux-formats.md §5.1
/// (`new 32 keyhandle=0x81000001` on swtpm, 236 bytes): the observed header
/// bytes, the observed public area (userWithAuth, no policy, NULL scheme,
/// 32-byte unique), a 160-byte TPM2B_PRIVATE. The unique digest and the
/// private bytes were not recorded in the notes, so they are stand-ins.
fn linux_6_1_blob() -> Vec<u8> {
    let mut b = vec![0x30, 0x81, 0xe9];
    b.extend([0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05]);
    b.extend([0xa0, 0x03, 0x01, 0x01, 0x01]);
    b.extend([0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01]);
    b.extend([0x04, 0x30]);
    b.extend([
        0x00, 0x2e, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x10, 0x00,
        0x20,
    ]);
    b.extend([0x5c; 32]);
    b.extend([0x04, 0x81, 0xa0, 0x00, 0x9e]);
    b.extend([0xa7; 158]);
    assert_eq!(b.len(), 236);
    b
}

#[test]
fn vector_f_reads_as_a_tee_blob_with_its_iv_and_tag() {
    let m = only(VECTOR_F, "tee");
    assert_eq!(m["reserved"], 0);
    assert_eq!(m["iv"], "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    assert_eq!(m["tag"], &VECTOR_F[34..66]);
    assert_eq!(m["ciphertext_len"], 32);
    assert_eq!(m["key_len"], 32);
    let text = ok(&["inspect", VECTOR_F]);
    assert!(text.starts_with("length: 65 bytes\nkind: tee ("), "{text}");
    assert!(text.contains("\niv: a0a1a2a3a4a5a6a7a8a9aaabacadaeaf (16 bytes)\n"));
}

#[test]
fn tee_blobs_sealed_by_trustctl_read_as_tee_or_ambiguous_with_caam() {
    let blob = ok(&["seal", "--source", "tee", "--huk", HUK, "--key", KEY]);
    assert_eq!(only(&blob, "tee")["key_len"], 32);
    // 64 + 33 = 97 bytes is also 49 + 48: a CAAM length. Neither format has
    // a header, so both readings are printed.
    let key64 = KEY.repeat(2);
    let blob = ok(&["seal", "--source", "tee", "--huk", HUK, "--key", &key64]);
    let v = json(&blob);
    assert_eq!(kinds(&v), ["caam", "tee"]);
    assert_eq!(v["matches"][0]["key_len"], 49);
    assert_eq!(v["matches"][1]["key_len"], 64);
    let text = ok(&["inspect", &blob]);
    assert!(text.contains("ambiguous: caam or tee"), "{text}");
    // A blob from a DCP-derived HUK is the same format.
    let blob = ok(&[
        "seal",
        "--source",
        "tee",
        "--huk-from",
        "dcp-sim",
        "--unique-key",
        UNIQUE_KEY,
        "--key",
        KEY,
    ]);
    only(&blob, "tee");
}

#[test]
fn dcp_vector_blobs_read_as_dcp_v1_with_their_nonce_and_lengths() {
    for (name, n) in [("blob-e", 32), ("blob-unique-1", 64), ("blob-otp-1", 128)] {
        let v = dcp_vector(name);
        let blob = v.bytes("blob");
        let m = only(&hex(&blob), "dcp");
        assert_eq!(m["version"], 1);
        assert_eq!(m["nonce"], hex(&v.bytes("nonce")), "{name}");
        assert_eq!(m["wrapped_blob_key"], hex(&blob[1..17]));
        assert_eq!(m["payload_len"], n);
        assert_eq!(m["tag"], hex(&blob[blob.len() - 16..]));
    }
}

#[test]
fn dcp_sim_blobs_read_as_dcp() {
    let dcp = ["--source", "dcp-sim", "--unique-key", UNIQUE_KEY];
    let blob = ok(&[&["seal"][..], &dcp, &["--key", KEY]].concat());
    assert_eq!(only(&blob, "dcp")["payload_len"], 32);
    let blob = ok(&[&["seal"][..], &dcp, &["--new", "128"]].concat());
    assert_eq!(only(&blob, "dcp")["key_len"], 128);
    let otp = [
        "--source",
        "dcp-sim",
        "--otp-key",
        UNIQUE_KEY,
        "--use-otp-key",
    ];
    let blob = ok(&[&["seal"][..], &otp, &["--key", KEY]].concat());
    only(&blob, "dcp");
}

#[test]
fn caam_sim_blobs_read_as_caam_with_the_key_length_inferred() {
    let caam = ["--source", "caam-sim", "--master-key", MASTER_KEY];
    for (key, n) in [(KEY.to_string(), 32), (KEY.repeat(4), 128)] {
        let blob = ok(&[&["seal"][..], &caam, &["--key", &key]].concat());
        let v = json(&blob);
        let m = &v["matches"][0];
        assert_eq!(m["kind"], "caam");
        assert_eq!(m["blob_key_len"], 32);
        assert_eq!(m["data_len"], n);
        assert_eq!(m["mac_len"], 16);
        assert_eq!(m["key_len"], n);
        assert_eq!(m["mac"], blob[blob.len() - 32..]);
        // 80 bytes is also 47 + 33; an OP-TEE reading needs the reserved
        // byte 0, which a CAAM blob key has one time in 256.
        let tee_too = n + 48 - 33 <= 128 && blob.starts_with("00");
        assert_eq!(kinds(&v).len(), if tee_too { 2 } else { 1 }, "{v}");
    }
}

/// The `--json` fields of a TPMKey the kernel writes (emptyAuth, parent
/// 0x81000001, a keyedhash sealed-data object under sha256, 160-byte
/// private part) with the public area's length, attributes, policy and
/// unique value given.
fn check_kernel_tpmkey(
    m: &serde_json::Value,
    public_len: usize,
    attributes: &serde_json::Value,
    policy: &str,
    unique: &str,
) {
    assert_eq!(m["oid"], "2.23.133.10.1.5");
    assert_eq!(m["empty_auth"], true);
    assert_eq!(m["parent"], "0x81000001");
    assert_eq!(m["tpm2b_public_len"], public_len);
    assert_eq!(m["tpm2b_private_len"], 160);
    let p = &m["public"];
    assert_eq!(p["type"]["name"], "keyedhash");
    assert_eq!(
        p["name_alg"],
        serde_json::json!({"id": 11, "name": "sha256"})
    );
    assert_eq!(&p["object_attributes"], attributes);
    assert_eq!(p["migratable"], true);
    assert_eq!(p["auth_policy"], policy);
    assert_eq!(p["scheme"], "null (sealed data)");
    assert_eq!(p["unique"], unique);
}

#[test]
fn the_linux_6_1_layout_reads_with_every_field() {
    let blob = hex(&linux_6_1_blob());
    let m = only(&blob, "tpmkey-der");
    let attrs = serde_json::json!({"value": 0x40, "names": ["userWithAuth"]});
    check_kernel_tpmkey(&m, 48, &attrs, "", &"5c".repeat(32));
    let text = ok(&["inspect", &blob]);
    for line in [
        "kind: tpmkey-der (",
        "parent: 0x81000001",
        "public:\n  type: keyedhash (0x0008)\n  name_alg: sha256 (0x000b)",
        "  object_attributes: 0x00000040 userWithAuth\n",
        "  auth_policy: none\n",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
}

/// The blobs Linux 6.12 wrote in `cargo xtask interop` (`keyctl add trusted
/// kmk "new 32 keyhandle=0x81000001 [policydigest=...]"` on swtpm), as
/// hal-tpm-spi's `linux_blob.rs` unseals them.
fn linux_6_12_vector(name: &str) -> Vec<u8> {
    static ALL: std::sync::OnceLock<Vec<Section>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        vectors(include_str!(
            "../../hal-tpm-spi/tests/vectors/linux-6.12-tpm.txt"
        ))
    });
    section(all, name).bytes("blob")
}

#[test]
fn the_linux_6_12_blobs_read_as_tpmkey_with_the_kernels_fields() {
    let plain = linux_6_12_vector("linux-plain");
    let pcr16 = linux_6_12_vector("linux-pcr16");
    // SEQUENCE, OID 2.23.133.10.1.5, [0] emptyAuth TRUE, parent INTEGER
    // 0x81000001, OCTET STRING (TPM2B_PUBLIC): laid out by hand here, so
    // the offsets below do not come from the parser under test.
    let head = |seq: &[u8], public: u8| {
        let mut h = seq.to_vec();
        h.extend([0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05]);
        h.extend([0xa0, 0x03, 0x01, 0x01, 0x01]);
        h.extend([0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01]);
        h.extend([0x04, public]);
        h
    };
    // Per blob: its SEQUENCE header, TPM2B_PUBLIC's length, the authPolicy,
    // the objectAttributes with their names and their text lines.
    for (blob, seq, public_len, policy, attrs, names, attr_lines) in [
        (
            &plain,
            &[0x30, 0x81, 0xe9][..],
            48,
            String::new(),
            0x40,
            serde_json::json!(["userWithAuth"]),
            "  object_attributes: 0x00000040 userWithAuth\n  migratable: true\n  auth_policy: none\n",
        ),
        (
            &pcr16,
            &[0x30, 0x82, 0x01, 0x09][..],
            80,
            // PolicyPCR(sha256, PCR 16) as the kernel's policydigest=.
            "bff2d58e9813f97cefc14f72ad8133bc7092d652b7c877959254af140c841f36".to_string(),
            0,
            serde_json::json!([]),
            "  object_attributes: 0x00000000 none\n  migratable: true\n  auth_policy: \
             bff2d58e9813f97cefc14f72ad8133bc7092d652b7c877959254af140c841f36 (32 bytes)\n",
        ),
    ] {
        let h = head(seq, public_len as u8);
        assert!(blob.starts_with(&h), "the vector's DER header changed");
        let public = h.len()..h.len() + public_len;
        // TPMT_PUBLIC after the TPM2B size: type, nameAlg, attributes,
        // authPolicy (TPM2B), scheme, unique (TPM2B, the last 32 bytes).
        let area = &blob[public.start + 2..public.end];
        assert_eq!(&area[..8], &[0x00, 0x08, 0x00, 0x0b, 0, 0, 0, attrs]);
        let policy_len = policy.len() / 2;
        assert_eq!(area[8..10], (policy_len as u16).to_be_bytes());
        assert_eq!(hex(&area[10..10 + policy_len]), policy);
        let unique = hex(&area[area.len() - 32..]);
        // OCTET STRING (TPM2B_PRIVATE) to the end of the blob.
        assert_eq!(&blob[public.end..public.end + 3], &[0x04, 0x81, 0xa0]);
        assert_eq!(blob.len() - public.end - 3, 160);

        let blob_hex = hex(blob);
        let m = only(&blob_hex, "tpmkey-der");
        let attributes = serde_json::json!({"value": attrs, "names": names});
        check_kernel_tpmkey(&m, public_len, &attributes, &policy, &unique);

        let text = ok(&["inspect", &blob_hex]);
        for line in [
            format!("length: {} bytes\nkind: tpmkey-der (", blob.len()),
            "\nempty_auth: true\nparent: 0x81000001\n".to_string(),
            format!("tpm2b_public_len: {public_len}\ntpm2b_private_len: 160\n"),
            "public:\n  type: keyedhash (0x0008)\n  name_alg: sha256 (0x000b)\n".to_string(),
            attr_lines.to_string(),
            format!("  unique: {unique} (32 bytes)"),
        ] {
            assert!(text.contains(&line), "{line:?} not in\n{text}");
        }
    }
}

#[test]
fn a_tpmkey_whose_pubkey_is_not_a_public_area_is_still_named_with_the_reason() {
    let mut b = linux_6_1_blob();
    // TPMT_PUBLIC.type (after the OCTET STRING header at 23 and the
    // TPM2B size at 25) 0x0008 -> 0x0001 (rsa).
    assert_eq!(&b[27..29], &[0x00, 0x08]);
    b[28] = 0x01;
    let m = only(&hex(&b), "tpmkey-der");
    assert!(
        m["error"].as_str().unwrap().contains("not keyedhash"),
        "{m}"
    );
    assert!(m.get("public").is_none());
}

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("trustctl-inspect-{}-{name}", std::process::id()))
}

#[test]
fn file_input_takes_hex_text_or_raw_bytes() {
    let blob = dcp_vector("blob-e").bytes("blob");
    let expect = json(&hex(&blob));
    let bin = temp_path("bin");
    std::fs::write(&bin, &blob).unwrap();
    let text = temp_path("hex");
    // `xxd -p` style: lines of 60 digits and a final newline.
    let wrapped: Vec<String> = hex(&blob)
        .as_bytes()
        .chunks(60)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    std::fs::write(&text, wrapped.join("\n") + "\n").unwrap();
    for f in [&bin, &text] {
        let got: Value =
            serde_json::from_str(&ok(&["inspect", "--json", "--file", f.to_str().unwrap()]))
                .unwrap();
        assert_eq!(got, expect, "{}", f.display());
    }
    std::fs::write(&text, "0x00a0").unwrap();
    let err = fails(&["inspect", "--file", text.to_str().unwrap()]);
    assert!(err.contains("is not hex: 'x' at digit 1"), "{err}");
    std::fs::remove_file(&bin).unwrap();
    std::fs::remove_file(&text).unwrap();
    let err = fails(&["inspect", "--file", "/nonexistent/blob"]);
    assert!(err.contains("--file /nonexistent/blob"), "{err}");
}

/// Every prefix of a blob of a structured kind is refused as that kind;
/// a prefix that a headerless kind fits by length carries the warning that
/// it starts like the structured kind.
fn check_prefixes(blob: &[u8], kind: &str, warn_from: usize) {
    for n in 0..blob.len() {
        let h = hex(&blob[..n]);
        let o = trustctl(&["inspect", "--json", &h]);
        if !o.status.success() {
            let err = String::from_utf8(o.stderr).unwrap();
            assert_eq!(err.lines().count(), 1, "{kind} prefix {n}: {err}");
            continue;
        }
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        for m in v["matches"].as_array().unwrap() {
            assert_ne!(m["kind"], kind, "{kind} prefix {n} read as its kind");
            assert!(
                ["caam", "tee"].contains(&m["kind"].as_str().unwrap()),
                "{kind} prefix {n}: {m}"
            );
            if n >= warn_from {
                assert!(m["warning"].is_string(), "{kind} prefix {n}: {m}");
            }
        }
    }
}

#[test]
fn truncated_blobs_are_never_read_as_their_kind() {
    check_prefixes(&linux_6_1_blob(), "tpmkey-der", 12);
    check_prefixes(&dcp_vector("blob-e").bytes("blob"), "dcp", 37);
    check_prefixes(&unhex(VECTOR_F), "tee", 0);
    let caam = ok(&[
        "seal",
        "--source",
        "caam-sim",
        "--master-key",
        MASTER_KEY,
        "--key",
        KEY,
    ]);
    check_prefixes(&unhex(&caam), "caam", usize::MAX);
}

#[test]
fn flipped_header_fields_say_why() {
    // The OID's last arc 5 -> 6 (TPM importable key): not a TPMKey, and at
    // 236 bytes too long for the headerless kinds.
    let mut b = linux_6_1_blob();
    b[10] = 0x06;
    let err = fails(&["inspect", &hex(&b)]);
    for why in [
        "not a trusted-key blob (236 bytes)",
        "TPMKey DER: a SEQUENCE, but not OID 2.23.133.10.1.5",
        "pre-5.13 TPM: no TPM2B_PRIVATE then TPM2B_PUBLIC",
        "DCP v1: blob format invalid: DCP blob version is not 1",
        "CAAM: length 236 is not 48 + 32..=128",
        "OP-TEE TA: length 236 is not 33 + 32..=128",
    ] {
        assert!(err.contains(why), "{why:?} not in {err}");
    }
    // A DCP blob whose payload_len is off by one: the length still fits
    // CAAM, so that reading is printed, with the warning.
    let mut d = dcp_vector("blob-e").bytes("blob");
    d[33] = 33;
    let m = only(&hex(&d), "caam");
    assert!(m["warning"].as_str().unwrap().contains("DCP v1"), "{m}");
    // A DCP blob cut to below its header and tag.
    let err = fails(&["inspect", &hex(&d[..52])]);
    assert!(err.contains("DCP v1: 52 bytes, fewer than the 53"), "{err}");
    // OP-TEE writes the reserved byte 0.
    let err = fails(&["inspect", &format!("05{}", &VECTOR_F[2..])]);
    assert!(err.contains("OP-TEE TA: reserved byte is 0x05"), "{err}");
}

#[test]
fn garbage_is_never_read_as_a_structured_kind() {
    // xorshift64: deterministic bytes with no structure.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut byte = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u8
    };
    for n in (1..=512)
        .step_by(13)
        .chain([64, 65, 79, 80, 161, 162, 176, 177])
    {
        let h = hex(&(0..n).map(|_| byte()).collect::<Vec<u8>>());
        let o = trustctl(&["inspect", "--json", &h]);
        let fits_headerless = (65..=176).contains(&n);
        if !fits_headerless {
            assert!(!o.status.success(), "{n} random bytes were read");
            let err = String::from_utf8(o.stderr).unwrap();
            assert_eq!(err.lines().count(), 1);
            assert!(err.contains(&format!("not a trusted-key blob ({n} bytes)")));
            continue;
        }
        if o.status.success() {
            let v: Value = serde_json::from_slice(&o.stdout).unwrap();
            for k in kinds(&v) {
                assert!(["caam", "tee"].contains(&k), "{n} random bytes read as {k}");
            }
        }
    }
}

#[test]
fn bad_input_is_one_clear_line() {
    for (args, why) in [
        (&["inspect"][..], "give the blob as HEX or --file F"),
        (&["inspect", ""], "not a trusted-key blob: no bytes"),
        (&["inspect", "abc"], "odd number of hex digits (3)"),
        (&["inspect", "00zz"], "HEX is not hex: 'z' at digit 2"),
        (
            &["inspect", &"00".repeat(513)],
            "513 bytes, more than any format holds",
        ),
        (&["inspect", "00", "--file", "x"], "cannot be used with"),
    ] {
        let err = fails(args);
        assert!(err.contains(why), "{args:?}: {err}");
    }
}

/// The swtpm-backed cases: blobs a TPM really sealed, through the same
/// `trustctl seal` users run, in both TPM formats.
#[test]
fn tpm_sealed_blobs_read_as_tpmkey_and_their_raw_form_as_tpm_raw() {
    let (_swtpm, addr, name) = provisioned_swtpm();
    let tpm = ["--source", "tpm", "--swtpm", &addr, "--srk-name", &name];
    let seal = |extra: &[&str]| ok(&[&["seal"][..], &tpm, extra, &["--key", KEY]].concat());

    let blob = seal(&[]);
    let m = only(&blob, "tpmkey-der");
    assert_eq!(m["parent"], "0x81000001");
    assert_eq!(m["empty_auth"], true);
    let p0 = &m["public"];
    assert_eq!(p0["name_alg"]["name"], "sha256");
    assert_eq!(
        p0["object_attributes"]["names"],
        serde_json::json!(["userWithAuth"])
    );
    assert_eq!(p0["auth_policy"], "");
    assert_eq!(p0["migratable"], true);
    assert_eq!(p0["unique"].as_str().unwrap().len(), 64);

    let m = only(&seal(&["--options", "migratable=0"]), "tpmkey-der");
    assert_eq!(
        m["public"]["object_attributes"],
        serde_json::json!({"value": 0x52, "names": ["fixedTPM", "fixedParent", "userWithAuth"]})
    );
    assert_eq!(m["public"]["migratable"], false);

    // Sealed to PCRs: authorised by the policy digest alone.
    let m = only(&seal(&["--pcrs", "0,7"]), "tpmkey-der");
    assert_eq!(
        m["public"]["object_attributes"]["names"],
        serde_json::json!([])
    );
    assert_eq!(m["public"]["auth_policy"].as_str().unwrap().len(), 64);

    // The pre-5.13 layout of the same object: TPM2B_PRIVATE ‖ TPM2B_PUBLIC
    // and, after them, the rest of the TPM2_Create parameter area (here 24
    // stand-in bytes; TPM2_Load ignores them).
    let der = unhex(&blob);
    let parts = hal_tpm_spi::blob::decode_der(&der)
        .unwrap()
        .parts()
        .unwrap();
    let mut raw = [parts.private, parts.public].concat();
    raw.extend([0xEE; 24]);
    let m = only(&hex(&raw), "tpm-raw");
    assert_eq!(m["tpm2b_private_len"], parts.private.len());
    assert_eq!(m["tpm2b_public_len"], parts.public.len());
    assert_eq!(m["creation_data_len"], 24);
    assert_eq!(m["public"], p0.clone());
    assert!(m["parent"].as_str().unwrap().contains("keyhandle="));
    // Cut inside TPM2B_PRIVATE ‖ TPM2B_PUBLIC, it is not one.
    let both = parts.private.len() + parts.public.len();
    check_prefixes(&raw[..both], "tpm-raw", usize::MAX);
}
