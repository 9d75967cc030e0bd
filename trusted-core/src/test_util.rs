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
use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash, check_erase, check_read, check_write,
};

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
        self.bytes(key).try_into().unwrap_or_else(|v: Vec<u8>| {
            panic!("[{}] {key}: {} bytes, not {N}", self.name, v.len())
        })
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

/// A fault for [`RamNor`]; each stays until [`RamNor::clear_faults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NorFault {
    /// Every program operation fails (`NorFlashErrorKind::Other`) and
    /// changes nothing.
    WriteFails,
    /// Every erase fails and changes nothing.
    EraseFails,
    /// Every read fails.
    ReadFails,
    /// Programs report success but change nothing (a write-protected or
    /// worn-out part).
    WritesIgnored,
}

/// NOR flash in RAM with the `NorFlash` rules enforced: erase sets whole
/// `ERASE`-byte sectors to `0xFF`, programming only clears bits, offsets and
/// lengths must be aligned to `READ`/`WRITE`/`ERASE` (else `NotAligned`),
/// and a `WRITE`-byte word programmed twice without an erase between
/// **panics** (the trait forbids it; real parts may corrupt it).
#[derive(Debug, Clone)]
pub struct RamNor<const READ: usize, const WRITE: usize, const ERASE: usize> {
    bytes: Vec<u8>,
    /// Per `WRITE`-byte word: programmed (or left undefined) since its erase.
    dirty: Vec<bool>,
    faults: Vec<NorFault>,
    programs: usize,
    erases: usize,
}

#[allow(clippy::indexing_slicing)] // bounds checked by check_read/check_write/check_erase first
impl<const READ: usize, const WRITE: usize, const ERASE: usize> RamNor<READ, WRITE, ERASE> {
    /// `capacity` bytes (a multiple of `ERASE`), erased as from the factory.
    pub fn new(capacity: usize) -> Self {
        assert!(
            capacity.is_multiple_of(ERASE) && ERASE.is_multiple_of(WRITE),
            "RamNor: capacity {capacity} must be whole {ERASE}-byte sectors of {WRITE}-byte words"
        );
        Self {
            bytes: vec![0xff; capacity],
            dirty: vec![false; capacity / WRITE],
            faults: Vec::new(),
            programs: 0,
            erases: 0,
        }
    }

    /// The raw contents.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The raw contents, writable (to plant corruption or foreign data);
    /// the program-once bookkeeping is not touched.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    /// Adds a fault.
    pub fn inject(&mut self, fault: NorFault) {
        self.faults.push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// Program operations that changed the array so far.
    pub fn programs(&self) -> usize {
        self.programs
    }

    /// Erase operations that changed the array so far.
    pub fn erases(&self) -> usize {
        self.erases
    }

    fn has(&self, fault: NorFault) -> bool {
        self.faults.contains(&fault)
    }

    /// Programs `data` at `offset`: of each byte's bits due to clear (the
    /// zeros of `data`), clears those `keep(word index in the op, due bits)`
    /// returns; marks the touched words programmed.
    fn program_where(&mut self, offset: u32, data: &[u8], mut keep: impl FnMut(usize, u8) -> u8) {
        let start = offset as usize;
        for (i, &byte) in data.iter().enumerate() {
            let word = (start + i) / WRITE;
            let cleared = !byte & keep(i / WRITE, !byte);
            self.bytes[start + i] &= !cleared;
            self.dirty[word] = true;
        }
    }

    fn check_twice(&self, offset: u32, len: usize) {
        let first = offset as usize / WRITE;
        for word in first..first + len / WRITE {
            assert!(
                !self.dirty[word],
                "RamNor: word at {:#x} programmed twice without an erase",
                word * WRITE
            );
        }
    }
}

impl<const R: usize, const W: usize, const E: usize> ErrorType for RamNor<R, W, E> {
    type Error = NorFlashErrorKind;
}

#[allow(clippy::indexing_slicing)] // bounds checked by check_read/check_write/check_erase first
impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for RamNor<R, W, E> {
    const READ_SIZE: usize = R;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        check_read(self, offset, bytes.len())?;
        if self.has(NorFault::ReadFails) {
            return Err(NorFlashErrorKind::Other);
        }
        let start = offset as usize;
        bytes.copy_from_slice(&self.bytes[start..start + bytes.len()]);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

#[allow(clippy::indexing_slicing)] // bounds checked by check_read/check_write/check_erase first
impl<const R: usize, const W: usize, const E: usize> NorFlash for RamNor<R, W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        if self.has(NorFault::EraseFails) {
            return Err(NorFlashErrorKind::Other);
        }
        let (from, to) = (from as usize, to as usize);
        self.bytes[from..to].fill(0xff);
        self.dirty[from / W..to / W].fill(false);
        self.erases += 1;
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        if self.has(NorFault::WriteFails) {
            return Err(NorFlashErrorKind::Other);
        }
        if self.has(NorFault::WritesIgnored) {
            return Ok(());
        }
        self.check_twice(offset, bytes.len());
        self.program_where(offset, bytes, |_, bits| bits);
        self.programs += 1;
        Ok(())
    }
}

