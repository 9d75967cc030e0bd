//! The boot flow on trusted-core's TEE sealer with a fixed HUK: the smallest
//! firmware that seals and unseals a Linux `trusted.source=tee` blob.
#![no_std]
#![no_main]

use board_rt::{BlobStore, DemoRng, KeySource, RamFlash, boot_flow, finish, step};
use trusted_core::StaticHuk;
use trusted_core::tee::TeeSealer;

/// A public test HUK: on a device this comes from DCP, CAAM or OTP fuses.
const HUK: [u8; 16] = *b"qemu-example-huk";

#[unsafe(no_mangle)]
extern "C" fn main() -> ! {
    step!("core-tee: TEE sealer, fixed HUK");
    let mut flash = BlobStore::new(RamFlash::default());
    let mut seed = 1;
    let result = boot_flow(
        || {
            seed += 1;
            Ok(TeeSealer::new(StaticHuk::new(HUK), DemoRng::new(seed)))
        },
        &mut flash,
        KeySource::Source,
    );
    finish("core-tee", result)
}
