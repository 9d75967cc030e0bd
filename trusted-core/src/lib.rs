#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod log;

pub mod dma;
pub mod error;
pub mod fih;
pub mod flow;
pub mod huk;
pub mod kdf;
pub mod key;
pub mod keyctl;
pub mod mmio;
pub mod one_block;
pub mod poll;
pub mod rng;
pub mod scrub;
pub mod shared;
pub mod source;
pub mod store;
pub mod tee;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod trusted;

pub use dma::{CacheOps, DmaBus, DmaRegion, NoCache, StaticDma};
pub use error::{DriverError, Error, Result};
pub use huk::{
    HUK_LEN, Huk, HukBytes, StaticHuk, StaticSubkey, SubkeyDerive, huk_subkey_derive, ta_unique_key,
};
pub use key::{Key, MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE, SealedBlob};
pub use mmio::{ByteMmio, Mmio, RegisterFile, VolatileMmio};
pub use poll::{Budget, poll_until};
pub use shared::Shared;
pub use source::{RngChoice, Sources, TrustSource};

// Re-exported so hal crates and integrators name one version.
pub use embedded_hal;
pub use embedded_storage;
pub use rand_core;
pub use zeroize;
