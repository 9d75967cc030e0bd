//! Policy: the STM32MP15 hardware unique key exactly as OP-TEE derives it
//! (core/drivers/stm32mp15_huk.c), and the TEE sealer on top of it.

use subtle::ConstantTimeEq;
use trusted_core::fih::{self, Verdict};
use trusted_core::{Error, HUK_LEN, Huk, HukBytes, Result, debug, tee::TeeSealer, warning};
use zeroize::Zeroizing;

use crate::access::OtpAccess;
use crate::error::LockKind;
use crate::regs;

/// Which OP-TEE HUK derivation to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HukMode {
    /// `CFG_STM32MP15_HUK_BSEC_KEY` (OP-TEE default): the HUK is the four
    /// OTP words, each little-endian.
    BsecKey,
    /// `CFG_STM32MP15_HUK_BSEC_DERIVE_UID`: the HUK is the AES-128-GCM
    /// ciphertext of `UID0 ‖ UID1 ‖ UID2 ‖ 0` (little-endian words) under the
    /// four OTP words as key, nonce `55 00 … 00` (12 bytes), no AAD; the tag
    /// is discarded.
    DeriveUid,
}

/// Where the HUK lives and how it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HukConfig {
    /// The four key words, in key byte order
    /// (`CFG_STM32MP15_HUK_BSEC_KEY_0..3`; DT `huk-otp@f0` = 60..63).
    pub words: [u8; 4],
    /// The derivation.
    pub mode: HukMode,
    /// The three UID words used by [`HukMode::DeriveUid`] (13..15).
    pub uid_words: [u8; 3],
    /// Refuse an HUK whose words are not proven locked (OP-TEE only logs
    /// "HUK unlocked"): unlocked words, and an access path that cannot
    /// query locks (the SMC, [`HukLockState::Unknown`]), are refused. Off
    /// by default, as in OP-TEE.
    pub require_locked: bool,
}

impl Default for HukConfig {
    fn default() -> Self {
        Self {
            words: regs::HUK_OTP_DEFAULT,
            mode: HukMode::BsecKey,
            uid_words: regs::UID_OTP,
            require_locked: false,
        }
    }
}

/// The lock state of the HUK words as OP-TEE reports it at first use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum HukLockState {
    /// CFG0 says "closed device": OP-TEE does not check and counts it locked.
    ClosedDevice,
    /// Every key word is permanently locked and its shadow write-locked.
    Locked,
    /// At least one key word lacks its permanent lock or its SWLOCK.
    Unlocked,
    /// The access path cannot query locks (the SMC path).
    Unknown,
}

/// The STM32MP15 HUK provider over any [`OtpAccess`].
///
/// Nothing is cached: every call reads the fuses, as OP-TEE does. All-zero
/// key words (an unprovisioned device) are refused; only
/// `allow_insecure` (feature `hazmat`) accepts them.
///
/// The security decisions are hardened against a glitch, after MCUboot's
/// and TF-M's fault-injection hardening (`trusted_core::fih`): the CFG0
/// "closed device" bit and every lock bit are read twice and both readings
/// must agree before the lock check is skipped or passed; the key words
/// are read twice and must agree (in constant time) before they are used,
/// so a flipped fuse read cannot turn blank words into a key, nor give a
/// wrong one; and each decision is a `Verdict`, not a `bool`.
pub struct Stm32mp15Huk<A> {
    access: A,
    config: HukConfig,
    lock_state: Option<HukLockState>,
    /// [`Verdict::SUCCESS`] only after `allow_insecure` (hazmat).
    allow_blank: Verdict,
}

/// A TEE sealer (OP-TEE trusted_keys TA blobs, Linux `trusted.source=tee`)
/// keyed by the STM32MP15 HUK.
pub type Stm32mp15Tee<A, R> = TeeSealer<Stm32mp15Huk<A>, R>;

