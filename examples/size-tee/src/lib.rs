//! Size probe for `cargo xtask size`: exactly what a bootloader links to
//! seal and unseal TEE blobs (HUK given, RNG from the platform). Built as a
//! staticlib with LTO so only code reachable from these two entry points is
//! counted.
#![no_std]

use trusted_core::tee::TeeSealer;
use trusted_core::{Key, StaticHuk, TrustSource};

unsafe extern "C" {
    /// The platform's RNG, left for the firmware's link to provide.
    fn platform_random(buf: *mut u8, len: usize) -> i32;
}

struct PlatformRng;

#[derive(Debug)]
struct RngFailed;
impl core::fmt::Display for RngFailed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("rng")
    }
}
impl core::error::Error for RngFailed {}

impl rand_core::TryRng for PlatformRng {
    type Error = RngFailed;
    fn try_next_u32(&mut self) -> Result<u32, RngFailed> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, RngFailed> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngFailed> {
        // SAFETY: `dst` is a valid writable buffer of `dst.len()` bytes.
        match unsafe { platform_random(dst.as_mut_ptr(), dst.len()) } {
            0 => Ok(()),
            _ => Err(RngFailed),
        }
    }
}
impl rand_core::TryCryptoRng for PlatformRng {}

/// Seals `key` with `huk`; returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_tee_seal(huk: &[u8; 16], key: &[u8], out: &mut [u8]) -> usize {
    let mut tee = TeeSealer::new(StaticHuk::new(*huk), PlatformRng);
    let sealed = Key::from_slice(key).and_then(|k| tee.seal(&k, ""));
    match sealed {
        Ok(blob) if blob.len() <= out.len() => {
            out.iter_mut()
                .zip(blob.as_bytes())
                .for_each(|(o, b)| *o = *b);
            blob.len()
        }
        _ => 0,
    }
}

/// Unseals `blob` with `huk` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_tee_unseal(huk: &[u8; 16], blob: &[u8], out: &mut [u8]) -> usize {
    let mut tee = TeeSealer::new(StaticHuk::new(*huk), PlatformRng);
    match tee.unseal(blob, "") {
        Ok(key) if key.len() <= out.len() => {
            out.iter_mut()
                .zip(key.as_bytes())
                .for_each(|(o, b)| *o = *b);
            key.len()
        }
        _ => 0,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