/// One program or erase operation, as [`PowerCut`] logs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NorOp {
    /// `write(offset, len bytes)`.
    Program {
        /// Where.
        offset: u32,
        /// How many bytes.
        len: usize,
    },
    /// `erase(from, to)`.
    Erase {
        /// First byte.
        from: u32,
        /// One past the last byte.
        to: u32,
    },
}

/// What an operation cut short by a power failure leaves behind, in the
/// states real NOR leaves (the `NorFlash` docs: a program cut short leaves
/// its words undefined but can only have cleared bits it was asked to
/// clear; an erase cut short leaves the sector undefined — partly erased,
/// or partly or wholly pre-programmed to zeros by parts that level the
/// cells before erasing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// Nothing reached the array.
    Unchanged,
    /// The operation finished just before the power went.
    Completed,
    /// Program: the words before `word` programmed, word `word` partly
    /// (some of its bits due to clear cleared, chosen by `seed`), the rest
    /// untouched. Erase: partly erased (each 0 bit set to 1 with
    /// probability 1/2, by `seed`).
    Torn {
        /// The word the cut fell in (programs only).
        word: usize,
        /// Chooses the bits.
        seed: u64,
    },
    /// Program: every word partly programmed (each bit due to clear
    /// cleared with probability 1/2). Erase: pre-programming cut short
    /// (each 1 bit cleared with probability 1/2).
    Noise {
        /// Chooses the bits.
        seed: u64,
    },
    /// Erase only: pre-programmed to all zeros, the erase not begun.
    PreProgrammed,
}

impl Interrupted {
    /// Every state to try for a cut during `op` on a flash of `write_size`
    /// words: unchanged, completed, torn at every word (programs) and
    /// `seeds` random variants of each random kind.
    pub fn all_for(op: &NorOp, write_size: usize, seeds: u64) -> Vec<Self> {
        let mut out = vec![Interrupted::Unchanged, Interrupted::Completed];
        match *op {
            NorOp::Program { len, .. } => {
                out.extend((0..len / write_size).map(|word| Interrupted::Torn {
                    word,
                    seed: word as u64,
                }));
            }
            NorOp::Erase { .. } => {
                out.push(Interrupted::PreProgrammed);
                out.extend((0..seeds).map(|seed| Interrupted::Torn { word: 0, seed }));
            }
        }
        out.extend((0..seeds).map(|seed| Interrupted::Noise { seed }));
        out
    }
}

/// splitmix64: the cut states' bit choices, reproducible from a seed.
struct Bits(u64);

impl Bits {
    fn byte(&mut self) -> u8 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u8
    }
}

/// A [`RamNor`] whose power fails during its `n`-th program or erase
/// operation (counting from 0), leaving that operation [`Interrupted`];
/// from then on every operation, reads included, fails with
/// `NorFlashErrorKind::Other` (the code above it has stopped running).
/// [`PowerCut::reboot`] hands the flash back as the next boot finds it.
/// Without a cut it only logs the operations ([`PowerCut::ops`]).
#[derive(Debug)]
pub struct PowerCut<const R: usize, const W: usize, const E: usize> {
    flash: RamNor<R, W, E>,
    cut: Option<(usize, Interrupted)>,
    ops: Vec<NorOp>,
    off: bool,
}

#[allow(clippy::indexing_slicing)] // bounds checked by check_read/check_write/check_erase first
impl<const R: usize, const W: usize, const E: usize> PowerCut<R, W, E> {
    /// Logs operations on `flash`, never cuts.
    pub fn new(flash: RamNor<R, W, E>) -> Self {
        Self {
            flash,
            cut: None,
            ops: Vec::new(),
            off: false,
        }
    }

