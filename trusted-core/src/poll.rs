//! Bounded waits: every wait on hardware ends, in [`Error::Timeout`] at worst.

use embedded_hal::delay::DelayNs;

use crate::error::{Error, Result};

/// Polls `ready` until it returns `Ok(true)`, sleeping `step_us` between
/// tries, for at most `timeout_us` of accumulated delay.
///
/// `ready` is tried after the last sleep too, so a device that finishes
/// just as the budget runs out is not reported as a timeout. An `Err` from `ready`
/// (an error status seen while waiting) ends the wait at once.
///
/// ```
/// # struct NoDelay; impl embedded_hal::delay::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// use trusted_core::{poll_until, Error};
/// let mut tries = 0;
/// poll_until(&mut NoDelay, 100, 10, || { tries += 1; Ok(tries == 3) }).unwrap();
/// assert_eq!(poll_until(&mut NoDelay, 100, 10, || Ok(false)), Err(Error::Timeout));
/// ```
pub fn poll_until<D: DelayNs + ?Sized>(
    delay: &mut D,
    timeout_us: u32,
    step_us: u32,
    mut ready: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let step_us = step_us.max(1);
    let mut waited: u32 = 0;
    loop {
        if ready()? {
            return Ok(());
        }
        if waited >= timeout_us {
            return Err(Error::Timeout);
        }
        delay.delay_us(step_us);
        waited = waited.saturating_add(step_us);
    }
}
