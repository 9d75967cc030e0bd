//! Fault-injection hardening: security decisions that one flipped bit or
//! one skipped instruction cannot turn from a refusal into a success.
//!
//! The anchors are MCUboot's `boot/bootutil/include/bootutil/
//! fault_injection_hardening.h` and TF-M's `lib/fih/inc/fih.h`:
//!
//! - a decision is a [`Verdict`], never a `bool`: a value and its copy
//!   under a mask (their `FIH_ENABLE_DOUBLE_VARS` tuple `(x, x ^ msk)`),
//!   whose success value is a many-bit pattern (TF-M's
//!   `FIH_POSITIVE_VALUE`, `0x1AAA555A`) far from the failure pattern
//!   (`FIH_NEGATIVE_VALUE`, `0x15555555`) and from the values a corrupted
//!   register takes most (0, all ones);
//! - a verdict starts as [`Verdict::FAILURE`] and only a completed check
//!   makes it a success (their `FIH_CALL` sets the return to `FIH_FAILURE`
//!   before the call);
//! - it is tested twice, value and masked copy ([`Verdict::is_success`],
//!   their `FIH_EQ`), with [`core::hint::black_box`] standing in for their
//!   `volatile` so the compiler cannot merge the two tests;
//! - a condition read from hardware is evaluated twice from fresh reads
//!   ([`check_twice`], TF-M's `FIH_COND_CHECK`), and a decision is checked
//!   again right before the secret it guards is used.
//!
//! Every comparison here is also constant time (`subtle`): [`ct_eq`] and
//! [`ct_ne`] decide equality of byte strings by two independent
//! computations that must agree.
//!
//! ```
//! use trusted_core::fih::{self, Verdict};
//! let probe = [0x55u8; 16];
//! let differs = fih::ct_ne(&probe, &[0u8; 16]);
//! assert!(differs.is_success());
//! assert!(!fih::ct_ne(&probe, &probe).is_success());
//! // A refusal stays a refusal whatever single bit of it flips.
//! for bit in 0..64 {
//!     assert!(!Verdict::FAILURE.with_bit_flipped(bit).is_success());
//! }
//! ```
//!
//! [`ReadFlip`] is the other half of the proof: the fault hook the sims
//! of this family share, which flips one chosen bit of one chosen register
//! read, so a test can sweep every single-bit corruption of every read a
//! check depends on.

use core::hint::black_box;

use subtle::{Choice, ConstantTimeEq};

/// TF-M's `FIH_POSITIVE_VALUE`.
const SUCCESS: u32 = 0x1AAA_555A;
/// TF-M's and MCUboot's `FIH_NEGATIVE_VALUE`.
const FAILURE: u32 = 0x1555_5555;
/// The mask of the second copy (high Hamming weight, as MCUboot asks).
const MASK: u32 = 0xA5C3_3C5A;

/// A security decision: success only when both its value and its masked
/// copy hold the success pattern.
///
/// The failure and success encodings differ in 16 bits of each word, so no
/// single flipped bit (nor any flip of fewer than 32 bits) turns one into
/// the other; a corrupted verdict that is neither is a refusal.
#[must_use = "a verdict decides nothing until it is checked"]
#[derive(Clone, Copy)]
pub struct Verdict {
    val: u32,
    msk: u32,
}

impl core::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.is_success() {
            "Verdict(success)"
        } else {
            "Verdict(refused)"
        })
    }
}

impl Default for Verdict {
    /// [`Verdict::FAILURE`]: nothing is granted before a check ran.
    fn default() -> Self {
        Self::FAILURE
    }
}

impl Verdict {
    /// The refusal (and the value every decision starts from).
    pub const FAILURE: Self = Self {
        val: FAILURE,
        msk: FAILURE ^ MASK,
    };

    /// The success. Code that grants something without a check (a hazmat
    /// switch) uses it explicitly, so the grant is visible.
    pub const SUCCESS: Self = Self {
        val: SUCCESS,
        msk: SUCCESS ^ MASK,
    };

    /// Success when `choice` is 1, computed without a branch on it.
    pub fn from_choice(choice: Choice) -> Self {
        let all = 0u32.wrapping_sub(u32::from(black_box(choice.unwrap_u8()) & 1));
        let val = FAILURE ^ ((FAILURE ^ SUCCESS) & all);
        Self {
            val,
            msk: black_box(val) ^ MASK,
        }
    }

    /// The decision as a `subtle::Choice` (1 for success), both copies
    /// compared in constant time.
    pub fn choice(self) -> Choice {
        black_box(self.val).ct_eq(&SUCCESS) & black_box(self.msk ^ MASK).ct_eq(&SUCCESS)
    }

    /// True only for the success encoding: the value, then the masked copy,
    /// then the value again (re-read through `black_box`) are each compared
    /// with the success pattern (MCUboot `FIH_EQ`: `x == y && delay &&
    /// !(y != x)`).
    pub fn is_success(self) -> bool {
        let val = black_box(self.val);
        let msk = black_box(self.msk);
        val == SUCCESS && black_box(msk ^ MASK) == SUCCESS && black_box(val) == SUCCESS
    }

