//! TIS-over-SPI device model (feature `sim`, `no_std`).
//!
//! [`TisSpiDevice`] decodes SPI frames byte by byte as a TPM does (4-byte
//! header, wait states, data phase), runs the FIFO register state machine
//! (localities, STS, burstCount, Idle → Ready → Reception → Execution →
//! Completion) and hands complete commands to a [`TpmBackend`]: canned
//! responses ([`CannedBackend`]) or a real TPM 2.0, swtpm over TCP
//! (`swtpm::SwtpmBackend`, feature `swtpm`, std). It imports only
//! [`crate::regs`], never the driver.
//!
//! The driver sees it through [`SimSpi`] (`SpiBus`) and [`SimCs`]
//! (`OutputPin`), which share the device through a `RefCell`, so chip
//! select edges frame transactions exactly as on a board. Every byte on
//! the bus is counted ([`BusStats`]) and, up to the `TRACE` capacity,
//! recorded ([`TraceEvent`]). [`Faults`] inject the misbehaviour real TPMs
//! show.

mod canned;
mod device;
#[cfg(feature = "swtpm")]
pub mod swtpm;

pub use canned::CannedBackend;
pub use device::{
    BusStats, FIFO_SIZE, Faults, SIM_DID_VID, SimCs, SimSpi, TisSpiDevice, TraceEvent,
};

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
