//! The secure monitor's `STM32_SMC_BSEC` service (TF-A / OP-TEE
//! `bsec_main`) in front of the BSEC, with its normal-world access filter.

use super::BsecSim;
use super::fuse::{Outcome, bank_get};
use crate::regs;

impl BsecSim {
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
}