    /// Success only when both are successes.
    pub fn and(self, other: Self) -> Self {
        Self::from_choice(self.choice() & other.choice())
    }

    /// Success when either is a success (a hazmat grant next to a check).
    pub fn or(self, other: Self) -> Self {
        Self::from_choice(self.choice() | other.choice())
    }

    /// `Ok(())` for a success, `Err(refusal)` otherwise.
    pub fn ok_or<E>(self, refusal: E) -> Result<(), E> {
        if self.is_success() {
            Ok(())
        } else {
            Err(refusal)
        }
    }

    /// This verdict with bit `bit` (0..64: value bits, then masked-copy
    /// bits) flipped, as a glitch would: for tests of the encoding.
    pub fn with_bit_flipped(self, bit: u32) -> Self {
        let (val, msk) = match bit {
            0..32 => (self.val ^ (1 << bit), self.msk),
            32..64 => (self.val, self.msk ^ (1 << (bit - 32))),
            _ => (self.val, self.msk),
        };
        Self { val, msk }
    }
}

/// Runs `check` twice, from fresh reads, and succeeds only when both runs
/// do (TF-M `FIH_COND_CHECK` evaluates its condition more than once for the
/// same reason): one corrupted read or one skipped comparison makes one
/// run a refusal, and so the whole.
pub fn check_twice(mut check: impl FnMut() -> Verdict) -> Verdict {
    let first = check();
    let second = check();
    first.and(second)
}

/// Equality of `a` and `b` in constant time, decided by two independent
/// computations (`subtle`'s comparison and an OR of XORs) that must agree.
/// Lengths are public.
pub fn ct_eq(a: &[u8], b: &[u8]) -> Verdict {
    let (first, second) = equal_twice(a, b);
    Verdict::from_choice(first & second)
}

/// Inequality of `a` and `b` in constant time, decided twice as in
/// [`ct_eq`]: success only when both computations find them different.
pub fn ct_ne(a: &[u8], b: &[u8]) -> Verdict {
    let (first, second) = equal_twice(a, b);
    Verdict::from_choice(!first & !second)
}

fn equal_twice(a: &[u8], b: &[u8]) -> (Choice, Choice) {
    let first = black_box(a).ct_eq(black_box(b));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (black_box(*x) ^ black_box(*y)));
    let second = diff.ct_eq(&0) & (a.len() as u64).ct_eq(&(b.len() as u64));
    (first, second)
}

/// Opens an AEAD ciphertext into `out` and checks the result again before
/// it is released: the tag is verified by the AEAD, then the plaintext is
/// encrypted again and both the ciphertext and the tag it gives must equal
/// the blob's ([`ct_eq`]). A glitch that skips or corrupts the AEAD's own
/// tag comparison still meets the second one. On any failure `out` is
/// left all zero and [`crate::Error::AuthFailed`] returned.
///
/// `ct` and `out` must have the same length, at most
/// [`crate::MAX_KEY_SIZE`] bytes (the plaintext is a key).
pub fn aead_open_checked<A: aes_gcm::aead::AeadInOut>(
    aead: &A,
    nonce: &aes_gcm::aead::Nonce<A>,
    ct: &[u8],
    tag: &aes_gcm::aead::Tag<A>,
    out: &mut [u8],
) -> crate::Result<()> {
    let result = open_and_recheck(
        aead,
        nonce,
        ct,
        tag.as_slice(),
        |o| {
            aead.decrypt_inout_detached(nonce, &[], o.into(), tag)
                .is_ok()
        },
        out,
    );
    if result.is_err() {
        zeroize::Zeroize::zeroize(out);
    }
    result
}

/// The body of [`aead_open_checked`]: `open` decrypts `out` in place and
/// says whether the AEAD accepted the tag.
fn open_and_recheck<A: aes_gcm::aead::AeadInOut>(
    aead: &A,
    nonce: &aes_gcm::aead::Nonce<A>,
    ct: &[u8],
    tag: &[u8],
    open: impl FnOnce(&mut [u8]) -> bool,
    out: &mut [u8],
) -> crate::Result<()> {
    use crate::Error;
    if out.len() != ct.len() {
        return Err(Error::BufferTooSmall);
    }
    let mut again = zeroize::Zeroizing::new([0u8; crate::MAX_KEY_SIZE]);
    let again = again.get_mut(..ct.len()).ok_or(Error::KeyLength)?;
    out.copy_from_slice(ct);
    let mut verdict = Verdict::FAILURE;
    if open(out) {
        verdict = Verdict::SUCCESS;
    }
    // Re-check before release: the plaintext must encrypt back to the blob.
    again.copy_from_slice(out);
    let sealed_again = aead.encrypt_inout_detached(nonce, &[], (&mut *again).into());
    // Compared where it lies: moving a tag out of its `Result` costs
    // byte-wise copies on strict-alignment targets.
    let tag_again = match &sealed_again {
        Ok(t) => t.as_slice(),
        Err(_) => return Err(Error::AuthFailed),
    };
    verdict = verdict.and(ct_eq(again, ct)).and(ct_eq(tag_again, tag));
    verdict.ok_or(Error::AuthFailed)
}

