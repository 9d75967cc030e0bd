//! Size probe for `cargo xtask size`: exactly what a bootloader links to
//! seal and unseal TEE blobs (OP-TEE trusted_keys TA format; HUK given,
//! RNG from the platform). Built as a staticlib with LTO so only code
//! reachable from these two entry points is counted.
#![no_std]

use size_probe::{PlatformRng, copy_out};
use trusted_core::tee::TeeSealer;
use trusted_core::{Key, SealedBlob, StaticHuk, TrustSource};

/// Seals `key` with `huk`; returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_tee_seal(huk: &[u8; 16], key: &[u8], out: &mut [u8]) -> usize {
    let mut tee = TeeSealer::new(StaticHuk::copy_from(huk), PlatformRng);
    let blob = Key::from_slice(key).and_then(|k| tee.seal(&k, ""));
    copy_out(blob.as_ref().map(SealedBlob::as_bytes), out)
}

/// Unseals `blob` with `huk` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_tee_unseal(huk: &[u8; 16], blob: &[u8], out: &mut [u8]) -> usize {
    let mut tee = TeeSealer::new(StaticHuk::copy_from(huk), PlatformRng);
    let key = tee.unseal(blob, "");
    copy_out(key.as_ref().map(Key::as_bytes), out)
}
