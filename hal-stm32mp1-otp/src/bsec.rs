//! The BSEC protocol over [`Mmio`]: shadow reads and writes, reloads from
//! the fuses, programming, permanent and sticky locks, status decoding.
//! Secure world only: on a running system the BSEC belongs to TF-A/OP-TEE.
//!
//! The sequences follow OP-TEE `core/drivers/stm32_bsec.c` and TF-A
//! `drivers/st/bsec/bsec2.c`; the SAFMEM power handling follows U-Boot
//! (`drivers/misc/stm32mp_bsec.c`): power up only if off, and restore.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{Mmio, trace};

use crate::error::{Error, LockKind, Wait};
use crate::regs;

/// Bounded wait on BUSY and PWRON (OP-TEE `BSEC_TIMEOUT_US`).
pub const BSEC_TIMEOUT_US: u32 = 10_000;
/// Poll interval while waiting.
pub const BSEC_POLL_US: u32 = 10;
const BSEC_BUDGET: Budget = Budget::fixed(BSEC_TIMEOUT_US, BSEC_POLL_US);

type Result<T> = core::result::Result<T, Error>;

/// A decoded `BSEC_OTP_STATUS` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BsecStatus(pub u32);

impl BsecStatus {
    /// BSEC secured mode.
    pub fn secure(self) -> bool {
        self.0 & regs::STATUS_SECURE != 0
    }
    /// OTP-invalid mode.
    pub fn invalid(self) -> bool {
        self.0 & regs::STATUS_INVALID != 0
    }
    /// An operation is running.
    pub fn busy(self) -> bool {
        self.0 & regs::STATUS_BUSY != 0
    }
    /// The last program or lock failed.
    pub fn program_failed(self) -> bool {
        self.0 & regs::STATUS_PROGFAIL != 0
    }
    /// SAFMEM is powered.
    pub fn powered(self) -> bool {
        self.0 & regs::STATUS_PWRON != 0
    }
}

/// The device life-cycle state, as TF-A `bsec_get_secure_state` decides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SecurityState {
    /// OTP-invalid mode.
    Invalid,
    /// Secured mode, CFG0 "closed device" bit clear: fuses are still open.
    Open,
    /// Secured mode with CFG0 bit 6 set: a closed (secure-boot) device.
    Closed,
    /// `STATUS.SECURE` clear (OPEN1/OPEN2), which secure firmware refuses.
    NotSecured,
}

/// Every lock that applies to one word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LockState {
    /// `WRLOCK`: permanently locked against programming (a fuse).
    pub permanent: bool,
    /// `SPLOCK`: sticky program lock.
    pub sticky_program: bool,
    /// `SWLOCK`: sticky shadow-write lock.
    pub sticky_shadow_write: bool,
    /// `SRLOCK`: sticky shadow-reload lock.
    pub sticky_shadow_reload: bool,
    /// `OTP_LOCK.GPLOCK`: the global program lock (same for every word).
    pub global_program: bool,
}

impl LockState {
    /// The lock that stops programming this word, if any.
    pub fn program_lock(&self) -> Option<LockKind> {
        if self.permanent {
            Some(LockKind::Permanent)
        } else if self.sticky_program {
            Some(LockKind::StickyProgram)
        } else if self.global_program {
            Some(LockKind::GlobalProgram)
        } else {
            None
        }
    }
}

/// A sticky (until reset) per-word lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StickyLock {
    /// `SPLOCK`: no more programming of the word.
    Program,
    /// `SWLOCK`: the shadow becomes read-only.
    ShadowWrite,
    /// `SRLOCK`: the shadow can no longer be reloaded from the fuses.
    ShadowReload,
}

/// True for words 0..=31: 2:1 redundant, bits programmable one at a time.
pub fn is_lower(word: u8) -> bool {
    word < regs::UPPER_OTP_START
}

pub(crate) fn check_word(word: u8) -> Result<()> {
    if usize::from(word) < regs::OTP_WORDS {
        Ok(())
    } else {
        Err(Error::BadWord(word))
    }
}

/// The STM32MP15 BSEC, driven directly through its registers.
pub struct Bsec<M, D> {
    mmio: M,
    delay: D,
}

impl<M: Mmio, D: DelayNs> Bsec<M, D> {
    /// A driver over the BSEC register block `mmio` (at [`regs::BSEC_BASE`]
    /// on hardware), waiting with `delay`. The BSEC needs its bus clock
    /// (RCC `BSECEN` on the APB5 bus, on after reset) and nothing else.
    pub fn new(mmio: M, delay: D) -> Self {
        Self { mmio, delay }
    }

    /// The register block and delay back.
    pub fn into_inner(self) -> (M, D) {
        (self.mmio, self.delay)
    }

