//! Host-side helpers: the OS RNG as a `rand_core` 0.10 RNG, exact hex
//! parsing with CLI-friendly errors, and the zeroizing holders every secret
//! argument and output goes through.

use std::convert::Infallible;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use trusted_core::zeroize::{Zeroize, Zeroizing};
use trusted_core::{HUK_LEN, HukBytes, Key, SealedBlob};

/// The operating system's RNG (getrandom). It aborts the process if the OS
/// RNG fails, which on a host is unrecoverable anyway.
pub struct HostRng;

impl HostRng {
    fn fill(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        if getrandom::fill(dst).is_err() {
            eprintln!("trustctl: the operating system RNG failed");
            std::process::exit(1);
        }
        Ok(())
    }
}

trusted_core::impl_try_rng_via_fill! {
    impl TryRng for HostRng {
        type Error = Infallible;
    }
}

impl rand_core::TryCryptoRng for HostRng {}

/// Text that is a secret (hex of a key or HUK, a fuse image): a `String`
/// whose whole buffer, spare capacity included, is wiped on drop. (The
/// workspace builds `zeroize` without `alloc`, which the no-alloc firmware
/// crates need, so `Zeroizing<String>` is not available here.)
#[derive(Default)]
pub struct SecretText(String);

impl SecretText {
    /// An empty text with room for `capacity` bytes, so that filling it up
    /// to that never reallocates (a reallocation would leave a copy).
    pub fn with_capacity(capacity: usize) -> Self {
        Self(String::with_capacity(capacity))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends `text`.
    pub fn push_str(&mut self, text: &str) {
        self.0.push_str(text);
    }
}

impl Clone for SecretText {
    fn clone(&self) -> Self {
        let mut copy = Self::with_capacity(self.0.len());
        copy.push_str(&self.0);
        copy
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        let capacity = bytes.capacity();
        bytes.resize(capacity, 0); // within capacity: no reallocation
        bytes.as_mut_slice().zeroize();
    }
}

impl fmt::Write for SecretText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.push_str(s);
        Ok(())
    }
}

impl std::ops::Deref for SecretText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretText {
    /// The secret itself: for the one place that prints it on purpose.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretText({} bytes, redacted)", self.0.len())
    }
}

/// A command-line argument that carries a secret (a key, a HUK, a master
/// key, fuse words, a keyctl payload with auth values): held in a
/// [`SecretText`], wiped on drop and never shown by `Debug`.
///
/// Given as text, the secret is also in the process's argv (visible in
/// `/proc/PID/cmdline` and shell history), which nothing here can wipe.
/// `-` reads it from stdin instead and `@PATH` from a file, so it never
/// appears on a command line; one trailing newline is dropped, the rest
/// must be exactly what the flag takes.
#[derive(Clone, Default)]
pub struct SecretArg(SecretText);

/// Largest secret `-` or `@PATH` reads (a keyctl payload with a blob is
/// a few KiB of hex).
const SECRET_READ_MAX: usize = 64 * 1024;

/// Reads a secret of at most [`SECRET_READ_MAX`] bytes from `from` into a
/// fixed buffer wiped on drop (no growing buffer leaves copies behind);
/// drops one trailing `\n` or `\r\n`.
fn read_secret(mut from: impl Read, what: &str) -> Result<SecretArg, String> {
    let mut buf = Zeroizing::new([0u8; SECRET_READ_MAX + 1]);
    let mut len = 0;
    while let Some(free) = buf.get_mut(len..).filter(|free| !free.is_empty()) {
        match from
            .read(free)
            .map_err(|e| format!("reading {what}: {e}"))?
        {
            0 => break,
            n => len += n,
        }
    }
    if len > SECRET_READ_MAX {
        return Err(format!("{what} holds more than {SECRET_READ_MAX} bytes"));
    }
    let bytes = buf.get(..len).unwrap_or_default();
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{what} is not UTF-8 text"))?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    if text.is_empty() {
        return Err(format!("{what} is empty"));
    }
    Ok(SecretArg::new(text))
}

impl SecretArg {
    /// The secret `s`, as given. (Not a `From<&str>`: clap would prefer
    /// that to `FromStr` and never read `-` or `@PATH`.)
    pub fn new(s: &str) -> Self {
        let mut text = SecretText::with_capacity(s.len());
        text.push_str(s);
        Self(text)
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for SecretArg {
    type Err = String;
    /// The text itself, or what `-` (stdin) or `@PATH` (a file) holds.
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "-" {
            return read_secret(std::io::stdin().lock(), "stdin");
        }
        match s.strip_prefix('@') {
            Some(path) => {
                let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
                read_secret(file, path)
            }
            None => Ok(Self::new(s)),
        }
    }
}

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretArg({} bytes, redacted)", self.0.as_str().len())
    }
}

