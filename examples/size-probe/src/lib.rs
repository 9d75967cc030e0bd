//! Shared by the size probes (`size-*`, built as static libraries by
//! `cargo xtask size`): the platform services a bootloader already has,
//! left as `extern "C"` functions for the firmware's link to provide, so
//! that nothing but the library under test is counted. Also the panic
//! handler (a firmware has one; this one costs nothing) and the copy of a
//! result into the caller's buffer.
#![no_std]

use trusted_core::embedded_hal::delay::DelayNs;
use trusted_core::embedded_hal::digital::{self, OutputPin};
use trusted_core::embedded_hal::spi::{self, SpiBus};

unsafe extern "C" {
    /// Fills `len` bytes at `buf` from the platform's TRNG; 0 on success.
    fn platform_random(buf: *mut u8, len: usize) -> i32;
    /// Waits at least `ns` nanoseconds.
    fn platform_delay_ns(ns: u32);
    /// Full-duplex SPI transfer of `len` bytes in place; 0 on success.
    fn platform_spi_transfer(buf: *mut u8, len: usize) -> i32;
    /// Drives the TPM's chip select to `level` (0 low, 1 high); 0 on success.
    fn platform_spi_cs(level: u32) -> i32;
}

/// The platform's TRNG through [`platform_random`].
pub struct PlatformRng;

/// [`platform_random`] reported a failure.
#[derive(Debug)]
pub struct PlatformError;

impl core::fmt::Display for PlatformError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("platform")
    }
}

impl core::error::Error for PlatformError {}

impl rand_core::TryRng for PlatformRng {
    type Error = PlatformError;

    fn try_next_u32(&mut self) -> Result<u32, PlatformError> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, PlatformError> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), PlatformError> {
        // SAFETY: `dst` is a valid writable buffer of `dst.len()` bytes.
        match unsafe { platform_random(dst.as_mut_ptr(), dst.len()) } {
            0 => Ok(()),
            _ => Err(PlatformError),
        }
    }
}

/// The platform's TRNG is a cryptographic source.
impl rand_core::TryCryptoRng for PlatformRng {}

/// The platform's timer through [`platform_delay_ns`].
pub struct PlatformDelay;

impl DelayNs for PlatformDelay {
    fn delay_ns(&mut self, ns: u32) {
        // SAFETY: takes and returns plain values.
        unsafe { platform_delay_ns(ns) }
    }
}

impl spi::Error for PlatformError {
    fn kind(&self) -> spi::ErrorKind {
        spi::ErrorKind::Other
    }
}

impl digital::Error for PlatformError {
    fn kind(&self) -> digital::ErrorKind {
        digital::ErrorKind::Other
    }
}

fn status(code: i32) -> Result<(), PlatformError> {
    match code {
        0 => Ok(()),
        _ => Err(PlatformError),
    }
}

/// The TPM's SPI bus through [`platform_spi_transfer`] (chip select is
/// [`PlatformCs`]).
pub struct PlatformSpi;

impl spi::ErrorType for PlatformSpi {
    type Error = PlatformError;
}

impl SpiBus for PlatformSpi {
    fn read(&mut self, words: &mut [u8]) -> Result<(), PlatformError> {
        words.fill(0);
        self.transfer_in_place(words)
    }

    fn write(&mut self, words: &[u8]) -> Result<(), PlatformError> {
        let mut chunk = [0u8; 64];
        for part in words.chunks(chunk.len()) {
            let buf = chunk.get_mut(..part.len()).ok_or(PlatformError)?;
            buf.copy_from_slice(part);
            self.transfer_in_place(buf)?;
        }
        Ok(())
    }

    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), PlatformError> {
        read.iter_mut()
            .zip(write.iter().chain(core::iter::repeat(&0)))
            .for_each(|(r, w)| *r = *w);
        self.transfer_in_place(read)
    }

    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), PlatformError> {
        // SAFETY: `words` is a valid writable buffer of `words.len()` bytes.
        status(unsafe { platform_spi_transfer(words.as_mut_ptr(), words.len()) })
    }

    fn flush(&mut self) -> Result<(), PlatformError> {
        Ok(())
    }
}

/// The TPM's chip select through [`platform_spi_cs`].
pub struct PlatformCs;

impl digital::ErrorType for PlatformCs {
    type Error = PlatformError;
}

impl OutputPin for PlatformCs {
    fn set_low(&mut self) -> Result<(), PlatformError> {
        // SAFETY: takes and returns plain values.
        status(unsafe { platform_spi_cs(0) })
    }

    fn set_high(&mut self) -> Result<(), PlatformError> {
        // SAFETY: takes and returns plain values.
        status(unsafe { platform_spi_cs(1) })
    }
}

/// Copies `bytes` into `out` and returns their length, or 0 when they
/// are an error or do not fit (the probes' C-like return convention).
pub fn copy_out<E>(bytes: Result<&[u8], E>, out: &mut [u8]) -> usize {
    let Ok(bytes) = bytes else { return 0 };
    match out.get_mut(..bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            bytes.len()
        }
        None => 0,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
