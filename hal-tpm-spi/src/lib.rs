#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

#[cfg(feature = "swtpm")]
extern crate std;

mod marshal;

pub mod blob;
pub mod error;
pub mod regs;
pub mod source;
pub mod spi;
pub mod tis;
pub mod tpm2;

#[cfg(feature = "sim")]
pub mod sim;

pub use error::{TpmError, Wait};
pub use source::{TpmRng, TpmSource};
pub use spi::SpiTis;
pub use tis::{Timeouts, Tis, TisAccess, TpmInfo};
pub use tpm2::{Auth, PcrSelection, Tpm, Transport};

/// A TPM on SPI: the FIFO protocol over SPI framing.
pub type SpiTpm<S, C, D> = Tis<SpiTis<S, C>, D>;
