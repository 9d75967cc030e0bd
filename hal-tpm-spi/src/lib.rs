#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

#[cfg(feature = "swtpm")]
extern crate std;

/// `?` without the `Try` desugaring and without `From` (same error type
/// in and out): after `?` LLVM tests the discriminant of a returned
/// `Result` twice on the hot paths, once after this `match`. Used only
/// where it measured smaller on every target (the TIS send path, `init`,
/// `abort` and `transmit`, `Tpm::run`, seal's and unseal's tails: 190 B
/// off the TPM size probe without sessions on Thumb-2; the response
/// parsers of `salted`: 500 B off it with sessions); elsewhere `?`
/// measured smaller or the same, so it stays.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Err(e),
        }
    };
}

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