    /// The register block, for what the driver does not wrap (DENABLE,
    /// FENABLE, SCRATCH) or for a test that bypasses the driver's checks.
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.mmio
    }

    /// True when a BSEC2 answers ([`Bsec::probe`]) and it is not in
    /// OTP-invalid mode, so fuse and shadow accesses can work.
    pub fn is_ready(&mut self) -> bool {
        self.probe().is_ok() && !self.status().invalid()
    }

    /// Checks the IP identification registers (TF-A `bsec_probe`): a BSEC2
    /// with version 0x11 or 0x20.
    pub fn probe(&mut self) -> Result<()> {
        let id = self.mmio.read32(regs::IP_ID);
        let version = self.mmio.read32(regs::IPVR) & 0xFF;
        if id == regs::IP_ID_BSEC2 && regs::IPVR_VERSIONS.contains(&version) {
            Ok(())
        } else {
            Err(Error::NoDevice)
        }
    }

    /// `BSEC_OTP_STATUS`, decoded.
    pub fn status(&mut self) -> BsecStatus {
        BsecStatus(self.mmio.read32(regs::OTP_STATUS))
    }

    fn check_valid(&mut self) -> Result<()> {
        if self.status().invalid() {
            Err(Error::InvalidMode)
        } else {
            Ok(())
        }
    }

    /// The life-cycle state: INVALID, or SECURE with the CFG0 closed bit.
    ///
    /// Read twice, as a decision a glitch could flip (`trusted_core::fih`):
    /// two readings that disagree report [`SecurityState::Invalid`], the
    /// state secure firmware refuses, never the more trusted of the two.
    pub fn security_state(&mut self) -> SecurityState {
        let first = self.security_state_once();
        let second = self.security_state_once();
        if first == second {
            first
        } else {
            SecurityState::Invalid
        }
    }

    fn security_state_once(&mut self) -> SecurityState {
        let status = self.status();
        if status.invalid() {
            SecurityState::Invalid
        } else if !status.secure() {
            SecurityState::NotSecured
        } else if self.mmio.read32(regs::otp_data(regs::CFG0_OTP)) & regs::CFG0_CLOSED_DEVICE != 0 {
            SecurityState::Closed
        } else {
            SecurityState::Open
        }
    }

    /// The current shadow of `word` (no fuse access).
    pub fn read_shadow(&mut self, word: u8) -> Result<u32> {
        check_word(word)?;
        self.check_valid()?;
        Ok(self.mmio.read32(regs::otp_data(word)))
    }

    /// Overwrites the shadow of `word` (the fuses are untouched). The
    /// hardware silently ignores the write under SWLOCK, so it is refused
    /// here instead.
    pub fn write_shadow(&mut self, word: u8, value: u32) -> Result<()> {
        check_word(word)?;
        self.check_valid()?;
        if self.lock_bit(regs::OTP_SWLOCK, word) {
            return Err(Error::Locked(word, LockKind::StickyShadowWrite));
        }
        self.mmio.write32(regs::otp_data(word), value);
        Ok(())
    }

    /// Reloads the shadow of `word` from the fuses ("shadowing"). Refused
    /// under SRLOCK, where the hardware would not refresh the shadow.
    pub fn reload(&mut self, word: u8) -> Result<()> {
        check_word(word)?;
        self.check_valid()?;
        if self.lock_bit(regs::OTP_SRLOCK, word) {
            return Err(Error::Locked(word, LockKind::StickyShadowReload));
        }
        trace!("bsec: reload word {}", word);
        self.operation(word, 0, regs::CONTROL_READ | u32::from(word), true)
    }

    /// Reloads `word` from the fuses and returns it (OP-TEE
    /// `stm32_bsec_shadow_read_otp`).
    pub fn read_fuse(&mut self, word: u8) -> Result<u32> {
        self.reload(word)?;
        self.read_shadow(word)
    }

    /// One program operation: sets the bits of `value` in the fuses of
    /// `word`, without the word rules or a read-back. The shadow is not
    /// refreshed. Prefer [`Bsec::program`].
    pub fn program_bits(&mut self, word: u8, value: u32) -> Result<()> {
        check_word(word)?;
        self.check_valid()?;
        if let Some(kind) = self.lock_state(word)?.program_lock() {
            return Err(Error::Locked(word, kind));
        }
        trace!("bsec: program word {}", word);
        self.operation(word, value, u32::from(word) | regs::CONTROL_WRITE, true)
    }

    /// Programs `value` into `word` with the fuse rules, then reloads and
    /// verifies:
    ///
    /// - lower words (0..=31) are bit-programmable: bits already set stay
    ///   set, so the word afterwards holds `old | value`, and the call
    ///   succeeds when every bit of `value` is set;
    /// - upper words (32..=95) carry ECC and are programmed once with their
    ///   full value: a word that already holds `value` is left alone, one
    ///   that holds anything else is refused with
    ///   [`Error::AlreadyProgrammed`] before any fuse is touched.
    ///
    /// Programming is irreversible.
    pub fn program(&mut self, word: u8, value: u32) -> Result<()> {
        crate::access::program_with_rules(self, word, value)
    }

    /// Permanently locks `word` against programming by burning its bit(s)
    /// in the lock area. Irreversible.
    pub fn permanent_lock(&mut self, word: u8) -> Result<()> {
        check_word(word)?;
        self.check_valid()?;
        if self.global_program_locked() {
            return Err(Error::Locked(word, LockKind::GlobalProgram));
        }
        let (addr, data) = regs::permanent_lock_target(word);
        trace!("bsec: permanent lock word {}", word);
        // OP-TEE checks only the ERROR bit after a lock, not DISTURBED.
        self.operation(
            word,
            data,
            addr | regs::CONTROL_WRITE | regs::CONTROL_LOCK,
            false,
        )
    }

    /// Sets a sticky lock on `word`; it holds until the next reset.
    pub fn set_sticky_lock(&mut self, word: u8, lock: StickyLock) -> Result<()> {
        check_word(word)?;
        self.check_valid()?;
        let base = match lock {
            StickyLock::Program => regs::OTP_SPLOCK,
            StickyLock::ShadowWrite => regs::OTP_SWLOCK,
            StickyLock::ShadowReload => regs::OTP_SRLOCK,
        };
        self.mmio
            .write32(regs::bank(base, word), regs::bank_bit(word));
        Ok(())
    }

    /// Sets the global program lock (GPLOCK) until the next reset.
    pub fn set_global_program_lock(&mut self) -> Result<()> {
        self.check_valid()?;
        let lock = self.mmio.read32(regs::OTP_LOCK);
        self.mmio.write32(regs::OTP_LOCK, lock | regs::LOCK_GPLOCK);
        Ok(())
    }

    fn global_program_locked(&mut self) -> bool {
        self.mmio.read32(regs::OTP_LOCK) & regs::LOCK_GPLOCK != 0
    }

    /// Every lock on `word`.
    pub fn lock_state(&mut self, word: u8) -> Result<LockState> {
        check_word(word)?;
        self.check_valid()?;
        Ok(LockState {
            permanent: self.lock_bit(regs::OTP_WRLOCK, word),
            sticky_program: self.lock_bit(regs::OTP_SPLOCK, word),
            sticky_shadow_write: self.lock_bit(regs::OTP_SWLOCK, word),
            sticky_shadow_reload: self.lock_bit(regs::OTP_SRLOCK, word),
            global_program: self.global_program_locked(),
        })
    }

    fn lock_bit(&mut self, base: usize, word: u8) -> bool {
        self.mmio.read32(regs::bank(base, word)) & regs::bank_bit(word) != 0
    }

    /// Powers SAFMEM if needed, writes WRDATA and CONTROL, waits for BUSY
    /// to clear, decodes PROGFAIL / ERROR / DISTURBED for `word`, and
    /// restores the power state on every path.
    fn operation(
        &mut self,
        word: u8,
        wrdata: u32,
        control: u32,
        check_disturbed: bool,
    ) -> Result<()> {
        let powered_here = self.power_up()?;
        let result = self.run(word, wrdata, control, check_disturbed);
        let power = if powered_here {
            self.power_down()
        } else {
            Ok(())
        };
        result.and(power)
    }

    fn run(&mut self, word: u8, wrdata: u32, control: u32, check_disturbed: bool) -> Result<()> {
        let writes = control & regs::CONTROL_WRITE != 0;
        if writes {
            self.mmio.write32(regs::OTP_WRDATA, wrdata);
        }
        self.mmio.write32(regs::OTP_CONTROL, control);
        let mmio = &mut self.mmio;
        poll_until(
            &mut self.delay,
            BSEC_BUDGET,
            Error::Timeout(Wait::Busy),
            || Ok(mmio.read32(regs::OTP_STATUS) & regs::STATUS_BUSY == 0),
        )?;
        if writes && self.status().program_failed() {
            return Err(Error::ProgramFailed(word));
        }
        if self.lock_bit(regs::OTP_ERROR, word) {
            return Err(Error::Ecc(word));
        }
        if check_disturbed && self.lock_bit(regs::OTP_DISTURBED, word) {
            return Err(Error::Disturbed(word));
        }
        Ok(())
    }

    /// Returns whether this call powered SAFMEM up.
    fn power_up(&mut self) -> Result<bool> {
        if self.status().powered() {
            return Ok(false);
        }
        let conf = self.mmio.read32(regs::OTP_CONF);
        self.mmio
            .write32(regs::OTP_CONF, conf | regs::CONF_POWER_UP);
        self.wait_power(true)?;
        Ok(true)
    }

    fn power_down(&mut self) -> Result<()> {
        let conf = self.mmio.read32(regs::OTP_CONF);
        self.mmio
            .write32(regs::OTP_CONF, conf & !regs::CONF_POWER_UP);
        self.wait_power(false)
    }

    fn wait_power(&mut self, on: bool) -> Result<()> {
        let wait = if on { Wait::PowerUp } else { Wait::PowerDown };
        let mmio = &mut self.mmio;
        poll_until(&mut self.delay, BSEC_BUDGET, Error::Timeout(wait), || {
            Ok((mmio.read32(regs::OTP_STATUS) & regs::STATUS_PWRON != 0) == on)
        })
    }
}
