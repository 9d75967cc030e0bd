//! Two ways to the fuses behind one trait: the BSEC registers (secure
//! world) and the `STM32_SMC_BSEC` SiP call to the secure monitor (normal
//! world: U-Boot or a bootloader running after TF-A/OP-TEE).

use embedded_hal::delay::DelayNs;
use subtle::ConstantTimeEq;
use trusted_core::Mmio;

use crate::bsec::{Bsec, LockState, StickyLock, check_word, is_lower};
use crate::error::Error;
use crate::regs;

type Result<T> = core::result::Result<T, Error>;

/// Word-level OTP access, whatever the path to the BSEC.
pub trait OtpAccess {
    /// The current shadow of `word`.
    fn read_shadow(&mut self, word: u8) -> Result<u32>;

    /// The value in the fuses of `word`, read fresh.
    fn read_fuse(&mut self, word: u8) -> Result<u32>;

    /// Overwrites the shadow of `word` (never the fuses).
    fn write_shadow(&mut self, word: u8, value: u32) -> Result<()>;

    /// One raw program operation (set the bits of `value`), no word rules
    /// and no read-back. Irreversible.
    fn program_bits(&mut self, word: u8, value: u32) -> Result<()>;

    /// Programs `value` with the lower/upper word rules and verifies it by
    /// reading the fuses back (see [`Bsec::program`]). Irreversible.
    fn program(&mut self, word: u8, value: u32) -> Result<()> {
        program_with_rules(self, word, value)
    }

    /// Burns the permanent program lock of `word`. Irreversible.
    fn permanent_lock(&mut self, word: u8) -> Result<()>;

    /// Every lock on `word`; [`Error::Unsupported`] where the path
    /// cannot tell.
    fn lock_state(&mut self, word: u8) -> Result<LockState>;

    /// Sets the sticky shadow-write lock of `word` until reset;
    /// [`Error::Unsupported`] where the path cannot.
    fn lock_shadow_write(&mut self, word: u8) -> Result<()>;
}

impl<A: OtpAccess + ?Sized> OtpAccess for &mut A {
    fn read_shadow(&mut self, word: u8) -> Result<u32> {
        (**self).read_shadow(word)
    }
    fn read_fuse(&mut self, word: u8) -> Result<u32> {
        (**self).read_fuse(word)
    }
    fn write_shadow(&mut self, word: u8, value: u32) -> Result<()> {
        (**self).write_shadow(word, value)
    }
    fn program_bits(&mut self, word: u8, value: u32) -> Result<()> {
        (**self).program_bits(word, value)
    }
    fn program(&mut self, word: u8, value: u32) -> Result<()> {
        (**self).program(word, value)
    }
    fn permanent_lock(&mut self, word: u8) -> Result<()> {
        (**self).permanent_lock(word)
    }
    fn lock_state(&mut self, word: u8) -> Result<LockState> {
        (**self).lock_state(word)
    }
    fn lock_shadow_write(&mut self, word: u8) -> Result<()> {
        (**self).lock_shadow_write(word)
    }
}

impl<M: Mmio, D: DelayNs> OtpAccess for Bsec<M, D> {
    fn read_shadow(&mut self, word: u8) -> Result<u32> {
        Bsec::read_shadow(self, word)
    }
    fn read_fuse(&mut self, word: u8) -> Result<u32> {
        Bsec::read_fuse(self, word)
    }
    fn write_shadow(&mut self, word: u8, value: u32) -> Result<()> {
        Bsec::write_shadow(self, word, value)
    }
    fn program_bits(&mut self, word: u8, value: u32) -> Result<()> {
        Bsec::program_bits(self, word, value)
    }
    fn permanent_lock(&mut self, word: u8) -> Result<()> {
        Bsec::permanent_lock(self, word)
    }
    fn lock_state(&mut self, word: u8) -> Result<LockState> {
        Bsec::lock_state(self, word)
    }
    fn lock_shadow_write(&mut self, word: u8) -> Result<()> {
        Bsec::set_sticky_lock(self, word, StickyLock::ShadowWrite)
    }
}

