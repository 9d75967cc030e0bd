//! A register-level CAAM model (`no_std`): controller page, one job ring,
//! a descriptor interpreter for every command the driver emits, RNG4 state
//! handles, blob crypto, and fault hooks.
//!
//! It implements [`Mmio`] over the whole CAAM block and reads and writes
//! the DMA region through a [`DmaBus`] by bus address, as the hardware
//! does. Writing IRJAR runs the added jobs at once (a job whose output
//! slot is not free waits until software removes entries with ORJRR).
//!
//! Behaviour modelled on the hardware:
//! - ring registers: IRSAR/ORSFR counters, IRRIR/ORWIR byte indices,
//!   JRINTR (JRI write-1-to-clear, JRE with the error type for add/remove
//!   overflow and bad ring addresses), the two-step JRCR reset;
//! - CSTA.MOO chooses the master key: the OTPMK in secure/trusted state,
//!   [`TEST_MASTER_KEY`] otherwise; SCFGR.PRIBLOB bits can only be set and
//!   change every blob key;
//! - RNG4: RDSTA starts at 0; instantiating needs the TRNG out of program
//!   mode with an entropy delay of at least [`SimConfig::min_entropy_delay`]
//!   (else CCB RNG hardware error, as on silicon); generating or making a
//!   blob before SH0 is instantiated is a CCB RNG "not instantiated" error;
//! - anything else gets the DECO or CCB error a CAAM reports: invalid
//!   command, KEY/LOAD/JUMP/SEQ/FIFO STORE/OPERATION errors, undefined
//!   protocol, DMA error for addresses outside the region, ICV check failed
//!   for a blob whose MAC does not verify.
//!
//! The blob derivations are the sim's own (crate README, "The sim"): the real BKEK
//! derivation is not public, so sim blobs never open on silicon.

mod crypto;

use heapless::Vec;
use trusted_core::{DmaBus, Mmio};
use zeroize::Zeroizing;

use crate::regs::{blob as blobsz, cmd, csta, ctrl, jr, status as st};
use crypto::{CryptoError, Drbg};

/// The sim's stand-in for the CAAM's common non-secure test key (the real
/// one is not public).
pub const TEST_MASTER_KEY: [u8; 32] = *b"CAAM sim non-secure test key 256";

/// Mode of operation the sim reports in CSTA.MOO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moo {
    /// Non-secure: blobs use [`TEST_MASTER_KEY`].
    NonSecure,
    /// Secure: blobs use the OTPMK.
    Secure,
    /// Trusted: blobs use the OTPMK.
    Trusted,
    /// Fail: blobs use [`TEST_MASTER_KEY`].
    Fail,
}

impl Moo {
    fn bits(self) -> u32 {
        match self {
            Moo::NonSecure => csta::MOO_NON_SECURE,
            Moo::Secure => csta::MOO_SECURE,
            Moo::Trusted => csta::MOO_TRUSTED,
            Moo::Fail => csta::MOO_FAIL,
        }
    }
}

/// How the simulated CAAM is built.
#[derive(Clone, Copy, Debug)]
pub struct SimConfig {
    /// The device master key (OTPMK fuses).
    pub otpmk: [u8; 32],
    /// Mode of operation.
    pub moo: Moo,
    /// Seed of the TRNG model.
    pub entropy_seed: [u8; 32],
    /// The job ring this sim implements (0..=3).
    pub job_ring: u8,
    /// Page size (4 KiB on i.MX6/7/8M).
    pub page_size: usize,
    /// CTPR_MS.PS: 64-bit pointers possible.
    pub long_pointers: bool,
    /// CTPR_LS.BLOB: blob protocol present.
    pub blob_present: bool,
    /// Number of RNG4 state handles (CTPR_MS.RNG_I).
    pub rng_handles: u8,
    /// Smallest TRNG entropy delay that lets instantiation succeed.
    pub min_entropy_delay: u32,
}

impl SimConfig {
    /// A secure-state CAAM (HAB closed) with master key `otpmk` on JR0.
    pub const fn secure(otpmk: [u8; 32]) -> Self {
        Self {
            otpmk,
            moo: Moo::Secure,
            entropy_seed: [0x5e; 32],
            job_ring: 0,
            page_size: crate::regs::PAGE_SIZE_4K,
            long_pointers: true,
            blob_present: true,
            rng_handles: 2,
            min_entropy_delay: 3200,
        }
    }