    /// Cuts power during operation `n`, leaving it `state`.
    pub fn cut_at(flash: RamNor<R, W, E>, n: usize, state: Interrupted) -> Self {
        Self {
            cut: Some((n, state)),
            ..Self::new(flash)
        }
    }

    /// The program and erase operations so far (the cut one included).
    pub fn ops(&self) -> &[NorOp] {
        &self.ops
    }

    /// Whether the power has gone.
    pub fn power_lost(&self) -> bool {
        self.off
    }

    /// Power back on: the flash as it was left.
    pub fn reboot(self) -> RamNor<R, W, E> {
        self.flash
    }

    /// Logs `op`; `Ok(Some(state))` when it is the one to cut short.
    fn begin(&mut self, op: NorOp) -> Result<Option<Interrupted>, NorFlashErrorKind> {
        if self.off {
            return Err(NorFlashErrorKind::Other);
        }
        let n = self.ops.len();
        self.ops.push(op);
        Ok(self.cut.filter(|(at, _)| *at == n).map(|(_, state)| state))
    }

    fn cut_program(&mut self, offset: u32, data: &[u8], state: Interrupted) {
        let flash = &mut self.flash;
        match state {
            Interrupted::Unchanged => {}
            Interrupted::Completed => flash.program_where(offset, data, |_, bits| bits),
            Interrupted::Torn { word, seed } => {
                let mut bits = Bits(seed);
                flash.program_where(offset, data, |w, due| match w.cmp(&word) {
                    core::cmp::Ordering::Less => due,
                    core::cmp::Ordering::Equal => due & bits.byte(),
                    core::cmp::Ordering::Greater => 0,
                });
            }
            Interrupted::Noise { seed } => {
                let mut bits = Bits(seed);
                flash.program_where(offset, data, |_, due| due & bits.byte());
            }
            Interrupted::PreProgrammed => panic!("PreProgrammed is a state of erases only"),
        }
    }

    fn cut_erase(&mut self, from: u32, to: u32, state: Interrupted) {
        let (from, to) = (from as usize, to as usize);
        let flash = &mut self.flash;
        let range = &mut flash.bytes[from..to];
        match state {
            Interrupted::Unchanged => return,
            Interrupted::Completed => range.fill(0xff),
            Interrupted::PreProgrammed => range.fill(0),
            Interrupted::Torn { seed, .. } => {
                let mut bits = Bits(seed);
                range.iter_mut().for_each(|b| *b |= bits.byte());
            }
            Interrupted::Noise { seed } => {
                let mut bits = Bits(seed);
                range.iter_mut().for_each(|b| *b &= bits.byte());
            }
        }
        // Only a finished erase leaves words that may be programmed.
        let done = state == Interrupted::Completed;
        flash.dirty[from / W..to / W].fill(!done);
    }
}

impl<const R: usize, const W: usize, const E: usize> ErrorType for PowerCut<R, W, E> {
    type Error = NorFlashErrorKind;
}

impl<const R: usize, const W: usize, const E: usize> ReadNorFlash for PowerCut<R, W, E> {
    const READ_SIZE: usize = R;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), NorFlashErrorKind> {
        if self.off {
            return Err(NorFlashErrorKind::Other);
        }
        self.flash.read(offset, bytes)
    }

    fn capacity(&self) -> usize {
        self.flash.capacity()
    }
}

impl<const R: usize, const W: usize, const E: usize> NorFlash for PowerCut<R, W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), NorFlashErrorKind> {
        check_erase(self, from, to)?;
        match self.begin(NorOp::Erase { from, to })? {
            None => self.flash.erase(from, to),
            Some(state) => {
                self.cut_erase(from, to, state);
                self.off = true;
                Err(NorFlashErrorKind::Other)
            }
        }
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), NorFlashErrorKind> {
        check_write(self, offset, bytes.len())?;
        match self.begin(NorOp::Program {
            offset,
            len: bytes.len(),
        })? {
            None => self.flash.write(offset, bytes),
            Some(state) => {
                self.flash.check_twice(offset, bytes.len());
                self.cut_program(offset, bytes, state);
                self.off = true;
                Err(NorFlashErrorKind::Other)
            }
        }
    }
}

