//! STM32MP15 firmware: OP-TEE's HUK from BSEC OTP words 60..63, provisioned
//! on the first boot, and Linux `trusted.source=tee` blobs keyed by it.
//!
//! Each boot resets the BSEC (shadows reloaded from the fuses, sticky locks
//! cleared), makes a new `Bsec` driver, and if the HUK words are blank burns
//! a new HUK into them (`provision_huk`: program, verify, permanent lock).
//! The fuses outlive the "reboot", as on a device: the model is kept and
//! only reset, the drivers are made again. The HUK, and the sealer's keys
//! and IVs, come from RNG1 (`hal_stm32mp1_otp::Stm32Rng`), set up anew on
//! each boot.
//!
//! Feature `sim` (default; QEMU has no STM32MP15 machine, so the Cortex-A7
//! `mcimx7d-sabre` runs it with its DDR at 0xC000_0000): the BSEC model with
//! blank HUK words, and the RNG model (`RngSim`) for RNG1. Feature `hw`:
//! the BSEC at 0x5C00_5000 and RNG1 at 0x5400_3000 (its clock switched on
//! and its reset pulsed in the RCC first), secure world; it never burns
//! fuses (fusing is irreversible, and an example must not do it unasked):
//! it stops on blank words.
#![no_std]
#![no_main]

#[cfg(all(feature = "sim", feature = "hw"))]
compile_error!("enable only one of the features `sim` and `hw`");
#[cfg(not(any(feature = "sim", feature = "hw")))]
compile_error!("enable one of the features `sim` (QEMU) and `hw` (STM32MP15)");

use board_rt::{boot_flow, finish, step};
use hal_stm32mp1_otp::{Bsec, HukConfig, OtpAccess, ProvisionOptions, Stm32mp15Huk, provision_huk};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, RngChoice};

#[cfg(feature = "sim")]
mod board {
    //! The BSEC model standing in for the SoC's fuse box, the RNG model
    //! for RNG1.
    use hal_stm32mp1_otp::Stm32Rng;
    use hal_stm32mp1_otp::regs::UID_OTP;
    use hal_stm32mp1_otp::sim::{BsecSim, RngSim};
    use trusted_core::{Mmio, Shared};

    pub const NAME: &str = "BSEC model (sim)";

    /// The device: fuses (kept across reboots) and BSEC registers.
    pub struct Device(Shared<BsecSim>);

    impl Device {
        /// A secured open part fresh from the factory: UID burnt, the HUK
        /// words 60..63 blank.
        pub fn new() -> Self {
            let [u0, u1, u2] = UID_OTP;
            let uid = [(u0, 0x0032_0041), (u1, 0x3037_5113), (u2, 0x3838_3735)];
            Self(Shared::new(BsecSim::with_fuses(&uid)))
        }

        /// A system reset: the boot ROM reloads the shadows, sticky locks
        /// clear, fuses and permanent locks stay.
        pub fn power_on_reset(&self) {
            let _ = self.0.with(|sim| sim.reset());
        }

        /// The secure-world register view for a `Bsec` driver.
        pub fn mmio(&self) -> Fuses<'_> {
            Fuses(&self.0)
        }

        /// Fuse program operations so far (to show the second boot burns
        /// nothing).
        pub fn program_ops(&self) -> u32 {
            self.0.with(|sim| sim.program_ops()).unwrap_or(0)
        }
    }

    /// Register access to the shared model, one critical section per access.
    pub struct Fuses<'a>(&'a Shared<BsecSim>);

    impl Mmio for Fuses<'_> {
        fn read32(&mut self, offset: usize) -> u32 {
            self.0.with(|sim| sim.read32(offset)).unwrap_or(0)
        }
        fn write32(&mut self, offset: usize, value: u32) {
            let _ = self.0.with(|sim| sim.write32(offset, value));
        }
    }

    /// The model completes its work at once.
    pub use board_rt::NoDelay;

    pub fn delay() -> NoDelay {
        NoDelay
    }

    /// The model's output is a function of this seed (SplitMix64): a model
    /// of RNG1's behaviour, not entropy. Each example has its own.
    const RNG_SEED: u64 = 0x5732_0715_0000_0001;

    /// RNG1 after reset boot `boot`: a new model, as a power cycle makes;
    /// the boot number keeps it from replaying the last boot's stream,
    /// which a real RNG never does.
    pub fn rng(boot: u64) -> Stm32Rng<RngSim, NoDelay> {
        Stm32Rng::new(RngSim::new().with_seed(RNG_SEED + boot), NoDelay)
    }

    /// The model's fuses may be burnt.
    pub const MAY_PROVISION: bool = true;
}

#[cfg(feature = "hw")]
mod board {
    //! The STM32MP15 BSEC, secure world (BL2/BL32 or bare metal before a
    //! secure monitor), APB5 clock on as after reset.
    use board_rt::SpinDelay;
    use hal_stm32mp1_otp::Stm32Rng;
    use hal_stm32mp1_otp::regs::{BSEC_BASE, BSEC_SIZE, rng};
    use trusted_core::embedded_hal::delay::DelayNs;
    use trusted_core::{Mmio, VolatileMmio};

