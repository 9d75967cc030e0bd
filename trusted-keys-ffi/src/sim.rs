//! Sim builds (features `dcp-sim`, `caam-sim`, `stm32mp1-sim`): the
//! device's model lives in a static, as the device itself is one per chip,
//! so a context is as small as on hardware and the header is the same for
//! both builds. Init puts a fresh model there (a power cycle: fuses as
//! made, sticky bits clear) once it holds the device's claim.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;

use crate::ctx::{Claim, Device};
use crate::error::Code;

/// One simulated device: its claim and its model.
pub(crate) struct SimDevice<T> {
    claim: Claim,
    model: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the model is reached only through `take`, which hands it out
// only to the holder of the claim, so one context at a time has it.
unsafe impl<T> Sync for SimDevice<T> {}

impl<T> SimDevice<T> {
    /// No model yet, not held.
    pub(crate) const fn new() -> Self {
        Self {
            claim: Claim::new(),
            model: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Claims the device ([`crate::TK_E_BUSY`] if held), puts a fresh
    /// `make()` in place of the old model (models are plain data, nothing
    /// to drop) and lends it until the returned device drops.
    #[allow(
        clippy::mut_from_ref,
        reason = "exclusive through the claim, as a Mutex hands out &mut from &self"
    )]
    pub(crate) fn take(
        &'static self,
        make: impl FnOnce() -> T,
    ) -> Result<Device<&'static mut T>, Code> {
        let guard = self.claim.take()?;
        // SAFETY: the claim is held, so no other context has a reference
        // into the cell (the previous holder's `Device` dropped its
        // reference together with its guard): this one is exclusive.
        let model = unsafe { (*self.model.get()).write(make()) };
        Ok(Device::new(model, guard))
    }
}
