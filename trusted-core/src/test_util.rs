//! Test doubles shared by every crate's tests (feature `test-util`, for
//! dev-dependencies only; it links `std`). Nothing here belongs in
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

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A zeroed DMA region of `len` bytes at `bus_address`, leaked for the
/// test's lifetime (a `StaticDma` wants `'static` memory, as on a board).
pub fn leaked_dma(len: usize, bus_address: u64) -> StaticDma {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; len].into_boxed_slice());
    StaticDma::new(buffer, bus_address, NoCache)
}

/// One `[name]` section of a vector file: `key = value` lines.
#[derive(Debug, Clone, Default)]
pub struct Section {
    /// The name between the brackets ("" for lines before any header).
    pub name: String,
    fields: Vec<(String, String)>,
}

impl Section {
    /// The text of `key`; panics naming the section and key if absent.
    pub fn get(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("vector [{}] has no {key}", self.name))
    }

    /// `key` decoded from hex.
    pub fn bytes(&self, key: &str) -> Vec<u8> {
        unhex(self.get(key))
    }

    /// `key` decoded from hex into a fixed-size array.
    pub fn array<const N: usize>(&self, key: &str) -> [u8; N] {
        self.bytes(key)
            .try_into()
            .unwrap_or_else(|v: Vec<u8>| panic!("[{}] {key}: {} bytes, not {N}", self.name, v.len()))
    }
}

/// Parses the one vector-file format of the project: `#` comments,
/// `[section]` headers and `key = value` lines (values usually hex). Every
/// vector file sits beside the independent script that wrote it.
pub fn vectors(text: &str) -> Vec<Section> {
    let mut out = vec![Section::default()];
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Section {
                name: name.into(),
                fields: Vec::new(),
            });
        } else {
            let (k, v) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("vector line without '=': {line:?}"));
            if let Some(last) = out.last_mut() {
                last.fields.push((k.trim().into(), v.trim().into()));
            }
        }
    }
    out.retain(|s| !(s.name.is_empty() && s.fields.is_empty()));
    out
}

/// The section called `name`; panics if there is none.
pub fn section<'a>(sections: &'a [Section], name: &str) -> &'a Section {
    sections
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no vector section [{name}]"))
}

/// Every section whose name starts with `prefix` (e.g. `tee` for
/// `[tee-1]`, `[tee-2]`).
pub fn sections_with<'a>(sections: &'a [Section], prefix: &str) -> Vec<&'a Section> {
    sections
        .iter()
        .filter(|s| s.name.starts_with(prefix))
        .collect()
}
