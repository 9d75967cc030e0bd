#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]


pub mod desc;
pub mod error;
pub mod jr;
pub mod regs;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;

pub use desc::{Descriptor, PointerSize};
pub use error::{Error, JobStatus};
pub use jr::{Caam, Config, KeyMod, RngInit, SecurityState};
pub use source::{CaamHuk, CaamSource, HukOptions, LINUX_KEYMOD};
