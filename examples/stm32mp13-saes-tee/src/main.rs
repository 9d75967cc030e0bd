//! STM32MP13 firmware: Linux `trusted.source=tee` blobs keyed by OP-TEE's
//! subkey derivation in the SAES, from the DHUK that never leaves it.
//!
//! On the STM32MP13 OP-TEE has no OTP HUK: its `huk_subkey_derive` runs an
//! AES-CMAC counter-mode KDF in the SAES with `KEYSEL = DHUK`. Firmware in
//! the secure world runs the same derivation on the same SAES
//! (`hal_stm32mp1_otp::SaesKdf`) and so seals and unseals the blobs Linux
//! gets from OP-TEE's trusted_keys TA. Each boot makes the drivers again;
//! the blob survives in the (RAM-backed) flash, through `trusted_core::flow`.
//! The sealer's key and IV come from RNG1 (`hal_stm32mp1_otp::Stm32Rng`),
//! and its AES-256-GCM runs on the SAES too, with the TA key as a software
//! key (`TeeSealer::with_kdf_aes`: no software AES linked).
//!
//! Feature `sim` (default; QEMU has no STM32MP13 machine, so the Cortex-A7
//! `mcimx7d-sabre` runs it with its DDR at 0xC000_0000): the SAES model,
//! made afresh from the same DHUK on every boot, as a reset does, and the
//! RNG model (`RngSim`) for RNG1. Feature `hw`: the SAES at 0x5400_5000,
//! secure world (a non-secure access gets another DHUK, or nothing through
//! OP-TEE's firewall), and RNG1 at 0x5400_4000; the SAES and RNG1 clocks
//! are switched on in the RCC first. `Stm32Rng` runs the STM32MP15
//! sequence (`st,stm32-rng`); the MP13's RNG (`st,stm32mp13-rng`) also has
//! `CONDRST`, through which Linux writes ST's NIST configuration, and the
//! driver does not: it runs RNG1 in its reset configuration (not yet tried
//! on an MP13).
#![no_std]
#![no_main]

#[cfg(all(feature = "sim", feature = "hw"))]
compile_error!("enable only one of the features `sim` and `hw`");
#[cfg(not(any(feature = "sim", feature = "hw")))]
compile_error!("enable one of the features `sim` (QEMU) and `hw` (STM32MP13)");

use board_rt::{boot_flow, finish, step};
use hal_stm32mp1_otp::regs::saes::MP13;
use hal_stm32mp1_otp::{SaesKdf, Stm32Saes};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, RngChoice};

#[cfg(feature = "sim")]
mod board {
    //! The SAES model standing in for the SoC, the RNG model for RNG1.
    use hal_stm32mp1_otp::Stm32Rng;
    use hal_stm32mp1_otp::sim::{RngSim, SaesSim};

    pub const NAME: &str = "SAES model (sim)";

    /// The device's DHUK as the model holds it (a real one is inside the
    /// SAES and no register shows it; nor does the model's).
    const DHUK: [u8; 16] = *b"qemu-mp13-dhuk!!";

    /// The SAES after a reset: a new model of the same device, its stack
    /// use kept out of the figures (`board_rt::stack::Model`).
    pub fn saes() -> board_rt::stack::Model<SaesSim> {
        board_rt::stack::Model(SaesSim::new(DHUK))
    }

    /// The model completes its work at once.
    pub use board_rt::NoDelay;

    pub fn delay() -> NoDelay {
        NoDelay
    }

    /// The model's output is a function of this seed (SplitMix64): a model
    /// of RNG1's behaviour, not entropy. Each example has its own.
    const RNG_SEED: u64 = 0x5a35_0713_0000_0001;

    /// RNG1 after reset boot `boot`: a new model, as a power cycle makes;
    /// the boot number keeps it from replaying the last boot's stream,
    /// which a real RNG never does.
    pub fn rng(boot: u64) -> Stm32Rng<RngSim, NoDelay> {
        Stm32Rng::new(RngSim::new().with_seed(RNG_SEED + boot), NoDelay)
    }
}

#[cfg(feature = "hw")]
mod board {
    //! The STM32MP13 SAES, secure world, MMU off.
    use board_rt::SpinDelay;
    use hal_stm32mp1_otp::Stm32Rng;
    use hal_stm32mp1_otp::regs::rng::BLOCK_SIZE;
    use hal_stm32mp1_otp::regs::saes::{SAES_BASE_MP13, SAES_SIZE};
    use trusted_core::embedded_hal::delay::DelayNs;
    use trusted_core::{Mmio, VolatileMmio};

    pub const NAME: &str = "hardware";

