//! Test doubles shared by every crate's tests (feature `test-util`, for
//! dev-dependencies and host tools that drive the sims, such as `trustctl
//! demo`; it links `std`). Nothing here belongs in
//! firmware: [`NoDelay`] turns every bounded wait into a count of polls.

// Test doubles fail loudly: a panic here is a failed test, never firmware.
#![allow(clippy::panic)]

extern crate std;

use core::convert::Infallible;
use std::boxed::Box;
use std::string::String;
use std::vec;
use std::vec::Vec;

use embedded_hal::delay::DelayNs;

use crate::dma::{NoCache, StaticDma};

mod checks;
mod nor;
mod residue;
mod vectors;

pub use checks::{
    CellSeen, FaultOp, assert_sweep_refused, check_odd_length_fills, fill_zeroed_on_error,
    rng_cell, run_fault_matrix, stream_bytes, sweep_reads,
};
pub use nor::{Interrupted, NorFault, NorOp, PowerCut, RamNor};
pub use residue::{STACK_MARGIN, STACK_SPAN, deep, stack_below_holds};
pub use vectors::{Section, section, sections_with, vectors};

/// A delay that returns at once (models answer immediately).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDelay;

impl DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

/// A delay that returns at once and adds up what it was asked to wait, so
/// a test can check a timeout was bounded by the budget, not by wall time.
#[derive(Debug, Default)]
pub struct CountingDelay {
    /// Nanoseconds asked for so far.
    pub waited_ns: u64,
}

impl DelayNs for CountingDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.waited_ns += u64::from(ns);
    }
}

/// An RNG that hands out a scripted byte sequence, then counts upwards
/// from 1 (so round trips work past the script).
#[derive(Debug, Default)]
pub struct ScriptRng {
    script: std::collections::VecDeque<u8>,
    next: u8,
}

impl ScriptRng {
    /// Hands out `script`, then 1, 2, 3, …
    pub fn new(script: &[u8]) -> Self {
        Self {
            script: script.iter().copied().collect(),
            next: 0,
        }
    }

    /// Counts upwards from `start + 1` without a script.
    pub fn counting(start: u8) -> Self {
        Self {
            script: Default::default(),
            next: start,
        }
    }

    /// Script bytes not handed out yet.
    pub fn remaining(&self) -> usize {
        self.script.len()
    }
}

impl rand_core::TryRng for ScriptRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = self.script.pop_front().unwrap_or_else(|| {
                self.next = self.next.wrapping_add(1);
                self.next
            });
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for ScriptRng {}

/// The error of [`BrokenRng`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RngFault;

impl core::fmt::Display for RngFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("rng fault")
    }
}

impl core::error::Error for RngFault {}

/// An RNG that always fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrokenRng;

impl rand_core::TryRng for BrokenRng {
    type Error = RngFault;
    fn try_next_u32(&mut self) -> Result<u32, RngFault> {
        Err(RngFault)
    }
    fn try_next_u64(&mut self) -> Result<u64, RngFault> {
        Err(RngFault)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), RngFault> {
        Err(RngFault)
    }
}

impl rand_core::TryCryptoRng for BrokenRng {}

/// An RNG that hands out a scripted byte sequence and then fails: a
/// request longer than what is left gets [`RngFault`] and no bytes, so a
/// test can make a source run dry in the middle of a draw.
#[derive(Debug, Default)]
pub struct FiniteRng {
    script: std::collections::VecDeque<u8>,
}

impl FiniteRng {
    /// Hands out `script`, then fails.
    pub fn new(script: &[u8]) -> Self {
        Self {
            script: script.iter().copied().collect(),
        }
    }
}

impl rand_core::TryRng for FiniteRng {
    type Error = RngFault;
    fn try_next_u32(&mut self) -> Result<u32, RngFault> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_next_u64(&mut self) -> Result<u64, RngFault> {
        rand_core::utils::next_word_via_fill(self)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), RngFault> {
        if self.script.len() < dst.len() {
            return Err(RngFault);
        }
        let len = dst.len();
        for (b, s) in dst.iter_mut().zip(self.script.drain(..len)) {
            *b = s;
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FiniteRng {}

/// Bytes from hex text; panics (it is for tests) on odd length or a
/// non-hex digit, naming the text.
pub fn unhex(text: &str) -> Vec<u8> {
    let text = text.trim();
    assert!(text.len().is_multiple_of(2), "odd-length hex: {text:?}");
    (0..text.len() / 2)
        .map(|i| {
            text.get(2 * i..2 * i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .unwrap_or_else(|| panic!("not hex: {text:?}"))
        })
        .collect()
}

/// Lowercase hex of `bytes` (the digits of [`crate::key::write_hex`]).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 * bytes.len());
    // Writing into a String cannot fail.
    let _ = crate::key::write_hex(bytes, &mut s);
    s
}

/// A zeroed DMA region of `len` bytes at `bus_address`, leaked for the
/// test's lifetime (a `StaticDma` wants `'static` memory, as on a board).
pub fn leaked_dma(len: usize, bus_address: u64) -> StaticDma {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; len].into_boxed_slice());
    StaticDma::new(buffer, bus_address, NoCache)
}
