//! Burning a 128-bit HUK into four OTP words and locking them, with an
//! exact account of what was done when something fails.
//!
//! Every step here is irreversible. The order is: check everything first
//! (word numbers, locks, current contents) and refuse before touching a
//! fuse; program the words that need it; read all four back and compare;
//! then burn the permanent locks and read the lock state back.

use subtle::ConstantTimeEq;
use trusted_core::HUK_LEN;
use zeroize::Zeroizing;

use crate::access::OtpAccess;
use crate::error::Error;
use crate::regs;

/// The (word, value) pairs an integrator burns for `huk` in `words`: the
/// key bytes as four little-endian words, the layout OP-TEE reads. The
/// values are the HUK: they are built in, and returned as, a buffer that
/// wipes itself on drop.
pub fn huk_words_image(huk: &[u8; HUK_LEN], words: [u8; 4]) -> Zeroizing<[(u8, u32); 4]> {
    let mut image = Zeroizing::new([(0u8, 0u32); 4]);
    let mut bytes = Zeroizing::new([0u8; 4]);
    for ((slot, chunk), word) in image.iter_mut().zip(huk.chunks_exact(4)).zip(words) {
        bytes.copy_from_slice(chunk);
        *slot = (word, u32::from_le_bytes(*bytes));
    }
    image
}

/// What provisioning did to each of the four words (index = key word).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProvisionReport {
    /// The OTP word numbers.
    pub words: [u8; 4],
    /// The word already held the right value; nothing was burnt.
    pub already_present: [bool; 4],
    /// A program operation was issued for the word (fuses may have changed
    /// even when the step then failed).
    pub programmed: [bool; 4],
    /// The read-back of all four words matched the HUK.
    pub verified: bool,
    /// A permanent-lock operation was issued for the word.
    pub lock_issued: [bool; 4],
    /// The word reads back as permanently locked (WRLOCK).
    pub locked: [bool; 4],
}

/// The step provisioning stopped at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ProvisionStep {
    /// Checking arguments, locks and contents; no fuse was touched.
    Precheck,
    /// Programming a word.
    Program,
    /// Reading the words back.
    Verify,
    /// Burning a permanent lock.
    Lock,
    /// Reading the lock state back.
    VerifyLock,
}

/// Why provisioning stopped, where, and what it had done by then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProvisionError {
    /// The step that failed.
    pub step: ProvisionStep,
    /// The word it failed on, if it was about one word.
    pub word: Option<u8>,
    /// The BSEC's answer.
    pub error: Error,
    /// Everything done before the failure.
    pub report: ProvisionReport,
}

impl core::fmt::Display for ProvisionError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "HUK provisioning stopped at {:?}", self.step)?;
        if let Some(w) = self.word {
            write!(f, " (word {w})")?;
        }
        write!(
            f,
            ": {}; words {:?}, programmed {:?}, lock issued {:?}, locked {:?}",
            self.error,
            self.report.words,
            self.report.programmed,
            self.report.lock_issued,
            self.report.locked
        )
    }
}

impl core::error::Error for ProvisionError {}

impl trusted_core::DriverError for ProvisionError {
    fn kind(&self) -> trusted_core::Error {
        trusted_core::DriverError::kind(&self.error)
    }
}

impl From<ProvisionError> for trusted_core::Error {
    fn from(e: ProvisionError) -> Self {
        e.error.into()
    }
}

/// Options for [`provision_huk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ProvisionOptions {
    /// The four OTP words (default 60..63).
    pub words: [u8; 4],
    /// Burn the permanent locks after a verified program (default yes).
    pub lock: bool,
    /// Check the locks by reading WRLOCK back (default yes; turn off on a
    /// path that cannot query locks, such as the SMC).
    pub verify_lock: bool,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        Self {
            words: regs::HUK_OTP_DEFAULT,
            lock: true,
            verify_lock: true,
        }
    }
}

