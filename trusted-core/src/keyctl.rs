//! The keyctl payload grammar of Linux's `trusted` key type, parsed and
//! printed exactly as the kernel does.
//!
//! Two layers, as in Linux:
//! - [`Payload`]: `new N [options]`, `load HEX [options]`, `update [options]`
//!   (security/keys/trusted-keys/trusted_core.c `datablob_parse`). The
//!   options text is handed to the source unparsed.
//! - [`TpmOptions`]: the TPM source's option tokens
//!   (trusted_tpm1.c `getoptions`); other sources ignore the options.
//!
//! Integers follow the kernel's `kstrto*` rules: an optional `+`, digits, one
//! optional trailing newline; base 16 also takes a `0x` prefix. `unsigned
//! long` is taken as 32 bits, as on the ARM kernels this crate targets.
//!
//! ```
//! use trusted_core::keyctl::{Command, Payload, TpmOptions};
//! let p = Payload::parse("new 32 keyhandle=0x81000001 hash=sha256").unwrap();
//! assert_eq!(p.command, Command::New { key_len: 32 });
//! let tpm = TpmOptions::parse(p.options).unwrap();
//! assert_eq!(tpm.keyhandle, Some(0x8100_0001));
//! assert!(Payload::parse("new 31").is_err());
//! assert!(TpmOptions::parse("keyhandle=1 keyhandle=2").is_err());
//! ```

use core::fmt;

use heapless::Vec;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::key::{MAX_KEY_SIZE, MIN_KEY_SIZE, SealedBlob, hex_decode, write_hex};

/// Longest payload text Linux accepts (`trusted_instantiate`).
pub const MAX_PAYLOAD_LEN: usize = 32767;
/// Linux `MAX_PCRINFO_SIZE`.
pub const MAX_PCRINFO_SIZE: usize = 64;
/// Linux `MAX_DIGEST_SIZE`.
pub const MAX_DIGEST_SIZE: usize = 64;
/// `TPM_DIGEST_SIZE` (SHA-1): size of keyauth and of the blobauth buffer.
pub const AUTH_SIZE: usize = 20;

/// The first word of a payload.
#[derive(Clone, Debug, PartialEq, Eq)]
// The blob is inline (no heap); a payload is parsed once, so size is fine.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// `new N`: create a random key of N bytes and seal it.
    New {
        /// Key length, 32..=128.
        key_len: usize,
    },
    /// `load HEX`: unseal a blob.
    Load {
        /// The decoded blob (may be empty: Linux leaves that to the source).
        blob: SealedBlob,
    },
    /// `update`: reseal an existing migratable key (keyctl update only).
    Update,
}

/// A parsed keyctl payload; `options` is the unparsed rest, as Linux hands
/// it to the trust source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    /// What to do.
    pub command: Command,
    /// Text after the command's argument (may be empty).
    pub options: &'a str,
}

fn reject<T>(why: &'static str) -> Result<T> {
    Err(Error::Payload(why))
}

/// Kernel `strsep(&s, " \t")`: the token up to the next space or tab, and
/// the rest after it (`None` when no separator was left).
fn strsep(s: &str) -> (&str, Option<&str>) {
    match s.find([' ', '\t']) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    }
}

impl<'a> Payload<'a> {
    /// Parses `text` as `trusted_instantiate`/`trusted_update` do. The
    /// kernel sees the payload as a C string, so text after a NUL is ignored.
    pub fn parse(text: &'a str) -> Result<Self> {
        if text.is_empty() || text.len() > MAX_PAYLOAD_LEN {
            return reject("payload must be 1..=32767 bytes");
        }
        let text = text.split('\0').next().unwrap_or("");
        let (cmd, rest) = strsep(text);
        let (command, rest) = match cmd {
            "new" => {
                let Some(rest) = rest else {
                    return reject("new needs a key length");
                };
                let (len, rest) = strsep(rest);
                let key_len = kstrtol(len.as_bytes(), 10)
                    .map_err(|_| Error::Payload("key length is not a decimal number"))?;
                if key_len < MIN_KEY_SIZE as i64 || key_len > MAX_KEY_SIZE as i64 {
                    return reject("key length must be 32..=128");
                }
                (
                    Command::New {
                        key_len: key_len as usize,
                    },
                    rest,
                )
            }
            "load" => {
                let Some(rest) = rest else {
                    return reject("load needs a hex blob");
                };
                let (hex, rest) = strsep(rest);
                let blob = SealedBlob::from_hex(hex).map_err(|e| match e {
                    Error::BlobLength => Error::Payload("blob longer than 512 bytes"),
                    _ => Error::Payload("blob is not hex"),
                })?;
                (Command::Load { blob }, rest)
            }
            "update" => (Command::Update, rest),
            _ => return reject("command must be new, load or update"),
        };
        Ok(Self {
            command,
            options: rest.unwrap_or(""),
        })
    }
}

