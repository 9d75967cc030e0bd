//! Logging shim: forwards to `defmt` with the `defmt` feature, else compiles
//! to nothing (embassy's `fmt.rs` pattern). Never log key material.
#![allow(unused_macros)]

#[cfg(feature = "defmt")]
macro_rules! trace { ($($t:tt)*) => { ::defmt::trace!($($t)*) }; }
#[cfg(not(feature = "defmt"))]
macro_rules! trace {
    ($($t:tt)*) => {{}};
}

#[cfg(feature = "defmt")]
macro_rules! debug { ($($t:tt)*) => { ::defmt::debug!($($t)*) }; }
#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($($t:tt)*) => {{}};
}

#[cfg(feature = "defmt")]
macro_rules! warning { ($($t:tt)*) => { ::defmt::warn!($($t)*) }; }
#[cfg(not(feature = "defmt"))]
macro_rules! warning {
    ($($t:tt)*) => {{}};
}

#[allow(unused_imports)]
pub(crate) use {debug, trace, warning};
