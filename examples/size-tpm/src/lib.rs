//! Size probe for `cargo xtask size`: what a bootloader links to seal and
//! unseal Linux TPM 2.0 trusted-key blobs under the storage key 0x81000001
//! on a TPM on SPI (TIS FIFO over SPI framing, TPM2 commands, the ASN.1
//! blob). With feature `sessions` (default) in salted, encrypted,
//! HMAC-checked sessions (P-256 ECDH, AES-128-CFB, HMAC-SHA256); without,
//! in password sessions. The session nonces come from the platform's TRNG.
//! Built as a staticlib with LTO so only code reachable from these two
//! entry points is counted.
#![no_std]

use hal_tpm_spi::{SpiTis, Tis, TpmSource};
use size_probe::{PlatformCs, PlatformDelay, PlatformRng, PlatformSpi, copy_out};
use trusted_core::{Error, Key, SealedBlob, TrustSource};

/// The options a Linux `keyctl add trusted` line would carry.
const OPTIONS: &str = "keyhandle=0x81000001";

type Source = TpmSource<Tis<SpiTis<PlatformSpi, PlatformCs>, PlatformDelay>, PlatformRng>;

/// The source on the TPM behind the platform's SPI bus, initialised.
fn source() -> Result<Source, Error> {
    let tis = Tis::new(SpiTis::new(PlatformSpi, PlatformCs), PlatformDelay);
    let mut source = TpmSource::new(tis, PlatformRng);
    source.init()?;
    Ok(source)
}

/// Seals `key`; returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_tpm_seal(key: &[u8], out: &mut [u8]) -> usize {
    let blob = source().and_then(|mut s| s.seal(&Key::from_slice(key)?, OPTIONS));
    copy_out(blob.as_ref().map(SealedBlob::as_bytes), out)
}

/// Unseals `blob` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_tpm_unseal(blob: &[u8], out: &mut [u8]) -> usize {
    let key = source().and_then(|mut s| s.unseal(blob, OPTIONS));
    copy_out(key.as_ref().map(Key::as_bytes), out)
}
