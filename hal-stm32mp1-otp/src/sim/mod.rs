//! A behavioural model of the STM32MP15 BSEC and of the secure monitor's
//! `STM32_SMC_BSEC` service in front of it (`no_std`, no heap).
//!
//! It keeps the fuse array apart from the shadow registers and implements
//! the documented behaviour, including what goes wrong:
//!
//! - 96 words; lower words 0..=31 are bit-programmable (programming ORs
//!   bits in, any number of times);
//! - upper words 32..=95 carry ECC fuses next to the data. Programming ORs
//!   the data *and* the ECC of the programmed value into the fuses, as real
//!   fuses do, so a second programming with other bits leaves an ECC that no
//!   longer matches and every later reload reports an `ERROR` bit;
//! - reloads copy fuses into shadows (not under SRLOCK); shadow writes are
//!   dropped under SWLOCK; programming is dropped under SPLOCK, WRLOCK or
//!   GPLOCK (the hardware ignores it, the driver must refuse first);
//! - permanent locks burn the lock area (two bits per lower word, one per
//!   upper word) and show in WRLOCK at once;
//! - BUSY stays set for a few STATUS reads after each operation, SAFMEM
//!   power follows `CONF.POWER_UP` after a few reads;
//! - a secure view ([`BsecSim`] itself as [`Mmio`](trusted_core::Mmio)) and
//!   a non-secure view ([`BsecSim::non_secure`]) in which only the lower
//!   shadows read and everything else reads as zero and ignores writes (the
//!   ETZPC firewall);
//! - the monitor's SMC with the access filter for the normal world
//!   ([`BsecSim::smc`]);
//! - fault hooks ([`BsecSim::inject`] with a [`Fault`]): a disturbed word, an
//!   ECC error, a program or lock failure, BUSY or power stuck; and
//!   OTP-invalid mode ([`BsecSim::set_invalid`]).
//!
//! The model is split as the chip is: `fuse` (the fuse array, shadows and
//! the operations CONTROL starts), `registers` (the register file and the
//! two bus views), `monitor` (the secure monitor's SMC service).
//!
//! Assumptions not confirmed by a public source: WRLOCK reflecting a new
//! permanent lock before reset, reload under SRLOCK leaving the shadow as it
//! was, and an operation without SAFMEM power flagging an `ERROR`.

mod fuse;
mod monitor;
mod registers;
pub mod rng;
pub mod saes;

pub use registers::NonSecureView;
pub use rng::RngSim;
pub use saes::SaesSim;
pub use trusted_core::fih::ReadGlitch;

use crate::regs;

const WORDS: usize = regs::OTP_WORDS;
const BANKS: usize = 3;

/// A fault to inject with [`BsecSim::inject`]. Every fault stays armed
/// (persistent) until [`BsecSim::clear_faults`]; injecting a fault of the
/// same kind again replaces the earlier one.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// Persistent: reloads and programs of this word report `DISTURBED`.
    Disturbed(u8),
    /// Persistent: reloads of this word report an ECC `ERROR`.
    EccError(u8),
    /// Persistent: programming this word sets `PROGFAIL` and burns nothing.
    /// Replaces a [`Fault::PartialBurn`].
    ProgramFail(u8),
    /// Persistent: programming `word` sets `PROGFAIL` and burns only the
    /// bits of the value that are in `mask` (a partial burn). Replaces a
    /// [`Fault::ProgramFail`].
    PartialBurn {
        /// The word whose programming fails.
        word: u8,
        /// The bits of the programmed value that still get burnt.
        mask: u32,
    },
    /// Persistent: permanently locking this word sets `PROGFAIL` and burns
    /// nothing.
    LockFail(u8),
    /// Persistent: BUSY never clears once an operation started.
    BusyStuck,
    /// Persistent: PWRON stops following `CONF.POWER_UP` (SAFMEM never
    /// comes up).
    PowerStuck,
    /// One-shot, the only one: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`BsecSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
}

