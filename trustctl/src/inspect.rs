//! `trustctl inspect`: names the trusted-key blob format of a byte string
//! and prints its fields. Only layouts are read: nothing is decrypted, and
//! no key, HUK or device is needed.
//!
//! The formats, tried in this order (the libraries' own parsers where they
//! have one):
//!
//! | kind | format | recognised by |
//! |---|---|---|
//! | `tpmkey-der` | Linux ≥ 5.13 TPM 2.0 `TPMKey` (tpm2key.asn1) | `hal_tpm_spi::blob::decode_der` |
//! | `tpm-raw` | Linux < 5.13 TPM 2.0: `TPM2B_PRIVATE ‖ TPM2B_PUBLIC ‖ creation data` | `TpmKeyBlob::parts` and `blob::decode_public` (a keyedhash public area that fills its TPM2B exactly) |
//! | `dcp` | Linux `trusted_dcp` v1 | `hal_dcp::source::parse_blob` (version 1, `payload_len` matching the length) |
//! | `caam` | Linux `trusted_caam`: blob key ‖ data ‖ MAC | length only: 48 + 32..=128 |
//! | `tee` | OP-TEE trusted_keys TA (`trusted.source=tee`) | length 33 + 32..=128 and reserved byte 0 |
//!
//! The first three have structure, so a match is the answer. CAAM and TEE
//! blobs have no header at all: when a length fits both, both readings are
//! printed; and when such a blob also starts like one of the structured
//! kinds (a TPMKey OID, a DCP version byte with a plausible length), the
//! reading carries a warning that it may be a damaged blob of that kind.

use std::path::PathBuf;

use hal_caam::regs::blob::{BLOB_KEY_LEN as CAAM_BLOB_KEY_LEN, MAC_LEN as CAAM_MAC_LEN};
use hal_dcp::source::{DCP_BLOB_OVERHEAD, DCP_BLOB_VERSION};
use hal_tpm_spi::blob::{self as tpm_blob, KeyedHashScheme, PublicArea, TPM_SEALED_DATA_OID};
use hal_tpm_spi::spec::{alg, attr};
use serde_json::{Map, Value as Json, json};
use trusted_core::tee::TEE_BLOB_OVERHEAD;
use trusted_core::{MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE};

use crate::host::hex;

/// Flags of `trustctl inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The blob as hex (`keyctl pipe` output); whitespace is ignored.
    #[arg(value_name = "HEX", conflicts_with = "file")]
    pub hex: Option<String>,
    /// Read the blob from file F: hex text (whitespace ignored) or the raw bytes.
    #[arg(long, value_name = "F")]
    pub file: Option<PathBuf>,
    /// Print one JSON object (`length`, `matches`) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `trustctl inspect`: prints the readings, or returns the one-line
/// reason the bytes are none of the kinds.
pub fn run(args: &InspectArgs) -> Result<(), String> {
    let blob = match (&args.hex, &args.file) {
        (Some(hex), _) => parse_hex(hex, "HEX")?,
        (None, Some(path)) => read_file(path)?,
        (None, None) => return Err("give the blob as HEX or --file F".into()),
    };
    let readings = inspect(&blob)?;
    if args.json {
        println!("{}", to_json(blob.len(), &readings));
    } else {
        print!("{}", to_text(blob.len(), &readings));
    }
    Ok(())
}

/// Hex digits with any ASCII whitespace between them.
fn parse_hex(text: &str, what: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if let Some(pos) = digits.iter().position(|b| !b.is_ascii_hexdigit()) {
        let c = digits.get(pos).map_or('?', |&b| char::from(b));
        return Err(format!("{what} is not hex: {c:?} at digit {pos}"));
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "{what} has an odd number of hex digits ({})",
            digits.len()
        ));
    }
    let mut out = vec![0u8; digits.len() / 2];
    trusted_core::key::hex_decode(&digits, &mut out).map_err(|e| format!("{what}: {e}"))?;
    Ok(out)
}

/// A file of text (all ASCII graphic or whitespace) must be hex; anything
/// else is taken as the blob's bytes. No blob of ours is printable ASCII
/// throughout: DER starts 30 8x, DCP starts 01, the rest is ciphertext.
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("--file {}: {e}", path.display()))?;
    let text = bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
    match std::str::from_utf8(&bytes) {
        Ok(s) if text && !bytes.is_empty() => parse_hex(s, &format!("--file {}", path.display())),
        _ => Ok(bytes),
    }
}

