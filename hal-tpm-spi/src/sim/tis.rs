//! The FIFO register state machine of the model (TCG PC Client PTP, FIFO
//! interface): what one byte access at (locality, offset) reads or does,
//! whichever bus carried it.

use super::{FIFO_SIZE, SIM_DID_VID, TpmBackend, TpmSim};
use crate::regs::*;
use crate::spec::{HEADER_LEN, ResponseCode, st};

/// TPM_INTF_CAPABILITY the sim reports (interface version 1.3 for TPM 2.0,
/// data transfer size 64 bytes).
const INTF_CAPABILITY: u32 = 0x3000_0600;
/// TPM_INTERFACE_ID the sim reports (FIFO interface, locality and FIFO
/// capabilities set).
const INTERFACE_ID: u32 = 0x0000_2100;
/// TPM_RID the sim reports.
const RID: u8 = 0x01;

/// The FIFO interface states (PTP Table "TPM_STS" state machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Idle,
    Ready,
    Reception,
    Execution,
    Completion,
}

/// Byte `off - base` of the little-endian register `v` at `base`, if `off`
/// falls in its four bytes.
fn word_byte(v: u32, off: u16, base: u16) -> Option<u8> {
    let index = off.checked_sub(base)?;
    v.to_le_bytes().get(usize::from(index)).copied()
}

impl<B: TpmBackend, const TRACE: usize> TpmSim<B, TRACE> {
    /// One byte read at `offset` of `locality`, as a memory-mapped TIS sees
    /// it: a FIFO offset pops one response byte, any other offset reads one
    /// register byte (an inactive locality reads 0xFF, except ACCESS and
    /// the ID registers).
    pub fn read_register(&mut self, locality: u8, offset: u16) -> u8 {
        if is_fifo(offset) {
            self.fifo_read(locality)
        } else {
            self.register(locality, offset)
        }
    }

    /// One byte written at `offset` of `locality`, as a memory-mapped TIS
    /// sees it: a FIFO offset takes one command byte, ACCESS and STS act on
    /// the bits written as 1, other registers ignore writes.
    pub fn write_register(&mut self, locality: u8, offset: u16, value: u8) {
        if is_fifo(offset) {
            self.fifo_write(locality, value);
        } else {
            self.write_control(locality, offset, value);
        }
    }

    pub(super) fn register(&self, loc: u8, off: u16) -> u8 {
        if loc >= LOCALITIES {
            return FLOATING;
        }
        if off == TPM_ACCESS {
            return self.access(loc);
        }
        let ids = [
            (TPM_INTF_CAPABILITY, INTF_CAPABILITY),
            (TPM_INTERFACE_ID, INTERFACE_ID),
            (TPM_DID_VID, SIM_DID_VID),
        ];
        if let Some(b) = ids.iter().find_map(|&(base, v)| word_byte(v, off, base)) {
            return b;
        }
        if off == TPM_RID {
            return RID;
        }
        if self.active != Some(loc) {
            return FLOATING;
        }
        let [burst_lo, burst_hi] = self.burst_count().to_le_bytes();
        let sts = u32::from_le_bytes([self.sts(), burst_lo, burst_hi, STS3_FAMILY_TPM2]);
        word_byte(sts, off, TPM_STS).unwrap_or(0x00)
    }

    fn access(&self, loc: u8) -> u8 {
        let mut v = ACCESS_VALID | ACCESS_ESTABLISHMENT;
        if self.active == Some(loc) {
            v |= ACCESS_ACTIVE_LOCALITY;
            if self.pending & !(1 << loc) != 0 {
                v |= ACCESS_PENDING_REQUEST;
            }
        }
        if self.pending & (1 << loc) != 0 {
            v |= ACCESS_REQUEST_USE;
        }
        v
    }

    fn sts(&self) -> u8 {
        let mut v = STS_VALID;
        match self.state {
            // QEMU's tpm-tis reports commandReady without stsValid.
            State::Ready if self.faults.no_sts_valid_when_ready => v = STS_COMMAND_READY,
            State::Ready => v |= STS_COMMAND_READY,
            State::Reception if self.expects_more() => v |= STS_EXPECT,
            State::Completion if self.rsp_pos < self.rsp_avail => v |= STS_DATA_AVAIL,
            _ => {}
        }
        v
    }

    fn expected_len(&self) -> Option<usize> {
        match self.cmd.get(2..6) {
            Some(&[a, b, c, d]) if self.cmd_len >= 6 => {
                Some(u32::from_be_bytes([a, b, c, d]) as usize)
            }
            _ => None,
        }
    }

    fn expects_more(&self) -> bool {
        self.expected_len().is_none_or(|n| self.cmd_len < n)
    }

    fn burst_count(&self) -> u16 {
        if self.faults.burst_zero {
            return 0;
        }
        let avail = match self.state {
            State::Ready | State::Reception => FIFO_SIZE - self.cmd_len,
            State::Completion => self.rsp_avail.saturating_sub(self.rsp_pos),
            _ => 0,
        };
        let max = if self.faults.burst_one {
            1
        } else {
            self.burst_max
        };
        (avail.min(usize::from(max))) as u16
    }