/// `len` bytes of a model's word stream from word `first` on, as a
/// word-at-a-time RNG driver (RNGB FIFO, STM32 RNG DR) must hand them out:
/// each word little-endian, the rest of the last one dropped. `word(i)` is
/// stream word `i` (the sim's `model_word` for its seed).
pub fn stream_bytes(word: impl Fn(u64) -> u32, first: u64, len: usize) -> Vec<u8> {
    (first..)
        .flat_map(|i| word(i).to_le_bytes())
        .take(len)
        .collect()
}

/// Fills `len` bytes of 0xAA through `rand_core`; when that fails, checks
/// every byte came back zero.
pub fn fill_zeroed_on_error<R: rand_core::TryRng>(
    rng: &mut R,
    len: usize,
) -> Result<Vec<u8>, R::Error> {
    let mut out = vec![0xAA; len];
    let result = rng.try_fill_bytes(&mut out);
    if result.is_err() {
        assert_eq!(out, vec![0; len], "output zeroed on error");
    }
    result.map(|()| out)
}

/// Fills buffers of lengths that cut words every way (odd, empty, whole
/// words) one after the other through `fill`, each checked against the
/// stream `word` (see [`stream_bytes`]) from word 0 on. Returns the stream
/// words used: one per started 4 bytes.
pub fn check_odd_length_fills<E: core::fmt::Debug>(
    mut fill: impl FnMut(&mut [u8]) -> Result<(), E>,
    word: impl Fn(u64) -> u32,
) -> u64 {
    let mut used = 0u64;
    for len in [1usize, 3, 5, 7, 13, 31, 33, 0, 2, 64] {
        let mut out = vec![0u8; len];
        fill(&mut out).unwrap_or_else(|e| panic!("{len} bytes: {e:?}"));
        assert_eq!(out, stream_bytes(&word, used, len), "{len} bytes");
        used += len.div_ceil(4) as u64;
    }
    used
}

/// The operations a fault matrix crosses with a sim's fault hooks (each
/// crate's matrix uses those its drivers have).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOp {
    /// Bring-up: reset, probe, self tests.
    Init,
    /// Draw random bytes.
    Random,
    /// Seal a key.
    Seal,
    /// Unseal a blob.
    Unseal,
    /// Derive or read the hardware unique key.
    Huk,
    /// Burn fuses.
    Provision,
}

/// What one cell of a fault matrix saw, for [`run_fault_matrix`].
#[derive(Debug)]
pub struct CellSeen<T> {
    /// The outcome, compared with the table's.
    pub got: T,
    /// Nanoseconds the operation waited (from a [`CountingDelay`]).
    pub waited_ns: u64,
    /// Whether the caller's output buffer was all zero afterwards.
    pub out_zero: bool,
    /// Whether the DMA region was all zero afterwards; `None` where the
    /// driver has none.
    pub dma_zero: Option<bool>,
}

/// Runs every cell of a fault-matrix table of `(fault name, fault,
/// operation, expected outcome)`: `cell` runs the operation on a fresh
/// model with the fault armed and must not panic, must end in the expected
/// outcome, wait at most `bound_ns`, and leave the output buffer (and the
/// DMA region) zero. A failure names the cell. Returns the cells run.
pub fn run_fault_matrix<F: Copy, T: PartialEq + core::fmt::Debug>(
    table: &[(&str, F, FaultOp, T)],
    bound_ns: u64,
    cell: impl Fn(F, FaultOp) -> CellSeen<T>,
) -> usize {
    let mut cells = 0;
    for (name, fault, op, want) in table {
        let cell_name = std::format!("{name} x {op:?}");
        let run = std::panic::AssertUnwindSafe(|| cell(*fault, *op));
        let seen =
            std::panic::catch_unwind(run).unwrap_or_else(|_| panic!("{cell_name}: panicked"));
        assert_eq!(&seen.got, want, "{cell_name}");
        let waited = seen.waited_ns;
        assert!(waited <= bound_ns, "{cell_name}: waited {waited} ns");
        if let Some(dma) = seen.dma_zero {
            assert!(dma, "{cell_name}: DMA region not zero");
        }
        assert!(seen.out_zero, "{cell_name}: output buffer not zero");
        cells += 1;
    }
    cells
}

