//! STM32MP13 firmware: Linux `trusted.source=tee` blobs keyed by OP-TEE's
//! subkey derivation in the SAES, from the DHUK that never leaves it.
//!
//! On the STM32MP13 OP-TEE has no OTP HUK: its `huk_subkey_derive` runs an
//! AES-CMAC counter-mode KDF in the SAES with `KEYSEL = DHUK`. Firmware in
//! the secure world runs the same derivation on the same SAES
//! (`hal_stm32mp1_otp::SaesKdf`) and so seals and unseals the blobs Linux
//! gets from OP-TEE's trusted_keys TA. Each boot makes the driver again; the
//! blob survives in the (RAM-backed) flash, through `trusted_core::flow`.
//!
//! Feature `sim` (default; QEMU has no STM32MP13 machine, so the Cortex-A7
//! `mcimx7d-sabre` runs it with its DDR at 0xC000_0000): the SAES model,
//! made afresh from the same DHUK on every boot, as a reset does. Feature
//! `hw`: the SAES at 0x5400_5000, secure world (a non-secure access gets
//! another DHUK, or nothing through OP-TEE's firewall); the SAES and RNG1
//! clocks are switched on in the RCC first.
#![no_std]
#![no_main]

#[cfg(all(feature = "sim", feature = "hw"))]
compile_error!("enable only one of the features `sim` and `hw`");
#[cfg(not(any(feature = "sim", feature = "hw")))]
compile_error!("enable one of the features `sim` (QEMU) and `hw` (STM32MP13)");

use board_rt::{DemoRng, boot_twice, finish, step};
use hal_stm32mp1_otp::regs::saes::MP13;
use hal_stm32mp1_otp::{SaesKdf, Stm32Saes};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, RngChoice};

#[cfg(feature = "sim")]
mod board {
    //! The SAES model standing in for the SoC.
    use hal_stm32mp1_otp::sim::SaesSim;

    pub const NAME: &str = "SAES model (sim)";

    /// The device's DHUK as the model holds it (a real one is inside the
    /// SAES and no register shows it; nor does the model's).
    const DHUK: [u8; 16] = *b"qemu-mp13-dhuk!!";

    /// The SAES after a reset: a new model of the same device.
    pub fn saes() -> SaesSim {
        SaesSim::new(DHUK)
    }

    /// The model completes its work at once.
    pub use board_rt::NoDelay;

    pub fn delay() -> NoDelay {
        NoDelay
    }
}

#[cfg(feature = "hw")]
mod board {
    //! The STM32MP13 SAES, secure world, MMU off.
    use board_rt::SpinDelay;
    use hal_stm32mp1_otp::regs::saes::{SAES_BASE_MP13, SAES_SIZE};
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
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!(
        "stm32mp13-saes-tee: OP-TEE SAES DHUK subkeys, {}",
        board::NAME
    );
    let mut saes = Stm32Saes::new(board::saes(), board::delay(), MP13);
    let checked = saes.probe().and_then(|()| saes.self_test());
    if let Err(e) = checked {
        finish("stm32mp13-saes-tee", Err::<usize, _>(Error::from(e)));
    }
    step!("SAES answers and passes the FIPS-197 self test");
    drop(saes);

    let mut seed = 300;
    let mut boot = 0;
    // The sealer's RNG (key and IV) is the source's: `RngChoice::Source`.
    // NOT random: a device passes its TRNG (RNG1) here.
    let result = boot_twice(
        || {
            boot += 1;
            seed += 1;
            let saes = Stm32Saes::new(board::saes(), board::delay(), MP13);
            step!("boot {boot}: SAES driver made, TA key from the DHUK (arm32 layout)");
            Ok(TeeSealer::new(SaesKdf::stm32mp13(saes), DemoRng::new(seed)))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    finish("stm32mp13-saes-tee", result)
}