    /// The same CAAM in non-secure state (HAB open): test key.
    pub const fn non_secure(otpmk: [u8; 32]) -> Self {
        let mut c = Self::secure(otpmk);
        c.moo = Moo::NonSecure;
        c
    }
}

/// Fault hooks, each used up by the next job the sim takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Complete the job with this status word instead of running it.
    ErrorStatus(u32),
    /// Take the job and never complete it (until a ring reset).
    NoCompletion,
    /// Complete the job, then report more full output slots than the ring
    /// has, with JRINTR.JRE set (invalid output-ring write).
    OutputRingOverflow,
}

#[derive(Default)]
struct JobRing {
    irbar_hi: u32,
    irbar: u64,
    irsr: u32,
    orbar_hi: u32,
    orbar: u64,
    orsr: u32,
    /// Jobs added and not yet taken (stuck ones included).
    pending: u32,
    in_index: u32,
    out_index: u32,
    orsfr: u32,
    jrintr: u32,
    jrcfgr_ms: u32,
    jrcfgr_ls: u32,
    jrstar: u32,
    flushed: bool,
    stuck: bool,
}

/// What a descriptor has set up so far.
#[derive(Default)]
struct JobState {
    class2_key: Zeroizing<[u8; 32]>,
    class2_key_len: Option<usize>,
    seq_in: Option<(u64, u32)>,
    seq_out: Option<(u64, u32)>,
    rng_ready: bool,
}

/// The simulated CAAM.
pub struct CaamSim {
    cfg: SimConfig,
    bus: DmaBus,
    ctrl: [u32; 0x700 / 4],
    scfgr: u32,
    mcfgr: u32,
    rdsta: u32,
    jr: JobRing,
    drbg: [Option<Drbg>; 2],
    fault: Option<Fault>,
    jobs_completed: u32,
    last_descriptor: Vec<u32, { cmd::MAX_DESC_WORDS }>,
}

type Status = u32;

fn ccb(index: usize, cha: u32, err: u32) -> Status {
    (st::SSRC_CCB << st::SSRC_SHIFT)
        | (((index as u32) & st::INDEX_MASK) << st::INDEX_SHIFT)
        | (cha << st::CCB_CHAID_SHIFT)
        | err
}

fn deco(index: usize, code: u32) -> Status {
    (st::SSRC_DECO << st::SSRC_SHIFT)
        | (((index as u32) & st::INDEX_MASK) << st::INDEX_SHIFT)
        | code
}

impl CaamSim {
    /// A CAAM after power-on reset, reaching DMA memory through `bus`.
    pub fn new(bus: DmaBus, cfg: SimConfig) -> Self {
        Self {
            cfg,
            bus,
            ctrl: [0; 0x700 / 4],
            scfgr: 0,
            mcfgr: 0,
            rdsta: 0,
            jr: JobRing::default(),
            drbg: [None, None],
            fault: None,
            jobs_completed: 0,
            last_descriptor: Vec::new(),
        }
    }

    /// Arms a fault for the next job.
    pub fn inject(&mut self, fault: Fault) {
        self.fault = Some(fault);
    }

    /// Changes the mode of operation (e.g. a security violation → fail).
    pub fn set_moo(&mut self, moo: Moo) {
        self.cfg.moo = moo;
    }

    /// Jobs that produced an output-ring entry so far.
    pub fn jobs_completed(&self) -> u32 {
        self.jobs_completed
    }

    /// The words of the last descriptor the sim fetched, as the hardware
    /// saw them (for checking the driver's descriptors word for word).
    pub fn last_descriptor(&self) -> &[u32] {
        &self.last_descriptor
    }

    /// The current RDSTA value.
    pub fn rdsta(&self) -> u32 {
        self.rdsta
    }

    fn long_ptr(&self) -> bool {
        self.mcfgr & ctrl::MCFGR_LONG_PTR != 0
    }

    fn ptr_bytes(&self) -> u64 {
        if self.long_ptr() { 8 } else { 4 }
    }

    fn master_key(&self) -> &[u8; 32] {
        match self.cfg.moo {
            Moo::Secure | Moo::Trusted => &self.cfg.otpmk,
            Moo::NonSecure | Moo::Fail => &TEST_MASTER_KEY,
        }
    }

