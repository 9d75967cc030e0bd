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
//! - a secure view ([`BsecSim`] itself as [`Mmio`]) and a non-secure view
//!   ([`BsecSim::non_secure`]) in which only the lower shadows read and
//!   everything else reads as zero and ignores writes (the ETZPC firewall);
//! - the monitor's SMC with the access filter for the normal world
//!   ([`BsecSim::smc`]);
//! - fault hooks ([`Faults`]): a disturbed word, an ECC error, a program or
//!   lock failure, BUSY or power stuck, OTP-invalid mode.
//!
//! Assumptions not confirmed by a public source: WRLOCK reflecting a new
//! permanent lock before reset, reload under SRLOCK leaving the shadow as it
//! was, and an operation without SAFMEM power flagging an `ERROR`.

use trusted_core::Mmio;

use crate::regs;

const WORDS: usize = regs::OTP_WORDS;
const BANKS: usize = 3;

/// Fault hooks; each stays armed until cleared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Reloads and programs of this word report `DISTURBED`.
    pub disturbed: Option<u8>,
    /// Reloads of this word report an ECC `ERROR`.
    pub ecc_error: Option<u8>,
    /// Programming this word sets `PROGFAIL` and burns nothing.
    pub program_fail: Option<u8>,
    /// Permanently locking this word sets `PROGFAIL` and burns nothing.
    pub lock_fail: Option<u8>,
    /// Burn only these bits of the value when programming
    /// [`Faults::program_fail`]'s word instead of nothing (a partial burn).
    pub partial_burn_mask: u32,
    /// BUSY never clears.
    pub busy_stuck: bool,
    /// SAFMEM power never comes up (PWRON stays 0).
    pub power_stuck: bool,
}

/// The BSEC model. As [`Mmio`] it is the secure-world view.
#[derive(Clone, Debug)]
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
    /// Fault hooks.
    pub faults: Faults,
    /// STATUS reads BUSY stays set after an operation.
    pub busy_polls: u32,
    /// STATUS reads before PWRON follows `CONF.POWER_UP`.
    pub power_polls: u32,
    program_ops: u32,
    lock_ops: u32,
}

impl Default for BsecSim {
    fn default() -> Self {
        Self::new()
    }
}

/// 6 check bits of a (32,26)-style Hamming code plus overall parity; zero for
/// zero data so unprogrammed words read clean.
fn ecc(value: u32) -> u8 {
    let mut code = 0u8;
    for i in 0..5u32 {
        let mut mask = 0u32;
        for j in 0..32u32 {
            if (j >> i) & 1 == 1 {
                mask |= 1 << j;
            }
        }
        code |= (((value & mask).count_ones() & 1) as u8) << i;
    }
    code | (((value.count_ones() & 1) as u8) << 5)
}

fn bank_get(banks: &[u32; BANKS], word: u8) -> bool {
    banks
        .get(usize::from(word >> 5))
        .is_some_and(|b| b & regs::bank_bit(word) != 0)
}

fn bank_set(banks: &mut [u32; BANKS], word: u8, on: bool) {
    if let Some(b) = banks.get_mut(usize::from(word >> 5)) {
        if on {
            *b |= regs::bank_bit(word);
        } else {
            *b &= !regs::bank_bit(word);
        }
    }
}

fn bank_index(offset: usize, base: usize) -> Option<usize> {
    let i = offset.checked_sub(base)? / 4;
    (offset >= base && offset.is_multiple_of(4) && i < BANKS).then_some(i)
}

