//! i.MX8M firmware: the bootloader flow on the CAAM (`board_rt::boot_flow`:
//! twice across an in-process reboot under QEMU, once in the `hw` build).
//!
//! 1. Linux `trusted.source=caam` blob (`CaamSource`, key modifier
//!    `SECURE_KEY`). Linux's CAAM source has no RNG of its own and takes
//!    keys from the kernel's; firmware on an i.MX8M has no RNG but the
//!    CAAM's RNG4, so the new key is drawn there, through the source
//!    (`CaamSource::with_rng4`, `RngChoice::Source`).
//! 2. Linux `trusted.source=tee` blob over OP-TEE's CAAM HUK (the first 16
//!    bytes of the master key verification blob, `CaamHuk`), with the CAAM's
//!    RNG4 as the sealer's RNG (key and IV) and the CAAM's AES under its
//!    AES-256-GCM (`TeeSealer::with_rng_aes`: no software AES linked).
//!
//! Feature `sim` (default, for QEMU `virt` with `-cpu cortex-a53`, which has
//! no CAAM): the CAAM model from `hal_caam::sim` is the `Mmio`, secure state
//! with a demo OTPMK; every boot makes a new model from the same fuses, as a
//! power cycle does. Feature `hw`: the i.MX8M CAAM at 0x3090_0000, job ring
//! 0 (the ring U-Boot SPL uses; it must belong to this world), MMU and
//! caches off (else give `StaticDma` a `CacheOps`).
#![no_std]
#![no_main]

#[cfg(all(feature = "sim", feature = "hw"))]
compile_error!("enable only one of the features `sim` and `hw`");
#[cfg(not(any(feature = "sim", feature = "hw")))]
compile_error!("enable one of the features `sim` (QEMU) and `hw` (i.MX8M)");

use board_rt::{boot_flow, dma_buffer, finish, step};
use hal_caam::{Caam, CaamHuk, CaamSource, Config, HukOptions};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, NoCache, RngChoice, StaticDma};

#[cfg(feature = "sim")]
mod board {
    //! The CAAM model in place of the block.
    use hal_caam::sim::{CaamSim, SimConfig};
    use trusted_core::StaticDma;

    /// The model, its stack use kept out of the figures (`board_rt::stack::Model`).
    pub type Mmio = board_rt::stack::Model<CaamSim>;

    pub const NAME: &str = "CAAM model (sim)";

    /// A public test key standing in for the part's OTPMK fuses.
    const OTPMK: [u8; 32] = *b"imx8m-demo-otpmk-not-a-secret!!!";

    /// The model's RNG4 output is a function of this seed: a model of the
    /// TRNG and DRBG, not entropy. Each example has its own. Every new
    /// model starts from it again, which a real TRNG never does.
    const ENTROPY_SEED: [u8; 32] = *b"imx8-caam example: model, no RNG";

    pub fn caam_mmio(dma: &StaticDma) -> Mmio {
        let config = SimConfig {
            entropy_seed: ENTROPY_SEED,
            ..SimConfig::secure(OTPMK)
        };
        board_rt::stack::Model(CaamSim::new(dma.bus(), config))
    }

    /// The model completes its work at once.
    pub use board_rt::NoDelay;

    pub type Delay = NoDelay;

    pub fn delay() -> Delay {
        NoDelay
    }
}

#[cfg(feature = "hw")]
mod board {
    //! The i.MX8M CAAM (Mini/Nano/Plus/Quad); its clocks are on after SPL.
    use board_rt::SpinDelay;
    use trusted_core::{StaticDma, VolatileMmio};

    pub type Mmio = VolatileMmio;
    pub type Delay = SpinDelay;

    pub const NAME: &str = "hardware";

    /// CAAM base on i.MX8M (reference manuals; Linux imx8mm.dtsi).
    const CAAM_BASE: usize = 0x3090_0000;
    /// Controller page and the four job-ring pages of 4 KiB, and more.
    const CAAM_SIZE: usize = 0x1_0000;

    pub fn caam_mmio(_dma: &StaticDma) -> Mmio {
        // SAFETY: the i.MX8M CAAM register block, device memory with the
        // MMU off; this firmware runs one driver on it at a time (each boot
        // drops the previous one first).
        unsafe { VolatileMmio::new(CAAM_BASE, CAAM_SIZE) }
    }

    /// Cortex-A53 of the i.MX8M at up to 1.8 GHz.
    pub fn delay() -> Delay {
        SpinDelay::new(1800)
    }
}

type CaamDriver = Caam<board::Mmio, StaticDma, board::Delay>;

/// A CAAM driver as after reset (job ring 0), on a fresh DMA buffer.
fn caam() -> Result<CaamDriver, Error> {
    let buffer = dma_buffer().ok_or(Error::BufferTooSmall)?;
    // MMU off: the bus address is the buffer's address (below 4 GiB, as
    // the 32-bit ring pointers need).
    let bus = buffer.as_ptr() as u64;
    let dma = StaticDma::new(buffer, bus, NoCache);
    let mmio = board::caam_mmio(&dma);
    Ok(Caam::new(mmio, dma, board::delay(), Config::new(0))?)
}

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("imx8-caam: i.MX8M CAAM, ", board::NAME);

    step!("== Linux trusted_caam blob (CaamSource, key from RNG4) ==");
    let caam_result = boot_flow(
        || Ok(CaamSource::new(caam()?).with_rng4()),
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    match caam_result {
        Ok(len) => step!("caam blob: PASS (", len, " bytes)"),
        Err(_) => finish("imx8-caam", caam_result),
    }

    step!("== TEE blob over OP-TEE's CAAM MKVB HUK (TeeSealer<CaamHuk, CAAM RNG4 and AES>) ==");
    let tee_result = boot_flow(
        || {
            let mut caam = caam()?;
            caam.init()?;
            caam.rng_instantiate()?;
            let huk = CaamHuk::new(&mut caam, HukOptions::default())?;
            // The CAAM runs the sealer's AES-256 too: no software AES.
            Ok(TeeSealer::with_rng_aes(huk, caam))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    if let Ok(len) = tee_result {
        step!("tee blob (CAAM HUK): PASS (", len, " bytes)");
    }
    finish("imx8-caam", tee_result)
}