    fn priblob(&self) -> u8 {
        (self.scfgr & ctrl::SCFGR_PRIBLOB_MASK) as u8
    }

    /// Registers mirrored at +0xF00.. of every page.
    fn perfmon(&self, off: usize) -> u32 {
        match off {
            ctrl::CTPR_MS => {
                let ps = if self.cfg.long_pointers {
                    ctrl::CTPR_MS_PS
                } else {
                    0
                };
                ps | ((u32::from(self.cfg.rng_handles) & ctrl::CTPR_MS_RNG_I_MASK)
                    << ctrl::CTPR_MS_RNG_I_SHIFT)
            }
            ctrl::CTPR_LS if self.cfg.blob_present => ctrl::CTPR_LS_BLOB,
            ctrl::CSTA => csta::PLEND | (self.cfg.moo.bits() << csta::MOO_SHIFT),
            ctrl::CCBVID => 4 << 24,
            ctrl::CHAVID_LS => 4 << ctrl::CHAVID_LS_RNGVID_SHIFT,
            ctrl::CHANUM_MS => 4 << 28,
            _ => 0,
        }
    }

    fn ctrl_read(&mut self, off: usize) -> u32 {
        match off {
            ctrl::MCFGR => self.mcfgr,
            ctrl::SCFGR => self.scfgr,
            ctrl::RDSTA => self.rdsta,
            o if o >= 0xF00 => self.perfmon(o),
            o => self.ctrl.get(o / 4).copied().unwrap_or(0),
        }
    }

    fn ctrl_write(&mut self, off: usize, value: u32) {
        match off {
            ctrl::MCFGR => {
                // SWRST and DMA_RST self-clear; keep the rest.
                self.mcfgr = value & !(0b11 << 28) & !(1 << 31);
                if !self.cfg.long_pointers {
                    self.mcfgr &= !ctrl::MCFGR_LONG_PTR;
                }
            }
            // PRIBLOB bits can only be set.
            ctrl::SCFGR => {
                self.scfgr = (value & !ctrl::SCFGR_PRIBLOB_MASK)
                    | ((self.scfgr | value) & ctrl::SCFGR_PRIBLOB_MASK)
            }
            ctrl::RDSTA => {}
            ctrl::RTMCTL => {
                let keep_err = self.ctrl_read(ctrl::RTMCTL) & ctrl::RTMCTL_ERR;
                let err = if value & ctrl::RTMCTL_ERR != 0 {
                    0
                } else {
                    keep_err
                };
                if let Some(r) = self.ctrl.get_mut(off / 4) {
                    *r = (value & !ctrl::RTMCTL_ERR) | err;
                }
            }
            o if o >= 0xF00 => {}
            o => {
                if let Some(r) = self.ctrl.get_mut(o / 4) {
                    *r = value;
                }
            }
        }
    }

    fn jr_read(&mut self, off: usize) -> u32 {
        let r = &self.jr;
        match off {
            jr::IRBAR_HI => (r.irbar >> 32) as u32,
            jr::IRBAR_LO => r.irbar as u32,
            jr::IRSR => r.irsr,
            jr::IRSAR => r.irsr.saturating_sub(r.pending),
            jr::ORBAR_HI => (r.orbar >> 32) as u32,
            jr::ORBAR_LO => r.orbar as u32,
            jr::ORSR => r.orsr,
            jr::ORSFR => r.orsfr,
            jr::JRSTAR => r.jrstar,
            jr::JRINTR => r.jrintr,
            jr::JRCFGR_MS => r.jrcfgr_ms,
            jr::JRCFGR_LS => r.jrcfgr_ls,
            jr::IRRIR => r.in_index.wrapping_mul(self.ptr_bytes() as u32),
            jr::ORWIR => r.out_index.wrapping_mul(self.ptr_bytes() as u32 + 4),
            // Reset completes at once; RESET reads back set only between
            // the flush and the reset write.
            jr::JRCR => u32::from(r.flushed),
            o if o >= 0xF00 => self.perfmon(o),
            _ => 0,
        }
    }

    fn jr_error(&mut self, err_type: u32) {
        self.jr.jrintr = (self.jr.jrintr
            & !(jr::JRINTR_ERR_TYPE_MASK << jr::JRINTR_ERR_TYPE_SHIFT))
            | jr::JRINTR_JRE
            | (err_type << jr::JRINTR_ERR_TYPE_SHIFT);
    }