/// One field value, printed as text or JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// Free text.
    Str(String),
    /// A count or a small number.
    Int(u64),
    /// A flag.
    Bool(bool),
    /// Bytes, shown as hex with their length.
    Bytes(Vec<u8>),
    /// A TPM handle, shown as 0x%08x.
    Handle(u32),
    /// A TPM algorithm id and its name, if it has one here.
    Alg(u16),
    /// TPMA_OBJECT with its bits named.
    Attributes(u32),
    /// Nested fields.
    Obj(Vec<(&'static str, Val)>),
}

/// One way of reading the bytes: a kind and its fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Short id for scripts: `tpmkey-der`, `tpm-raw`, `dcp`, `caam`, `tee`.
    pub kind: &'static str,
    /// What the kind is, for people.
    pub title: &'static str,
    /// The fields, in the format's order.
    pub fields: Vec<(&'static str, Val)>,
}

/// The readings of `blob`, or why it is none of the kinds (one line).
pub fn inspect(blob: &[u8]) -> Result<Vec<Reading>, String> {
    if blob.is_empty() {
        return Err("not a trusted-key blob: no bytes".into());
    }
    if blob.len() > MAX_BLOB_SIZE {
        return Err(format!(
            "not a trusted-key blob: {} bytes, more than any format holds (Linux MAX_BLOB_SIZE {MAX_BLOB_SIZE})",
            blob.len()
        ));
    }
    let mut reasons = Vec::new();
    for structured in [tpmkey_der, tpm_raw, dcp] {
        match structured(blob) {
            Ok(reading) => return Ok(vec![reading]),
            Err(why) => reasons.push(why),
        }
    }
    let warning = looks_like(blob);
    let mut readings = Vec::new();
    for headerless in [caam, tee] {
        match headerless(blob) {
            Ok(mut reading) => {
                if let Some(w) = &warning {
                    reading.fields.push(("warning", Val::Str(w.clone())));
                }
                readings.push(reading);
            }
            Err(why) => reasons.push(why),
        }
    }
    if readings.is_empty() {
        return Err(format!(
            "not a trusted-key blob ({} bytes): {}",
            blob.len(),
            reasons.join("; ")
        ));
    }
    Ok(readings)
}

const OID_DER: [u8; 8] = [0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05];

/// A structured kind's mark on bytes that did not parse as that kind.
fn looks_like(blob: &[u8]) -> Option<String> {
    // SEQUENCE header of 2..=4 bytes, then the TPMSealedData OID.
    let oid_at = (2..=4).find(|&i| blob.get(i..i + OID_DER.len()) == Some(&OID_DER[..]));
    if blob.first() == Some(&0x30) && oid_at.is_some() {
        return Some(
            "starts like a TPMKey (SEQUENCE, OID 2.23.133.10.1.5) that does not decode: truncated or damaged?".into(),
        );
    }
    let payload_len = blob
        .get(33..37)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    if blob.first() == Some(&DCP_BLOB_VERSION)
        && payload_len.is_some_and(|n| (MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&(n as usize)))
    {
        return Some(
            "starts like a DCP v1 blob whose payload_len does not match its length: truncated or damaged?".into(),
        );
    }
    None
}

fn tpmkey_der(blob: &[u8]) -> Result<Reading, String> {
    let why = |s: &str| format!("TPMKey DER: {s}");
    let decoded = tpm_blob::decode_der(blob).ok_or_else(|| {
        why(if blob.first() == Some(&0x30) {
            "a SEQUENCE, but not OID 2.23.133.10.1.5, [0] emptyAuth, parent, pubkey, privkey in DER"
        } else {
            "does not start with a DER SEQUENCE (0x30)"
        })
    })?;
    let mut fields = vec![
        ("oid", Val::Str(TPM_SEALED_DATA_OID.to_string())),
        ("empty_auth", Val::Bool(decoded.empty_auth)),
    ];
    if let Some(parent) = decoded.parent {
        fields.push(("parent", Val::Handle(parent)));
    }
    fields.push(("tpm2b_public_len", Val::Int(decoded.public.len() as u64)));
    fields.push(("tpm2b_private_len", Val::Int(decoded.private.len() as u64)));
    // The DER is the kind; a public area that does not decode is reported
    // as a field (TPM2_Load would refuse the blob).
    match decoded.parts() {
        None => fields.push((
            "error",
            Val::Str(
                "pubkey or privkey is not exactly one TPM2B (its size field disagrees with the OCTET STRING)".into(),
            ),
        )),
        Some(parts) => match tpm_blob::decode_public(parts.public) {
            Ok(public) => fields.extend(public_fields(&public)),
            Err(e) => fields.push(("error", Val::Str(format!("pubkey: {e}")))),
        },
    }
    Ok(Reading {
        kind: "tpmkey-der",
        title: "TPM 2.0 TPMKey sealed data, Linux >= 5.13 tpm2key.asn1",
        fields,
    })
}

fn tpm_raw(blob: &[u8]) -> Result<Reading, String> {
    let why = |s: String| format!("pre-5.13 TPM: {s}");
    let decoded = tpm_blob::decode(blob);
    let parts = decoded.parts().ok_or_else(|| {
        why(format!(
            "no TPM2B_PRIVATE then TPM2B_PUBLIC whose size fields fit the {} bytes",
            blob.len()
        ))
    })?;
    let public = tpm_blob::decode_public(parts.public).map_err(|e| why(e.to_string()))?;
    let mut fields = vec![
        (
            "parent",
            Val::Str("not recorded (load with keyhandle=)".into()),
        ),
        ("tpm2b_private_len", Val::Int(parts.private.len() as u64)),
        ("tpm2b_public_len", Val::Int(parts.public.len() as u64)),
    ];
    fields.extend(public_fields(&public));
    fields.push(("creation_data_len", Val::Int(parts.trailing.len() as u64)));
    Ok(Reading {
        kind: "tpm-raw",
        title: "TPM 2.0 TPM2B_PRIVATE || TPM2B_PUBLIC, Linux < 5.13",
        fields,
    })
}

fn public_fields(p: &PublicArea<'_>) -> Vec<(&'static str, Val)> {
    let scheme = match p.scheme {
        KeyedHashScheme::Null => Val::Str("null (sealed data)".into()),
        KeyedHashScheme::Hmac { hash_alg } => Val::Obj(vec![
            ("scheme", Val::Alg(ALG_HMAC)),
            ("hash_alg", Val::Alg(hash_alg)),
        ]),
        KeyedHashScheme::Xor { hash_alg, kdf } => Val::Obj(vec![
            ("scheme", Val::Alg(ALG_XOR)),
            ("hash_alg", Val::Alg(hash_alg)),
            ("kdf", Val::Alg(kdf)),
        ]),
    };
    let fixed = attr::FIXED_TPM | attr::FIXED_PARENT;
    vec![(
        "public",
        Val::Obj(vec![
            ("type", Val::Alg(alg::KEYEDHASH)),
            ("name_alg", Val::Alg(p.name_alg)),
            ("object_attributes", Val::Attributes(p.object_attributes)),
            // As Linux tpm2_load_cmd recovers `migratable` from the attributes.
            (
                "migratable",
                Val::Bool(p.object_attributes & fixed != fixed),
            ),
            ("auth_policy", Val::Bytes(p.auth_policy.to_vec())),
            ("scheme", scheme),
            ("unique", Val::Bytes(p.unique.to_vec())),
        ]),
    )]
}

fn dcp(blob: &[u8]) -> Result<Reading, String> {
    if blob.len() < DCP_BLOB_OVERHEAD {
        return Err(format!(
            "DCP v1: {} bytes, fewer than the {DCP_BLOB_OVERHEAD} of header and tag",
            blob.len()
        ));
    }
    let f = hal_dcp::source::parse_blob(blob).map_err(|e| format!("DCP v1: {e}"))?;
    Ok(Reading {
        kind: "dcp",
        title: "NXP DCP, Linux trusted_dcp format v1",
        fields: vec![
            ("version", Val::Int(f.version.into())),
            ("wrapped_blob_key", Val::Bytes(f.wrapped_blob_key.to_vec())),
            (
                "sealing_key",
                Val::Str("UNIQUE or OTP (not recorded in the blob)".into()),
            ),
            ("nonce", Val::Bytes(f.nonce.to_vec())),
            ("payload_len", Val::Int(f.payload.len() as u64)),
            ("tag", Val::Bytes(f.tag.to_vec())),
            ("key_len", Val::Int(f.payload.len() as u64)),
        ],
    })
}

/// Key lengths Linux trusted keys have (and our `Key` holds).
fn key_len_after(blob: &[u8], overhead: usize) -> Option<usize> {
    blob.len()
        .checked_sub(overhead)
        .filter(|n| (MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(n))
}

fn caam(blob: &[u8]) -> Result<Reading, String> {
    let overhead = CAAM_BLOB_KEY_LEN + CAAM_MAC_LEN;
    let n = key_len_after(blob, overhead).ok_or_else(|| {
        format!(
            "CAAM: length {} is not {overhead} + {MIN_KEY_SIZE}..={MAX_KEY_SIZE}",
            blob.len()
        )
    })?;
    let mac = blob.get(blob.len() - CAAM_MAC_LEN..).unwrap_or_default();
    Ok(Reading {
        kind: "caam",
        title: "NXP CAAM, Linux trusted_caam; no header, read by its length",
        fields: vec![
            ("blob_key_len", Val::Int(CAAM_BLOB_KEY_LEN as u64)),
            ("data_len", Val::Int(n as u64)),
            ("mac_len", Val::Int(CAAM_MAC_LEN as u64)),
            ("mac", Val::Bytes(mac.to_vec())),
            ("key_len", Val::Int(n as u64)),
            (
                "key_modifier",
                Val::Str("not recorded (Linux uses SECURE_KEY)".into()),
            ),
        ],
    })
}

/// OP-TEE `struct tk_blob_hdr`: reserved (1), IV (16), tag (16); see
/// trusted_core::tee.
const TEE_IV: core::ops::Range<usize> = 1..17;
const TEE_TAG: core::ops::Range<usize> = 17..33;
const _: () = assert!(TEE_TAG.end == TEE_BLOB_OVERHEAD);

fn tee(blob: &[u8]) -> Result<Reading, String> {
    let n = key_len_after(blob, TEE_BLOB_OVERHEAD).ok_or_else(|| {
        format!(
            "OP-TEE TA: length {} is not {TEE_BLOB_OVERHEAD} + {MIN_KEY_SIZE}..={MAX_KEY_SIZE}",
            blob.len()
        )
    })?;
    // OP-TEE's huk_ae_encrypt (and our TeeSealer) write 0; unseal ignores it.
    let reserved = blob.first().copied().unwrap_or_default();
    if reserved != 0 {
        return Err(format!(
            "OP-TEE TA: reserved byte is {reserved:#04x}, sealers write 0"
        ));
    }
    let part = |r: core::ops::Range<usize>| Val::Bytes(blob.get(r).unwrap_or_default().to_vec());
    Ok(Reading {
        kind: "tee",
        title: "OP-TEE trusted_keys TA, Linux trusted.source=tee; no header, read by its length",
        fields: vec![
            ("reserved", Val::Int(reserved.into())),
            ("iv", part(TEE_IV)),
            ("tag", part(TEE_TAG)),
            ("ciphertext_len", Val::Int(n as u64)),
            ("key_len", Val::Int(n as u64)),
        ],
    })
}

/// `TPM_ALG_HMAC`, `TPM_ALG_XOR` (TPM 2.0 Part 2 §6.3).
const ALG_HMAC: u16 = 0x0005;
const ALG_XOR: u16 = 0x000A;

/// TPM_ALG_ID names (TPM 2.0 Part 2 §6.3, the TCG algorithm registry).
fn alg_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x0001 => "rsa",
        alg::SHA1 => "sha1",
        ALG_HMAC => "hmac",
        alg::AES => "aes",
        0x0007 => "mgf1",
        alg::KEYEDHASH => "keyedhash",
        ALG_XOR => "xor",
        alg::SHA256 => "sha256",
        alg::SHA384 => "sha384",
        alg::SHA512 => "sha512",
        alg::NULL => "null",
        alg::SM3_256 => "sm3_256",
        0x0020 => "kdf1_sp800_56a",
        0x0021 => "kdf2",
        0x0022 => "kdf1_sp800_108",
        alg::ECC => "ecc",
        0x0025 => "symcipher",
        0x0027 => "sha3_256",
        0x0028 => "sha3_384",
        0x0029 => "sha3_512",
        alg::CFB => "cfb",
        _ => return None,
    })
}

