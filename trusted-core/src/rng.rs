//! What the hardware RNG drivers share: a fill that leaves nothing of a
//! failed draw behind, and the `rand_core` glue over such a fill.
//!
//! A driver writes its word loop (`fill_words`: FIFO or data register,
//! little-endian words, the last one cut), wraps it in [`fill_or_wipe`] as
//! its public `fill`, and gets [`rand_core::TryRng`] from
//! [`impl_try_rng_via_fill!`](crate::impl_try_rng_via_fill). Whether it is
//! also a [`rand_core::TryCryptoRng`] is the driver's own claim, written
//! next to its reason.
//!
//! The register-level models of those RNGs (the hal crates' `sim`
//! features) share [`ModelFifo`]: the deterministic word stream their
//! generator feeds into the output FIFO, so tests can predict every byte.

use zeroize::Zeroize;

/// Runs `fill` on `dst` and, when it fails, zeroes `dst` before handing
/// the error back: a caller that drops the error finds zeros, never the
/// part of a key drawn before the failure.
///
/// ```
/// use trusted_core::rng::fill_or_wipe;
///
/// let mut out = [0xA5u8; 8];
/// let r = fill_or_wipe(&mut out, |dst| {
///     dst[..4].copy_from_slice(&[1, 2, 3, 4]);
///     Err("the FIFO underflowed")
/// });
/// assert_eq!(r, Err("the FIFO underflowed"));
/// assert_eq!(out, [0; 8]);
///
/// let r = fill_or_wipe(&mut out, |dst| {
///     dst.fill(7);
///     Ok::<(), ()>(())
/// });
/// assert_eq!(r, Ok(()));
/// assert_eq!(out, [7; 8]);
/// ```
pub fn fill_or_wipe<E>(
    dst: &mut [u8],
    fill: impl FnOnce(&mut [u8]) -> Result<(), E>,
) -> Result<(), E> {
    let result = fill(dst);
    if result.is_err() {
        dst.zeroize();
    }
    result
}

/// The output side of a modelled hardware RNG: a deterministic stream of
/// words, word `i` being `word(seed, i)` (each model has its own
/// function), fed by the modelled generator into a FIFO of `N` words that
/// register reads pop, oldest first.
///
/// ```
/// use trusted_core::rng::ModelFifo;
///
/// let mut fifo = ModelFifo::<2>::new(7, |seed, i| (seed + i) as u32);
/// fifo.generate();
/// fifo.generate();
/// fifo.generate(); // full: the generator waits
/// assert_eq!(fifo.level(), 2);
/// assert_eq!((fifo.pop(), fifo.pop(), fifo.pop()), (Some(7), Some(8), None));
/// fifo.generate();
/// fifo.flush();
/// assert_eq!((fifo.pop(), fifo.stream_position()), (None, 3));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ModelFifo<const N: usize> {
    words: [u32; N],
    level: usize,
    seed: u64,
    next: u64,
    word: fn(u64, u64) -> u32,
}

impl<const N: usize> ModelFifo<N> {
    /// An empty FIFO; the stream starts at word 0 of `seed`.
    pub const fn new(seed: u64, word: fn(u64, u64) -> u32) -> Self {
        Self {
            words: [0; N],
            level: 0,
            seed,
            next: 0,
            word,
        }
    }

    /// The stream starts again at word 0 of `seed` (the FIFO keeps what it
    /// holds).
    pub fn reseed(&mut self, seed: u64) {
        self.seed = seed;
        self.next = 0;
    }

    /// The generator makes the next stream word, if the FIFO has room.
    pub fn generate(&mut self) {
        if let Some(slot) = self.words.get_mut(self.level) {
            *slot = (self.word)(self.seed, self.next);
            self.next += 1;
            self.level += 1;
        }
    }

    /// The oldest word, taken out; `None` when the FIFO is empty.
    pub fn pop(&mut self) -> Option<u32> {
        if self.level == 0 {
            return None;
        }
        let word = self.words.first().copied();
        self.words.copy_within(1.., 0);
        self.level -= 1;
        word
    }

    /// Empties the FIFO (the stream goes on where it was).
    pub fn flush(&mut self) {
        self.words = [0; N];
        self.level = 0;
    }

    /// Words waiting in the FIFO.
    pub fn level(&self) -> usize {
        self.level
    }

    /// Index of the next stream word the generator will make.
    pub fn stream_position(&self) -> u64 {
        self.next
    }
}

/// Implements [`rand_core::TryRng`] for a type with an inherent
/// `fn fill(&mut self, &mut [u8]) -> Result<(), Error>`: `try_fill_bytes`
/// is `fill`, and `try_next_u32`/`try_next_u64` draw their bytes through
/// it (`rand_core::utils::next_word_via_fill`, little-endian). Written as
/// the impl it expands to, less the three methods:
///
/// ```
/// use core::convert::Infallible;
/// use trusted_core::rand_core::TryRng;
///
/// /// A generator that counts (a stand-in for a hardware FIFO).
/// struct Counter(u8);
///
/// impl Counter {
///     fn fill(&mut self, out: &mut [u8]) -> Result<(), Infallible> {
///         for byte in out {
///             self.0 = self.0.wrapping_add(1);
///             *byte = self.0;
///         }
///         Ok(())
///     }
/// }
///
/// trusted_core::impl_try_rng_via_fill! {
///     /// Every byte from `Counter::fill`.
///     impl TryRng for Counter {
///         type Error = Infallible;
///     }
/// }
///
/// let mut rng = Counter(0);
/// assert_eq!(rng.try_next_u32(), Ok(0x0403_0201));
/// let mut out = [0u8; 3];
/// rng.try_fill_bytes(&mut out).unwrap();
/// assert_eq!(out, [5, 6, 7]);
/// ```
///
/// Type parameters take one bound each:
/// `impl<M: Mmio, T: DelayNs> TryRng for Rngb<M, T> { type Error = Error; }`.
#[macro_export]
macro_rules! impl_try_rng_via_fill {
    (
        $(#[$attr:meta])*
        impl $(<$($param:ident: $bound:path),+ $(,)?>)? TryRng for $ty:ty {
            type Error = $error:ty;
        }
    ) => {
        $(#[$attr])*
        impl $(<$($param: $bound),+>)? $crate::rand_core::TryRng for $ty {
            type Error = $error;

            fn try_next_u32(&mut self) -> ::core::result::Result<u32, $error> {
                $crate::rand_core::utils::next_word_via_fill(self)
            }

            fn try_next_u64(&mut self) -> ::core::result::Result<u64, $error> {
                $crate::rand_core::utils::next_word_via_fill(self)
            }

            fn try_fill_bytes(&mut self, dst: &mut [u8]) -> ::core::result::Result<(), $error> {
                self.fill(dst)
            }
        }
    };
}
