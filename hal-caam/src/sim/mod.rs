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
//! The blob derivations are the sim's own (crate README, "Sim"): the real BKEK
//! derivation is not public, so sim blobs never open on silicon.
//!
//! This module holds the state, the configuration, the fault hooks and the
//! controller page; `ring` the job-ring registers, `interpreter` the
//! descriptor interpreter, `crypto` the stated blob and RNG crypto.
//!
//! The configuration is checked at construction ([`CaamSim::try_new`],
//! one [`SimConfigError`] per rule, as `Caam::new` checks the driver's):
//! a model built with [`CaamSim::new`] from a refused configuration reads
//! as absent hardware (every register 0, writes ignored) instead of
//! dividing by a zero page size. The OTPMK and the entropy seed are wiped
//! when the model drops, and `Debug` never prints them (the model is
//! linked into QEMU firmware).

mod crypto;
mod interpreter;
mod ring;

use heapless::Vec;
use trusted_core::fih::ReadFlip;
pub use trusted_core::fih::ReadGlitch;
use trusted_core::{DmaBus, Mmio};
use zeroize::Zeroize;

use crate::regs::{cmd, csta, ctrl};
use crypto::Drbg;
use ring::JobRing;

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

/// How the simulated CAAM is built. Not `Copy` and not printed by `Debug`
/// in full: it holds key material (the OTPMK, the entropy seed), which the
/// [`CaamSim`] it is moved into wipes when it drops. (No `Drop` here, so
/// `SimConfig { .., ..SimConfig::secure(k) }` keeps working.)
#[derive(Clone)]
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

impl core::fmt::Debug for SimConfig {
    /// Everything but the OTPMK and the entropy seed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimConfig")
            .field("moo", &self.moo)
            .field("job_ring", &self.job_ring)
            .field("page_size", &self.page_size)
            .field("long_pointers", &self.long_pointers)
            .field("blob_present", &self.blob_present)
            .field("rng_handles", &self.rng_handles)
            .field("min_entropy_delay", &self.min_entropy_delay)
            .finish_non_exhaustive()
    }
}

/// A [`SimConfig`] value [`CaamSim::try_new`] refuses, one variant per rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimConfigError {
    /// `job_ring` above 3.
    JobRing(u8),
    /// `page_size` neither 4 KiB nor 64 KiB (0 would divide by zero, 1 or
    /// 0x100 would put the job-ring page on the controller page).
    PageSize(usize),
    /// `rng_handles` outside 1..=2 (the model has two state handles).
    RngHandles(u8),
}

impl core::fmt::Display for SimConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SimConfigError::JobRing(v) => write!(f, "sim job ring {v} is not 0..=3"),
            SimConfigError::PageSize(v) => write!(f, "sim page size {v:#x} is not 4 or 64 KiB"),
            SimConfigError::RngHandles(v) => write!(f, "sim RNG handles {v} is not 1..=2"),
        }
    }
}

impl SimConfig {
    /// The first rule this configuration breaks, if any.
    pub fn check(&self) -> Result<(), SimConfigError> {
        if self.job_ring > 3 {
            return Err(SimConfigError::JobRing(self.job_ring));
        }
        if self.page_size != crate::regs::PAGE_SIZE_4K
            && self.page_size != crate::regs::PAGE_SIZE_64K
        {
            return Err(SimConfigError::PageSize(self.page_size));
        }
        if !(1..=2).contains(&self.rng_handles) {
            return Err(SimConfigError::RngHandles(self.rng_handles));
        }
        Ok(())
    }

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

/// Fault hooks for [`CaamSim::inject`]. One job fault is armed at a time (a
/// new one replaces it); each is one-shot, used up by the next job the sim
/// takes. [`Fault::FlipReadBit`] is armed beside it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// One-shot: complete the next job with this status word instead of
    /// running it.
    ErrorStatus(u32),
    /// One-shot: take the next job and never complete it; the ring stays
    /// stuck until software resets it (JRCR).
    NoCompletion,
    /// One-shot: complete the next job, then report more full output slots
    /// than the ring has, with JRINTR.JRE set (invalid output-ring write).
    OutputRingOverflow,
    /// One-shot: the next job completes with status 0, but the AES block
    /// it encrypts comes out with its first bit flipped (a stuck data line,
    /// or a descriptor the hardware reads otherwise than the driver means).
    CorruptAesOutput,
    /// One-shot: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`CaamSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
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
    /// [`Fault::CorruptAesOutput`] applies to the job running now.
    corrupt_aes: bool,
    flip: ReadFlip,
    config_error: Option<SimConfigError>,
    jobs_completed: u32,
    last_descriptor: Vec<u32, { cmd::MAX_DESC_WORDS }>,
    /// The interpreter's job buffer (a blob, or a chunk of RNG output):
    /// here rather than on the stack of the register write that runs the
    /// job; zeroed after every job.
    scratch: [u8; crypto::MAX_DATA + crate::regs::blob::OVERHEAD],
}