    fn jr_write(&mut self, off: usize, value: u32) {
        match off {
            jr::IRBAR_HI => self.jr.irbar_hi = value,
            jr::IRBAR_LO => self.jr.irbar = (u64::from(self.jr.irbar_hi) << 32) | u64::from(value),
            jr::IRSR => self.jr.irsr = value.min(jr::RING_SIZE_MAX),
            jr::ORBAR_HI => self.jr.orbar_hi = value,
            jr::ORBAR_LO => self.jr.orbar = (u64::from(self.jr.orbar_hi) << 32) | u64::from(value),
            jr::ORSR => self.jr.orsr = value.min(jr::RING_SIZE_MAX),
            jr::IRJAR => {
                let available = self.jr.irsr.saturating_sub(self.jr.pending);
                if value > available {
                    self.jr_error(jr::ERR_TYPE_ADD_OVERFLOW);
                } else {
                    self.jr.pending += value;
                    self.process();
                }
            }
            jr::ORJRR => {
                if value > self.jr.orsfr {
                    self.jr_error(jr::ERR_TYPE_REMOVE_OVERFLOW);
                } else {
                    self.jr.orsfr -= value;
                    self.process();
                }
            }
            jr::JRINTR => {
                // JRI and JRE are write-1-to-clear; a cleared JRE drops its type.
                let mut v = self.jr.jrintr & !(value & (jr::JRINTR_JRI | jr::JRINTR_JRE));
                if v & jr::JRINTR_JRE == 0 {
                    v &= !(jr::JRINTR_ERR_TYPE_MASK << jr::JRINTR_ERR_TYPE_SHIFT);
                }
                if value & (jr::JRINTR_HALT_MASK << jr::JRINTR_HALT_SHIFT) != 0 {
                    v &= !(jr::JRINTR_HALT_MASK << jr::JRINTR_HALT_SHIFT);
                }
                self.jr.jrintr = v;
            }
            jr::JRCFGR_MS => self.jr.jrcfgr_ms = value,
            jr::JRCFGR_LS => self.jr.jrcfgr_ls = value,
            jr::JRCR if value & jr::JRCR_RESET != 0 => {
                if self.jr.flushed {
                    // Second write: reset the ring to its power-on state.
                    self.jr = JobRing::default();
                } else {
                    // First write: flush every job, report halt complete.
                    self.jr.pending = 0;
                    self.jr.stuck = false;
                    self.jr.flushed = true;
                    self.jr.jrintr = (self.jr.jrintr
                        & !(jr::JRINTR_HALT_MASK << jr::JRINTR_HALT_SHIFT))
                        | (jr::JRINTR_HALT_DONE << jr::JRINTR_HALT_SHIFT);
                }
            }
            _ => {}
        }
    }

    /// Runs waiting jobs while output slots are free.
    fn process(&mut self) {
        while self.jr.pending > 0 && !self.jr.stuck && self.jr.orsr > 0 {
            if self.jr.orsfr >= self.jr.orsr || self.jr.irsr == 0 {
                return;
            }
            let fault = self.fault.take();
            if fault == Some(Fault::NoCompletion) {
                self.jr.stuck = true;
                return;
            }
            let entry = self.jr.irbar + u64::from(self.jr.in_index) * self.ptr_bytes();
            let desc_addr = match self.read_ptr(entry) {
                Some(a) => a,
                None => {
                    self.jr_error(jr::ERR_TYPE_BAD_INPUT_ADDRESS);
                    self.jr.pending = 0;
                    return;
                }
            };
            self.jr.pending -= 1;
            self.jr.in_index = (self.jr.in_index + 1) % self.jr.irsr;
            let status = match fault {
                Some(Fault::ErrorStatus(s)) => s,
                _ => self.execute(desc_addr),
            };
            let out = self.jr.orbar + u64::from(self.jr.out_index) * (self.ptr_bytes() + 4);
            if self.write_completion(out, desc_addr, status).is_err() {
                self.jr_error(jr::ERR_TYPE_INVALID_OUTPUT_WRITE);
                return;
            }
            self.jr.out_index = (self.jr.out_index + 1) % self.jr.orsr;
            self.jr.orsfr += 1;
            self.jr.jrstar = status;
            self.jr.jrintr |= jr::JRINTR_JRI;
            self.jobs_completed = self.jobs_completed.wrapping_add(1);
            if fault == Some(Fault::OutputRingOverflow) {
                self.jr.orsfr = self.jr.orsr + 1;
                self.jr_error(jr::ERR_TYPE_INVALID_OUTPUT_WRITE);
            }
        }
    }