/// The armed faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Armed {
    disturbed: Option<u8>,
    ecc_error: Option<u8>,
    /// The word and the mask of bits that still burn.
    program_fail: Option<(u8, u32)>,
    lock_fail: Option<u8>,
    busy_stuck: bool,
    power_stuck: bool,
}

/// The BSEC model. As [`Mmio`](trusted_core::Mmio) it is the secure-world
/// view. Its fuses hold a HUK: they and the shadows are wiped when it drops
/// (it is linked into QEMU firmware) and `Debug` never prints them.
#[derive(Clone)]
pub struct BsecSim {
    fuse: [u32; WORDS],
    ecc_fuse: [u8; WORDS],
    shadow: [u32; WORDS],
    wrlock: [u32; BANKS],
    splock: [u32; BANKS],
    swlock: [u32; BANKS],
    srlock: [u32; BANKS],
    disturbed: [u32; BANKS],
    error: [u32; BANKS],
    nsec_upper: [u32; 2],
    conf: u32,
    wrdata: u32,
    otp_lock: u32,
    denable: u32,
    fenable: u32,
    scratch: u32,
    jtag_in: u32,
    progfail: bool,
    powered: bool,
    power_polls_left: u32,
    busy_polls_left: u32,
    invalid: bool,
    secure: bool,
    faults: Armed,
    flip: trusted_core::fih::ReadFlip,
    /// STATUS reads BUSY stays set after an operation.
    busy_polls: u32,
    /// STATUS reads before PWRON follows `CONF.POWER_UP`.
    power_polls: u32,
    program_ops: u32,
    lock_ops: u32,
}

impl Default for BsecSim {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for BsecSim {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.fuse.zeroize();
        self.shadow.zeroize();
        self.ecc_fuse.zeroize();
        self.wrdata.zeroize();
    }
}

impl core::fmt::Debug for BsecSim {
    /// State and statistics only: never fuse or shadow values.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BsecSim")
            .field("secure", &self.secure)
            .field("invalid", &self.invalid)
            .field("powered", &self.powered)
            .field("faults", &self.faults)
            .field("program_ops", &self.program_ops)
            .field("lock_ops", &self.lock_ops)
            .finish_non_exhaustive()
    }
}

impl BsecSim {
    /// A secured, open device with every fuse blank.
    pub fn new() -> Self {
        Self {
            fuse: [0; WORDS],
            ecc_fuse: [0; WORDS],
            shadow: [0; WORDS],
            wrlock: [0; BANKS],
            splock: [0; BANKS],
            swlock: [0; BANKS],
            srlock: [0; BANKS],
            disturbed: [0; BANKS],
            error: [0; BANKS],
            nsec_upper: [0; 2],
            conf: 0,
            wrdata: 0,
            otp_lock: 0,
            denable: 0,
            fenable: 0,
            scratch: 0,
            jtag_in: 0,
            progfail: false,
            powered: false,
            power_polls_left: 0,
            busy_polls_left: 0,
            invalid: false,
            secure: true,
            faults: Armed::default(),
            flip: trusted_core::fih::ReadFlip::default(),
            busy_polls: 3,
            power_polls: 2,
            program_ops: 0,
            lock_ops: 0,
        }
    }

    /// A device whose fuses were burnt at the factory with `words`
    /// (word, value), with valid ECC, and shadows loaded as after reset.
    pub fn with_fuses(words: &[(u8, u32)]) -> Self {
        let mut sim = Self::new();
        for &(word, value) in words {
            sim.set_fuse(word, value);
        }
        sim.reset();
        sim
    }

    /// The same device with BUSY set for `polls` STATUS reads after each
    /// operation (default 3; at least 1).
    pub fn with_busy_polls(mut self, polls: u32) -> Self {
        self.busy_polls = polls;
        self
    }