impl fmt::Display for Payload<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.command {
            Command::New { key_len } => write!(f, "new {key_len}")?,
            Command::Load { blob } => write!(f, "load {blob}")?,
            Command::Update => f.write_str("update")?,
        }
        if !self.options.is_empty() {
            write!(f, " {}", self.options)?;
        }
        Ok(())
    }
}

/// Hash names the kernel knows (`hash_algo_name[]`, crypto/hash_info.c),
/// in its order; `hash=` must name one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HashAlgo {
    /// `hash=md4`.
    Md4,
    /// `hash=md5`.
    Md5,
    /// `hash=sha1`.
    Sha1,
    /// `hash=rmd160`.
    Rmd160,
    /// `hash=sha256`.
    Sha256,
    /// `hash=sha384`.
    Sha384,
    /// `hash=sha512`.
    Sha512,
    /// `hash=sha224`.
    Sha224,
    /// `hash=rmd128`.
    Rmd128,
    /// `hash=rmd256`.
    Rmd256,
    /// `hash=rmd320`.
    Rmd320,
    /// `hash=wp256`.
    Wp256,
    /// `hash=wp384`.
    Wp384,
    /// `hash=wp512`.
    Wp512,
    /// `hash=tgr128`.
    Tgr128,
    /// `hash=tgr160`.
    Tgr160,
    /// `hash=tgr192`.
    Tgr192,
    /// `hash=sm3`.
    Sm3,
    /// `hash=streebog256`.
    Streebog256,
    /// `hash=streebog512`.
    Streebog512,
    /// `hash=sha3-256`.
    Sha3_256,
    /// `hash=sha3-384`.
    Sha3_384,
    /// `hash=sha3-512`.
    Sha3_512,
}

const HASHES: [(HashAlgo, &str, usize); 23] = [
    (HashAlgo::Md4, "md4", 16),
    (HashAlgo::Md5, "md5", 16),
    (HashAlgo::Sha1, "sha1", 20),
    (HashAlgo::Rmd160, "rmd160", 20),
    (HashAlgo::Sha256, "sha256", 32),
    (HashAlgo::Sha384, "sha384", 48),
    (HashAlgo::Sha512, "sha512", 64),
    (HashAlgo::Sha224, "sha224", 28),
    (HashAlgo::Rmd128, "rmd128", 16),
    (HashAlgo::Rmd256, "rmd256", 32),
    (HashAlgo::Rmd320, "rmd320", 40),
    (HashAlgo::Wp256, "wp256", 32),
    (HashAlgo::Wp384, "wp384", 48),
    (HashAlgo::Wp512, "wp512", 64),
    (HashAlgo::Tgr128, "tgr128", 16),
    (HashAlgo::Tgr160, "tgr160", 20),
    (HashAlgo::Tgr192, "tgr192", 24),
    (HashAlgo::Sm3, "sm3", 32),
    (HashAlgo::Streebog256, "streebog256", 32),
    (HashAlgo::Streebog512, "streebog512", 64),
    (HashAlgo::Sha3_256, "sha3-256", 32),
    (HashAlgo::Sha3_384, "sha3-384", 48),
    (HashAlgo::Sha3_512, "sha3-512", 64),
];

impl HashAlgo {
    /// The kernel's name for it.
    pub fn name(self) -> &'static str {
        HASHES.iter().find(|h| h.0 == self).map_or("", |h| h.1)
    }

    /// Digest size in bytes (kernel `hash_digest_size[]`).
    pub fn digest_size(self) -> usize {
        HASHES.iter().find(|h| h.0 == self).map_or(0, |h| h.2)
    }

    /// The TPM 2.0 algorithm id, for the hashes a TPM can use as nameAlg
    /// (Linux `tpm2_hash_map`); others fail at seal time, as in Linux.
    pub fn tpm_alg_id(self) -> Option<u16> {
        match self {
            HashAlgo::Sha1 => Some(tpm_alg::SHA1),
            HashAlgo::Sha256 => Some(tpm_alg::SHA256),
            HashAlgo::Sha384 => Some(tpm_alg::SHA384),
            HashAlgo::Sha512 => Some(tpm_alg::SHA512),
            HashAlgo::Sm3 => Some(tpm_alg::SM3_256),
            _ => None,
        }
    }

    fn from_name(name: &[u8]) -> Option<Self> {
        HASHES.iter().find(|h| h.1.as_bytes() == name).map(|h| h.0)
    }
}