    pub const NAME: &str = "hardware";

    /// The SoC; a real reset already reloaded the shadows.
    pub struct Device;

    impl Device {
        pub fn new() -> Self {
            Self
        }

        /// Nothing to do: a real reset already reloaded the shadows (the
        /// `hw` build boots once).
        pub fn power_on_reset(&self) {}

        pub fn mmio(&self) -> VolatileMmio {
            // SAFETY: the STM32MP15 BSEC register block (0x5C00_5000, 4 KiB),
            // device memory with the MMU off; one driver at a time uses it
            // (each boot drops the previous one first).
            unsafe { VolatileMmio::new(BSEC_BASE, BSEC_SIZE) }
        }

        pub fn program_ops(&self) -> u32 {
            0
        }
    }

    /// Cortex-A7 of the STM32MP15 at up to 800 MHz.
    pub fn delay() -> SpinDelay {
        SpinDelay::new(800)
    }

    /// STM32MP15 RCC (TF-A `stm32mp1_def.h` RCC_BASE), 4 KiB.
    const RCC_BASE: usize = 0x5000_0000;
    /// `RCC_AHB5RSTSETR`, `RCC_AHB5RSTCLRR`, `RCC_MP_AHB5ENSETR` (TF-A
    /// `stm32mp1_rcc.h`): set-only and clear-only registers.
    const RCC_AHB5RSTSETR: usize = 0x190;
    const RCC_AHB5RSTCLRR: usize = 0x194;
    const RCC_MP_AHB5ENSETR: usize = 0x210;
    /// `RNG1EN` / `RNG1RST`: bit 6 of both (STM32MP15 CMSIS header).
    const RNG1: u32 = 1 << 6;

    /// RNG1 after switching its clock on and pulsing its reset, as U-Boot's
    /// `stm32_rng_probe` does (assert, 20 µs, deassert).
    pub fn rng(_boot: u64) -> Stm32Rng<VolatileMmio, SpinDelay> {
        // SAFETY: the STM32MP15 RCC register block, device memory with the
        // MMU off; only these set/clear registers are written (other
        // clocks and resets stay as they are), from the secure world.
        let mut rcc = unsafe { VolatileMmio::new(RCC_BASE, 0x1000) };
        rcc.write32(RCC_MP_AHB5ENSETR, RNG1);
        rcc.write32(RCC_AHB5RSTSETR, RNG1);
        delay().delay_us(20);
        rcc.write32(RCC_AHB5RSTCLRR, RNG1);
        // SAFETY: the STM32MP15 RNG1 register block (DT `rng@54003000`),
        // device memory with the MMU off; one driver at a time uses it
        // (each boot drops the previous one first).
        let mmio = unsafe { VolatileMmio::new(rng::RNG1_BASE, rng::BLOCK_SIZE) };
        Stm32Rng::new(mmio, delay())
    }

    /// Never burn fuses on a device from an example.
    pub const MAY_PROVISION: bool = false;
}

/// True when every HUK word reads back zero (never programmed).
fn huk_words_blank(access: &mut impl OtpAccess, words: [u8; 4]) -> Result<bool, Error> {
    let mut blank = true;
    for word in words {
        blank &= access.read_fuse(word)? == 0;
    }
    Ok(blank)
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("stm32mp1-otp-tee: STM32MP15 BSEC HUK, ", board::NAME);
    let device = board::Device::new();
    let config = HukConfig::default();
    let mut boot = 0;

    let result = boot_flow(
        || {
            boot += 1;
            device.power_on_reset();
            let mut rng = board::rng(boot);
            rng.init()?;
            let mut bsec = Bsec::new(device.mmio(), board::delay());
            if huk_words_blank(&mut bsec, config.words)? {
                step!(
                    "boot ",
                    boot,
                    ": HUK words ",
                    config.words,
                    " blank: provisioning"
                );
                if !board::MAY_PROVISION {
                    return Err(Error::Unsupported(
                        "this example burns no fuses on a device; provision the HUK with provision_huk and RNG1",
                    ));
                }
                let mut huk = [0u8; 16];
                let report = rng.fill(&mut huk).map_err(Error::from).and_then(|()| {
                    provision_huk(&mut bsec, &huk, ProvisionOptions::default()).map_err(Error::from)
                });
                huk.fill(0);
                let report = report?;
                step!(
                    "boot ",
                    boot,
                    ": HUK programmed ",
                    report.programmed,
                    ", verified ",
                    report.verified,
                    ", locked ",
                    report.locked
                );
            } else {
                step!(
                    "boot ",
                    boot,
                    ": HUK words present (fuse program ops so far: ",
                    device.program_ops(),
                    ")"
                );
            }
            let huk = Stm32mp15Huk::new(bsec, config)?;
            Ok(TeeSealer::new(huk, rng))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    finish("stm32mp1-otp-tee", result)
}
