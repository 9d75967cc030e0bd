//! What every QEMU example needs and a real bootloader already has:
//! `_start` (stack, FPU, .bss), a single-core critical section, semihosting
//! output and exit codes, a RAM-backed `NorFlash` for the blob store, and the
//! boot flow itself: first boot → new key → seal → store → reboot → unseal.
//! Also a pool of DMA buffers handed out once each ([`dma_buffer`]) and an
//! approximate busy-wait delay ([`SpinDelay`]).
#![no_std]

mod start;

pub mod delay;
pub mod dma;
pub mod flash;

use semihosting::println;
use trusted_core::{Key, TrustSource};

pub use delay::{NoDelay, SpinDelay};
pub use dma::dma_buffer;
pub use flash::{BlobStore, RamFlash};
pub use semihosting;

/// Exits QEMU with `code` through semihosting (0 only on success).
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

/// Prints a step line; the examples' only output channel.
#[macro_export]
macro_rules! step {
    ($($t:tt)*) => { $crate::semihosting::println!($($t)*) };
}

/// Where a new key's bytes come from.
pub enum KeySource<'a> {
    /// The trust source's own RNG (CAAM RNG4, TPM GetRandom).
    Source,
    /// The caller's RNG (DCP and OTP have none).
    Caller(&'a mut dyn FnMut(&mut [u8]) -> Result<(), trusted_core::Error>),
}

/// The bootloader flow on one trust source. `boot` makes every driver and
/// model afresh from the same device state, as a reset does; the blob store
/// survives in `flash`. Returns the blob length.
pub fn boot_flow<S: TrustSource>(
    boot: impl FnMut() -> Result<S, trusted_core::Error>,
    flash: &mut BlobStore,
    key_source: KeySource<'_>,
) -> Result<usize, trusted_core::Error> {
    boot_flow_with_options(boot, flash, key_source, "")
}

/// [`boot_flow`] with keyctl-style options for seal and unseal (the TPM
/// needs `keyhandle=`).
pub fn boot_flow_with_options<S: TrustSource>(
    mut boot: impl FnMut() -> Result<S, trusted_core::Error>,
    flash: &mut BlobStore,
    mut key_source: KeySource<'_>,
    options: &str,
) -> Result<usize, trusted_core::Error> {
    println!("boot 1: reading blob store");
    if flash.read()?.is_some() {
        println!("boot 1: store not empty, refusing to overwrite");
        return Err(trusted_core::Error::InvalidArgument("blob store not empty"));
    }
    println!("boot 1: store empty: first boot");
    let mut source = boot()?;
    source.init()?;
    let mut key = Key::zeroed(32)?;
    match &mut key_source {
        KeySource::Source => source.random(key.as_mut_bytes())?,
        KeySource::Caller(rng) => rng(key.as_mut_bytes())?,
    }
    println!("boot 1: new 32-byte key");
    let blob = source.seal(&key, options)?;
    println!(
        "boot 1: sealed with {}: {} bytes",
        source.name(),
        blob.len()
    );
    flash.write(blob.as_bytes())?;
    println!("boot 1: blob written to flash");
    drop(source);

    println!("reboot: drivers dropped and made again");
    let mut source = boot()?;
    source.init()?;
    let stored = flash.read()?.ok_or(trusted_core::Error::BlobLength)?;
    println!("boot 2: blob read from flash: {} bytes", stored.len());
    let unsealed = source.unseal(stored.as_bytes(), options)?;
    println!("boot 2: unsealed {} bytes", unsealed.len());
    if unsealed != key {
        println!("boot 2: MISMATCH");
        return Err(trusted_core::Error::AuthFailed);
    }
    println!("boot 2: key matches");
    Ok(stored.len())
}

/// Runs `body`, prints the verdict line the xtask looks for, and exits.
pub fn finish(name: &str, result: Result<usize, trusted_core::Error>) -> ! {
    match result {
        Ok(len) => {
            println!("{name}: PASS (blob {len} bytes)");
            exit(0)
        }
        Err(e) => {
            println!("{name}: FAIL: {e}");
            exit(1)
        }
    }
}

/// A deterministic generator for QEMU runs, where the boards' RNG blocks
/// are not modelled. NOT random: a real bootloader passes its TRNG here.
pub struct DemoRng(u64);

impl DemoRng {
    /// Seeded with `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
}

impl rand_core::TryRng for DemoRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        self.try_next_u64().map(|v| v as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        Ok(self.0.wrapping_mul(0x2545_f491_4f6c_dd1d))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.iter_mut().zip(v).for_each(|(d, s)| *d = s);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for DemoRng {}
