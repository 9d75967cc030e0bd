//! Where backend state lives: in storage the caller provides (an opaque
//! `tk_<backend>_ctx` of the size the header states), so the library has
//! no static state per context, no allocation and no critical section.
//!
//! Layout inside the caller's bytes: a state word, a check word (the
//! complement of the state word mixed with the context's address, so
//! stale or copied bytes are not taken for a live context), a busy flag,
//! then the backend's Rust state. A context must be zero (static storage,
//! or `memset`) before its first init; deinit zeroes it again.
//!
//! The busy flag makes a call that re-enters the same context from one of
//! its own callbacks fail with [`TK_E_BUSY`] instead of aliasing the state.
//! It is a plain load and store, not an atomic read-modify-write:
//! exclusive accesses are implementation-defined on memory the MMU has not
//! mapped as Normal (MMU off in early boot). Two contexts (an interrupt
//! handler and the main loop) calling into the same context at the same
//! time need the caller's own lock.
//!
//! Devices are claimed the same way: [`Claim`] marks a DCP, a CAAM job
//! ring, a TPM or a BSEC as held by one context, so a second init on
//! another context fails with [`TK_E_BUSY`] until the first deinit.

use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::buf::check_ptr;
use crate::error::{Code, TK_E_BUSY, TK_E_NOT_INIT, TK_OK, status};

/// State word of a live context ("TKC1").
const LIVE: u32 = 0x544b_4331;
/// State word while init runs ("TKC0").
const PENDING: u32 = 0x544b_4330;

/// The Rust view of a context's bytes.
#[repr(C)]
pub(crate) struct Slot<S> {
    state: u32,
    check: u32,
    busy: u32,
    backend: MaybeUninit<S>,
}

/// Whether `S` fits the opaque C type `C` (size and alignment); used in a
/// `const` assertion next to each backend's state type, and checked again
/// for every [`Backend`] and its [`Backend::Ctx`] by the functions below.
pub(crate) const fn fits<C, S>() -> bool {
    size_of::<Slot<S>>() <= size_of::<C>() && align_of::<Slot<S>>() <= align_of::<C>()
}

/// A backend's state: the opaque C context it lives in, and what it does
/// before it is dropped at deinit (zero its DMA region, release its
/// locality).
pub(crate) trait Backend {
    /// The opaque `tk_<backend>_ctx` this state lives in.
    type Ctx;

    /// Bytes of stack wiped below each call that handles a secret
    /// (`trusted_core::scrub::after`): the backend's deepest measured use
    /// (`docs/size.md`, model builds) rounded up, with room to spare.
    const STACK_SCRUB: usize;

    /// Called once, right before the state is dropped.
    fn shutdown(&mut self) {}
}

/// The layout of `S` in its context, checked when a function below is
/// instantiated for `S`.
const fn slot<S: Backend>(ctx: *mut S::Ctx) -> *mut Slot<S> {
    const {
        assert!(
            fits::<S::Ctx, S>(),
            "backend state too large for its tk_*_ctx"
        )
    };
    ctx.cast()
}

fn check_word(slot: *const u8, state: u32) -> u32 {
    // Truncating the address is fine: it only has to differ between
    // contexts that could be confused, i.e. nearby ones.
    !state ^ (slot.addr() as u32)
}

/// Builds the state with `make` and stores it in the caller's context.
///
/// # Safety
///
/// Unless NULL, `ctx` points to a context the caller owns, zeroed or
/// previously deinitialised or initialised by this function with the same
/// `S`.
pub(crate) unsafe fn init<S: Backend>(
    ctx: *mut S::Ctx,
    make: impl FnOnce() -> Result<S, Code>,
) -> i32 {
    status((|| {
        check_ptr(ctx)?;
        let slot = slot::<S>(ctx);
        // SAFETY: aligned and in the caller's storage (checked; `fits`).
        let (state, check) = unsafe {
            (
                (&raw const (*slot).state).read(),
                (&raw const (*slot).check).read(),
            )
        };
        if (state == LIVE || state == PENDING) && check == check_word(slot.cast(), state) {
            return Err(Code(TK_E_BUSY));
        }
        // SAFETY: as above; a callback re-entering init sees PENDING.
        unsafe {
            (&raw mut (*slot).state).write(PENDING);
            (&raw mut (*slot).check).write(check_word(slot.cast(), PENDING));
            (&raw mut (*slot).busy).write(0);
        }
        match make() {
            Ok(backend) => {
                // SAFETY: the backend field is ours to write (the context
                // was not live); then the state word makes it live.
                unsafe {
                    (&raw mut (*slot).backend).write(MaybeUninit::new(backend));
                    (&raw mut (*slot).check).write(check_word(slot.cast(), LIVE));
                    (&raw mut (*slot).state).write(LIVE);
                }
                Ok(())
            }
            Err(e) => {
                // SAFETY: nothing live in the context; zero it as new.
                unsafe { zero(ctx) };
                Err(e)
            }
        }
    })())
}

