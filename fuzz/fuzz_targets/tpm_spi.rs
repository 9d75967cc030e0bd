//! TIS over SPI (`hal_tpm_spi::{spi, tis}`) with fuzzed device answers:
//! the register-level TPM model behind the bus answers with canned,
//! fuzzed responses, its misbehaviour hooks are switched on as the input
//! says, and the bytes it drives on MISO are XORed by a fuzzed plan (an
//! interposer or a broken TPM) — or, in the raw mode, MISO is nothing but
//! the fuzz input. The driver runs init, locality, abort, raw commands and
//! the source's init/random/seal/unseal; chip select must be released
//! after every operation.
#![no_main]

use std::cell::RefCell;
use std::convert::Infallible;

use embedded_hal::digital::{ErrorType as PinErrorType, OutputPin};
use embedded_hal::spi::{ErrorType as SpiErrorType, SpiBus};
use hal_tpm_spi::sim::{CannedBackend, Fault, SimCs, SimSpi, TpmSim};
use hal_tpm_spi::spec::ResponseCode;
use hal_tpm_spi::{SpiTis, Tis};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_keys_fuzz::{FAST_TIMEOUTS, Input, drive_tpm_source, pieces};

/// MISO bytes XORed by a plan of `(delta: u16, xor: u8)` records, or
/// replaced by the input entirely (`raw`).
struct FuzzSpi<'a, S> {
    inner: S,
    plan: Input<'a>,
    raw: bool,
    clocked: u32,
    next_at: Option<(u32, u8)>,
}

impl<S> FuzzSpi<'_, S> {
    fn miso(&mut self, byte: u8) -> u8 {
        let n = self.clocked;
        self.clocked = self.clocked.saturating_add(1);
        if self.raw {
            return self.plan.byte();
        }
        if self.next_at.is_none() && self.plan.len() >= 3 {
            let at = n.saturating_add(u32::from(self.plan.u16()));
            self.next_at = Some((at, self.plan.byte()));
        }
        match self.next_at {
            Some((at, x)) if at == n => {
                self.next_at = None;
                byte ^ x
            }
            _ => byte,
        }
    }
}

impl<S: SpiErrorType> SpiErrorType for FuzzSpi<'_, S> {
    type Error = S::Error;
}

impl<S: SpiBus> SpiBus for FuzzSpi<'_, S> {
    fn read(&mut self, words: &mut [u8]) -> Result<(), Self::Error> {
        self.inner.read(words)?;
        words.iter_mut().for_each(|w| *w = self.miso(*w));
        Ok(())
    }
    fn write(&mut self, words: &[u8]) -> Result<(), Self::Error> {
        self.clocked = self.clocked.saturating_add(words.len() as u32);
        self.inner.write(words)
    }
    fn transfer(&mut self, read: &mut [u8], write: &[u8]) -> Result<(), Self::Error> {
        self.inner.transfer(read, write)?;
        read.iter_mut().for_each(|w| *w = self.miso(*w));
        Ok(())
    }
    fn transfer_in_place(&mut self, words: &mut [u8]) -> Result<(), Self::Error> {
        self.inner.transfer_in_place(words)?;
        words.iter_mut().for_each(|w| *w = self.miso(*w));
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.inner.flush()
    }
}

/// Chip select that remembers its level.
struct Cs<'a, P> {
    inner: P,
    low: &'a RefCell<bool>,
}

impl<P: PinErrorType> PinErrorType for Cs<'_, P> {
    type Error = P::Error;
}

impl<P: OutputPin> OutputPin for Cs<'_, P> {
    fn set_low(&mut self) -> Result<(), Self::Error> {
        *self.low.borrow_mut() = true;
        self.inner.set_low()
    }
    fn set_high(&mut self) -> Result<(), Self::Error> {
        *self.low.borrow_mut() = false;
        self.inner.set_high()
    }
}

/// A pin that does nothing (the raw mode has no device).
struct NoPin;
impl PinErrorType for NoPin {
    type Error = Infallible;
}
impl OutputPin for NoPin {
    fn set_low(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// No device: MISO comes only from the plan.
struct NoBus;
impl SpiErrorType for NoBus {
    type Error = Infallible;
}
impl SpiBus for NoBus {
    fn read(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn write(&mut self, _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn transfer(&mut self, _: &mut [u8], _: &[u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn transfer_in_place(&mut self, _: &mut [u8]) -> Result<(), Infallible> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

fn faults(sim: &mut TpmSim<CannedBackend<'_>>, input: &mut Input<'_>) {
    let kinds = input.u16();
    let arg = input.u16();
    let all = [
        Fault::WaitStates(arg % 64),
        Fault::BurstOne,
        Fault::BurstZero,
        Fault::ShortResponse(arg),
        Fault::OversizedResponse(arg),
        Fault::TrailingBytes(arg),
        Fault::Corrupt {
            index: arg % 64,
            mask: (arg >> 8) as u8 | 1,
        },
        Fault::DataAvailNever,
        Fault::CommandReadyNever,
        Fault::LocalityNever,
        Fault::Rc(ResponseCode(u32::from(arg))),
        Fault::NoStsValidWhenReady,
        Fault::CorruptResponse {
            command_code: 0x0000_015E,
            offset: arg % 32,
            xor: 0x80,
        },
    ];
    for (i, f) in all.into_iter().enumerate() {
        if kinds & (1 << i) != 0 {
            sim.inject(f);
        }
    }
}

fn drive<S: SpiBus, C: OutputPin>(
    tis: Tis<SpiTis<S, C>, NoDelay>,
    ops: &[u8],
    cs_low: &RefCell<bool>,
) {
    drive_tpm_source(tis, ops, |op| {
        assert!(!*cs_low.borrow(), "chip select left low after op {op}");
    });
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let mut control = Input::new(parts.next().unwrap_or_default());
    let plan = parts.next().unwrap_or_default();
    let answers: Vec<&[u8]> = parts.collect();
    let flags = control.byte();
    let cs_low = RefCell::new(false);
    if flags & 1 != 0 {
        let ops = control.rest();
        let spi = FuzzSpi {
            inner: NoBus,
            plan: Input::new(plan),
            raw: true,
            clocked: 0,
            next_at: None,
        };
        let cs = Cs {
            inner: NoPin,
            low: &cs_low,
        };
        let spi_tis = SpiTis::new(spi, cs).with_wait_state_limit(u16::from(flags >> 4) + 1);
        drive(
            Tis::new(spi_tis, NoDelay).with_timeouts(FAST_TIMEOUTS),
            ops,
            &cs_low,
        );
        return;
    }
    let mut sim = TpmSim::new(CannedBackend::new(&answers)).with_burst_max(control.u16());
    faults(&mut sim, &mut control);
    let ops = control.rest();
    let dev = RefCell::new(sim);
    let spi = FuzzSpi {
        inner: SimSpi(&dev),
        plan: Input::new(plan),
        raw: false,
        clocked: 0,
        next_at: None,
    };
    let cs = Cs {
        inner: SimCs(&dev),
        low: &cs_low,
    };
    let tis = Tis::new(SpiTis::new(spi, cs), NoDelay).with_timeouts(FAST_TIMEOUTS);
    drive(tis, ops, &cs_low);
});