/// A new random key of `n` bytes from the OS RNG.
pub fn random_key(n: usize) -> Result<Key, String> {
    let mut key = Key::zeroed(n).map_err(|e| format!("--new {n}: {e}"))?;
    let Ok(()) = rand_core::TryRng::try_fill_bytes(&mut HostRng, key.as_mut_bytes());
    Ok(key)
}

/// Parses a 16-byte HUK from exactly 32 hex digits, into a zeroizing buffer.
pub fn parse_huk(hex: &str) -> Result<HukBytes, String> {
    parse_secret_hex::<HUK_LEN>(hex, "--huk")
}

/// Parses exactly `N` bytes of hex (2 × N digits, either case, nothing
/// else: no sign, no prefix, no whitespace), naming the flag in the error.
/// For public values (a TPM object Name); secrets go through
/// [`parse_secret_hex`].
pub fn parse_hex_array<const N: usize>(hex: &str, flag: &str) -> Result<[u8; N], String> {
    parse_secret_hex::<N>(hex, flag).map(|bytes| *bytes)
}

/// [`parse_hex_array`] into a buffer that wipes itself on drop.
pub fn parse_secret_hex<const N: usize>(
    hex: &str,
    flag: &str,
) -> Result<Zeroizing<[u8; N]>, String> {
    if hex.len() != 2 * N {
        return Err(format!(
            "{flag} must be {} hex digits ({N} bytes), got {} characters",
            2 * N,
            hex.chars().count()
        ));
    }
    let mut out = Zeroizing::new([0u8; N]);
    trusted_core::key::hex_decode(hex.as_bytes(), out.as_mut())
        .map_err(|_| format!("{flag} is not hex (0-9, a-f, A-F only)"))?;
    Ok(out)
}

/// Parses a blob; unlike Linux `load`, the CLI refuses odd-length hex and
/// an empty blob, so every accepted text is exactly one blob.
pub fn parse_blob(hex: &str) -> Result<SealedBlob, String> {
    if hex.is_empty() {
        return Err("--blob is empty".into());
    }
    if !hex.len().is_multiple_of(2) {
        return Err("--blob has an odd number of hex digits".into());
    }
    SealedBlob::from_hex(hex).map_err(|e| format!("--blob: {e}"))
}

/// Lowercase hex of public bytes: trustctl's one hex encoder (the same
/// digits as [`secret_hex`], from trusted-core's `write_hex`).
pub use trusted_core::test_util::hex;

/// Lowercase hex of secret bytes, in a text wiped on drop.
pub fn secret_hex(bytes: &[u8]) -> SecretText {
    let mut out = SecretText::with_capacity(2 * bytes.len());
    // Writing into a SecretText cannot fail.
    let _ = trusted_core::key::write_hex(bytes, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_exact() {
        assert!(parse_secret_hex::<2>("00ff", "--x").is_ok());
        assert!(parse_secret_hex::<2>("00FF", "--x").is_ok());
        for bad in [
            " 00ff", "00ff ", "0x00", "+0ff", "00f", "00fff", "", "00gf", "00f\n",
        ] {
            let e = parse_secret_hex::<2>(bad, "--x").unwrap_err();
            assert!(e.starts_with("--x") && !e.contains('\n'), "{bad:?}: {e}");
        }
        assert_eq!(secret_hex(&[0, 0xab]).as_str(), "00ab");
        assert_eq!(
            format!("{:?}", SecretArg::new("secret")),
            "SecretArg(6 bytes, redacted)"
        );
    }

    #[test]
    fn secrets_read_from_a_reader_drop_one_newline_only() {
        let read = |text: &[u8]| read_secret(text, "stdin").map(|s| s.as_str().to_string());
        assert_eq!(read(b"00ff\n").unwrap(), "00ff");
        assert_eq!(read(b"00ff\r\n").unwrap(), "00ff");
        assert_eq!(read(b"00ff").unwrap(), "00ff");
        assert_eq!(read(b"00ff\r").unwrap(), "00ff\r");
        assert_eq!(read(b"00ff\n\n").unwrap(), "00ff\n");
        assert_eq!(read(b" 00ff\n").unwrap(), " 00ff");
        assert_eq!(read(b"\n").unwrap_err(), "stdin is empty");
        assert_eq!(read(b"").unwrap_err(), "stdin is empty");
        assert_eq!(read(&[0xff, 0xfe]).unwrap_err(), "stdin is not UTF-8 text");
        let big = vec![b'0'; SECRET_READ_MAX + 1];
        assert!(read(&big).unwrap_err().contains("more than"));
        assert_eq!(read(&big[1..]).unwrap().len(), SECRET_READ_MAX);
    }

    #[test]
    fn a_missing_secret_file_names_the_path() {
        let e = "@/nonexistent/huk".parse::<SecretArg>().unwrap_err();
        assert!(e.starts_with("/nonexistent/huk: "), "{e}");
    }
}