    /// The same device with PWRON following `CONF.POWER_UP` after `polls`
    /// STATUS reads (default 2).
    pub fn with_power_polls(mut self, polls: u32) -> Self {
        self.power_polls = polls;
        self
    }

    /// Arms `fault` (see [`Fault`]: every fault stays until
    /// [`BsecSim::clear_faults`]).
    pub fn inject(&mut self, fault: Fault) {
        let armed = &mut self.faults;
        match fault {
            Fault::Disturbed(word) => armed.disturbed = Some(word),
            Fault::EccError(word) => armed.ecc_error = Some(word),
            Fault::ProgramFail(word) => armed.program_fail = Some((word, 0)),
            Fault::PartialBurn { word, mask } => armed.program_fail = Some((word, mask)),
            Fault::LockFail(word) => armed.lock_fail = Some(word),
            Fault::BusyStuck => armed.busy_stuck = true,
            Fault::PowerStuck => armed.power_stuck = true,
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
        }
    }

    /// Disarms every injected fault (OTP-invalid mode is chip state: see
    /// [`BsecSim::set_invalid`]).
    pub fn clear_faults(&mut self) {
        self.faults = Armed::default();
        self.flip.disarm();
    }

    /// Register reads through the secure view since construction (what
    /// [`Fault::FlipReadBit`] counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// Burns `value` into `word` as a factory would (data and ECC replaced,
    /// shadow untouched until the next reload or reset).
    pub fn set_fuse(&mut self, word: u8, value: u32) {
        let i = usize::from(word);
        if let (Some(f), Some(e)) = (self.fuse.get_mut(i), self.ecc_fuse.get_mut(i)) {
            *f = value;
            *e = if word < regs::UPPER_OTP_START {
                0
            } else {
                fuse::ecc(value)
            };
        }
    }

    /// The fuse data of `word` (0 outside the array).
    pub fn fuse(&self, word: u8) -> u32 {
        self.fuse.get(usize::from(word)).copied().unwrap_or(0)
    }

    /// The shadow register of `word` (0 outside the array).
    pub fn shadow(&self, word: u8) -> u32 {
        self.shadow.get(usize::from(word)).copied().unwrap_or(0)
    }

    /// Whether `word` is permanently locked.
    pub fn permanently_locked(&self, word: u8) -> bool {
        fuse::bank_get(&self.wrlock, word)
    }

    /// Program operations that reached the fuse array (ignored ones count).
    pub fn program_ops(&self) -> u32 {
        self.program_ops
    }

    /// Permanent-lock operations started.
    pub fn lock_ops(&self) -> u32 {
        self.lock_ops
    }

    /// Whether SAFMEM is powered now.
    pub fn powered(&self) -> bool {
        self.powered
    }

    /// A system reset: sticky locks and status clear, the boot ROM reloads
    /// every shadow from the fuses; fuses and permanent locks stay.
    pub fn reset(&mut self) {
        self.splock = [0; BANKS];
        self.swlock = [0; BANKS];
        self.srlock = [0; BANKS];
        self.disturbed = [0; BANKS];
        self.error = [0; BANKS];
        self.otp_lock = 0;
        self.conf = 0;
        self.powered = false;
        self.progfail = false;
        self.busy_polls_left = 0;
        self.shadow = self.fuse;
    }

    /// Puts the BSEC in (or out of) OTP-invalid mode.
    pub fn set_invalid(&mut self, invalid: bool) {
        self.invalid = invalid;
    }

    /// Marks CFG0 "closed device" in fuse and shadow.
    pub fn close_device(&mut self) {
        let cfg0 = self.fuse(regs::CFG0_OTP) | regs::CFG0_CLOSED_DEVICE;
        self.set_fuse(regs::CFG0_OTP, cfg0);
        if let Some(s) = self.shadow.get_mut(usize::from(regs::CFG0_OTP)) {
            *s = cfg0;
        }
    }
}