/// The operation of an RNG driver's fault-matrix cell: for
/// [`FaultOp::Random`] the driver is brought up with `init` first; then
/// `arm` arms the fault and the operation runs: `init` again for
/// [`FaultOp::Init`] (which has no output buffer), else `fill` into 32
/// bytes of 0xEE. Returns the outcome and whether the buffer was zero
/// afterwards (what a successful fill wrote is cleared first: only a
/// failed one must leave zeros).
pub fn rng_cell<R, E: core::fmt::Debug>(
    rng: &mut R,
    op: FaultOp,
    mut init: impl FnMut(&mut R) -> Result<(), E>,
    fill: impl FnOnce(&mut R, &mut [u8]) -> Result<(), E>,
    arm: impl FnOnce(&mut R),
) -> (Result<(), E>, bool) {
    if op == FaultOp::Random {
        init(rng).unwrap_or_else(|e| panic!("set-up: init failed: {e:?}"));
    }
    arm(rng);
    let mut out = [0xEEu8; 32];
    let r = match op {
        FaultOp::Init => {
            out.fill(0);
            init(rng)
        }
        _ => fill(rng, &mut out),
    };
    if r.is_ok() {
        out.fill(0);
    }
    (r, out.iter().all(|&b| b == 0))
}

/// A glitch sweep over register reads: runs `op` once on a rig from
/// `make` (it must refuse: `op` returns true when it granted what it must
/// refuse), counts the reads it made with `reads`, then for every bit of
/// every one of those reads builds a fresh rig, arms one flip with
/// `flip(rig, nth, bit)` and runs `op` again. Check the result with
/// [`assert_sweep_refused`].
pub fn sweep_reads<R>(
    make: impl Fn() -> R,
    reads: impl Fn(&mut R) -> u32,
    flip: impl Fn(&mut R, u32, u8),
    op: impl Fn(&mut R) -> bool,
) -> crate::fih::Sweep {
    let mut clean = make();
    let before = reads(&mut clean);
    assert!(!op(&mut clean), "the unglitched case must be refused");
    let count = reads(&mut clean) - before;
    crate::fih::Sweep::over_reads(count, |nth, bit| {
        let mut rig = make();
        flip(&mut rig, nth, bit);
        !op(&mut rig)
    })
}

/// Prints a glitch sweep's tally (`--nocapture` shows it) and asserts
/// every case was refused.
pub fn assert_sweep_refused(check: &str, sweep: crate::fih::Sweep) {
    std::println!("glitch sweep {check}: {sweep}");
    assert!(sweep.all_refused(), "{check}: {sweep:?}");
}

// Stack residue: what a secret operation leaves in dead frames
// (`crate::scrub` wipes it).

/// Stack between the caller's frame and the frames [`deep`] runs its
/// operation in: room for [`stack_below_holds`]' own frames (large in
/// debug builds), which would otherwise overwrite what it looks for.
pub const STACK_MARGIN: usize = 16 * 1024;
/// Stack scanned below [`STACK_MARGIN`].
pub const STACK_SPAN: usize = 32 * 1024;

/// Runs `op` below [`STACK_MARGIN`] bytes of padding, and calls nothing
/// after it (in a debug build such a call's frame would overwrite
/// `op`'s dead frames before the scan).
#[inline(never)]
pub fn deep<R>(op: impl FnOnce() -> R) -> R {
    let pad = [0u8; STACK_MARGIN];
    core::hint::black_box(&pad);
    op()
}

/// Whether `needle` is in the [`STACK_SPAN`] bytes of stack that lie
/// [`STACK_MARGIN`] below `top` (the address of a local of the caller):
/// where [`deep`] ran its operation, as a debugger would read it.
#[inline(never)]
pub fn stack_below_holds(top: usize, needle: &[u8]) -> bool {
    let end = top - STACK_MARGIN / 2;
    let mut window = [0u8; 64];
    let mut at = top - STACK_MARGIN - STACK_SPAN;
    while at < end {
        for (i, b) in window.iter_mut().enumerate() {
            // SAFETY: addresses of this thread's own stack, below the
            // caller's live frame and well above its guard page (test
            // threads' stacks are MiBs; this reads 48 KiB); plain
            // bytes, read without a reference.
            *b = unsafe { core::ptr::read_volatile((at + i) as *const u8) };
        }
        if window.windows(needle.len()).any(|w| w == needle) {
            return true;
        }
        at += window.len() - needle.len();
    }
    false
}
