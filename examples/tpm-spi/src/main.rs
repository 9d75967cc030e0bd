//! A real TPM 2.0 in firmware: swtpm behind QEMU's `tpm-tis-device` on
//! `virt`, reached through `hal_tpm_spi::Tis` (the same TIS FIFO code the
//! SPI transport uses) over the crate's memory-mapped TIS,
//! `hal_tpm_spi::MmioTis`, on `trusted_core::VolatileMmio`.
//!
//! The boot flow makes the storage key 0x81000001 persistent if it is
//! missing, draws the new key from the TPM's RNG, seals it as a Linux TPM 2.0
//! trusted-key blob (`keyhandle=0x81000001`), and after the "reboot" (new
//! `Tis` and `TpmSource`) loads and unseals it.
//!
//! On a board the TPM sits on SPI: `SpiTis::new(spi_bus, cs_pin)` replaces
//! `MmioTis::new(..)`; everything else stays.
#![no_std]
#![no_main]

use board_rt::out::Hex;
use board_rt::{NoDelay, SpinDelay, boot_flow, finish, step};
use hal_dcp::Rngb;
use hal_dcp::sim::RngbSim;
use hal_tpm_spi::regs::{LOCALITIES, LOCALITY_WINDOW};
use hal_tpm_spi::{MmioTis, Tis, TpmSource};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::{RngChoice, TrustSource, VolatileMmio};

/// QEMU virt's platform bus puts `tpm-tis-device` here (5 localities of
/// 4 KiB; `dumpdtb` shows `tpm_tis@0` under `platform-bus@c000000`).
const TIS_BASE: usize = 0x0C00_0000;
/// The five locality windows.
const TIS_SIZE: usize = LOCALITIES as usize * LOCALITY_WINDOW;
/// Where the storage key is made persistent (TCG's first SRK handle).
const SRK: u32 = 0x8100_0001;
/// The RNGB model's output is a function of this seed (SplitMix64): a model
/// of the RNGB's behaviour, not entropy. Each example has its own.
const RNG_SEED: u64 = 0x7e57_5e55_0000_0001;

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("tpm-spi: TPM 2.0 (swtpm) through the TIS FIFO code, memory-mapped");
    let mut boot = 0;
    let result = boot_flow(
        || {
            boot += 1;
            // SAFETY: QEMU virt's TIS window; one driver at a time (each
            // boot drops the previous one first).
            let block = unsafe { VolatileMmio::new(TIS_BASE, TIS_SIZE) };
            let tis = Tis::new(MmioTis::new(block), SpinDelay::new(1000));
            // The session nonces and ephemeral ECDH keys come from the
            // board's TRNG, never from the TPM alone. `virt` models none:
            // the i.MX6ULL RNGB model through the real `hal_dcp::Rngb`
            // driver stands in for it, a new model on each boot (the boot
            // number in the seed keeps it from replaying the last boot's
            // stream, which a real TRNG never does).
            let mut trng = Rngb::new(RngbSim::new().with_seed(RNG_SEED + boot), NoDelay);
            trng.init()?;
            let mut tpm = TpmSource::new(tis, trng);
            tpm.init()?;
            let made = tpm.provision_srk(SRK)?;
            step!(
                "boot ",
                boot,
                ": storage key ",
                Hex(SRK),
                " ",
                if made {
                    "created and made persistent"
                } else {
                    "present"
                },
                "; ",
                if tpm.sessions_enabled() {
                    "salted, encrypted, HMAC-checked sessions"
                } else {
                    "password sessions (feature `sessions` off)"
                }
            );
            Ok(tpm)
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source).options("keyhandle=0x81000001"),
    );
    finish("tpm-spi", result)
}