impl<A: OtpAccess> Stm32mp15Huk<A> {
    /// A provider reading the HUK through `access` as `config` says.
    /// Fails on word numbers above 95 or repeated key words, and on
    /// [`HukMode::DeriveUid`] when built without the `derive-uid` feature.
    pub fn new(access: A, config: HukConfig) -> Result<Self> {
        if config.mode == HukMode::DeriveUid && !cfg!(feature = "derive-uid") {
            return Err(crate::uid::NOT_BUILT);
        }
        let all = config.words.iter().chain(config.uid_words.iter());
        if all.clone().any(|&w| usize::from(w) >= regs::OTP_WORDS) {
            return Err(Error::InvalidArgument("OTP word numbers are 0..=95"));
        }
        let w = config.words;
        let distinct = (0..4).all(|i| (i + 1..4).all(|j| w.get(i) != w.get(j)));
        if !distinct {
            return Err(Error::InvalidArgument("the four HUK words must differ"));
        }
        Ok(Self {
            access,
            config,
            lock_state: None,
            allow_blank: Verdict::FAILURE,
        })
    }

    /// Accepts all-zero HUK key words (an unprovisioned device) as the HUK
    /// instead of refusing them with [`Error::InsecureState`]. Blobs sealed
    /// then are keyed by a public value and bound to nothing secret: for
    /// bring-up and tests only. Nothing else is relaxed (locks, UID, modes).
    #[cfg(feature = "hazmat")]
    pub fn allow_insecure(mut self) -> Self {
        self.allow_blank = Verdict::SUCCESS;
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &HukConfig {
        &self.config
    }

    /// The lock state seen by the last successful read, if any.
    pub fn lock_state(&self) -> Option<HukLockState> {
        self.lock_state
    }

    /// The access path back.
    pub fn into_inner(self) -> A {
        self.access
    }

    /// Reads the HUK and the lock state of its words.
    pub fn read(&mut self) -> Result<(HukBytes, HukLockState)> {
        let mut huk = Zeroizing::new([0u8; HUK_LEN]);
        let lock = self.read_into(&mut huk)?;
        Ok((huk, lock))
    }

    /// [`Stm32mp15Huk::read`] into `huk`, which the caller keeps in a
    /// `Zeroizing` (on error it may hold a partial HUK until dropped). The
    /// HUK is written in place, never moved, for code size on
    /// strict-alignment targets (byte-wise copies).
    fn read_into(&mut self, huk: &mut [u8; HUK_LEN]) -> Result<HukLockState> {
        let (lock, locked) = self.words_lock_state()?;
        // Refused when locking is required and the words are not proven
        // locked: the verdict, not the reported state, decides.
        let not_required = if self.config.require_locked {
            Verdict::FAILURE
        } else {
            Verdict::SUCCESS
        };
        locked
            .or(not_required)
            .ok_or(Error::InsecureState("HUK OTP words are not locked"))?;
        let mut again = Zeroizing::new([0u8; HUK_LEN]);
        self.read_key_words(huk)?;
        self.read_key_words(&mut again)?;
        fih::ct_eq(huk.as_ref(), again.as_ref()).ok_or(Error::Malformed(
            "HUK OTP words read back differently (glitch or unstable fuses)",
        ))?;
        fih::ct_ne(huk.as_ref(), &[0; HUK_LEN])
            .and(fih::ct_ne(again.as_ref(), &[0; HUK_LEN]))
            .or(self.allow_blank)
            .ok_or(Error::InsecureState(
                "HUK OTP words are blank (device not provisioned)",
            ))?;
        if self.config.mode == HukMode::DeriveUid {
            // `new` refuses the mode in a build without the feature, so
            // that build links none of its code.
            #[cfg(feature = "derive-uid")]
            self.derive_uid(huk)?;
            #[cfg(not(feature = "derive-uid"))]
            return Err(crate::uid::NOT_BUILT);
        }
        if self.lock_state.is_none() {
            debug!("stm32mp15 HUK {}", lock);
            if lock == HukLockState::Unlocked {
                warning!("stm32mp15 HUK unlocked");
            }
        }
        self.lock_state = Some(lock);
        Ok(lock)
    }

    /// The four key words, in key byte order.
    fn read_key_words(&mut self, key: &mut [u8; HUK_LEN]) -> Result<()> {
        for (chunk, &word) in key.chunks_exact_mut(4).zip(self.config.words.iter()) {
            let value = Zeroizing::new(fuse_or_locked_shadow(&mut self.access, word)?);
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        Ok(())
    }

    /// The lock state as OP-TEE reports it, and the verdict "closed or
    /// every key word locked": CFG0 and each word's locks are read twice
    /// and a state counts only when both readings show it (one flipped
    /// read of CFG0 bit 6 would otherwise skip the whole lock check).
    fn words_lock_state(&mut self) -> Result<(HukLockState, Verdict)> {
        // OP-TEE checks locks only on a device that is not closed.
        let mut closed = Verdict::SUCCESS;
        for _ in 0..2 {
            let cfg0 = self.access.read_shadow(regs::CFG0_OTP)?;
            let bit = (cfg0 & regs::CFG0_CLOSED_DEVICE).ct_eq(&regs::CFG0_CLOSED_DEVICE);
            closed = closed.and(Verdict::from_choice(bit));
        }
        if closed.is_success() {
            return Ok((HukLockState::ClosedDevice, closed));
        }
        let mut locked = Verdict::SUCCESS;
        for &word in self.config.words.iter() {
            for _ in 0..2 {
                match self.access.lock_state(word) {
                    Ok(state) => {
                        let both = u8::from(state.permanent) & u8::from(state.sticky_shadow_write);
                        locked = locked.and(Verdict::from_choice(both.ct_eq(&1)));
                    }
                    Err(crate::Error::Unsupported(_)) => {
                        return Ok((HukLockState::Unknown, Verdict::FAILURE));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let state = if locked.is_success() {
            HukLockState::Locked
        } else {
            HukLockState::Unlocked
        };
        Ok((state, locked))
    }

    /// Turns the key words in `huk` into the DeriveUid HUK, in place.
    #[cfg(feature = "derive-uid")]
    fn derive_uid(&mut self, huk: &mut [u8; HUK_LEN]) -> Result<()> {
        let mut block = Zeroizing::new([0u8; HUK_LEN]);
        for (chunk, &word) in block.chunks_exact_mut(4).zip(self.config.uid_words.iter()) {
            // OP-TEE write-locks the UID shadows first so nobody can swap
            // the UID in after the fact; the SMC path cannot, and goes on.
            match self.access.lock_shadow_write(word) {
                Ok(()) | Err(crate::Error::Unsupported(_)) => {}
                Err(e) => return Err(e.into()),
            }
            let value = fuse_or_locked_shadow(&mut self.access, word)?;
            chunk.copy_from_slice(&value.to_le_bytes());
        }
        crate::uid::encrypt(huk, &block)
    }
}

/// The fuse value of `word`; under SRLOCK the reload is impossible, so the
/// shadow the boot ROM loaded is used, as OP-TEE (whose reload the hardware
/// ignores then) effectively does.
fn fuse_or_locked_shadow<A: OtpAccess>(access: &mut A, word: u8) -> Result<u32> {
    match access.read_fuse(word) {
        Err(crate::Error::Locked(_, LockKind::StickyShadowReload)) => Ok(access.read_shadow(word)?),
        other => Ok(other?),
    }
}

impl<A: OtpAccess> Huk for Stm32mp15Huk<A> {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        // Filled inside the `Ok` it is returned in, not moved into it
        // (see `read_into`); an error replaces, and so wipes, it.
        let mut huk = Ok(Zeroizing::new([0u8; HUK_LEN]));
        if let Ok(bytes) = &mut huk
            && let Err(e) = self.read_into(bytes)
        {
            huk = Err(e);
        }
        huk
    }
}
