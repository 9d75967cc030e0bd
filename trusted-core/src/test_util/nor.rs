//! NOR flash in RAM, and the power cut that interrupts it.

extern crate std;

use std::vec;
use std::vec::Vec;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash, check_erase, check_read, check_write,
};

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
