//! Helpers shared by the trusted-core integration tests.
#![allow(dead_code)]

use core::convert::Infallible;

/// An RNG that hands out a scripted byte sequence, then counts upwards.
pub struct ScriptRng {
    pub script: Vec<u8>,
    pub next: u8,
}

impl ScriptRng {
    pub fn new(script: &[u8]) -> Self {
        Self {
            script: script.to_vec(),
            next: 0,
        }
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
            *b = if self.script.is_empty() {
                self.next = self.next.wrapping_add(1);
                self.next
            } else {
                self.script.remove(0)
            };
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for ScriptRng {}

/// An RNG that always fails.
pub struct BrokenRng;

#[derive(Debug)]
pub struct RngFault;
impl core::fmt::Display for RngFault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("rng fault")
    }
}
impl core::error::Error for RngFault {}

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

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Rows of `vectors/vectors.txt` starting with `kind`.
pub fn vectors(kind: &str) -> Vec<Vec<String>> {
    include_str!("../vectors/vectors.txt")
        .lines()
        .filter(|l| l.starts_with(kind) && l.as_bytes().get(kind.len()) == Some(&b' '))
        .map(|l| l.split(' ').skip(1).map(String::from).collect())
        .collect()
}