/// What an operation did, for the SMC path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed,
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
            faults: Faults::default(),
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

    /// Burns `value` into `word` as a factory would (data and ECC replaced,
    /// shadow untouched until the next reload or reset).
    pub fn set_fuse(&mut self, word: u8, value: u32) {
        let i = usize::from(word);
        if let (Some(f), Some(e)) = (self.fuse.get_mut(i), self.ecc_fuse.get_mut(i)) {
            *f = value;
            *e = if word < regs::UPPER_OTP_START {
                0
            } else {
                ecc(value)
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
        bank_get(&self.wrlock, word)
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

    /// Lets the normal world reach upper `word` through the SMC (DT
    /// `st,non-secure-otp`); lower words are always reachable.
    pub fn grant_non_secure(&mut self, word: u8) {
        if let Some(i) = word.checked_sub(regs::UPPER_OTP_START)
            && let Some(b) = self.nsec_upper.get_mut(usize::from(i >> 5))
        {
            *b |= 1 << (i & 31);
        }
    }

    fn non_secure_allowed(&self, word: u8) -> bool {
        match word.checked_sub(regs::UPPER_OTP_START) {
            None => true,
            Some(i) => self
                .nsec_upper
                .get(usize::from(i >> 5))
                .is_some_and(|b| b & (1 << (i & 31)) != 0),
        }
    }

    /// The normal-world view of the registers.
    pub fn non_secure(&mut self) -> NonSecureView<'_> {
        NonSecureView(self)
    }

    fn status(&mut self) -> u32 {
        if self.power_polls_left > 0 {
            self.power_polls_left -= 1;
        } else if !self.faults.power_stuck {
            self.powered = self.conf & regs::CONF_POWER_UP != 0;
        }
        let busy = if self.faults.busy_stuck && self.busy_polls_left > 0 {
            true
        } else if self.busy_polls_left > 0 {
            self.busy_polls_left -= 1;
            true
        } else {
            false
        };
        let mut s = 0;
        if self.secure {
            s |= regs::STATUS_SECURE;
        }
        if self.invalid {
            s |= regs::STATUS_INVALID;
        }
        if busy {
            s |= regs::STATUS_BUSY;
        }
        if self.progfail {
            s |= regs::STATUS_PROGFAIL;
        }
        if self.powered {
            s |= regs::STATUS_PWRON;
        }
        s
    }

    /// Starts the operation CONTROL asks for; effects are immediate, BUSY
    /// is what the driver sees for a while.
    fn control(&mut self, control: u32) {
        if self.busy_polls_left > 0 || self.invalid {
            return;
        }
        self.execute(control);
        self.busy_polls_left = self.busy_polls.max(1);
    }

    fn execute(&mut self, control: u32) -> Outcome {
        let addr = (control & regs::CONTROL_ADDR_MASK) as u8;
        let write = control & regs::CONTROL_WRITE != 0;
        let lock = control & regs::CONTROL_LOCK != 0;
        self.progfail = false;
        match (write, lock) {
            (true, true) => self.lock_area(addr, self.wrdata),
            (true, false) => self.program(addr, self.wrdata),
            (false, _) => self.reload(addr),
        }
    }

    fn word_ok(&self, word: u8) -> bool {
        usize::from(word) < WORDS
    }

    fn reload(&mut self, word: u8) -> Outcome {
        if !self.word_ok(word) {
            return Outcome::Failed;
        }
        bank_set(&mut self.disturbed, word, false);
        bank_set(&mut self.error, word, false);
        if !self.powered {
            bank_set(&mut self.error, word, true);
            return Outcome::Failed;
        }
        if bank_get(&self.srlock, word) {
            return Outcome::Ok;
        }
        let i = usize::from(word);
        let data = self.fuse.get(i).copied().unwrap_or(0);
        let stored_ecc = self.ecc_fuse.get(i).copied().unwrap_or(0);
        if let Some(s) = self.shadow.get_mut(i) {
            *s = data;
        }
        let mut ok = true;
        if word >= regs::UPPER_OTP_START && ecc(data) != stored_ecc {
            bank_set(&mut self.error, word, true);
            ok = false;
        }
        if self.faults.ecc_error == Some(word) {
            bank_set(&mut self.error, word, true);
            ok = false;
        }
        if self.faults.disturbed == Some(word) {
            bank_set(&mut self.disturbed, word, true);
            ok = false;
        }
        if ok { Outcome::Ok } else { Outcome::Failed }
    }

    fn program(&mut self, word: u8, value: u32) -> Outcome {
        if !self.word_ok(word) {
            self.progfail = true;
            return Outcome::Failed;
        }
        self.program_ops += 1;
        bank_set(&mut self.disturbed, word, false);
        bank_set(&mut self.error, word, false);
        if !self.powered {
            self.progfail = true;
            return Outcome::Failed;
        }
        // The hardware ignores programming under these locks.
        if self.otp_lock & regs::LOCK_GPLOCK != 0
            || bank_get(&self.splock, word)
            || bank_get(&self.wrlock, word)
        {
            return Outcome::Ok;
        }
        let burn = if self.faults.program_fail == Some(word) {
            self.progfail = true;
            value & self.faults.partial_burn_mask
        } else {
            value
        };
        let i = usize::from(word);
        if let Some(f) = self.fuse.get_mut(i) {
            *f |= burn;
        }
        if word >= regs::UPPER_OTP_START
            && let Some(e) = self.ecc_fuse.get_mut(i)
        {
            *e |= ecc(burn);
        }
        if self.faults.disturbed == Some(word) {
            bank_set(&mut self.disturbed, word, true);
            return Outcome::Failed;
        }
        if self.progfail {
            Outcome::Failed
        } else {
            Outcome::Ok
        }
    }

    /// Burns lock-area row `addr` with `data`: rows 0..=3 hold two bits per
    /// lower word, rows 4..=7 one bit per upper word.
    fn lock_area(&mut self, addr: u8, data: u32) -> Outcome {
        self.lock_ops += 1;
        if !self.powered || addr >= 8 {
            self.progfail = true;
            return Outcome::Failed;
        }
        if self.otp_lock & regs::LOCK_GPLOCK != 0 {
            return Outcome::Ok;
        }
        let targets = (0..16u8).filter_map(|i| {
            if addr < 4 {
                (i < 8 && data & (0b11 << (2 * i)) != 0).then_some(addr * 8 + i)
            } else {
                (data & (1 << i) != 0).then_some(regs::UPPER_OTP_START + (addr - 4) * 16 + i)
            }
        });
        let mut outcome = Outcome::Ok;
        for word in targets {
            if self.faults.lock_fail == Some(word) {
                self.progfail = true;
                outcome = Outcome::Failed;
            } else {
                bank_set(&mut self.wrlock, word, true);
            }
        }
        outcome
    }

    fn write_shadow(&mut self, word: u8, value: u32) {
        if bank_get(&self.swlock, word) {
            return;
        }
        if let Some(s) = self.shadow.get_mut(usize::from(word)) {
            *s = value;
        }
    }

    /// Runs one operation to completion for the monitor, as the secure
    /// firmware's driver would: power up, operate, check, power down.
    fn monitor_op(&mut self, word: u8, control: u32, check_disturbed: bool) -> Outcome {
        if self.invalid || self.faults.power_stuck || self.faults.busy_stuck {
            // The secure driver's bounded wait runs out.
            return Outcome::Failed;
        }
        let was = self.powered;
        self.powered = true;
        let mut outcome = self.execute(control);
        if bank_get(&self.error, word) || (check_disturbed && bank_get(&self.disturbed, word)) {
            outcome = Outcome::Failed;
        }
        self.powered = was;
        outcome
    }

    /// The secure monitor's `STM32_SMC_BSEC` handler (OP-TEE `bsec_main`)
    /// with its normal-world access filter: `a0..a3` in, `a0..a3` out.
    pub fn smc(&mut self, args: [u32; 4]) -> [u32; 4] {
        let [a0, service, word, value] = args;
        let reply = |a0: u32, a1: u32| [a0, a1, 0, 0];
        if a0 != regs::SMC_BSEC {
            return reply(regs::SMC_NOT_SUPPORTED, 0);
        }
        let word = match u8::try_from(word) {
            Ok(w) if self.word_ok(w) && self.non_secure_allowed(w) => w,
            _ => return reply(regs::SMC_INVALID_PARAMS, 0),
        };
        let done = |o: Outcome, a1: u32| match o {
            Outcome::Ok => reply(regs::SMC_OK, a1),
            Outcome::Failed => reply(regs::SMC_FAILED, 0),
        };
        if self.invalid {
            return reply(regs::SMC_FAILED, 0);
        }
        match service {
            regs::SMC_READ_SHADOW => reply(regs::SMC_OK, self.shadow(word)),
            regs::SMC_PROG_OTP => {
                self.wrdata = value;
                let o = self.monitor_op(word, u32::from(word) | regs::CONTROL_WRITE, true);
                done(o, 0)
            }
            regs::SMC_WRITE_SHADOW => {
                self.write_shadow(word, value);
                reply(regs::SMC_OK, 0)
            }
            regs::SMC_READ_OTP => {
                let old = self.shadow(word);
                let o = self.monitor_op(word, u32::from(word), true);
                let fresh = self.shadow(word);
                self.write_shadow(word, old);
                done(o, fresh)
            }
            regs::SMC_WRLOCK_OTP => {
                let (addr, data) = regs::permanent_lock_target(word);
                self.wrdata = data;
                let o =
                    self.monitor_op(word, addr | regs::CONTROL_WRITE | regs::CONTROL_LOCK, false);
                done(o, 0)
            }
            _ => reply(regs::SMC_INVALID_PARAMS, 0),
        }
    }

    fn read_reg(&mut self, offset: usize) -> u32 {
        if let Some(word) = offset
            .checked_sub(regs::OTP_DATA)
            .filter(|d| d.is_multiple_of(4) && d / 4 < WORDS)
            .map(|d| d / 4)
        {
            return if self.invalid {
                0
            } else {
                self.shadow.get(word).copied().unwrap_or(0)
            };
        }
        let bank = |banks: &[u32; BANKS], base| {
            bank_index(offset, base).and_then(|i| banks.get(i).copied())
        };
        if let Some(v) = bank(&self.disturbed, regs::OTP_DISTURBED)
            .or_else(|| bank(&self.error, regs::OTP_ERROR))
            .or_else(|| bank(&self.wrlock, regs::OTP_WRLOCK))
            .or_else(|| bank(&self.splock, regs::OTP_SPLOCK))
            .or_else(|| bank(&self.swlock, regs::OTP_SWLOCK))
            .or_else(|| bank(&self.srlock, regs::OTP_SRLOCK))
        {
            return v;
        }
        match offset {
            regs::OTP_CONF => self.conf,
            regs::OTP_CONTROL => 0,
            regs::OTP_WRDATA => self.wrdata,
            regs::OTP_STATUS => self.status(),
            regs::OTP_LOCK => self.otp_lock,
            regs::DENABLE => self.denable,
            regs::FENABLE => self.fenable,
            regs::JTAG_IN => self.jtag_in,
            regs::SCRATCH => self.scratch,
            regs::IPVR => 0x20,
            regs::IP_ID => regs::IP_ID_BSEC2,
            _ => 0,
        }
    }

    fn write_reg(&mut self, offset: usize, value: u32) {
        if let Some(word) = offset
            .checked_sub(regs::OTP_DATA)
            .filter(|d| d.is_multiple_of(4) && d / 4 < WORDS)
            .and_then(|d| u8::try_from(d / 4).ok())
        {
            if !self.invalid {
                self.write_shadow(word, value);
            }
            return;
        }
        let sticky = |banks: &mut [u32; BANKS], base| {
            if let Some(b) = bank_index(offset, base).and_then(|i| banks.get_mut(i)) {
                *b |= value;
                true
            } else {
                false
            }
        };
        if sticky(&mut self.splock, regs::OTP_SPLOCK)
            || sticky(&mut self.swlock, regs::OTP_SWLOCK)
            || sticky(&mut self.srlock, regs::OTP_SRLOCK)
        {
            return;
        }
        match offset {
            regs::OTP_CONF => {
                if self.conf & regs::CONF_POWER_UP != value & regs::CONF_POWER_UP {
                    self.power_polls_left = self.power_polls;
                }
                self.conf = value;
            }
            regs::OTP_CONTROL => self.control(value),
            regs::OTP_WRDATA => self.wrdata = value,
            regs::OTP_LOCK => self.otp_lock |= value,
            regs::DENABLE => self.denable = value,
            regs::FENABLE => self.fenable = value,
            regs::JTAG_IN => self.jtag_in = value,
            regs::SCRATCH => self.scratch = value,
            _ => {}
        }
    }
}

impl Mmio for BsecSim {
    fn read32(&mut self, offset: usize) -> u32 {
        self.read_reg(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        self.write_reg(offset, value)
    }
}

/// The normal world's view of the BSEC registers: the lower shadows read
/// (Linux `stm32-romem` reads them directly), everything else reads as zero
/// and every write is dropped.
pub struct NonSecureView<'a>(&'a mut BsecSim);

impl Mmio for NonSecureView<'_> {
    fn read32(&mut self, offset: usize) -> u32 {
        let lower = regs::OTP_DATA..regs::otp_data(regs::UPPER_OTP_START);
        if lower.contains(&offset) {
            self.0.read_reg(offset)
        } else {
            0
        }
    }
    fn write32(&mut self, _offset: usize, _value: u32) {}
}
