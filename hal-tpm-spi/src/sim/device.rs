//! The TIS-over-SPI device model.

use core::cell::RefCell;
use core::convert::Infallible;

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType as SpiErrorType, SpiBus};
use heapless::Vec;

use super::TpmBackend;
use crate::regs::*;

/// FIFO capacity for commands and responses (PTP: at least 1 KiB; the
/// common maximum command/response size is 4 KiB).
pub const FIFO_SIZE: usize = 4096;
/// DID_VID the sim reports (device 0x0001, vendor 0x7357).
pub const SIM_DID_VID: u32 = 0x0001_7357;

/// Misbehaviour to inject. All off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Faults {
    /// Wait-state bytes the TPM inserts after every header.
    pub wait_states: u16,
    /// burstCount is always 1 (ST33-like slow FIFO).
    pub burst_one: bool,
    /// burstCount is always 0 (a stuck FIFO).
    pub burst_zero: bool,
    /// dataAvail drops this many bytes before the response ends.
    pub short_response: u16,
    /// The response size field claims this many bytes more than sent
    /// (padding with zeros up to the FIFO size).
    pub oversized_response: u16,
    /// This many bytes beyond the response size stay available.
    pub trailing_bytes: u16,
    /// XOR `mask` into response byte `index` (`(index, mask)`).
    pub corrupt: Option<(u16, u8)>,
    /// After tpmGo the TPM never finishes: dataAvail never comes.
    pub data_avail_never: bool,
    /// commandReady is never reached (wolfTPM issue 295).
    pub command_ready_never: bool,
    /// Locality requests are never granted.
    pub locality_never: bool,
    /// Every command fails with this response code.
    pub response_code: Option<u32>,
}

/// Counters of everything clocked on the bus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BusStats {
    /// Chip-select-low periods (transactions).
    pub transactions: u32,
    /// All bytes clocked with chip select low.
    pub bytes: u32,
    /// Header bytes.
    pub header_bytes: u32,
    /// Wait-state bytes.
    pub wait_bytes: u32,
    /// Data-phase bytes.
    pub data_bytes: u32,
    /// FIFO data bytes written (command bytes).
    pub fifo_written: u32,
    /// FIFO data bytes read (response bytes).
    pub fifo_read: u32,
    /// Commands executed.
    pub commands: u32,
}

/// One recorded bus event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TraceEvent {
    /// Chip select went low (true) or high (false).
    Cs(bool),
    /// One byte clocked: host to TPM, TPM to host.
    Byte {
        /// Host to TPM.
        mosi: u8,
        /// TPM to host.
        miso: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header(u8),
    Wait(u16),
    Data { index: u8 },
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Ready,
    Reception,
    Execution,
    Completion,
}

/// The TPM side of the bus: SPI frame decoder, FIFO register state machine
/// and a [`TpmBackend`]. `TRACE` is the capacity of the byte trace (0 = no
/// trace, counters only).
pub struct TisSpiDevice<B, const TRACE: usize = 0> {
    backend: B,
    /// Faults to inject; may be changed between commands.
    pub faults: Faults,
    cs_low: bool,
    phase: Phase,
    header: [u8; SPI_HEADER_LEN],
    read: bool,
    size: u8,
    locality: u8,
    offset: u16,
    valid_address: bool,
    active: Option<u8>,
    pending: u8,
    state: State,
    cmd: [u8; FIFO_SIZE],
    cmd_len: usize,
    rsp: [u8; FIFO_SIZE],
    rsp_avail: usize,
    rsp_pos: usize,
    stats: BusStats,
    trace: Vec<TraceEvent, TRACE>,
    trace_overflow: bool,
    burst_max: u16,
}