impl Drop for CaamSim {
    fn drop(&mut self) {
        self.cfg.otpmk.zeroize();
        self.cfg.entropy_seed.zeroize();
        self.scratch.zeroize();
    }
}

impl CaamSim {
    /// A CAAM after power-on reset, reaching DMA memory through `bus`, or
    /// the rule `cfg` breaks.
    pub fn try_new(bus: DmaBus, cfg: SimConfig) -> Result<Self, SimConfigError> {
        cfg.check()?;
        Ok(Self::new(bus, cfg))
    }

    /// A CAAM after power-on reset, reaching DMA memory through `bus`. A
    /// configuration [`SimConfig::check`] refuses gives a model that reads
    /// as absent hardware (see [`CaamSim::config_error`]); use
    /// [`CaamSim::try_new`] to get the error instead.
    pub fn new(bus: DmaBus, cfg: SimConfig) -> Self {
        let config_error = cfg.check().err();
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
            corrupt_aes: false,
            flip: ReadFlip::default(),
            config_error,
            jobs_completed: 0,
            last_descriptor: Vec::new(),
            scratch: [0; crypto::MAX_DATA + crate::regs::blob::OVERHEAD],
        }
    }

    /// Arms `fault` for the next job, replacing one not used yet
    /// ([`Fault::FlipReadBit`]: the next matching read, beside a job fault).
    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
            job => self.fault = Some(job),
        }
    }

    /// Disarms a fault not used yet (a ring already stuck by
    /// [`Fault::NoCompletion`] stays stuck until a ring reset).
    pub fn clear_faults(&mut self) {
        self.fault = None;
        self.flip.disarm();
    }

    /// Register reads since construction (what [`Fault::FlipReadBit`]
    /// counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// The rule the configuration broke, for a model built with
    /// [`CaamSim::new`] from a refused [`SimConfig`] (it then reads as
    /// absent hardware).
    pub fn config_error(&self) -> Option<SimConfigError> {
        self.config_error
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
}

impl CaamSim {
    /// Page and offset in it; `None` when the configuration was refused
    /// (the model is absent hardware, and a zero page size cannot divide).
    fn locate(&self, offset: usize) -> Option<(usize, usize)> {
        if self.config_error.is_some() {
            return None;
        }
        Some((
            offset.checked_div(self.cfg.page_size)?,
            offset.checked_rem(self.cfg.page_size)?,
        ))
    }
}

impl Mmio for CaamSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = self.read_register(offset);
        self.flip.apply(offset, value)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        let Some((page, off)) = self.locate(offset) else {
            return;
        };
        if page == 0 {
            self.ctrl_write(off, value)
        } else if page == usize::from(self.cfg.job_ring) + 1 {
            self.jr_write(off, value)
        }
    }
}

impl CaamSim {
    fn read_register(&mut self, offset: usize) -> u32 {
        let Some((page, off)) = self.locate(offset) else {
            return 0;
        };
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
}
