//! The keyctl grammar: every rule of Linux's `datablob_parse` and the TPM
//! `getoptions`, with what each rejects.

use trusted_core::Error;
use trusted_core::keyctl::{Command, HashAlgo, Payload, TpmOptions};

fn rejected(text: &str) -> bool {
    matches!(Payload::parse(text), Err(Error::Payload(_)))
}

fn tpm_rejected(text: &str) -> bool {
    matches!(TpmOptions::parse(text), Err(Error::Payload(_)))
}

#[test]
fn new_takes_decimal_lengths_32_to_128() {
    assert_eq!(
        Payload::parse("new 32").unwrap().command,
        Command::New { key_len: 32 }
    );
    assert_eq!(
        Payload::parse("new 128").unwrap().command,
        Command::New { key_len: 128 }
    );
    assert_eq!(
        Payload::parse("new +64").unwrap().command,
        Command::New { key_len: 64 }
    );
    assert_eq!(
        Payload::parse("new 032").unwrap().command,
        Command::New { key_len: 32 }
    );
    // kstrtol accepts one trailing newline (`echo "new 32" | keyctl padd`).
    assert_eq!(
        Payload::parse("new 32\n").unwrap().command,
        Command::New { key_len: 32 }
    );
    for bad in [
        "new 31",
        "new 129",
        "new -32",
        "new 0x20",
        "new",
        "new ",
        "new  32",
        "new 32\n\n",
        "new 3 2",
        "new 1e2",
    ] {
        assert!(rejected(bad), "{bad:?}");
    }
}

#[test]
fn command_word_must_match_exactly() {
    for bad in [
        "",
        " new 32",
        "New 32",
        "new32",
        "news 32",
        "loads 00",
        "updates",
        "import 00",
    ] {
        assert!(rejected(bad), "{bad:?}");
    }
    assert_eq!(Payload::parse("update").unwrap().command, Command::Update);
    let p = Payload::parse("update\tkeyhandle=0x81000001").unwrap();
    assert_eq!(
        (p.command, p.options),
        (Command::Update, "keyhandle=0x81000001")
    );
}

#[test]
fn tabs_separate_like_spaces_and_options_are_the_unparsed_rest() {
    let p = Payload::parse("new\t32\tkeyhandle=1  hash=sha1").unwrap();
    assert_eq!(p.command, Command::New { key_len: 32 });
    assert_eq!(p.options, "keyhandle=1  hash=sha1");
    assert_eq!(Payload::parse("new 32").unwrap().options, "");
}

#[test]
fn load_decodes_hex_of_either_case_and_ignores_an_odd_nibble() {
    let Command::Load { blob } = Payload::parse("load 00aBfF").unwrap().command else {
        panic!()
    };
    assert_eq!(blob.as_bytes(), &[0x00, 0xab, 0xff]);
    let Command::Load { blob } = Payload::parse("load 00aBf").unwrap().command else {
        panic!()
    };
    assert_eq!(blob.as_bytes(), &[0x00, 0xab]);
    // An empty blob passes the grammar; the source rejects it.
    let Command::Load { blob } = Payload::parse("load ").unwrap().command else {
        panic!()
    };
    assert!(blob.is_empty());
    assert!(rejected("load"));
    assert!(rejected("load 0g"));
    assert!(rejected(&format!("load {}", "00".repeat(513))));
    assert!(!rejected(&format!("load {}", "00".repeat(512))));
}

#[test]
fn payload_length_limits_and_nul_truncation() {
    assert!(rejected(&format!("new 32 {}", "x".repeat(32767))));
    assert!(!rejected(&format!("new 32 {}", "x".repeat(32760))));
    assert!(rejected("new\0 32"));
    assert_eq!(Payload::parse("new 32\0garbage").unwrap().options, "");
}

#[test]
fn payload_prints_back() {
    for text in [
        "new 32",
        "new 64 keyhandle=0x81000001",
        "update pcrlock=7",
        "load 00ab",
    ] {
        assert_eq!(Payload::parse(text).unwrap().to_string(), text);
    }
}

#[test]
fn tpm_options_parse_every_token() {
    let o = TpmOptions::parse(
        "keyhandle=0x81000001 keyauth=0102030405060708090a0b0c0d0e0f1011121314 \
         blobauth=secret pcrinfo=0a0b pcrlock=7 migratable=0 hash=sha1 \
         policydigest=00112233445566778899aabbccddeeff00112233 policyhandle=03000000",
    )
    .unwrap();
    assert_eq!(o.keyhandle, Some(0x8100_0001));
    assert_eq!(o.keyauth[0], 1);
    assert_eq!(o.blobauth.as_slice(), b"secret");
    assert_eq!(o.pcrinfo.as_slice(), &[0x0a, 0x0b]);
    assert_eq!(o.pcrlock, 7);
    assert!(!o.migratable);
    assert_eq!(o.hash, HashAlgo::Sha1);
    assert_eq!(o.policydigest.len(), 20);
    assert_eq!(o.policyhandle, Some(0x0300_0000));
    assert_eq!(
        o.to_string(),
        "keyhandle=0x81000001 keyauth=0102030405060708090a0b0c0d0e0f1011121314 blobauth=secret \
         pcrinfo=0a0b pcrlock=7 migratable=0 hash=sha1 policydigest=00112233445566778899aabbccddeeff00112233 \
         policyhandle=0x3000000"
    );
}