/// The tally of a glitch sweep: how many single-fault cases were tried and
/// how many of them ended in a refusal (they must be equal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Cases run.
    pub tried: u32,
    /// Cases that ended in a refusal.
    pub refused: u32,
}

impl Sweep {
    /// Runs `refused(case)` for every case in `0..cases` and counts. For a
    /// sweep of register reads, case `c` is bit `c % 32` of read `c / 32`
    /// ([`Sweep::read_and_bit`]); for a sweep of output bits, bit `c`.
    ///
    /// ```
    /// use trusted_core::fih::Sweep;
    /// let all = Sweep::run(64, |case| Sweep::read_and_bit(case).0 < 5);
    /// assert_eq!(all, Sweep { tried: 64, refused: 64 });
    /// ```
    pub fn run(cases: u32, mut refused: impl FnMut(u32) -> bool) -> Self {
        let mut tally = Self::default();
        for case in 0..cases {
            tally.tried += 1;
            if refused(case) {
                tally.refused += 1;
            }
        }
        tally
    }

    /// The read number and bit of register-read case `case`.
    pub fn read_and_bit(case: u32) -> (u32, u8) {
        (case / 32, (case % 32) as u8)
    }

    /// [`Sweep::run`] over every bit of each of `reads` register reads:
    /// `refused(nth, bit)` runs one case.
    pub fn over_reads(reads: u32, mut refused: impl FnMut(u32, u8) -> bool) -> Self {
        Self::run(reads.saturating_mul(32), |case| {
            let (nth, bit) = Self::read_and_bit(case);
            refused(nth, bit)
        })
    }

    /// True when every case tried was refused (and there was one).
    pub fn all_refused(&self) -> bool {
        self.tried > 0 && self.tried == self.refused
    }
}

impl core::fmt::Display for Sweep {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} cases tried, {} refused", self.tried, self.refused)
    }
}

/// One glitched register read: read number `nth` (0 = the next) of the
/// register at `offset`, or of any register for `None`, returns with bit
/// `bit` (0..32; others flip nothing) flipped, as a glitch on the bus or in
/// the CPU would. Every sim's `Fault::FlipReadBit` carries one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReadGlitch {
    /// Register offset (from the block's base) the read must be of.
    pub offset: Option<usize>,
    /// Which matching read, counted from the injection.
    pub nth: u32,
    /// Bit 0..=31 to flip.
    pub bit: u8,
}

/// The fault hook the sims share: flips one chosen bit of one chosen
/// register read, and counts reads so a test knows how many there are to
/// sweep. A sim holds one, passes every read through [`ReadFlip::apply`],
/// and arms it from its `inject(Fault::FlipReadBit(glitch))`.
///
/// ```
/// use trusted_core::fih::{ReadFlip, ReadGlitch};
/// let mut flip = ReadFlip::default();
/// // The second read of offset 0x10, bit 3.
/// flip.arm(ReadGlitch { offset: Some(0x10), nth: 1, bit: 3 });
/// assert_eq!(flip.apply(0x10, 0), 0);
/// assert_eq!(flip.apply(0x20, 0), 0);
/// assert_eq!(flip.apply(0x10, 0), 8);
/// assert_eq!(flip.apply(0x10, 0), 0); // one-shot
/// assert_eq!(flip.reads(), 4);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadFlip {
    armed: Option<(Option<usize>, u32, u32)>,
    reads: u32,
}

impl ReadFlip {
    /// Arms `glitch`. Replaces an armed flip not fired yet.
    pub fn arm(&mut self, glitch: ReadGlitch) {
        let mask = 1u32.checked_shl(u32::from(glitch.bit)).unwrap_or(0);
        self.armed = Some((glitch.offset, glitch.nth, mask));
    }

    /// Disarms a flip that has not fired.
    pub fn disarm(&mut self) {
        self.armed = None;
    }

    /// True while a flip is armed and has not fired.
    pub fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// Register reads seen so far (all offsets).
    pub fn reads(&self) -> u32 {
        self.reads
    }

    /// Passes the read of `offset` that returned `value`: counts it, and
    /// flips the armed bit when this is the chosen read.
    pub fn apply(&mut self, offset: usize, value: u32) -> u32 {
        self.reads = self.reads.wrapping_add(1);
        match self.armed {
            Some((target, nth, mask)) if target.is_none_or(|t| t == offset) => {
                if nth == 0 {
                    self.armed = None;
                    value ^ mask
                } else {
                    self.armed = Some((target, nth - 1, mask));
                    value
                }
            }
            _ => value,
        }
    }
}
