//! The fuse array behind the registers: ECC, the per-word bank bits, and
//! the reload, program and lock-area operations CONTROL starts.

use super::{BANKS, BsecSim, WORDS};
use crate::regs;

/// 6 check bits of a (32,26)-style Hamming code plus overall parity; zero for
/// zero data so unprogrammed words read clean.
pub(super) fn ecc(value: u32) -> u8 {
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

pub(super) fn bank_get(banks: &[u32; BANKS], word: u8) -> bool {
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

/// What an operation did, for the SMC path.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Ok,
    Failed,
}

impl BsecSim {
    /// Starts the operation CONTROL asks for; effects are immediate, BUSY
    /// is what the driver sees for a while.
    pub(super) fn control(&mut self, control: u32) {
        if self.busy_polls_left > 0 || self.invalid {
            return;
        }
        self.execute(control);
        self.busy_polls_left = self.busy_polls.max(1);
    }

    pub(super) fn execute(&mut self, control: u32) -> Outcome {
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

    pub(super) fn word_ok(&self, word: u8) -> bool {
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
        let burn = match self.faults.program_fail {
            Some((w, mask)) if w == word => {
                self.progfail = true;
                value & mask
            }
            _ => value,
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

    pub(super) fn write_shadow(&mut self, word: u8, value: u32) {
        if bank_get(&self.swlock, word) {
            return;
        }
        if let Some(s) = self.shadow.get_mut(usize::from(word)) {
            *s = value;
        }
    }
}
