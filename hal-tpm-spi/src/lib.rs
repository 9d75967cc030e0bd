#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

#[cfg(feature = "swtpm")]
extern crate std;

mod marshal;

pub mod blob;
pub mod error;
pub mod mmio;
pub mod object;
pub mod policy;
pub mod regs;
#[cfg(feature = "sessions")]
pub mod salted;
#[cfg(feature = "sessions")]
pub mod session;
pub mod source;
pub mod spec;
pub mod spi;
pub mod tis;
pub mod tpm2;

#[cfg(feature = "sim")]
pub mod sim;

pub use error::{Error, Result, Wait};
pub use mmio::{ByteMmio, MmioTis};
pub use policy::{PcrSelection, policy_pcr_update};
pub use source::{TpmRng, TpmSource};
pub use spec::ResponseCode;
pub use spi::SpiTis;
pub use tis::{Timeouts, Tis, TisAccess, TpmInfo};
pub use tpm2::{Auth, Tpm, Transport};

/// A TPM on SPI: the FIFO protocol over SPI framing.
pub type SpiTpm<S, C, D> = Tis<SpiTis<S, C>, D>;

/// A TPM on a memory-mapped TIS: the FIFO protocol over [`MmioTis`].
pub type MmioTpm<M, D> = Tis<MmioTis<M>, D>;