/// Runs `f` on the live state of `ctx`.
///
/// # Safety
///
/// As [`init`].
pub(crate) unsafe fn with<S: Backend, R>(
    ctx: *mut S::Ctx,
    f: impl FnOnce(&mut S) -> Result<R, Code>,
) -> Result<R, Code> {
    check_ptr(ctx)?;
    let slot = slot::<S>(ctx);
    // SAFETY: aligned and in the caller's storage (checked; `fits`). The
    // words are read through raw pointers, never through a reference, so a
    // re-entrant call reads them while an outer call holds `&mut S`.
    unsafe {
        let state = (&raw const (*slot).state).read();
        if state != LIVE || (&raw const (*slot).check).read() != check_word(slot.cast(), LIVE) {
            return Err(Code(if state == PENDING {
                TK_E_BUSY
            } else {
                TK_E_NOT_INIT
            }));
        }
        if (&raw const (*slot).busy).read() != 0 {
            return Err(Code(TK_E_BUSY));
        }
        (&raw mut (*slot).busy).write(1);
        // SAFETY: the context is live, so `backend` holds an `S`; the busy
        // flag makes this the only reference to it until it is cleared.
        let backend = &mut *(&raw mut (*slot).backend).cast::<S>();
        let result = f(backend);
        (&raw mut (*slot).busy).write(0);
        result
    }
}

/// Shuts the state down, drops it and zeroes the context.
///
/// # Safety
///
/// As [`init`].
pub(crate) unsafe fn deinit<S: Backend>(ctx: *mut S::Ctx) -> i32 {
    // SAFETY: forwarded to the caller.
    let shut = unsafe {
        with::<S, ()>(ctx, |s| {
            s.shutdown();
            Ok(())
        })
    };
    if let Err(Code(code)) = shut {
        return code;
    }
    let slot = slot::<S>(ctx);
    // SAFETY: live and not busy (checked by `with`): the backend field holds
    // an `S` nobody borrows; it is dropped once, then the bytes are zeroed.
    unsafe {
        ptr::drop_in_place((&raw mut (*slot).backend).cast::<S>());
        zero(ctx);
    }
    TK_OK
}

/// Zeroes the `C` at `ctx` with volatile stores (states hold key material
/// that `Drop` impls zero already; this also clears the words).
///
/// # Safety
///
/// `ctx` points to a writable `C` holding nothing that needs dropping.
unsafe fn zero<C>(ctx: *mut C) {
    let bytes = ctx.cast::<u8>();
    for i in 0..size_of::<C>() {
        // SAFETY: inside the caller's `C`.
        unsafe { bytes.add(i).write_volatile(0) };
    }
}

/// One device that at most one context may drive at a time.
pub(crate) struct Claim(AtomicBool);

impl Claim {
    /// A free device.
    pub(crate) const fn new() -> Self {
        Self(AtomicBool::new(false))
    }

    /// Marks the device held until the guard drops; [`TK_E_BUSY`] if it is
    /// held already. A load then a store, not a swap: see the module docs.
    pub(crate) fn take(&'static self) -> Result<ClaimGuard, Code> {
        if self.0.load(Ordering::Acquire) {
            return Err(Code(TK_E_BUSY));
        }
        self.0.store(true, Ordering::Release);
        Ok(ClaimGuard(self))
    }
}