/// The TPM 2.0 source's options, as Linux's `getoptions` accepts them.
///
/// Auth values are secrets: they are zeroed on drop and `Debug` hides them;
/// `Display` prints them (it must round-trip what the user typed).
#[derive(Clone, PartialEq, Eq)]
pub struct TpmOptions {
    /// `keyhandle=` parent handle (TPM2 has no default; required to seal).
    pub keyhandle: Option<u32>,
    /// `keyauth=` parent auth, 20 bytes (default all zero).
    pub keyauth: [u8; AUTH_SIZE],
    /// `blobauth=` sealed object's auth value (0..=20 bytes).
    pub blobauth: Vec<u8, AUTH_SIZE>,
    /// True when `blobauth=` was 40 hex digits, false for a password.
    pub blobauth_hex: bool,
    /// `pcrinfo=` (TPM 1.2 PCR_INFO; parsed, unused by TPM 2.0).
    pub pcrinfo: Vec<u8, MAX_PCRINFO_SIZE>,
    /// `pcrlock=` PCR to extend after seal/unseal (0 means none, as Linux).
    pub pcrlock: u32,
    /// `migratable=0` clears it; default true.
    pub migratable: bool,
    /// `hash=` nameAlg of the sealed object, default SHA-256.
    pub hash: HashAlgo,
    /// `policydigest=` authPolicy, exactly the digest size of `hash`.
    pub policydigest: Vec<u8, MAX_DIGEST_SIZE>,
    /// `policyhandle=` policy session to unseal with.
    pub policyhandle: Option<u32>,
    keyauth_set: bool,
    seen: u16,
}

impl Default for TpmOptions {
    fn default() -> Self {
        Self {
            keyhandle: None,
            keyauth: [0; AUTH_SIZE],
            blobauth: Vec::new(),
            blobauth_hex: false,
            pcrinfo: Vec::new(),
            pcrlock: 0,
            migratable: true,
            hash: HashAlgo::Sha256,
            policydigest: Vec::new(),
            policyhandle: None,
            keyauth_set: false,
            seen: 0,
        }
    }
}

impl Drop for TpmOptions {
    fn drop(&mut self) {
        self.keyauth.zeroize();
        self.blobauth.as_mut_slice().zeroize();
    }
}

impl fmt::Debug for TpmOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TpmOptions")
            .field("keyhandle", &self.keyhandle)
            .field("keyauth", &"<redacted>")
            .field("blobauth_len", &self.blobauth.len())
            .field("pcrinfo_len", &self.pcrinfo.len())
            .field("pcrlock", &self.pcrlock)
            .field("migratable", &self.migratable)
            .field("hash", &self.hash)
            .field("policydigest_len", &self.policydigest.len())
            .field("policyhandle", &self.policyhandle)
            .finish()
    }
}

#[derive(Clone, Copy)]
enum Opt {
    KeyHandle = 1,
    KeyAuth,
    BlobAuth,
    PcrInfo,
    PcrLock,
    Migratable,
    Hash,
    PolicyDigest,
    PolicyHandle,
}

const OPTS: [(Opt, &str); 9] = [
    (Opt::KeyHandle, "keyhandle="),
    (Opt::KeyAuth, "keyauth="),
    (Opt::BlobAuth, "blobauth="),
    (Opt::PcrInfo, "pcrinfo="),
    (Opt::PcrLock, "pcrlock="),
    (Opt::Migratable, "migratable="),
    (Opt::Hash, "hash="),
    (Opt::PolicyDigest, "policydigest="),
    (Opt::PolicyHandle, "policyhandle="),
];

