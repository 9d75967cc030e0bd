//! The SPI side of the model (TCG PC Client PTP §6.4.6): chip-select
//! framing, the 4-byte header, wait states and the data phase, decoded one
//! clocked byte at a time, and the `SpiBus` / `OutputPin` the driver is
//! given.

use core::cell::RefCell;
use core::convert::Infallible;

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType as SpiErrorType, SpiBus};

use super::{TpmBackend, TpmSim, TraceEvent};
use crate::regs::*;

/// Where in a transaction the next clocked byte falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Header(u8),
    Wait(u16),
    Data { index: u8 },
    Done,
}

/// Header byte 0 bit that must be clear (reserved in PTP §6.4.6).
const HEADER_RESERVED: u8 = 0x40;

impl<B: TpmBackend, const TRACE: usize> TpmSim<B, TRACE> {
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
            return FLOATING;
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
                        SPI_FLOW_READY
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
                    SPI_FLOW_READY
                } else {
                    self.phase = Phase::Wait(left - 1);
                    0x00
                }
            }
            Phase::Data { index } => {
                self.stats.data_bytes += 1;
                let out = if !self.valid_address {
                    FLOATING
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
            Phase::Done => FLOATING,
        };
        self.record(TraceEvent::Byte { mosi, miso });
        miso
    }

    fn decode_header(&mut self) {
        let [h0, h1, h2, h3] = self.header;
        self.read = h0 & SPI_READ != 0;
        self.size = (h0 & SPI_SIZE_MASK) + 1;
        let addr = (u32::from(h1) << 16) | (u32::from(h2) << 8) | u32::from(h3);
        self.valid_address = addr & 0xFF_0000 == SPI_ADDR_BASE && h0 & HEADER_RESERVED == 0;
        self.locality = (h2 >> 4) & 0x0F;
        self.offset = addr as u16 & 0x0FFF;
    }

    /// Every byte of a transfer that starts at a FIFO offset is a FIFO
    /// byte; other transfers walk consecutive registers.
    fn read_byte(&mut self, index: u8) -> u8 {
        if is_fifo(self.offset) {
            return self.fifo_read(self.locality);
        }
        let off = self.offset.wrapping_add(u16::from(index));
        self.register(self.locality, off)
    }

    fn write_byte(&mut self, index: u8, v: u8) {
        if is_fifo(self.offset) {
            self.fifo_write(self.locality, v);
            return;
        }
        let off = self.offset.wrapping_add(u16::from(index));
        self.write_control(self.locality, off, v);
    }
}

/// The sim's SPI bus side (`embedded_hal::spi::SpiBus`).
pub struct SimSpi<'a, B, const TRACE: usize = 0>(pub &'a RefCell<TpmSim<B, TRACE>>);

/// The sim's chip select (`embedded_hal::digital::OutputPin`, active low).
pub struct SimCs<'a, B, const TRACE: usize = 0>(pub &'a RefCell<TpmSim<B, TRACE>>);

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