/// Holds a [`Claim`]; releases it on drop.
pub(crate) struct ClaimGuard(&'static Claim);

/// A claimed device's registers: the register access (hardware or model)
/// with the claim it was taken under, released when this drops.
pub(crate) struct Device<M> {
    regs: M,
    _claim: ClaimGuard,
}

impl<M> Device<M> {
    /// `regs`, held under `claim`.
    pub(crate) fn new(regs: M, claim: ClaimGuard) -> Self {
        Self {
            regs,
            _claim: claim,
        }
    }
}

impl<M: trusted_core::Mmio> trusted_core::Mmio for Device<M> {
    fn read32(&mut self, offset: usize) -> u32 {
        self.regs.read32(offset)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        self.regs.write32(offset, value)
    }
}

impl Drop for ClaimGuard {
    fn drop(&mut self) {
        self.0.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C, align(8))]
    struct Ctx([u64; 4]);

    struct Counter<'a>(&'a core::cell::Cell<u32>);
    impl Backend for Counter<'_> {
        type Ctx = Ctx;
        const STACK_SCRUB: usize = 0;

        fn shutdown(&mut self) {
            self.0.set(self.0.get() + 100);
        }
    }
    impl Drop for Counter<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    const _: () = assert!(fits::<Ctx, Counter<'static>>());

    #[test]
    fn live_context_refuses_second_init_and_deinit_zeroes_it() {
        let log = core::cell::Cell::new(0);
        let mut ctx = Ctx([0; 4]);
        let p = &raw mut ctx;
        assert_eq!(unsafe { init(p, || Ok(Counter(&log))) }, TK_OK);
        assert_eq!(unsafe { init(p, || Ok(Counter(&log))) }, TK_E_BUSY);
        assert_eq!(log.get(), 0, "a busy context does not even build a state");
        assert_eq!(unsafe { deinit::<Counter>(p) }, TK_OK);
        assert_eq!(log.get(), 101, "shutdown then drop, once each");
        assert_eq!(ctx.0, [0; 4]);
        assert_eq!(unsafe { deinit::<Counter>(&raw mut ctx) }, TK_E_NOT_INIT);
    }

    #[test]
    fn copied_context_bytes_are_not_a_live_context() {
        let log = core::cell::Cell::new(0);
        let mut a = Ctx([0; 4]);
        assert_eq!(unsafe { init(&raw mut a, || Ok(Counter(&log))) }, TK_OK);
        let mut b = Ctx(a.0);
        let r = unsafe { with::<Counter, ()>(&raw mut b, |_| Ok(())) };
        assert_eq!(r, Err(Code(TK_E_NOT_INIT)));
        assert_eq!(unsafe { deinit::<Counter>(&raw mut a) }, TK_OK);
    }

    #[test]
    fn reentrant_call_is_busy() {
        let log = core::cell::Cell::new(0);
        let mut ctx = Ctx([0; 4]);
        let p = &raw mut ctx;
        assert_eq!(unsafe { init(p, || Ok(Counter(&log))) }, TK_OK);
        let inner = unsafe {
            with::<Counter, Result<(), Code>>(p, |_| Ok(with::<Counter, ()>(p, |_| Ok(()))))
        };
        assert_eq!(inner, Ok(Err(Code(TK_E_BUSY))));
        assert_eq!(unsafe { with::<Counter, ()>(p, |_| Ok(())) }, Ok(()));
        assert_eq!(unsafe { deinit::<Counter>(p) }, TK_OK);
    }

    #[test]
    fn failed_init_leaves_a_zero_context() {
        let mut ctx = Ctx([0; 4]);
        let r = unsafe { init::<Counter>(&raw mut ctx, || Err(Code(-42))) };
        assert_eq!(r, -42);
        assert_eq!(ctx.0, [0; 4]);
    }

    #[test]
    fn claim_is_exclusive_until_released() {
        static DEVICE: Claim = Claim::new();
        let guard = DEVICE.take().unwrap();
        assert_eq!(DEVICE.take().err(), Some(Code(TK_E_BUSY)));
        drop(guard);
        assert!(DEVICE.take().is_ok());
    }
}