impl TpmOptions {
    /// Parses TPM 2.0 option tokens separated by spaces or tabs.
    ///
    /// Tokens and values are taken as bytes: every character the grammar
    /// knows is ASCII, so this splits and matches as `str` methods would,
    /// without their UTF-8 decoding.
    pub fn parse(text: &str) -> Result<Self> {
        let mut o = Self::default();
        let separator = |b: &u8| *b == b' ' || *b == b'\t';
        for token in text.as_bytes().split(separator).filter(|t| !t.is_empty()) {
            // match_token's "%s" needs at least one character after '='.
            let Some((opt, value)) = OPTS
                .iter()
                .find_map(|(opt, prefix)| Some((*opt, token.strip_prefix(prefix.as_bytes())?)))
                .filter(|(_, v)| !v.is_empty())
            else {
                return reject("unknown TPM option");
            };
            let bit = 1u16 << (opt as u16);
            if o.seen & bit != 0 {
                return reject("TPM option given twice");
            }
            o.seen |= bit;
            o.apply(opt, value)?;
        }
        Ok(o)
    }

    fn apply(&mut self, opt: Opt, value: &[u8]) -> Result<()> {
        match opt {
            Opt::PcrInfo => {
                let len = value.len() / 2;
                if len > MAX_PCRINFO_SIZE {
                    return reject("pcrinfo longer than 64 bytes");
                }
                self.pcrinfo = hex_vec(value, len).ok_or(Error::Payload("pcrinfo is not hex"))?;
            }
            Opt::KeyHandle => {
                self.keyhandle = Some(
                    kstrtoul(value, 16)
                        .map_err(|_| Error::Payload("keyhandle is not a hex number"))?,
                );
            }
            Opt::KeyAuth => {
                if value.len() != 2 * AUTH_SIZE {
                    return reject("keyauth must be 40 hex digits");
                }
                hex_decode(value, &mut self.keyauth)
                    .map_err(|_| Error::Payload("keyauth is not hex"))?;
                self.keyauth_set = true;
            }
            Opt::BlobAuth => {
                // TPM 2.0: 40 hex digits are a 20-byte value; any other
                // string of up to 20 characters is the password itself.
                if value.len() == 2 * AUTH_SIZE {
                    self.blobauth =
                        hex_vec(value, AUTH_SIZE).ok_or(Error::Payload("blobauth is not hex"))?;
                    self.blobauth_hex = true;
                } else {
                    self.blobauth = Vec::from_slice(value).map_err(|_| {
                        Error::Payload("blobauth password longer than 20 characters")
                    })?;
                    self.blobauth_hex = false;
                }
            }
            Opt::Migratable => match value.first() {
                // Linux looks at the first character only.
                Some(b'0') => self.migratable = false,
                Some(b'1') => {}
                _ => return reject("migratable must be 0 or 1"),
            },
            Opt::PcrLock => {
                self.pcrlock = kstrtoul(value, 10)
                    .map_err(|_| Error::Payload("pcrlock is not a decimal number"))?;
            }
            Opt::Hash => {
                if self.seen & (1 << Opt::PolicyDigest as u16) != 0 {
                    return reject("hash= must come before policydigest=");
                }
                self.hash =
                    HashAlgo::from_name(value).ok_or(Error::Payload("unknown hash name"))?;
            }
            Opt::PolicyDigest => {
                let len = self.hash.digest_size();
                if value.len() != 2 * len {
                    return reject("policydigest length must be twice the digest size of hash=");
                }
                self.policydigest =
                    hex_vec(value, len).ok_or(Error::Payload("policydigest is not hex"))?;
            }
            Opt::PolicyHandle => {
                self.policyhandle = Some(
                    kstrtoul(value, 16)
                        .map_err(|_| Error::Payload("policyhandle is not a hex number"))?,
                );
            }
        }
        Ok(())
    }

    fn has(&self, opt: Opt) -> bool {
        self.seen & (1 << opt as u16) != 0
    }
}

