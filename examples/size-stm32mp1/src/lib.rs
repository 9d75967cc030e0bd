//! Size probe for `cargo xtask size`: what a bootloader on an STM32MP15
//! links to seal and unseal Linux `trusted.source=tee` blobs keyed by
//! OP-TEE's HUK from BSEC OTP words 60..63 (BSEC driver, fuse reads with
//! their glitch checks, HMAC-SHA256 TA key, AES-256-GCM; the `BsecKey`
//! mode only, without the `derive-uid` feature). Built as a
//! staticlib with LTO so only code reachable from these two entry points
//! is counted.
#![no_std]

use hal_stm32mp1_otp::regs::{BSEC_BASE, BSEC_SIZE};
use hal_stm32mp1_otp::{Bsec, HukConfig, Stm32mp15Huk, Stm32mp15Tee};
use size_probe::{PlatformDelay, PlatformRng, copy_out};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, Key, SealedBlob, TrustSource, VolatileMmio};

type Sealer = Stm32mp15Tee<Bsec<VolatileMmio, PlatformDelay>, PlatformRng>;

/// The TEE sealer over the HUK in OTP words 60..63 (OP-TEE's default).
fn sealer() -> Result<Sealer, Error> {
    // SAFETY: the STM32MP15 BSEC register block, device memory; the
    // firmware runs no other driver on it while this sealer lives.
    let mmio = unsafe { VolatileMmio::new(BSEC_BASE, BSEC_SIZE) };
    let huk = Stm32mp15Huk::new(Bsec::new(mmio, PlatformDelay), HukConfig::default())?;
    Ok(TeeSealer::new(huk, PlatformRng))
}

/// Seals `key`; returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_stm32mp1_seal(key: &[u8], out: &mut [u8]) -> usize {
    let blob = sealer().and_then(|mut s| s.seal(&Key::from_slice(key)?, ""));
    copy_out(blob.as_ref().map(SealedBlob::as_bytes), out)
}

/// Unseals `blob` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_stm32mp1_unseal(blob: &[u8], out: &mut [u8]) -> usize {
    let key = sealer().and_then(|mut s| s.unseal(blob, ""));
    copy_out(key.as_ref().map(Key::as_bytes), out)
}