    /// Output-ring entry: descriptor pointer (low word first), then status.
    fn write_completion(&self, at: u64, desc_addr: u64, status: u32) -> trusted_core::Result<()> {
        self.bus.write_u32_le(at, desc_addr as u32)?;
        if self.long_ptr() {
            self.bus.write_u32_le(at + 4, (desc_addr >> 32) as u32)?;
        }
        self.bus.write_u32_le(at + self.ptr_bytes(), status)
    }

    fn read_ptr(&self, address: u64) -> Option<u64> {
        let lo = self.bus.read_u32_le(address).ok()?;
        if self.long_ptr() {
            let hi = self.bus.read_u32_le(address + 4).ok()?;
            Some(u64::from(lo) | (u64::from(hi) << 32))
        } else {
            Some(u64::from(lo))
        }
    }

    /// Fetches and interprets one job descriptor; returns its status word.
    fn execute(&mut self, address: u64) -> Status {
        self.last_descriptor.clear();
        let Ok(header) = self.bus.read_u32_le(address) else {
            return deco(0, st::DECO_DMA);
        };
        if (header >> cmd::TYPE_SHIFT) != cmd::DESC_HDR
            || header & cmd::HDR_ONE == 0
            || header & cmd::HDR_ZRO != 0
            || header & cmd::HDR_SHARED != 0
            || (header >> cmd::HDR_START_IDX_SHIFT) & cmd::HDR_START_IDX_MASK != 0
        {
            return deco(0, st::DECO_INVALID_COMMAND);
        }
        if header & cmd::HDR_DNR != 0 {
            return deco(0, 0x80);
        }
        let len = (header & cmd::HDR_LEN_MASK) as usize;
        if len == 0 || len > cmd::MAX_DESC_WORDS {
            return deco(0, st::DECO_HEADER_LENGTH);
        }
        for i in 0..len {
            match self.bus.read_u32_le(address + 4 * i as u64) {
                Ok(w) => {
                    let _ = self.last_descriptor.push(w);
                }
                Err(_) => return deco(i, st::DECO_DMA),
            }
        }
        let words: Vec<u32, { cmd::MAX_DESC_WORDS }> = self.last_descriptor.clone();
        let mut job = JobState::default();
        let mut i = 1;
        while let Some(&word) = words.get(i) {
            if let Err(status) = self.command(&words, &mut i, word, &mut job) {
                return status;
            }
        }
        0
    }

    /// Takes the pointer at `words[*i]` (1 or 2 words) and advances `i`.
    fn take_ptr(&self, words: &[u32], i: &mut usize) -> Option<u64> {
        let lo = *words.get(*i)?;
        *i += 1;
        if self.long_ptr() {
            let hi = *words.get(*i)?;
            *i += 1;
            Some(u64::from(lo) | (u64::from(hi) << 32))
        } else {
            Some(u64::from(lo))
        }
    }

