//! The one logging shim of the crate family: `trace!`, `debug!` and
//! `warning!` forward to `defmt` when the *calling* crate has its `defmt`
//! feature on, and otherwise still evaluate (borrow) their arguments, so a
//! build without logging sees the same code and no unused-variable warnings
//! (embassy's `fmt.rs` pattern).
//!
//! The `cfg` inside an exported macro is resolved in the crate that expands
//! it, so every hal crate shares this one copy as long as it names its
//! feature `defmt` and depends on `defmt` optionally, as the workspace rule
//! says. Never pass key material to these macros.

/// Trace-level log (hardware steps); see the [module docs](crate::log).
#[macro_export]
#[doc(hidden)]
macro_rules! trace {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::trace!($s $(, $x)*);
        #[cfg(not(feature = "defmt"))]
        let _ = ($(&$x),*);
    }};
}

/// Debug-level log (unusual device answers); see the [module docs](crate::log).
#[macro_export]
#[doc(hidden)]
macro_rules! debug {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::debug!($s $(, $x)*);
        #[cfg(not(feature = "defmt"))]
        let _ = ($(&$x),*);
    }};
}

/// Warning-level log (insecure states, recoveries); see the
/// [module docs](crate::log).
#[macro_export]
#[doc(hidden)]
macro_rules! warning {
    ($s:literal $(, $x:expr)* $(,)?) => {{
        #[cfg(feature = "defmt")]
        ::defmt::warn!($s $(, $x)*);
        #[cfg(not(feature = "defmt"))]
        let _ = ($(&$x),*);
    }};
}