/// A secure monitor call: `a0..a3` in, `a0..a3` out (SMCCC SMC32).
///
/// On hardware this is an `smc #0` with the arguments in r0..r3 (see the
/// crate README); tests and `trustctl` use the model's monitor.
pub trait Smc {
    /// Issues the call and returns the result registers.
    fn smc(&mut self, args: [u32; 4]) -> [u32; 4];
}

impl<S: Smc + ?Sized> Smc for &mut S {
    fn smc(&mut self, args: [u32; 4]) -> [u32; 4] {
        (**self).smc(args)
    }
}

/// OTP access from the normal world through `STM32_SMC_BSEC`
/// (function id 0x8200_1003), served by TF-A's or OP-TEE's `bsec_main`.
///
/// The secure firmware lets the normal world use every lower word, and an
/// upper word only if its device-tree cell is marked `st,non-secure-otp`.
/// Other words answer [`Error::Smc`] with `INVALID_PARAMS`: the HUK words
/// are normally out of reach from here. The call has no lock queries, so
/// [`OtpAccess::lock_state`] and [`OtpAccess::lock_shadow_write`] are
/// unsupported.
pub struct SmcOtp<S> {
    smc: S,
}

impl<S: Smc> SmcOtp<S> {
    /// Access through `smc`.
    pub fn new(smc: S) -> Self {
        Self { smc }
    }

    /// The SMC conduit back.
    pub fn into_inner(self) -> S {
        self.smc
    }

    fn call(&mut self, service: u32, word: u8, value: u32) -> Result<u32> {
        if usize::from(word) >= regs::OTP_WORDS {
            return Err(Error::BadWord(word));
        }
        let [a0, a1, _, _] = self
            .smc
            .smc([regs::SMC_BSEC, service, u32::from(word), value]);
        if a0 == regs::SMC_OK {
            Ok(a1)
        } else {
            Err(Error::Smc(a0))
        }
    }
}

impl<S: Smc> OtpAccess for SmcOtp<S> {
    fn read_shadow(&mut self, word: u8) -> Result<u32> {
        self.call(regs::SMC_READ_SHADOW, word, 0)
    }
    /// `READ_OTP`: the monitor reloads, reads, and restores the old shadow.
    fn read_fuse(&mut self, word: u8) -> Result<u32> {
        self.call(regs::SMC_READ_OTP, word, 0)
    }
    fn write_shadow(&mut self, word: u8, value: u32) -> Result<()> {
        self.call(regs::SMC_WRITE_SHADOW, word, value).map(|_| ())
    }
    fn program_bits(&mut self, word: u8, value: u32) -> Result<()> {
        self.call(regs::SMC_PROG_OTP, word, value).map(|_| ())
    }
    fn permanent_lock(&mut self, word: u8) -> Result<()> {
        self.call(regs::SMC_WRLOCK_OTP, word, 0).map(|_| ())
    }
    fn lock_state(&mut self, _word: u8) -> Result<LockState> {
        Err(Error::Unsupported(
            "STM32_SMC_BSEC has no lock query (the BSEC PTA has; not implemented)",
        ))
    }
    fn lock_shadow_write(&mut self, _word: u8) -> Result<()> {
        Err(Error::Unsupported("STM32_SMC_BSEC cannot set sticky locks"))
    }
}

/// The word rules of [`Bsec::program`], shared by every [`OtpAccess`]:
/// read the fuse, decide (nothing to do / refuse / burn), burn, read back.
pub(crate) fn program_with_rules<A: OtpAccess + ?Sized>(
    access: &mut A,
    word: u8,
    value: u32,
) -> Result<()> {
    check_word(word)?;
    let current = access.read_fuse(word)?;
    if is_lower(word) {
        if bool::from((current & value).ct_eq(&value)) {
            return Ok(());
        }
    } else if bool::from(current.ct_eq(&value)) {
        return Ok(());
    } else if current != 0 {
        return Err(Error::AlreadyProgrammed(word));
    }
    access.program_bits(word, value)?;
    let after = access.read_fuse(word)?;
    let ok = if is_lower(word) {
        (after & value).ct_eq(&value)
    } else {
        after.ct_eq(&value)
    };
    if bool::from(ok) {
        Ok(())
    } else {
        Err(Error::VerifyFailed(word))
    }
}
