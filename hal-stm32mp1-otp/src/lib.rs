#![doc = include_str!("../README.md")]
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

pub mod access;
pub mod bsec;
pub mod error;
pub mod provision;
pub mod regs;
pub mod rng;
pub mod saes;
#[cfg(feature = "sim")]
pub mod sim;
pub mod source;
mod uid;

pub use access::{OtpAccess, Smc, SmcOtp};
pub use bsec::{Bsec, BsecStatus, LockState, SecurityState, StickyLock};
pub use error::{Error, LockKind, SaesFault, Wait};
pub use provision::{
    ProvisionError, ProvisionOptions, ProvisionReport, ProvisionStep, huk_words_image,
    provision_huk,
};
pub use rng::Stm32Rng;
pub use saes::{Chaining, SaesKdf, SaesTee, SizeT, Stm32Saes};
pub use source::{HukConfig, HukLockState, HukMode, Stm32mp15Huk, Stm32mp15Tee};
