//! TPM SPI framing (TCG PC Client PTP §6.4.6; Linux `tpm_tis_spi_transfer`,
//! `tpm_tis_spi_flow_control`).
//!
//! Every register access is one transaction with chip select held low:
//! a 4-byte header (direction and size, 24-bit address `0xD4_L_xxx`), then
//! wait states while the TPM answers bit 0 = 0, then 1..=64 data bytes.
//! Wait states are why this takes `SpiBus` + an `OutputPin` and not
//! `SpiDevice`: whether to clock another byte depends on the byte just
//! received, with chip select still asserted (embedded-hal issue 642).

use embedded_hal::digital::OutputPin;
use embedded_hal::spi::SpiBus;
use trusted_core::trace;

use crate::error::{Error, Result, Wait};
use crate::regs::{
    SPI_FLOW_READY, SPI_HEADER_LEN, SPI_MAX_FRAME, SPI_READ, SPI_WRITE, spi_address,
};
use crate::tis::TisAccess;

/// The crate error for a bus error, keeping its kind.
fn spi_error(e: impl embedded_hal::spi::Error) -> Error {
    Error::Spi(e.kind())
}

/// The crate error for a chip-select error, keeping its kind.
fn cs_error(e: impl embedded_hal::digital::Error) -> Error {
    Error::ChipSelect(e.kind())
}

/// Wait-state bytes clocked before giving up (Linux `TPM_RETRY` is 50).
pub const DEFAULT_WAIT_STATE_LIMIT: u16 = 50;

/// TIS register access over SPI: one transaction per access, at most 64
/// data bytes, wait states polled with chip select held, bounded by a byte
/// count.
///
/// SPI mode 0, MSB first; chip select is active low. TPMs take 10..=24 MHz
/// (check the part: some need a lower clock for the first access after
/// reset).
pub struct SpiTis<S, C> {
    spi: S,
    cs: C,
    wait_state_limit: u16,
}

impl<S: SpiBus, C: OutputPin> SpiTis<S, C> {
    /// A transport on `spi` with chip select `cs` (driven high here, idle).
    pub fn new(spi: S, mut cs: C) -> Self {
        // An error here shows up again on the first transaction.
        let _ = cs.set_high();
        Self {
            spi,
            cs,
            wait_state_limit: DEFAULT_WAIT_STATE_LIMIT,
        }
    }

    /// Changes how many wait-state bytes one transaction may take.
    pub fn with_wait_state_limit(mut self, limit: u16) -> Self {
        self.wait_state_limit = limit;
        self
    }

    /// The bus and pin back.
    pub fn into_inner(self) -> (S, C) {
        (self.spi, self.cs)
    }

    fn transaction(&mut self, locality: u8, offset: u16, data: Data<'_>) -> Result<()> {
        let len = match &data {
            Data::Read(buf) => buf.len(),
            Data::Write(bytes) => bytes.len(),
        };
        if len == 0 || len > SPI_MAX_FRAME {
            return Err(Error::InvalidArgument(&"SPI frame must be 1..=64 bytes"));
        }
        self.cs.set_low().map_err(cs_error)?;
        let result = self.frame(locality, offset, len, data);
        // Chip select goes high on every path, or the TPM stays mid-frame.
        let flushed = self.spi.flush().map_err(spi_error);
        let released = self.cs.set_high().map_err(cs_error);
        result.and(flushed).and(released)
    }

    fn frame(&mut self, locality: u8, offset: u16, len: usize, data: Data<'_>) -> Result<()> {
        let addr = spi_address(locality, offset);
        let size = (len - 1) as u8;
        let mut header: [u8; SPI_HEADER_LEN] = [
            match data {
                Data::Read(_) => SPI_READ,
                Data::Write(_) => SPI_WRITE,
            } | size,
            (addr >> 16) as u8,
            (addr >> 8) as u8,
            addr as u8,
        ];
        self.spi.transfer_in_place(&mut header).map_err(spi_error)?;
        // Bit 0 of the byte received with the last header byte: 1 = go on.
        if header[SPI_HEADER_LEN - 1] & SPI_FLOW_READY == 0 {
            let mut waited: u16 = 0;
            loop {
                let mut b = [0u8];
                self.spi.transfer_in_place(&mut b).map_err(spi_error)?;
                if b[0] & SPI_FLOW_READY != 0 {
                    break;
                }
                waited = waited.saturating_add(1);
                if waited >= self.wait_state_limit {
                    trace!("tpm spi: wait states over limit");
                    return Err(Error::Timeout(Wait::WaitStates));
                }
            }
        }
        match data {
            Data::Read(buf) => {
                buf.fill(0);
                self.spi.transfer_in_place(buf).map_err(spi_error)
            }
            // Written from the caller's buffer, so no copy of the command
            // bytes (Create's inSensitive is a secret) is left to zero.
            Data::Write(bytes) => self.spi.write(bytes).map_err(spi_error),
        }
    }
}

/// The data phase of one transaction.
enum Data<'a> {
    /// Bytes to clock in from the TPM.
    Read(&'a mut [u8]),
    /// Bytes to clock out to the TPM.
    Write(&'a [u8]),
}

impl<S: SpiBus, C: OutputPin> TisAccess for SpiTis<S, C> {
    const MAX_TRANSFER: usize = SPI_MAX_FRAME;

    fn read(&mut self, locality: u8, offset: u16, buf: &mut [u8]) -> Result<()> {
        self.transaction(locality, offset, Data::Read(buf))
    }

    fn write(&mut self, locality: u8, offset: u16, data: &[u8]) -> Result<()> {
        self.transaction(locality, offset, Data::Write(data))
    }
}
