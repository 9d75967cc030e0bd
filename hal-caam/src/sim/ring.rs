//! The job-ring page of the sim: ring base and size registers, the
//! IRSAR/ORSFR counters and IRRIR/ORWIR indices, JRINTR with its error
//! types, the two-step JRCR reset, and the loop that takes jobs off the
//! input ring and writes their completions to the output ring.

use crate::regs::jr;

use super::{CaamSim, Fault};

/// The job-ring registers and the sim's bookkeeping of the ring.
#[derive(Default)]
pub(super) struct JobRing {
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

impl CaamSim {
    pub(super) fn jr_read(&mut self, off: usize) -> u32 {
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

    pub(super) fn jr_write(&mut self, off: usize, value: u32) {
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
                _ => {
                    self.corrupt_aes = fault == Some(Fault::CorruptAesOutput);
                    let status = self.execute(desc_addr);
                    self.corrupt_aes = false;
                    status
                }
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
}