#[test]
fn tpm_defaults() {
    let o = TpmOptions::parse("").unwrap();
    assert_eq!(o.keyhandle, None);
    assert_eq!(o.keyauth, [0; 20]);
    assert!(o.blobauth.is_empty());
    assert!(o.migratable);
    assert_eq!(o.hash, HashAlgo::Sha256);
    assert_eq!(o.to_string(), "");
    // Extra blanks between tokens are skipped.
    assert_eq!(
        TpmOptions::parse(" \tkeyhandle=1\t ").unwrap().keyhandle,
        Some(1)
    );
}

#[test]
fn tpm_each_option_at_most_once() {
    for opt in [
        "keyhandle=1",
        "keyauth=0000000000000000000000000000000000000000",
        "blobauth=x",
        "pcrinfo=00",
        "pcrlock=1",
        "migratable=1",
        "hash=sha256",
        "policyhandle=1",
    ] {
        assert!(!tpm_rejected(opt), "{opt}");
        assert!(tpm_rejected(&format!("{opt} {opt}")), "{opt} twice");
    }
}

#[test]
fn tpm_unknown_or_empty_tokens_are_rejected() {
    for bad in [
        "foo",
        "keyhandle",
        "keyhandle=",
        "KEYHANDLE=1",
        "hash",
        "=1",
    ] {
        assert!(tpm_rejected(bad), "{bad}");
    }
}

#[test]
fn tpm_handles_are_hex_with_optional_prefix_and_32_bit() {
    assert_eq!(
        TpmOptions::parse("keyhandle=81000001").unwrap().keyhandle,
        Some(0x8100_0001)
    );
    assert_eq!(
        TpmOptions::parse("keyhandle=0X81000001").unwrap().keyhandle,
        Some(0x8100_0001)
    );
    assert_eq!(
        TpmOptions::parse("keyhandle=+0x1").unwrap().keyhandle,
        Some(1)
    );
    for bad in [
        "keyhandle=0x",
        "keyhandle=0x1g",
        "keyhandle=100000000",
        "keyhandle=-1",
        "policyhandle=zz",
    ] {
        assert!(tpm_rejected(bad), "{bad}");
    }
}

#[test]
fn tpm_keyauth_is_exactly_40_hex_digits() {
    assert!(!tpm_rejected(&format!("keyauth={}", "ab".repeat(20))));
    assert!(tpm_rejected(&format!("keyauth={}", "ab".repeat(19))));
    assert!(tpm_rejected(&format!("keyauth={}", "ab".repeat(21))));
    assert!(tpm_rejected(&format!("keyauth={}g", "ab".repeat(19) + "a")));
}

#[test]
fn tpm_blobauth_is_40_hex_digits_or_a_password_of_up_to_20() {
    let o = TpmOptions::parse(&format!("blobauth={}", "01".repeat(20))).unwrap();
    assert_eq!(o.blobauth.as_slice(), &[1; 20]);
    assert!(o.blobauth_hex);
    let o = TpmOptions::parse(&format!("blobauth={}", "p".repeat(20))).unwrap();
    assert_eq!(o.blobauth.len(), 20);
    assert!(!o.blobauth_hex);
    assert!(tpm_rejected(&format!("blobauth={}", "p".repeat(21))));
    // 40 characters that are not hex: neither a hex value nor a short password.
    assert!(tpm_rejected(&format!("blobauth={}", "z".repeat(40))));
}

#[test]
fn tpm_pcrinfo_up_to_64_bytes_of_hex() {
    assert_eq!(
        TpmOptions::parse(&format!("pcrinfo={}", "ab".repeat(64)))
            .unwrap()
            .pcrinfo
            .len(),
        64
    );
    assert!(tpm_rejected(&format!("pcrinfo={}", "ab".repeat(65))));
    assert!(tpm_rejected("pcrinfo=zz"));
}

#[test]
fn tpm_migratable_looks_at_the_first_character_only() {
    assert!(!TpmOptions::parse("migratable=0").unwrap().migratable);
    assert!(!TpmOptions::parse("migratable=0abc").unwrap().migratable);
    assert!(TpmOptions::parse("migratable=1").unwrap().migratable);
    assert!(tpm_rejected("migratable=2"));
    assert!(tpm_rejected("migratable=yes"));
}

