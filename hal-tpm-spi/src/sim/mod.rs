//! TPM device model (feature `sim`, `no_std`).
//!
//! [`TpmSim`] is the TPM side of the bus: the FIFO register state machine
//! (localities, STS, burstCount, Idle → Ready → Reception → Execution →
//! Completion; `tis`), reached either by SPI frames decoded byte by byte as
//! a TPM does (4-byte header, wait states, data phase; `spi`) or by
//! register accesses as a memory-mapped TIS ([`TpmSim::read_register`],
//! [`TpmSim::write_register`]). Complete commands go to a [`TpmBackend`]:
//! canned responses ([`CannedBackend`]) or a real TPM 2.0, swtpm over TCP
//! (`swtpm::SwtpmBackend`, feature `swtpm`, std). It imports only
//! [`crate::regs`] and [`crate::spec`] (numbers), never the driver.
//!
//! The driver sees it through [`SimSpi`] (`SpiBus`) and [`SimCs`]
//! (`OutputPin`), which share the sim through a `RefCell`, so chip
//! select edges frame transactions exactly as on a board. Every byte on
//! the bus is counted ([`BusStats`]) and, up to the `TRACE` capacity,
//! recorded ([`TraceEvent`]). [`TpmSim::inject`] injects the misbehaviour
//! real TPMs show ([`Fault`]).

mod canned;
mod mmio;
mod spi;
#[cfg(feature = "swtpm")]
pub mod swtpm;
mod tis;

use heapless::Vec;

use crate::regs::SPI_HEADER_LEN;
use crate::spec::ResponseCode;

pub use canned::CannedBackend;
pub use mmio::SimMmio;
pub use spi::{SimCs, SimSpi};

/// FIFO capacity for commands and responses (PTP: at least 1 KiB; the
/// common maximum command/response size is 4 KiB).
pub const FIFO_SIZE: usize = 4096;
/// DID_VID the sim reports (device 0x0001, vendor 0x7357).
pub const SIM_DID_VID: u32 = 0x0001_7357;

/// The backend failed to execute a command (the sim answers
/// TPM_RC_FAILURE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BackendError;