    /// STM32MP13 RCC (TF-A `stm32mp1_def.h` RCC_BASE).
    const RCC_BASE: usize = 0x5000_0000;
    /// `RCC_MP_AHB5ENSETR` (TF-A `stm32mp13_rcc.h`): write 1 to enable.
    const RCC_MP_AHB5ENSETR: usize = 0x778;
    /// `SAESEN`: the SAES bus clock.
    const SAESEN: u32 = 1 << 3;
    /// `RNG1EN`: the SAES fetches its masking randomness from RNG1.
    const RNG1EN: u32 = 1 << 6;

    /// Switches the SAES and RNG1 clocks on (set-only register: other
    /// clocks stay as they are), then the SAES register block.
    pub fn saes() -> VolatileMmio {
        // SAFETY: the STM32MP13 RCC register block (0x5000_0000, 4 KiB),
        // device memory with the MMU off; only this set-only register is
        // written, from the secure world, before any driver runs.
        let mut rcc = unsafe { VolatileMmio::new(RCC_BASE, 0x1000) };
        rcc.write32(RCC_MP_AHB5ENSETR, SAESEN | RNG1EN);
        // SAFETY: the STM32MP13 SAES register block (0x5400_5000, 1 KiB),
        // device memory with the MMU off; one driver at a time uses it (each
        // boot drops the previous one first).
        unsafe { VolatileMmio::new(SAES_BASE_MP13, SAES_SIZE) }
    }

    /// Cortex-A7 of the STM32MP13 at up to 1 GHz.
    pub fn delay() -> SpinDelay {
        SpinDelay::new(1000)
    }

    /// `RCC_AHB5RSTSETR` / `RCC_AHB5RSTCLRR` (TF-A `stm32mp13_rcc.h`).
    const RCC_AHB5RSTSETR: usize = 0x6E8;
    const RCC_AHB5RSTCLRR: usize = 0x6EC;
    /// `RNG1RST`: bit 6, as `RNG1EN`.
    const RNG1RST: u32 = 1 << 6;
    /// RNG1 on the STM32MP13 (Linux `stm32mp131.dtsi`, `rng@54004000`);
    /// the crate's `regs::rng::RNG1_BASE` is the STM32MP15's (0x5400_3000
    /// is the MP13's HASH1).
    const RNG1_BASE_MP13: usize = 0x5400_4000;

    /// RNG1 after switching its clock on and pulsing its reset, as U-Boot's
    /// `stm32_rng_probe` does (assert, 20 µs, deassert).
    pub fn rng(_boot: u64) -> Stm32Rng<VolatileMmio, SpinDelay> {
        // SAFETY: the STM32MP13 RCC register block (0x5000_0000, 4 KiB),
        // device memory with the MMU off; only these set/clear registers
        // are written (other clocks and resets stay as they are), from the
        // secure world.
        let mut rcc = unsafe { VolatileMmio::new(RCC_BASE, 0x1000) };
        rcc.write32(RCC_MP_AHB5ENSETR, RNG1EN);
        rcc.write32(RCC_AHB5RSTSETR, RNG1RST);
        delay().delay_us(20);
        rcc.write32(RCC_AHB5RSTCLRR, RNG1RST);
        // SAFETY: the STM32MP13 RNG1 register block (1 KiB), device memory
        // with the MMU off; one driver at a time uses it (each boot drops
        // the previous one first).
        let mmio = unsafe { VolatileMmio::new(RNG1_BASE_MP13, BLOCK_SIZE) };
        Stm32Rng::new(mmio, delay())
    }
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!(
        "stm32mp13-saes-tee: OP-TEE SAES DHUK subkeys, ",
        board::NAME
    );
    // A driver of its own for the checks, gone before the boots make theirs.
    let checked = {
        let mut saes = Stm32Saes::new(board::saes(), board::delay(), MP13);
        saes.probe().and_then(|()| saes.self_test())
    };
    if let Err(e) = checked {
        finish("stm32mp13-saes-tee", Err::<usize, _>(Error::from(e)));
    }
    step!("SAES answers and passes the FIPS-197 self test");

    let mut boot = 0;
    // The sealer's RNG (key and IV) is the source's: `RngChoice::Source`,
    // and the sealer's is RNG1.
    let result = boot_flow(
        || {
            boot += 1;
            let mut rng = board::rng(boot);
            rng.init()?;
            let saes = Stm32Saes::new(board::saes(), board::delay(), MP13);
            step!(
                "boot ",
                boot,
                ": SAES driver made, TA key from the DHUK (arm32 layout)"
            );
            // The SAES runs the sealer's AES-256 too: no software AES.
            Ok(TeeSealer::with_kdf_aes(SaesKdf::stm32mp13(saes), rng))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    finish("stm32mp13-saes-tee", result)
}
