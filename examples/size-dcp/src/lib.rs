//! Size probe for `cargo xtask size`: what a bootloader on an i.MX6ULL
//! links to seal and unseal Linux `trusted.source=dcp` blobs with the DCP's
//! UNIQUE key (driver, zero-key self test, AES-128-GCM payload). Moved here
//! from `hal-dcp/size`. Built as a staticlib with LTO so only code
//! reachable from these two entry points is counted.
#![no_std]

use hal_dcp::{Dcp, DcpSource};
use size_probe::{PlatformDelay, PlatformRng, copy_out};
use trusted_core::{Error, Key, NoCache, SealedBlob, StaticDma, TrustSource, VolatileMmio};

/// DCP base on i.MX6ULL (reference manual memory map; OP-TEE imx6-dcp.h).
const DCP_BASE: usize = 0x0228_0000;

type Source = DcpSource<VolatileMmio, StaticDma, PlatformDelay, PlatformRng>;

/// The source on the DCP registers and the firmware's DMA buffer (MMU off:
/// the bus address is the buffer's address), initialised.
fn source(dma: &'static mut [u8]) -> Result<Source, Error> {
    let bus = dma.as_ptr() as u64;
    // SAFETY: the i.MX6ULL DCP register block, device memory; the firmware
    // runs no other driver on it while this source lives.
    let mmio = unsafe { VolatileMmio::new(DCP_BASE, hal_dcp::regs::BLOCK_SIZE) };
    let dcp = Dcp::new(mmio, StaticDma::new(dma, bus, NoCache), PlatformDelay)?;
    let mut source = DcpSource::new(dcp, PlatformRng);
    source.init()?;
    Ok(source)
}

/// Seals `key` with the UNIQUE key; returns the blob length or 0.
#[unsafe(no_mangle)]
pub fn tk_dcp_seal(dma: &'static mut [u8], key: &[u8], out: &mut [u8]) -> usize {
    let blob = source(dma).and_then(|mut s| s.seal(&Key::from_slice(key)?, ""));
    copy_out(blob.as_ref().map(SealedBlob::as_bytes), out)
}

/// Unseals `blob` into `out`; returns the key length or 0.
#[unsafe(no_mangle)]
pub fn tk_dcp_unseal(dma: &'static mut [u8], blob: &[u8], out: &mut [u8]) -> usize {
    let key = source(dma).and_then(|mut s| s.unseal(blob, ""));
    copy_out(key.as_ref().map(Key::as_bytes), out)
}