/// Executes TPM 2.0 commands for the sim: the TPM behind the TIS.
pub trait TpmBackend {
    /// Executes `command`, writes the response into `response`, returns its
    /// length.
    fn execute(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, BackendError>;
}

impl<B: TpmBackend + ?Sized> TpmBackend for &mut B {
    fn execute(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, BackendError> {
        (**self).execute(command, response)
    }
}

/// Misbehaviour to inject with [`TpmSim::inject`]. Every fault here but
/// [`Fault::CorruptResponse`] is persistent: it applies to every
/// transaction or command until [`TpmSim::clear_faults`];
/// `CorruptResponse` fires once. Injecting the same kind again replaces its
/// value, different kinds add up.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// Persistent: this many wait-state bytes after every SPI header.
    WaitStates(u16),
    /// Persistent: burstCount is always 1 (ST33-like slow FIFO).
    BurstOne,
    /// Persistent: burstCount is always 0 (a stuck FIFO).
    BurstZero,
    /// Persistent: dataAvail drops this many bytes before each response
    /// ends.
    ShortResponse(u16),
    /// Persistent: each response's size field claims this many bytes more
    /// than sent (padding with zeros up to the FIFO size).
    OversizedResponse(u16),
    /// Persistent: this many bytes beyond each response's size stay
    /// available.
    TrailingBytes(u16),
    /// Persistent: XOR `mask` into byte `index` of every response.
    Corrupt {
        /// Response byte to flip.
        index: u16,
        /// Bits to flip.
        mask: u8,
    },
    /// Persistent: after tpmGo the TPM never finishes: dataAvail never
    /// comes.
    DataAvailNever,
    /// Persistent: commandReady is never reached (wolfTPM issue 295).
    CommandReadyNever,
    /// Persistent: locality requests are never granted.
    LocalityNever,
    /// Persistent: every command fails with this response code.
    Rc(ResponseCode),
    /// Persistent: STS.stsValid reads 0 while the TPM is Ready (only
    /// commandReady is set), as QEMU's `tpm-tis-device` does; stsValid
    /// comes back once command bytes arrive.
    NoStsValidWhenReady,
    /// One-shot: the next response to a command with `command_code` that
    /// has a byte `offset` gets `xor` XORed into it (a bus interposer
    /// flipping bits of, say, the Unseal response); then the fault is gone.
    /// Shorter responses (an error code, TPM_RC_RETRY) pass unchanged and
    /// leave the fault armed.
    CorruptResponse {
        /// The command whose response is corrupted (TPM_CC).
        command_code: u32,
        /// Response byte to flip.
        offset: u16,
        /// Bits to flip.
        xor: u8,
    },
}

/// The faults in force, one field per [`Fault`] kind (all off by default).
#[derive(Debug, Clone, Copy, Default)]
struct Faults {
    wait_states: u16,
    burst_one: bool,
    burst_zero: bool,
    short_response: u16,
    oversized_response: u16,
    trailing_bytes: u16,
    corrupt: Option<(u16, u8)>,
    data_avail_never: bool,
    command_ready_never: bool,
    locality_never: bool,
    response_code: Option<ResponseCode>,
    corrupt_once: Option<(u32, u16, u8)>,
    no_sts_valid_when_ready: bool,
}

impl Faults {
    fn add(&mut self, fault: Fault) {
        match fault {
            Fault::WaitStates(n) => self.wait_states = n,
            Fault::BurstOne => self.burst_one = true,
            Fault::BurstZero => self.burst_zero = true,
            Fault::ShortResponse(n) => self.short_response = n,
            Fault::OversizedResponse(n) => self.oversized_response = n,
            Fault::TrailingBytes(n) => self.trailing_bytes = n,
            Fault::Corrupt { index, mask } => self.corrupt = Some((index, mask)),
            Fault::DataAvailNever => self.data_avail_never = true,
            Fault::CommandReadyNever => self.command_ready_never = true,
            Fault::LocalityNever => self.locality_never = true,
            Fault::Rc(rc) => self.response_code = Some(rc),
            Fault::NoStsValidWhenReady => self.no_sts_valid_when_ready = true,
            Fault::CorruptResponse {
                command_code,
                offset,
                xor,
            } => self.corrupt_once = Some((command_code, offset, xor)),
        }
    }
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

/// The TPM side of the bus: SPI frame decoder, FIFO register state machine
/// and a [`TpmBackend`]. `TRACE` is the capacity of the byte trace (0 = no
/// trace, counters only).
pub struct TpmSim<B, const TRACE: usize = 0> {
    backend: B,
    faults: Faults,
    burst_max: u16,
    // SPI frame decoder (`spi`).
    cs_low: bool,
    phase: spi::Phase,
    header: [u8; SPI_HEADER_LEN],
    read: bool,
    size: u8,
    locality: u8,
    offset: u16,
    valid_address: bool,
    // FIFO register state machine (`tis`).
    active: Option<u8>,
    pending: u8,
    state: tis::State,
    cmd: [u8; FIFO_SIZE],
    cmd_len: usize,
    rsp: [u8; FIFO_SIZE],
    rsp_avail: usize,
    rsp_pos: usize,
    // What was seen.
    stats: BusStats,
    trace: Vec<TraceEvent, TRACE>,
    trace_overflow: bool,
}

impl<B: TpmBackend, const TRACE: usize> TpmSim<B, TRACE> {
    /// A TPM in reset state (no locality active, Idle) executing commands
    /// with `backend`.
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            faults: Faults::default(),
            burst_max: 64,
            cs_low: false,
            phase: spi::Phase::Done,
            header: [0; SPI_HEADER_LEN],
            read: false,
            size: 0,
            locality: 0,
            offset: 0,
            valid_address: false,
            active: None,
            pending: 0,
            state: tis::State::Idle,
            cmd: [0; FIFO_SIZE],
            cmd_len: 0,
            rsp: [0; FIFO_SIZE],
            rsp_avail: 0,
            rsp_pos: 0,
            stats: BusStats::default(),
            trace: Vec::new(),
            trace_overflow: false,
        }
    }

    /// The largest burstCount the device reports (default 64).
    pub fn with_burst_max(mut self, burst: u16) -> Self {
        self.burst_max = burst.max(1);
        self
    }

    /// Injects `fault` (see [`Fault`] for how long each lasts); may be
    /// called between commands.
    pub fn inject(&mut self, fault: Fault) {
        self.faults.add(fault);
    }

    /// Removes every injected fault.
    pub fn clear_faults(&mut self) {
        self.faults = Faults::default();
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
    pub fn into_inner(self) -> B {
        self.backend
    }

    /// True when the command and response FIFOs hold no bytes (they are
    /// wiped after execution and on commandReady).
    pub fn fifos_zeroed(&self) -> bool {
        self.cmd.iter().chain(self.rsp.iter()).all(|&b| b == 0)
    }
}
