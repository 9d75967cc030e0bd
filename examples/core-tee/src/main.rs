//! The boot flow on trusted-core's TEE sealer with a fixed HUK: the smallest
//! firmware that seals and unseals a Linux `trusted.source=tee` blob, through
//! `trusted_core::flow` and the A/B blob store on a RAM flash.
//!
//! The sealer's key and IV come from the i.MX6ULL RNGB model
//! (`hal_dcp::sim::RngbSim`) through the real `hal_dcp::Rngb` driver (self
//! test, seeding, FIFO reads): it stands in for the board's TRNG, since none
//! of the QEMU machines this runs on (i.MX6UL EVK, `virt`, Cortex-M) models
//! an RNG. On a device, pass the board's TRNG driver instead.
#![no_std]
#![no_main]

use board_rt::{NoDelay, boot_flow, finish, step};
use hal_dcp::Rngb;
use hal_dcp::sim::RngbSim;
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{RngChoice, StaticHuk};

/// A public test HUK: on a device this comes from DCP, CAAM or OTP fuses.
const HUK: [u8; 16] = *b"qemu-example-huk";

/// The model's output is a function of this seed (SplitMix64): a model of
/// the RNGB's behaviour, not entropy. Each example has its own.
const RNG_SEED: u64 = 0xc07e_7ee0_0000_0001;

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("core-tee: TEE sealer, fixed HUK");
    let mut boot = 0;
    // The sealer's RNG (key and IV) is the source's: `RngChoice::Source`.
    let result = boot_flow(
        || {
            boot += 1;
            // A new model on each boot, as a power cycle makes; the boot
            // number keeps it from replaying the last boot's stream, which
            // a real TRNG never does.
            let mut trng = Rngb::new(RngbSim::new().with_seed(RNG_SEED + boot), NoDelay);
            trng.init()?;
            Ok(TeeSealer::new(StaticHuk::new(HUK), trng))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    finish("core-tee", result)
}