/// TPMA_OBJECT bits (TPM 2.0 Part 2 §8.3), named as the spec spells them.
const ATTRIBUTE_NAMES: [(u32, &str); 12] = [
    (attr::FIXED_TPM, "fixedTPM"),
    (0x0000_0004, "stClear"),
    (attr::FIXED_PARENT, "fixedParent"),
    (attr::SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
    (attr::USER_WITH_AUTH, "userWithAuth"),
    (0x0000_0080, "adminWithPolicy"),
    (attr::NO_DA, "noDA"),
    (0x0000_0800, "encryptedDuplication"),
    (attr::RESTRICTED, "restricted"),
    (attr::DECRYPT, "decrypt"),
    (0x0004_0000, "sign"),
    (0x0008_0000, "x509sign"),
];

/// The names of the set bits; a bit without a name here is `bitN`.
fn attribute_names(value: u32) -> Vec<String> {
    (0..32)
        .map(|bit| 1u32 << bit)
        .filter(|mask| value & mask != 0)
        .map(|mask| {
            ATTRIBUTE_NAMES
                .iter()
                .find(|(m, _)| *m == mask)
                .map_or_else(
                    || format!("bit{}", mask.trailing_zeros()),
                    |(_, n)| n.to_string(),
                )
        })
        .collect()
}

fn text_value(v: &Val, indent: usize, out: &mut String) {
    match v {
        Val::Str(s) => out.push_str(s),
        Val::Int(n) => out.push_str(&n.to_string()),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Bytes(b) if b.is_empty() => out.push_str("none"),
        Val::Bytes(b) => out.push_str(&format!("{} ({} bytes)", hex(b), b.len())),
        Val::Handle(h) => out.push_str(&format!("{h:#010x}")),
        Val::Alg(id) => match alg_name(*id) {
            Some(name) => out.push_str(&format!("{name} ({id:#06x})")),
            None => out.push_str(&format!("{id:#06x} (unknown)")),
        },
        Val::Attributes(a) => {
            let names = attribute_names(*a);
            let names = if names.is_empty() {
                "none".to_string()
            } else {
                names.join("|")
            };
            out.push_str(&format!("{a:#010x} {names}"));
        }
        Val::Obj(fields) => {
            for (key, value) in fields {
                out.push('\n');
                text_field(key, value, indent + 1, out);
            }
        }
    }
}

fn text_field(key: &str, v: &Val, indent: usize, out: &mut String) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(key);
    out.push(':');
    if !matches!(v, Val::Obj(_)) {
        out.push(' ');
    }
    text_value(v, indent, out);
}