    /// A write to a register other than the FIFO: ACCESS and STS react.
    pub(super) fn write_control(&mut self, loc: u8, off: u16, v: u8) {
        if loc >= LOCALITIES {
            return;
        }
        if off == TPM_ACCESS {
            self.write_access(loc, v);
            return;
        }
        if self.active != Some(loc) || off != TPM_STS {
            return;
        }
        if v & STS_COMMAND_READY != 0 && !self.faults.command_ready_never {
            self.cmd.fill(0);
            self.rsp.fill(0);
            self.cmd_len = 0;
            self.rsp_pos = 0;
            self.rsp_avail = 0;
            self.state = State::Ready;
        }
        if v & STS_GO != 0 && self.state == State::Reception && !self.expects_more() {
            self.execute();
        }
        if v & STS_RESPONSE_RETRY != 0 && self.state == State::Completion {
            self.rsp_pos = 0;
        }
    }

    fn write_access(&mut self, loc: u8, v: u8) {
        if v & ACCESS_REQUEST_USE != 0 {
            if self.active.is_none() && !self.faults.locality_never {
                self.active = Some(loc);
            } else if self.active != Some(loc) {
                self.pending |= 1 << loc;
            }
        }
        if v & ACCESS_ACTIVE_LOCALITY != 0 {
            self.pending &= !(1 << loc);
            if self.active == Some(loc) {
                self.active = None;
                let next = (0..LOCALITIES).rev().find(|l| self.pending & (1 << l) != 0);
                if let (false, Some(next)) = (self.faults.locality_never, next) {
                    self.pending &= !(1 << next);
                    self.active = Some(next);
                }
            }
        }
    }

    pub(super) fn fifo_write(&mut self, loc: u8, v: u8) {
        if self.active != Some(loc) {
            return;
        }
        if self.state == State::Ready {
            self.state = State::Reception;
            self.cmd_len = 0;
        }
        if self.state != State::Reception || !self.expects_more() {
            return;
        }
        if let Some(slot) = self.cmd.get_mut(self.cmd_len) {
            *slot = v;
            self.cmd_len += 1;
            self.stats.fifo_written += 1;
        }
    }

    pub(super) fn fifo_read(&mut self, loc: u8) -> u8 {
        if self.active != Some(loc)
            || self.state != State::Completion
            || self.rsp_pos >= self.rsp_avail
        {
            return FLOATING;
        }
        let b = self.rsp.get(self.rsp_pos).copied().unwrap_or(0);
        self.rsp_pos += 1;
        self.stats.fifo_read += 1;
        b
    }

    fn execute(&mut self) {
        self.state = State::Execution;
        self.stats.commands += 1;
        if self.faults.data_avail_never {
            return;
        }
        let cmd = self.cmd.get(..self.cmd_len).unwrap_or(&[]);
        let command_code = match cmd.get(6..10) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        };
        let mut n = match self.faults.response_code {
            Some(rc) => Self::error_response(&mut self.rsp, rc),
            None => match self.backend.execute(cmd, &mut self.rsp) {
                Ok(n) if n <= FIFO_SIZE => n,
                _ => Self::error_response(&mut self.rsp, ResponseCode::FAILURE),
            },
        };
        self.cmd.fill(0);
        self.cmd_len = 0;
        if let Some((b, mask)) = self
            .faults
            .corrupt
            .and_then(|(index, mask)| Some((self.rsp.get_mut(usize::from(index))?, mask)))
        {
            *b ^= mask;
        }
        if let Some((code, offset, xor)) = self.faults.corrupt_once
            && code == command_code
            && usize::from(offset) < n
            && let Some(b) = self.rsp.get_mut(usize::from(offset))
        {
            *b ^= xor;
            self.faults.corrupt_once = None;
        }
        if self.faults.oversized_response > 0 {
            let claimed = n + usize::from(self.faults.oversized_response);
            if let Some(size) = self.rsp.get_mut(2..6) {
                size.copy_from_slice(&(claimed as u32).to_be_bytes());
            }
            n = claimed.min(FIFO_SIZE);
        }
        n = n.saturating_sub(usize::from(self.faults.short_response));
        n = (n + usize::from(self.faults.trailing_bytes)).min(FIFO_SIZE);
        self.rsp_avail = n;
        self.rsp_pos = 0;
        self.state = State::Completion;
    }

    /// A header-only response with `rc`.
    fn error_response(rsp: &mut [u8; FIFO_SIZE], rc: ResponseCode) -> usize {
        rsp.fill(0);
        let mut h = [0u8; HEADER_LEN];
        h[..2].copy_from_slice(&st::NO_SESSIONS.to_be_bytes());
        h[2..6].copy_from_slice(&(HEADER_LEN as u32).to_be_bytes());
        h[6..].copy_from_slice(&rc.0.to_be_bytes());
        rsp[..HEADER_LEN].copy_from_slice(&h);
        HEADER_LEN
    }
}
