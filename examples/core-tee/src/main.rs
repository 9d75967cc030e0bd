//! The boot flow on trusted-core's TEE sealer with a fixed HUK: the smallest
//! firmware that seals and unseals a Linux `trusted.source=tee` blob, through
//! `trusted_core::flow` and the A/B blob store on a RAM flash.
#![no_std]
#![no_main]

use board_rt::{DemoRng, boot_twice, finish, step};
use trusted_core::flow::{FlowOptions, NoCallerRng};
use trusted_core::tee::TeeSealer;
use trusted_core::{RngChoice, StaticHuk};

/// A public test HUK: on a device this comes from DCP, CAAM or OTP fuses.
const HUK: [u8; 16] = *b"qemu-example-huk";

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("core-tee: TEE sealer, fixed HUK");
    let mut seed = 1;
    // The sealer's RNG (key and IV) is the source's: `RngChoice::Source`.
    let result = boot_twice(
        || {
            seed += 1;
            Ok(TeeSealer::new(StaticHuk::new(HUK), DemoRng::new(seed)))
        },
        &mut NoCallerRng,
        &FlowOptions::new(RngChoice::Source),
    );
    finish("core-tee", result)
}
