//! Host-side helpers: the OS RNG as a `rand_core` 0.10 RNG, exact hex
//! parsing with CLI-friendly errors, and the zeroizing holders every secret
//! argument and output goes through.

use std::convert::Infallible;
use std::fmt;
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
/// [`SecretText`], wiped on drop and never shown by `Debug`. The process's
/// own argv still holds the text (visible in `/proc/PID/cmdline`); nothing
/// here can wipe that, which is why firmware never takes secrets this way.
#[derive(Clone, Default)]
pub struct SecretArg(SecretText);

impl SecretArg {
    /// The text as given.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl FromStr for SecretArg {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Infallible> {
        Ok(Self::from(s))
    }
}

impl From<&str> for SecretArg {
    fn from(s: &str) -> Self {
        let mut text = SecretText::with_capacity(s.len());
        text.push_str(s);
        Self(text)
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

/// Lowercase hex of public bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

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
            format!("{:?}", SecretArg::from("secret")),
            "SecretArg(6 bytes, redacted)"
        );
    }
}
