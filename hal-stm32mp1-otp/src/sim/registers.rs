//! The register file as the bus sees it: STATUS (with BUSY and SAFMEM
//! power sequencing), the shadows, the bank registers, and the secure and
//! non-secure views.

use trusted_core::Mmio;

use super::{BANKS, BsecSim, WORDS};
use crate::regs;

fn bank_index(offset: usize, base: usize) -> Option<usize> {
    let i = offset.checked_sub(base)? / 4;
    (offset >= base && offset.is_multiple_of(4) && i < BANKS).then_some(i)
}

impl BsecSim {
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
        let value = self.read_reg(offset);
        self.flip.apply(offset, value)
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
