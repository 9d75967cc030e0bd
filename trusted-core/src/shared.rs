//! One driver instance for several contexts (an interrupt handler and the
//! main loop, or two boot stages), guarded by a critical section.

use core::cell::RefCell;

use critical_section::Mutex;

use crate::error::{Error, Result};

/// A value behind a `critical_section::Mutex`, usable from a `static`.
///
/// ```
/// use trusted_core::Shared;
/// static COUNTER: Shared<u32> = Shared::new(0);
/// COUNTER.with(|c| *c += 1).unwrap();
/// assert_eq!(COUNTER.with(|c| *c), Ok(1));
/// ```
pub struct Shared<T> {
    inner: Mutex<RefCell<T>>,
}

impl<T> Shared<T> {
    /// Wraps `value`; `const` so it can initialise a `static`.
    pub const fn new(value: T) -> Self {
        Self {
            inner: Mutex::new(RefCell::new(value)),
        }
    }

    /// Runs `f` on the value inside a critical section. A nested call from
    /// inside `f` gets [`Error::Busy`] instead of a second `&mut`.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R> {
        critical_section::with(|cs| {
            let mut value = self
                .inner
                .borrow(cs)
                .try_borrow_mut()
                .map_err(|_| Error::Busy)?;
            Ok(f(&mut value))
        })
    }

    /// The value back, once no context needs it any more.
    pub fn into_inner(self) -> T {
        self.inner.into_inner().into_inner()
    }
}
