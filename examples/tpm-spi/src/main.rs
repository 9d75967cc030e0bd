//! A real TPM 2.0 in firmware: swtpm behind QEMU's `tpm-tis-device` on
//! `virt`, reached through `hal_tpm_spi::Tis` (the same TIS FIFO code the
//! SPI transport uses) over a memory-mapped TIS window ([`MmioTis`]).
//!
//! The boot flow makes the storage key 0x81000001 persistent if it is
//! missing, draws the new key from the TPM's RNG, seals it as a Linux TPM 2.0
//! trusted-key blob (`keyhandle=0x81000001`), and after the "reboot" (new
//! `Tis` and `TpmSource`) loads and unseals it.
//!
//! On a board the TPM sits on SPI: `SpiTis::new(spi_bus, cs_pin)` replaces
//! [`MmioTis`]; everything else stays.
#![no_std]
#![no_main]

use board_rt::{BlobStore, KeySource, RamFlash, SpinDelay, boot_flow_with_options, finish, step};
use hal_tpm_spi::regs::{TPM_DATA_FIFO, TPM_XDATA_FIFO};
use hal_tpm_spi::{Tis, TisAccess, TpmError, TpmSource};
use trusted_core::TrustSource;

/// QEMU virt's platform bus puts `tpm-tis-device` here (5 localities of
/// 4 KiB; `dumpdtb` shows `tpm_tis@0` under `platform-bus@c000000`).
const TIS_BASE: usize = 0x0C00_0000;
const LOCALITY_SIZE: usize = 0x1000;
/// Where the storage key is made persistent (TCG's first SRK handle).
const SRK: u32 = 0x8100_0001;

/// Memory-mapped TIS: byte accesses to one locality's register window.
/// FIFO offsets take every byte at the FIFO register, others are
/// consecutive registers.
pub struct MmioTis {
    base: usize,
}

impl MmioTis {
    /// # Safety
    ///
    /// `base` must be a TIS register block of five 4 KiB locality windows,
    /// mapped as device memory, used by nothing else while this lives.
    pub const unsafe fn new(base: usize) -> Self {
        Self { base }
    }

    fn address(&self, locality: u8, offset: u16, index: usize) -> Result<*mut u8, TpmError> {
        let fifo =
            offset == TPM_DATA_FIFO || (TPM_XDATA_FIFO..TPM_XDATA_FIFO + 0x40).contains(&offset);
        let offset = usize::from(offset) + if fifo { 0 } else { index };
        if usize::from(locality) >= 5 || offset >= LOCALITY_SIZE {
            return Err(TpmError::InvalidArgument("TIS register outside the window"));
        }
        Ok((self.base + usize::from(locality) * LOCALITY_SIZE + offset) as *mut u8)
    }
}

impl TisAccess for MmioTis {
    const MAX_TRANSFER: usize = 64;

    fn read(&mut self, locality: u8, offset: u16, buf: &mut [u8]) -> Result<(), TpmError> {
        for (i, b) in buf.iter_mut().enumerate() {
            let addr = self.address(locality, offset, i)?;
            // SAFETY: inside the TIS window `new` was given (checked above).
            *b = unsafe { addr.read_volatile() };
        }
        Ok(())
    }

    fn write(&mut self, locality: u8, offset: u16, data: &[u8]) -> Result<(), TpmError> {
        for (i, b) in data.iter().enumerate() {
            let addr = self.address(locality, offset, i)?;
            // SAFETY: as in `read`.
            unsafe { addr.write_volatile(*b) };
        }
        Ok(())
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("tpm-spi: TPM 2.0 (swtpm) through the TIS FIFO code, memory-mapped");
    let mut flash = BlobStore::new(RamFlash::default());
    let mut boot = 0;
    let result = boot_flow_with_options(
        || {
            boot += 1;
            // SAFETY: QEMU virt's TIS window; one driver at a time (each
            // boot drops the previous one first).
            let tis = Tis::new(unsafe { MmioTis::new(TIS_BASE) }, SpinDelay::new(1000));
            let mut tpm = TpmSource::new(tis);
            tpm.init()?;
            let made = tpm.provision_srk(SRK)?;
            step!(
                "boot {boot}: storage key 0x{SRK:08x} {}",
                if made {
                    "created and made persistent"
                } else {
                    "present"
                }
            );
            Ok(tpm)
        },
        &mut flash,
        KeySource::Source,
        "keyhandle=0x81000001",
    );
    finish("tpm-spi", result)
}
