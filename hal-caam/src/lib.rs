#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod aes;
pub mod blob;
pub mod desc;
pub mod error;
pub mod jr;
pub mod regs;
pub mod rng;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;

pub use blob::KeyMod;
pub use desc::{Descriptor, PointerSize};
pub use error::{ConfigError, Error, JobStatus, Wait};
pub use jr::{Caam, Config, SecurityState};
pub use rng::RngInit;
pub use source::{CaamHuk, CaamSource, HukOptions, LINUX_KEYMOD};
