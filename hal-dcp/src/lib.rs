#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod cipher;
pub mod dcp;
pub mod error;
pub mod regs;
pub mod rngb;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;

pub use cipher::DcpAes;
pub use dcp::{AesKey, Dcp, Direction, MIN_DMA_LEN, Mode};
pub use error::{Error, Wait};
pub use rngb::Rngb;
pub use source::{DcpHuk, DcpSource, SealingKey};
