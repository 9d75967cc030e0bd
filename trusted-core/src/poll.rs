//! Bounded waits: every wait on hardware ends, in the caller's timeout
//! error at worst.

use embedded_hal::delay::DelayNs;

/// How long and how often to poll: `timeout_us` of accumulated delay at
/// most, starting with `step_us` between tries and doubling up to
/// `max_step_us` (equal to `step_us`: a fixed step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Budget {
    /// Total delay after which the wait gives up.
    pub timeout_us: u32,
    /// Delay before the second try.
    pub step_us: u32,
    /// Largest delay between two tries (back-off ceiling).
    pub max_step_us: u32,
}

impl Budget {
    /// A fixed step of `step_us` for at most `timeout_us`.
    pub const fn fixed(timeout_us: u32, step_us: u32) -> Self {
        Self {
            timeout_us,
            step_us,
            max_step_us: step_us,
        }
    }

    /// Starts at `step_us` and doubles up to `max_step_us`: quick answers
    /// are seen at once, slow commands do not cost thousands of polls.
    pub const fn backoff(timeout_us: u32, step_us: u32, max_step_us: u32) -> Self {
        Self {
            timeout_us,
            step_us,
            max_step_us,
        }
    }
}

/// Polls `ready` until it returns `Ok(true)`, sleeping between tries as
/// `budget` says; returns `timeout` once the budget is spent.
///
/// `ready` is tried after the last sleep too, so a device that finishes
/// just as the budget runs out is not reported as a timeout. An `Err` from
/// `ready` (an error status seen while waiting) ends the wait at once. The
/// error type is the caller's: a driver keeps its own detail (which wait)
/// without converting to [`crate::Error`] and back.
///
/// ```
/// use trusted_core::poll::{Budget, poll_until};
/// # struct NoDelay; impl embedded_hal::delay::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// #[derive(Debug, PartialEq)]
/// enum MyError { Timeout, Status(u32) }
/// let mut tries = 0;
/// poll_until(&mut NoDelay, Budget::fixed(100, 10), MyError::Timeout, || {
///     tries += 1;
///     Ok(tries == 3)
/// })
/// .unwrap();
/// let waited = poll_until(&mut NoDelay, Budget::fixed(100, 10), MyError::Timeout, || Ok(false));
/// assert_eq!(waited, Err(MyError::Timeout));
/// ```
pub fn poll_until<D: DelayNs + ?Sized, E>(
    delay: &mut D,
    budget: Budget,
    timeout: E,
    mut ready: impl FnMut() -> Result<bool, E>,
) -> Result<(), E> {
    let mut step = budget.step_us.max(1);
    let max_step = budget.max_step_us.max(step);
    let mut waited: u32 = 0;
    loop {
        if ready()? {
            return Ok(());
        }
        if waited >= budget.timeout_us {
            return Err(timeout);
        }
        delay.delay_us(step);
        waited = waited.saturating_add(step);
        step = step.saturating_mul(2).min(max_step);
    }
}
