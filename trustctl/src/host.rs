//! Host-side helpers: the OS RNG as a `rand_core` 0.10 RNG, hex parsing
//! with CLI-friendly errors.

use std::convert::Infallible;

use trusted_core::{Key, SealedBlob};

/// The operating system's RNG (getrandom). It aborts the process if the OS
/// RNG fails, which on a host is unrecoverable anyway.
pub struct HostRng;

impl rand_core::TryRng for HostRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        if getrandom::fill(dst).is_err() {
            eprintln!("trustctl: the operating system RNG failed");
            std::process::exit(1);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for HostRng {}

/// A new random key of `n` bytes from the OS RNG.
pub fn random_key(n: usize) -> Result<Key, String> {
    let mut key = Key::zeroed(n).map_err(|e| format!("--new {n}: {e}"))?;
    let Ok(()) = rand_core::TryRng::try_fill_bytes(&mut HostRng, key.as_mut_bytes());
    Ok(key)
}

/// Parses a 16-byte HUK from 32 hex digits.
pub fn parse_huk(hex: &str) -> Result<[u8; 16], String> {
    parse_hex_array(hex, "--huk")
}

/// Parses exactly N bytes of hex, naming the flag in the error.
pub fn parse_hex_array<const N: usize>(hex: &str, flag: &str) -> Result<[u8; N], String> {
    if hex.len() != 2 * N {
        return Err(format!(
            "{flag} must be {} hex digits ({N} bytes), got {}",
            2 * N,
            hex.len()
        ));
    }
    let mut out = [0u8; N];
    trusted_core::key::hex_decode(hex.as_bytes(), &mut out)
        .map_err(|_| format!("{flag} is not hex"))?;
    Ok(out)
}

/// Parses a blob; unlike Linux `load`, the CLI refuses odd-length hex.
pub fn parse_blob(hex: &str) -> Result<SealedBlob, String> {
    if !hex.len().is_multiple_of(2) {
        return Err("--blob has an odd number of hex digits".into());
    }
    SealedBlob::from_hex(hex).map_err(|e| format!("--blob: {e}"))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
