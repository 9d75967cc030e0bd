//! Size probe for `cargo xtask size`: what a bootloader on an i.MX8M links
//! to seal and unseal Linux `trusted.source=caam` blobs (job ring 0,
//! descriptors, blob encapsulation in the CAAM: no software crypto). Built
//! as a staticlib with LTO so only code reachable from these two entry
//! points is counted.
#![no_std]

use hal_caam::{Caam, CaamSource, Config};
use size_probe::{PlatformDelay, copy_out};
use trusted_core::{Error, Key, NoCache, SealedBlob, StaticDma, TrustSource, VolatileMmio};

/// CAAM base on i.MX8M (reference manuals; Linux imx8mm.dtsi).
const CAAM_BASE: usize = 0x3090_0000;
/// Controller page and the four job-ring pages of 4 KiB, and more.
const CAAM_SIZE: usize = 0x1_0000;

type Source = CaamSource<VolatileMmio, StaticDma, PlatformDelay>;

/// The source on job ring 0 and the firmware's DMA buffer (MMU off: the
/// bus address is the buffer's address), initialised.
fn source(dma: &'static mut [u8]) -> Result<Source, Error> {
    let bus = dma.as_ptr() as u64;
    // SAFETY: the i.MX8M CAAM register block, device memory; the firmware
    // runs no other driver on job ring 0 while this source lives.
    let mmio = unsafe { VolatileMmio::new(CAAM_BASE, CAAM_SIZE) };
    let dma = StaticDma::new(dma, bus, NoCache);
    let caam = Caam::new(mmio, dma, PlatformDelay, Config::new(0))?;
    let mut source = CaamSource::new(caam);
    source.init()?;
    Ok(source)
}

/// Seals `key` (key modifier `SECURE_KEY`); returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_caam_seal(dma: &'static mut [u8], key: &[u8], out: &mut [u8]) -> usize {
    let blob = source(dma).and_then(|mut s| s.seal(&Key::from_slice(key)?, ""));
    copy_out(blob.as_ref().map(SealedBlob::as_bytes), out)
}

/// Unseals `blob` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_caam_unseal(dma: &'static mut [u8], blob: &[u8], out: &mut [u8]) -> usize {
    let key = source(dma).and_then(|mut s| s.unseal(blob, ""));
    copy_out(key.as_ref().map(Key::as_bytes), out)
}