#[test]
fn tpm_pcrlock_is_decimal() {
    assert_eq!(TpmOptions::parse("pcrlock=23").unwrap().pcrlock, 23);
    assert!(tpm_rejected("pcrlock=0x17"));
    assert!(tpm_rejected("pcrlock=a"));
}

#[test]
fn tpm_hash_names_and_policydigest_lengths() {
    for (name, size) in [
        ("sha1", 20),
        ("sha256", 32),
        ("sha384", 48),
        ("sha512", 64),
        ("sm3", 32),
    ] {
        let text = format!("hash={name} policydigest={}", "00".repeat(size));
        let o = TpmOptions::parse(&text).unwrap();
        assert_eq!((o.hash.name(), o.policydigest.len()), (name, size));
        assert!(o.hash.tpm_alg_id().is_some());
        assert!(tpm_rejected(&format!(
            "hash={name} policydigest={}",
            "00".repeat(size + 1)
        )));
    }
    // Known to the kernel, parsed, but no TPM algorithm: refused at seal.
    assert_eq!(
        TpmOptions::parse("hash=md5").unwrap().hash.tpm_alg_id(),
        None
    );
    assert!(tpm_rejected("hash=sha257"));
    assert!(tpm_rejected("hash=sm3-256"));
    // Default hash is SHA-256: 64 hex digits.
    assert!(!tpm_rejected(&format!("policydigest={}", "00".repeat(32))));
    assert!(tpm_rejected(&format!("policydigest={}", "00".repeat(20))));
    assert!(tpm_rejected(&format!("policydigest={}", "zz".repeat(32))));
}

#[test]
fn tpm_hash_must_precede_policydigest() {
    let digest = "00".repeat(32);
    assert!(!tpm_rejected(&format!("hash=sha256 policydigest={digest}")));
    assert!(tpm_rejected(&format!("policydigest={digest} hash=sha256")));
}

#[test]
fn tpm_options_debug_hides_auth_values() {
    let o = TpmOptions::parse(&format!("keyauth={} blobauth=hunter2", "ab".repeat(20))).unwrap();
    let debug = format!("{o:?}");
    assert!(
        !debug.contains("abab") && !debug.contains("hunter2"),
        "{debug}"
    );
}

/// What `keyctl` prints is what it parses back: for every accepted payload
/// in the table, printing the command and the canonical TPM options and
/// parsing that text again gives an equal payload and equal options.
#[test]
fn printed_payloads_parse_back_to_the_same_payload() {
    let digest = "5a".repeat(32);
    let cases = [
        "new 32".to_string(),
        "new +32\n".into(),
        "new 128 keyhandle=81000001".into(),
        "new 32 keyhandle=0x0 keyauth=".to_string() + &"Ab".repeat(20),
        "new 32 pcrinfo=p".into(),
        "new 32 pcrinfo=0".into(),
        "new 32 pcrinfo=abc".into(),
        "new 32 pcrinfo=".to_string() + &"0F".repeat(64),
        "new 32 blobauth=hunter2 pcrlock=+7 migratable=1x".into(),
        "new 32 blobauth=".to_string() + &"cd".repeat(20),
        "new 32 migratable=0 hash=sha1 policyhandle=0X3000000".into(),
        format!("new 40 hash=sha384 policydigest={}", "ee".repeat(48)),
        format!("new 32\tpolicydigest={digest}\t\tpolicyhandle=+0x1"),
        "load abc keyhandle=1".into(),
        "load x".into(),
        "load 00FF pcrlock=4294967295".into(),
        "update".into(),
        "update migratable=0".into(),
    ];
    for text in &cases {
        let first = Payload::parse(text).unwrap();
        let options = TpmOptions::parse(first.options).unwrap();
        let command = match &first.command {
            Command::New { key_len } => format!("new {key_len}"),
            Command::Load { blob } => format!("load {blob}"),
            Command::Update => "update".into(),
        };
        let printed = format!("{command} {options}");
        let again =
            Payload::parse(&printed).unwrap_or_else(|e| panic!("{text:?} -> {printed:?}: {e}"));
        assert_eq!(again.command, first.command, "{text:?} -> {printed:?}");
        let options_again = TpmOptions::parse(again.options)
            .unwrap_or_else(|e| panic!("{text:?} -> {printed:?}: {e}"));
        assert_eq!(options_again, options, "{text:?} -> {printed:?}");
        // And the canonical text is a fixed point.
        assert_eq!(format!("{options_again}"), format!("{options}"));
    }
    // The reported case: an empty pcrinfo prints as something that parses.
    let o = TpmOptions::parse("pcrinfo=p").unwrap();
    assert_eq!(o.to_string(), "pcrinfo=0");
    assert!(o.pcrinfo.is_empty());
}