    fn command(
        &mut self,
        words: &[u32],
        i: &mut usize,
        word: u32,
        job: &mut JobState,
    ) -> Result<(), Status> {
        let idx = *i;
        *i += 1;
        let class = (word >> cmd::CLASS_SHIFT) & cmd::CLASS_MASK;
        match word >> cmd::TYPE_SHIFT {
            cmd::KEY => {
                let len = (word & cmd::KEY_LEN_MASK) as usize;
                let dest = (word >> cmd::KEY_DEST_SHIFT) & cmd::KEY_DEST_MASK;
                if class != 2
                    || dest != cmd::KEY_DEST_CLASS_REG
                    || word & (cmd::KEY_SGF | cmd::KEY_ENC) != 0
                    || len > job.class2_key.len()
                {
                    return Err(deco(idx, st::DECO_KEY));
                }
                let key = job
                    .class2_key
                    .get_mut(..len)
                    .ok_or(deco(idx, st::DECO_KEY))?;
                if word & cmd::IMMEDIATE != 0 {
                    let n = len.div_ceil(4);
                    let data = words.get(*i..*i + n).ok_or(deco(idx, st::DECO_KEY))?;
                    for (chunk, w) in key.chunks_mut(4).zip(data) {
                        let bytes = w.to_le_bytes();
                        chunk
                            .iter_mut()
                            .zip(bytes.iter())
                            .for_each(|(k, b)| *k = *b);
                    }
                    *i += n;
                } else {
                    let addr = self.take_ptr(words, i).ok_or(deco(idx, st::DECO_KEY))?;
                    self.bus
                        .read(addr, key)
                        .map_err(|_| deco(idx, st::DECO_DMA))?;
                }
                job.class2_key_len = Some(len);
                Ok(())
            }
            cmd::LOAD => {
                let dest = (word >> cmd::LOAD_DEST_SHIFT) & cmd::LOAD_DEST_MASK;
                if class != 0
                    || word & cmd::IMMEDIATE == 0
                    || dest != cmd::LOAD_DEST_CLRW
                    || word & cmd::LOAD_LEN_MASK != 4
                    || (word >> cmd::LOAD_OFFSET_SHIFT) & cmd::LOAD_OFFSET_MASK != 0
                {
                    return Err(deco(idx, st::DECO_LOAD));
                }
                words.get(*i).ok_or(deco(idx, st::DECO_LOAD))?;
                *i += 1;
                Ok(())
            }
            cmd::JUMP => {
                let offset = (word & cmd::JUMP_OFFSET_MASK) as usize;
                let jump_type = (word >> cmd::JUMP_TYPE_SHIFT) & cmd::JUMP_TYPE_MASK;
                if jump_type != cmd::JUMP_TYPE_LOCAL
                    || word & (cmd::JUMP_COND_MASK | cmd::JUMP_JSL) != 0
                    || offset == 0
                    || idx + offset > words.len()
                {
                    return Err(deco(idx, st::DECO_JUMP));
                }
                // Jobs run to completion synchronously: "wait until class 1
                // is done" is always already true.
                *i = idx + offset;
                Ok(())
            }
            kind @ (cmd::SEQ_IN_PTR | cmd::SEQ_OUT_PTR) => {
                let unused = if kind == cmd::SEQ_IN_PTR {
                    cmd::SQIN_UNUSED_OPTIONS | cmd::SQ_SGF
                } else {
                    cmd::SQOUT_UNUSED_OPTIONS | cmd::SQ_SGF
                };
                if word & unused != 0 {
                    return Err(deco(idx, st::DECO_SEQ));
                }
                let addr = self.take_ptr(words, i).ok_or(deco(idx, st::DECO_SEQ))?;
                let len = if word & cmd::SQ_EXT != 0 {
                    let l = *words.get(*i).ok_or(deco(idx, st::DECO_SEQ))?;
                    *i += 1;
                    l
                } else {
                    word & cmd::SQ_LEN_MASK
                };
                if kind == cmd::SEQ_IN_PTR {
                    job.seq_in = Some((addr, len));
                } else {
                    job.seq_out = Some((addr, len));
                }
                Ok(())
            }
            cmd::FIFO_STORE => {
                let fifo_type = (word >> cmd::FIFOST_TYPE_SHIFT) & cmd::FIFOST_TYPE_MASK;
                if fifo_type != cmd::FIFOST_TYPE_RNGSTORE
                    || word & cmd::FIFOST_EXT != 0
                    || !job.rng_ready
                {
                    return Err(deco(idx, st::DECO_FIFO_STORE));
                }
                let addr = self
                    .take_ptr(words, i)
                    .ok_or(deco(idx, st::DECO_FIFO_STORE))?;
                let len = (word & cmd::FIFOST_LEN_MASK) as usize;
                let mut buf = Zeroizing::new([0u8; 256]);
                let mut done = 0;
                while done < len {
                    let n = (len - done).min(buf.len());
                    let chunk = buf.get_mut(..n).ok_or(deco(idx, st::DECO_FIFO_STORE))?;
                    self.drbg
                        .first_mut()
                        .and_then(Option::as_mut)
                        .ok_or(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED))?
                        .generate(chunk);
                    self.bus
                        .write(addr + done as u64, chunk)
                        .map_err(|_| deco(idx, st::DECO_DMA))?;
                    done += n;
                }
                Ok(())
            }
            cmd::OPERATION => self.operation(idx, word, job),
            _ => Err(deco(idx, st::DECO_INVALID_COMMAND)),
        }
    }

    fn operation(&mut self, idx: usize, word: u32, job: &mut JobState) -> Result<(), Status> {
        let op_type = (word >> cmd::OP_TYPE_SHIFT) & cmd::OP_TYPE_MASK;
        match op_type {
            cmd::OP_TYPE_CLASS1_ALG => self.rng_operation(idx, word, job),
            cmd::OP_TYPE_ENCAP_PROTOCOL | cmd::OP_TYPE_DECAP_PROTOCOL => {
                if (word >> cmd::OP_PCLID_SHIFT) & cmd::OP_PCLID_MASK != cmd::OP_PCLID_BLOB {
                    return Err(deco(idx, st::DECO_UNDEFINED_PROTOCOL));
                }
                let protinfo = word & cmd::OP_PROTINFO_MASK;
                let encap = op_type == cmd::OP_TYPE_ENCAP_PROTOCOL;
                match protinfo {
                    cmd::BLOB_FMT_NORMAL => self.blob(idx, encap, job),
                    cmd::BLOB_FMT_MASTER_VERIFY if encap => self.mkvb(idx, job),
                    _ => Err(deco(idx, st::DECO_OPERATION)),
                }
            }
            _ => Err(deco(idx, st::DECO_OPERATION)),
        }
    }

    fn trng_ready(&self) -> bool {
        let rtmctl = self.ctrl.get(ctrl::RTMCTL / 4).copied().unwrap_or(0);
        let sdctl = self.ctrl.get(ctrl::RTSDCTL / 4).copied().unwrap_or(0);
        let ent_dly = (sdctl >> ctrl::RTSDCTL_ENT_DLY_SHIFT) & ctrl::RTSDCTL_ENT_DLY_MASK;
        rtmctl & ctrl::RTMCTL_PRGM == 0 && ent_dly >= self.cfg.min_entropy_delay
    }

    fn rng_operation(&mut self, idx: usize, word: u32, job: &mut JobState) -> Result<(), Status> {
        if (word >> cmd::OP_ALG_ALGSEL_SHIFT) & cmd::OP_ALG_ALGSEL_MASK != cmd::OP_ALG_ALGSEL_RNG {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let aai = (word >> cmd::OP_ALG_AAI_SHIFT) & cmd::OP_ALG_AAI_MASK;
        if aai & !(cmd::OP_ALG_AAI_RNG4_SK | cmd::OP_ALG_AAI_RNG4_SH_MASK) != 0
            || word & cmd::OP_ALG_ENCRYPT != 0
        {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let handle = (aai & cmd::OP_ALG_AAI_RNG4_SH_MASK) as usize;
        if handle >= usize::from(self.cfg.rng_handles).min(2) {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let secure_keys = aai & cmd::OP_ALG_AAI_RNG4_SK != 0;
        let pr = word & cmd::OP_ALG_PR_ON != 0;
        let if_bit = ctrl::RDSTA_IF0 << handle;
        let pr_bit = ctrl::RDSTA_PR0 << handle;
        let instantiated = self.rdsta & if_bit != 0;
        let not_inst = ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED);
        match (word >> cmd::OP_ALG_AS_SHIFT) & cmd::OP_ALG_AS_MASK {
            cmd::OP_ALG_AS_INIT => {
                if instantiated {
                    return Err(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_INSTANTIATE));
                }
                if !self.trng_ready() {
                    return Err(ccb(idx, st::CHAID_RNG, st::ERRID_HARDWARE));
                }
                let slot = self.drbg.get_mut(handle).ok_or(not_inst)?;
                *slot = Some(Drbg::instantiate(&self.cfg.entropy_seed, handle as u8));
                self.rdsta |= if_bit | if pr { pr_bit } else { 0 };
                Ok(())
            }
            cmd::OP_ALG_AS_UPDATE => {
                if !instantiated {
                    return Err(not_inst);
                }
                if secure_keys {
                    if self.rdsta & ctrl::RDSTA_SKVN != 0 {
                        return Err(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_SECURE_KEY));
                    }
                    self.rdsta |= ctrl::RDSTA_SKVN;
                } else {
                    job.rng_ready = handle == 0;
                }
                Ok(())
            }
            cmd::OP_ALG_AS_FINALIZE => {
                if instantiated {
                    Ok(())
                } else {
                    Err(not_inst)
                }
            }
            _ => {
                if !instantiated {
                    return Err(not_inst);
                }
                if let Some(slot) = self.drbg.get_mut(handle) {
                    *slot = None;
                }
                self.rdsta &= !(if_bit | pr_bit);
                Ok(())
            }
        }
    }

    fn blob(&mut self, idx: usize, encap: bool, job: &mut JobState) -> Result<(), Status> {
        let key_len = job
            .class2_key_len
            .filter(|&l| l <= blobsz::KEYMOD_MAX)
            .ok_or(ccb(idx, st::CHAID_AES, st::ERRID_KEY_SIZE))?;
        let keymod = job.class2_key.get(..key_len).unwrap_or(&[]);
        let (Some((in_addr, in_len)), Some((out_addr, out_len))) = (job.seq_in, job.seq_out) else {
            return Err(deco(idx, st::DECO_SEQ));
        };
        let (in_len, out_len) = (in_len as usize, out_len as usize);
        let size_err = ccb(idx, st::CHAID_AES, st::ERRID_DATA_SIZE);
        let (data_len, blob_len) = if encap {
            (in_len, out_len)
        } else {
            (out_len, in_len)
        };
        if data_len == 0 || data_len > crypto::MAX_DATA || blob_len != data_len + blobsz::OVERHEAD {
            return Err(size_err);
        }
        let bkek = crypto::bkek(
            self.master_key(),
            self.priblob(),
            cmd::BLOB_FMT_NORMAL as u8,
            keymod,
        );
        let mut input = Zeroizing::new([0u8; crypto::MAX_DATA + blobsz::OVERHEAD]);
        let mut output = Zeroizing::new([0u8; crypto::MAX_DATA + blobsz::OVERHEAD]);
        let input = input.get_mut(..in_len).ok_or(size_err)?;
        let output = output.get_mut(..out_len).ok_or(size_err)?;
        self.bus
            .read(in_addr, input)
            .map_err(|_| deco(idx, st::DECO_DMA))?;
        if encap {
            let mut bk = Zeroizing::new([0u8; blobsz::BLOB_KEY_LEN]);
            self.drbg
                .first_mut()
                .and_then(Option::as_mut)
                .ok_or(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED))?
                .generate(bk.as_mut());
            crypto::encapsulate(&bkek, &bk, input, output).map_err(|_| size_err)?;
        } else {
            crypto::decapsulate(&bkek, input, output).map_err(|e| match e {
                CryptoError::Icv => ccb(idx, st::CHAID_AES, st::ERRID_ICV_CHECK),
                CryptoError::Length => size_err,
            })?;
        }
        self.bus
            .write(out_addr, output)
            .map_err(|_| deco(idx, st::DECO_DMA))
    }

    fn mkvb(&mut self, idx: usize, job: &mut JobState) -> Result<(), Status> {
        let Some((out_addr, out_len)) = job.seq_out else {
            return Err(deco(idx, st::DECO_SEQ));
        };
        if out_len as usize != blobsz::MKVB_LEN || job.seq_in.is_some() {
            return Err(ccb(idx, st::CHAID_AES, st::ERRID_DATA_SIZE));
        }
        let mkvb = crypto::mkvb(self.master_key(), self.priblob());
        self.bus
            .write(out_addr, mkvb.as_ref())
            .map_err(|_| deco(idx, st::DECO_DMA))
    }
}

impl Mmio for CaamSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let page = offset / self.cfg.page_size;
        let off = offset % self.cfg.page_size;
        if page == 0 {
            self.ctrl_read(off)
        } else if page == usize::from(self.cfg.job_ring) + 1 {
            self.jr_read(off)
        } else if off >= 0xF00 {
            self.perfmon(off)
        } else {
            0
        }
    }

    fn write32(&mut self, offset: usize, value: u32) {
        let page = offset / self.cfg.page_size;
        let off = offset % self.cfg.page_size;
        if page == 0 {
            self.ctrl_write(off, value)
        } else if page == usize::from(self.cfg.job_ring) + 1 {
            self.jr_write(off, value)
        }
    }
}