impl<B: TpmBackend, const TRACE: usize> TisSpiDevice<B, TRACE> {
    /// A TPM in reset state (no locality active, Idle) executing commands
    /// with `backend`.
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            faults: Faults::default(),
            cs_low: false,
            phase: Phase::Done,
            header: [0; SPI_HEADER_LEN],
            read: false,
            size: 0,
            locality: 0,
            offset: 0,
            valid_address: false,
            active: None,
            pending: 0,
            state: State::Idle,
            cmd: [0; FIFO_SIZE],
            cmd_len: 0,
            rsp: [0; FIFO_SIZE],
            rsp_avail: 0,
            rsp_pos: 0,
            stats: BusStats::default(),
            trace: Vec::new(),
            trace_overflow: false,
            burst_max: 64,
        }
    }

    /// The same device with `faults` set.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The largest burstCount the device reports (default 64).
    pub fn with_burst_max(mut self, burst: u16) -> Self {
        self.burst_max = burst.max(1);
        self
    }

    /// Counters of the bus so far.
    pub fn stats(&self) -> BusStats {
        self.stats
    }

    /// Resets the counters and the trace.
    pub fn reset_stats(&mut self) {
        self.stats = BusStats::default();
        self.trace.clear();
        self.trace_overflow = false;
    }

    /// The recorded trace (the first `TRACE` events since the last reset).
    pub fn trace(&self) -> &[TraceEvent] {
        &self.trace
    }

    /// True if the trace ran out of room.
    pub fn trace_overflowed(&self) -> bool {
        self.trace_overflow
    }

    /// The backend.
    pub fn backend_mut(&mut self) -> &mut B {
        &mut self.backend
    }

    /// The backend back.
    pub fn into_backend(self) -> B {
        self.backend
    }

    /// True when the command and response FIFOs hold no bytes (they are
    /// wiped after execution and on commandReady).
    pub fn fifos_zeroed(&self) -> bool {
        self.cmd.iter().chain(self.rsp.iter()).all(|&b| b == 0)
    }

    fn record(&mut self, e: TraceEvent) {
        if self.trace.push(e).is_err() {
            self.trace_overflow = true;
        }
    }

    /// Chip select edge.
    pub fn set_cs(&mut self, low: bool) {
        if low == self.cs_low {
            return;
        }
        self.cs_low = low;
        self.record(TraceEvent::Cs(low));
        if low {
            self.stats.transactions += 1;
            self.phase = Phase::Header(0);
        } else {
            self.phase = Phase::Done;
        }
    }

    /// One byte clocked on the bus: returns what the TPM drives on MISO.
    pub fn clock(&mut self, mosi: u8) -> u8 {
        if !self.cs_low {
            return 0xFF;
        }
        self.stats.bytes += 1;
        let miso = match self.phase {
            Phase::Header(n) => {
                self.stats.header_bytes += 1;
                if let Some(h) = self.header.get_mut(usize::from(n)) {
                    *h = mosi;
                }
                if usize::from(n) + 1 == SPI_HEADER_LEN {
                    self.decode_header();
                    if self.faults.wait_states > 0 {
                        self.phase = Phase::Wait(self.faults.wait_states);
                        0x00
                    } else {
                        self.phase = Phase::Data { index: 0 };
                        0x01
                    }
                } else {
                    self.phase = Phase::Header(n + 1);
                    0x00
                }
            }
            Phase::Wait(left) => {
                self.stats.wait_bytes += 1;
                if left <= 1 {
                    self.phase = Phase::Data { index: 0 };
                    0x01
                } else {
                    self.phase = Phase::Wait(left - 1);
                    0x00
                }
            }
            Phase::Data { index } => {
                self.stats.data_bytes += 1;
                let out = if !self.valid_address {
                    0xFF
                } else if self.read {
                    self.read_byte(index)
                } else {
                    self.write_byte(index, mosi);
                    0x00
                };
                self.phase = if index + 1 >= self.size {
                    Phase::Done
                } else {
                    Phase::Data { index: index + 1 }
                };
                out
            }
            Phase::Done => 0xFF,
        };
        self.record(TraceEvent::Byte { mosi, miso });
        miso
    }

    fn decode_header(&mut self) {
        let [h0, h1, h2, h3] = self.header;
        self.read = h0 & SPI_READ != 0;
        self.size = (h0 & 0x3F) + 1;
        let addr = (u32::from(h1) << 16) | (u32::from(h2) << 8) | u32::from(h3);
        self.valid_address = addr & 0xFF_0000 == SPI_ADDR_BASE && h0 & 0x40 == 0;
        self.locality = (h2 >> 4) & 0x0F;
        self.offset = addr as u16 & 0x0FFF;
    }

    fn is_fifo(offset: u16) -> bool {
        (TPM_DATA_FIFO..TPM_DATA_FIFO + 4).contains(&offset)
            || (TPM_XDATA_FIFO..TPM_XDATA_FIFO + 0x40).contains(&offset)
    }

    fn read_byte(&mut self, index: u8) -> u8 {
        if Self::is_fifo(self.offset) {
            return self.fifo_read();
        }
        let off = self.offset.wrapping_add(u16::from(index));
        self.register(self.locality, off)
    }

    fn write_byte(&mut self, index: u8, v: u8) {
        if Self::is_fifo(self.offset) {
            self.fifo_write(v);
            return;
        }
        let off = self.offset.wrapping_add(u16::from(index));
        self.write_register(self.locality, off, v);
    }

    fn u32_byte(v: u32, off: u16, base: u16) -> u8 {
        v.to_le_bytes()
            .get(usize::from(off.wrapping_sub(base)))
            .copied()
            .unwrap_or(0)
    }

    fn register(&self, loc: u8, off: u16) -> u8 {
        if loc >= LOCALITIES {
            return 0xFF;
        }
        match off {
            TPM_ACCESS => {
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
            0x14..=0x17 => Self::u32_byte(0x3000_0600, off, TPM_INTF_CAPABILITY),
            0x30..=0x33 => Self::u32_byte(0x0000_2100, off, TPM_INTERFACE_ID),
            0xF00..=0xF03 => Self::u32_byte(SIM_DID_VID, off, TPM_DID_VID),
            TPM_RID => 0x01,
            _ if self.active != Some(loc) => 0xFF,
            TPM_STS => self.sts(),
            0x19 => self.burst_count().to_le_bytes()[0],
            0x1A => self.burst_count().to_le_bytes()[1],
            TPM_STS_3 => STS3_FAMILY_TPM2,
            _ => 0x00,
        }
    }

    fn sts(&self) -> u8 {
        let mut v = STS_VALID;
        match self.state {
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

    fn write_register(&mut self, loc: u8, off: u16, v: u8) {
        if loc >= LOCALITIES {
            return;
        }
        if off == TPM_ACCESS {
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
            return;
        }
        if self.active != Some(loc) {
            return;
        }
        if off == TPM_STS {
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
    }

    fn fifo_write(&mut self, v: u8) {
        if self.active != Some(self.locality) {
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

    fn fifo_read(&mut self) -> u8 {
        if self.active != Some(self.locality)
            || self.state != State::Completion
            || self.rsp_pos >= self.rsp_avail
        {
            return 0xFF;
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
        let mut n = match self.faults.response_code {
            Some(rc) => Self::error_response(&mut self.rsp, rc),
            None => match self.backend.execute(cmd, &mut self.rsp) {
                Ok(n) if n <= FIFO_SIZE => n,
                // TPM_RC_FAILURE
                _ => Self::error_response(&mut self.rsp, 0x101),
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

    fn error_response(rsp: &mut [u8; FIFO_SIZE], rc: u32) -> usize {
        rsp.fill(0);
        let mut h = [0u8; TPM_HEADER_LEN];
        h[..2].copy_from_slice(&0x8001u16.to_be_bytes());
        h[2..6].copy_from_slice(&(TPM_HEADER_LEN as u32).to_be_bytes());
        h[6..].copy_from_slice(&rc.to_be_bytes());
        rsp[..TPM_HEADER_LEN].copy_from_slice(&h);
        TPM_HEADER_LEN
    }
}

/// The device's SPI bus side (`embedded_hal::spi::SpiBus`).
pub struct SimSpi<'a, B, const TRACE: usize = 0>(pub &'a RefCell<TisSpiDevice<B, TRACE>>);

/// The device's chip select (`embedded_hal::digital::OutputPin`, active
/// low).
pub struct SimCs<'a, B, const TRACE: usize = 0>(pub &'a RefCell<TisSpiDevice<B, TRACE>>);

impl<B, const T: usize> SpiErrorType for SimSpi<'_, B, T> {
    type Error = Infallible;
}

impl<B: TpmBackend, const T: usize> SpiBus for SimSpi<'_, B, T> {
    fn read(&mut self, words: &mut [u8]) -> Result<(), Infallible> {
        let mut dev = self.0.borrow_mut();
        words.iter_mut().for_each(|w| *w = dev.clock(0));
        Ok(())
    }

    fn write(&mut self, words: &[u8]) -> Result<(), Infallible> {
        let mut dev = self.0.borrow_mut();
        words.iter().for_each(|&w| {
            dev.clock(w);
        });
        Ok(())
    }

    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), Infallible> {
        let mut dev = self.0.borrow_mut();
        let n = read.len().max(write.len());
        for i in 0..n {
            let miso = dev.clock(write.get(i).copied().unwrap_or(0));
            if let Some(r) = read.get_mut(i) {
                *r = miso;
            }
        }
        Ok(())
    }

    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), Infallible> {
        let mut dev = self.0.borrow_mut();
        words.iter_mut().for_each(|w| *w = dev.clock(*w));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

impl<B, const T: usize> PinErrorType for SimCs<'_, B, T> {
    type Error = Infallible;
}

impl<B: TpmBackend, const T: usize> OutputPin for SimCs<'_, B, T> {
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().set_cs(true);
        Ok(())
    }

    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0.borrow_mut().set_cs(false);
        Ok(())
    }
}
