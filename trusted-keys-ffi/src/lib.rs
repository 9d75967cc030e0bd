#![doc = include_str!("../README.md")]
#![no_std]
#![deny(missing_docs)]

// On a hosted target (host tests, a host C program linking the staticlib)
// std brings the panic handler; on bare metal the `panic-handler` feature
// does, or the Rust firmware the rlib is linked into.
#[cfg(not(target_os = "none"))]
extern crate std;

mod buf;
mod ctx;
mod ops;
mod platform;
#[cfg(any(feature = "dcp-sim", feature = "caam-sim", feature = "stm32mp1-sim"))]
mod sim;

pub mod caam;
pub mod dcp;
pub mod error;
pub mod rngb;
pub mod stm32mp1;
pub mod tee;
pub mod tpm;

pub use caam::*;
pub use dcp::*;
pub use error::*;
pub use platform::{
    CacheFn, ChipSelectFn, DelayUsFn, Dma, Platform, RandomFn, SpiTransferFn, tk_abi_version,
    tk_key_wipe,
};
pub use rngb::*;
pub use stm32mp1::*;
pub use tee::*;
pub use tpm::*;

/// Version of this C ABI, returned by `tk_abi_version`: a C program
/// compares it with the header's `TK_ABI_VERSION` to catch a header and a
/// library from different releases.
pub const TK_ABI_VERSION: u32 = 1;

/// The only `version` every config struct accepts today. A struct with a
/// higher version (from a newer header) is refused with
/// `TK_E_CONFIG_VERSION`; later releases will keep accepting 1.
pub const TK_CONFIG_VERSION: u32 = 1;

/// Smallest key the backends seal (Linux `MIN_KEY_SIZE`).
pub const TK_MIN_KEY_SIZE: usize = 32;
/// Largest key the backends seal (Linux `MAX_KEY_SIZE`).
pub const TK_MAX_KEY_SIZE: usize = 128;
/// Largest blob any backend writes or reads (Linux `MAX_BLOB_SIZE`): a
/// blob buffer of this size is always large enough.
pub const TK_MAX_BLOB_SIZE: usize = 512;
/// Length of a hardware unique key (OP-TEE `HW_UNIQUE_KEY_LENGTH`).
pub const TK_HUK_LEN: usize = 16;
/// Longest `options` string the TPM functions read, NUL excluded.
pub const TK_MAX_OPTIONS_LEN: usize = 1024;

const _: () = assert!(TK_MIN_KEY_SIZE == trusted_core::MIN_KEY_SIZE);
const _: () = assert!(TK_MAX_KEY_SIZE == trusted_core::MAX_KEY_SIZE);
const _: () = assert!(TK_MAX_BLOB_SIZE == trusted_core::MAX_BLOB_SIZE);
const _: () = assert!(TK_HUK_LEN == trusted_core::HUK_LEN);

/// Halts: only for staticlib builds on bare metal, where nothing else
/// provides a panic handler. No panic is reachable from input (the
/// workspace lints deny unwrap, expect, panic and indexing in this code
/// and in every crate it calls), so this is a last resort, never an error
/// path; with `panic = "abort"` nothing unwinds into C.
#[cfg(all(feature = "panic-handler", target_os = "none"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