impl fmt::Display for TpmOptions {
    /// Prints the options that were given, in the kernel's table order, as
    /// text that [`TpmOptions::parse`] reads back to an equal value (hex in
    /// lowercase, numbers canonical, an empty `pcrinfo` as `pcrinfo=0`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut item = |f: &mut fmt::Formatter<'_>, name: &str| {
            let r = write!(f, "{sep}{name}=");
            sep = " ";
            r
        };
        if let Some(h) = self.keyhandle {
            item(f, "keyhandle")?;
            write!(f, "{h:#x}")?;
        }
        if self.keyauth_set {
            item(f, "keyauth")?;
            write_hex(&self.keyauth, f)?;
        }
        if self.has(Opt::BlobAuth) {
            item(f, "blobauth")?;
            if self.blobauth_hex {
                write_hex(&self.blobauth, f)?;
            } else {
                // A password came from a &str and is printed back as one.
                f.write_str(core::str::from_utf8(&self.blobauth).unwrap_or(""))?;
            }
        }
        if self.has(Opt::PcrInfo) {
            item(f, "pcrinfo")?;
            if self.pcrinfo.is_empty() {
                // Linux reads a one-character value as zero bytes of
                // pcrinfo (`strlen / 2`); `pcrinfo=` with nothing would be
                // refused, so the empty value prints as the shortest text
                // that reads back the same.
                f.write_str("0")?;
            } else {
                write_hex(&self.pcrinfo, f)?;
            }
        }
        if self.has(Opt::PcrLock) {
            item(f, "pcrlock")?;
            write!(f, "{}", self.pcrlock)?;
        }
        if self.has(Opt::Migratable) {
            item(f, "migratable")?;
            write!(f, "{}", u8::from(self.migratable))?;
        }
        if self.has(Opt::Hash) {
            item(f, "hash")?;
            f.write_str(self.hash.name())?;
        }
        if self.has(Opt::PolicyDigest) {
            item(f, "policydigest")?;
            write_hex(&self.policydigest, f)?;
        }
        if let Some(h) = self.policyhandle {
            item(f, "policyhandle")?;
            write!(f, "{h:#x}")?;
        }
        Ok(())
    }
}

/// Kernel `hex2bin` of the first `2 * len` digits of `value`.
fn hex_vec<const N: usize>(value: &[u8], len: usize) -> Option<Vec<u8, N>> {
    let mut out = Vec::new();
    out.resize(len, 0).ok()?;
    hex_decode(value.get(..2 * len)?, &mut out).ok()?;
    Some(out)
}

/// Kernel `kstrtoull` limited to `max`: optional `+`, `0x` prefix for base
/// 16, at least one digit, optional single trailing newline.
fn kstrtoull(s: &[u8], base: u32, max: u64) -> Result<u64> {
    let s = match s {
        [b'+', rest @ ..] => rest,
        _ => s,
    };
    parse_unsigned(s, base, max)
}

/// Kernel `_kstrtoull`: like [`kstrtoull`] without the `+`. Bytes, as
/// the kernel reads them: a byte of a non-ASCII character is no digit.
fn parse_unsigned(s: &[u8], base: u32, max: u64) -> Result<u64> {
    // Slice patterns, not `strip_prefix`: no slice compares linked.
    let s = match s {
        [b'0', b'x' | b'X', rest @ ..] if base == 16 => rest,
        _ => s,
    };
    let s = match s {
        [rest @ .., b'\n'] => rest,
        _ => s,
    };
    if s.is_empty() {
        return Err(Error::Payload("empty number"));
    }
    let mut value: u64 = 0;
    for &c in s {
        let digit = char::from(c)
            .to_digit(base)
            .ok_or(Error::Payload("bad digit"))?;
        value = value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(u64::from(digit)))
            .filter(|&v| v <= max)
            .ok_or(Error::Payload("number out of range"))?;
    }
    Ok(value)
}

/// Kernel `kstrtoul` with a 32-bit `unsigned long`.
fn kstrtoul(s: &[u8], base: u32) -> Result<u32> {
    kstrtoull(s, base, u64::from(u32::MAX)).map(|v| v as u32)
}

/// Kernel `kstrtol` with a 64-bit range (only used for `new N`).
fn kstrtol(s: &[u8], base: u32) -> Result<i64> {
    match s.strip_prefix(b"-") {
        Some(rest) => {
            parse_unsigned(rest, base, i64::MAX as u64 + 1).map(|v| (v as i64).wrapping_neg())
        }
        None => kstrtoull(s, base, i64::MAX as u64).map(|v| v as i64),
    }
}

/// TPM 2.0 hash algorithm ids (TPM 2.0 Part 2 §6.3, TPM_ALG_ID): the one
/// place they are written; `hal-tpm-spi`'s `spec::alg` re-exports them.
pub mod tpm_alg {
    /// TPM_ALG_SHA1.
    pub const SHA1: u16 = 0x0004;
    /// TPM_ALG_SHA256.
    pub const SHA256: u16 = 0x000B;
    /// TPM_ALG_SHA384.
    pub const SHA384: u16 = 0x000C;
    /// TPM_ALG_SHA512.
    pub const SHA512: u16 = 0x000D;
    /// TPM_ALG_SM3_256.
    pub const SM3_256: u16 = 0x0012;
}