/// Programs `huk` into `options.words`, verifies it, and (by default)
/// permanently locks the words. Irreversible.
///
/// Refuses, before touching any fuse, when a word number is out of range or
/// repeated, an all-zero HUK, a word that already holds a different value,
/// or a word that is locked against programming. Running it again on a
/// device that already holds this HUK only adds missing locks.
pub fn provision_huk<A: OtpAccess>(
    access: &mut A,
    huk: &[u8; HUK_LEN],
    options: ProvisionOptions,
) -> Result<ProvisionReport, ProvisionError> {
    let words = options.words;
    let mut report = ProvisionReport {
        words,
        ..ProvisionReport::default()
    };
    let fail = |step, word: Option<u8>, error, report| ProvisionError {
        step,
        word,
        error,
        report,
    };
    let image = huk_words_image(huk, words);

    // Precheck: nothing is burnt unless all four words can take the HUK.
    if let Some(&w) = words.iter().find(|&&w| usize::from(w) >= regs::OTP_WORDS) {
        return Err(fail(
            ProvisionStep::Precheck,
            Some(w),
            Error::BadWord(w),
            report,
        ));
    }
    let distinct = (0..4).all(|i| (i + 1..4).all(|j| words.get(i) != words.get(j)));
    if !distinct {
        return Err(fail(
            ProvisionStep::Precheck,
            None,
            Error::Unsupported("the four HUK words must differ"),
            report,
        ));
    }
    if bool::from(huk.ct_eq(&[0u8; HUK_LEN])) {
        return Err(fail(
            ProvisionStep::Precheck,
            None,
            Error::Unsupported("an all-zero HUK is not a key"),
            report,
        ));
    }
    let mut permanently_locked = [false; 4];
    for (i, &(word, value)) in image.iter().enumerate() {
        let current = Zeroizing::new(
            access
                .read_fuse(word)
                .map_err(|e| fail(ProvisionStep::Precheck, Some(word), e, report))?,
        );
        let present = bool::from(current.ct_eq(&value));
        if !present && *current != 0 {
            return Err(fail(
                ProvisionStep::Precheck,
                Some(word),
                Error::AlreadyProgrammed(word),
                report,
            ));
        }
        let lock = match access.lock_state(word) {
            Ok(state) => Some(state),
            Err(Error::Unsupported(_)) => None,
            Err(e) => return Err(fail(ProvisionStep::Precheck, Some(word), e, report)),
        };
        if let Some(state) = lock {
            if let Some(slot) = permanently_locked.get_mut(i) {
                *slot = state.permanent;
            }
            if !present && let Some(kind) = state.program_lock() {
                return Err(fail(
                    ProvisionStep::Precheck,
                    Some(word),
                    Error::Locked(word, kind),
                    report,
                ));
            }
        }
        if let Some(slot) = report.already_present.get_mut(i) {
            *slot = present;
        }
    }

    // Program the words that need it.
    for (i, &(word, value)) in image.iter().enumerate() {
        if report.already_present.get(i).copied().unwrap_or(true) {
            continue;
        }
        if let Some(slot) = report.programmed.get_mut(i) {
            *slot = true;
        }
        access
            .program(word, value)
            .map_err(|e| fail(ProvisionStep::Program, Some(word), e, report))?;
    }

    // Verify all four together.
    let mut readback = Zeroizing::new([0u8; HUK_LEN]);
    for (chunk, &(word, _)) in readback.chunks_exact_mut(4).zip(image.iter()) {
        let value = Zeroizing::new(
            access
                .read_fuse(word)
                .map_err(|e| fail(ProvisionStep::Verify, Some(word), e, report))?,
        );
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    if !bool::from(readback.ct_eq(huk)) {
        let word = image
            .iter()
            .zip(readback.chunks_exact(4))
            .find(|((_, v), got)| v.to_le_bytes().as_slice() != *got)
            .map(|((w, _), _)| *w);
        let error = word.map_or(Error::Unsupported("read-back differs"), Error::VerifyFailed);
        return Err(fail(ProvisionStep::Verify, word, error, report));
    }
    report.verified = true;

    if !options.lock {
        return Ok(report);
    }

    // Lock, then read the locks back.
    for (i, &word) in words.iter().enumerate() {
        if permanently_locked.get(i).copied().unwrap_or(false) {
            if let Some(slot) = report.locked.get_mut(i) {
                *slot = true;
            }
            continue;
        }
        if let Some(slot) = report.lock_issued.get_mut(i) {
            *slot = true;
        }
        access
            .permanent_lock(word)
            .map_err(|e| fail(ProvisionStep::Lock, Some(word), e, report))?;
    }
    if options.verify_lock {
        for (i, &word) in words.iter().enumerate() {
            let state = access
                .lock_state(word)
                .map_err(|e| fail(ProvisionStep::VerifyLock, Some(word), e, report))?;
            if let Some(slot) = report.locked.get_mut(i) {
                *slot = state.permanent;
            }
            if !state.permanent {
                return Err(fail(
                    ProvisionStep::VerifyLock,
                    Some(word),
                    Error::VerifyFailed(word),
                    report,
                ));
            }
        }
    }
    Ok(report)
}