/// The text form: `length`, then per reading `kind` and its fields, one
/// `name: value` per line, nested fields indented.
pub fn to_text(len: usize, readings: &[Reading]) -> String {
    let mut out = format!("length: {len} bytes\n");
    if readings.len() > 1 {
        let kinds: Vec<&str> = readings.iter().map(|r| r.kind).collect();
        out.push_str(&format!(
            "ambiguous: {} (no header; the length fits each)\n",
            kinds.join(" or ")
        ));
    }
    for (i, r) in readings.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("kind: {} ({})\n", r.kind, r.title));
        for (key, value) in &r.fields {
            text_field(key, value, 0, &mut out);
            out.push('\n');
        }
    }
    out
}

fn json_value(v: &Val) -> Json {
    match v {
        Val::Str(s) => json!(s),
        Val::Int(n) => json!(n),
        Val::Bool(b) => json!(b),
        Val::Bytes(b) => json!(hex(b)),
        Val::Handle(h) => json!(format!("{h:#010x}")),
        Val::Alg(id) => json!({ "id": id, "name": alg_name(*id) }),
        Val::Attributes(a) => json!({ "value": a, "names": attribute_names(*a) }),
        Val::Obj(fields) => json_fields(fields),
    }
}

fn json_fields(fields: &[(&'static str, Val)]) -> Json {
    Json::Object(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_string(), json_value(v)))
            .collect::<Map<String, Json>>(),
    )
}

/// The JSON form: `{"length": N, "matches": [{"kind", "title", fields…}]}`;
/// bytes are lowercase hex strings, algorithms `{"id", "name"}`,
/// attributes `{"value", "names"}`.
pub fn to_json(len: usize, readings: &[Reading]) -> Json {
    let matches: Vec<Json> = readings
        .iter()
        .map(|r| {
            let mut obj = Map::new();
            obj.insert("kind".into(), json!(r.kind));
            obj.insert("title".into(), json!(r.title));
            if let Json::Object(fields) = json_fields(&r.fields) {
                obj.extend(fields);
            }
            Json::Object(obj)
        })
        .collect();
    json!({ "length": len, "matches": matches })
}
