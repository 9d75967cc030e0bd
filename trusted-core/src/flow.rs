//! The boot flow in one call: "give me my key — unseal it if a blob is
//! stored, otherwise make one, seal it, store it and prove it".
//!
//! [`provision_or_unseal`] runs on any [`TrustSource`] and a
//! [`BlobStore`]. A new key is returned only after its blob is committed to
//! flash, read back and unsealed to the same key, so a key the caller has
//! seen (and maybe encrypted a disk with) survives a power cut at any later
//! point. [`reseal`] replaces the stored blob (same key under new seal
//! options, or a new key) and keeps the old blob current until the new one
//! is proven.
//!
//! Keys live only in [`Key`]s, zeroed on drop on every path (an error
//! included); errors and logs carry no key material.

use core::fmt;

use embedded_storage::nor_flash::NorFlash;
use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;

use crate::error::{DriverError, Error};
use crate::key::{Key, MAX_KEY_SIZE, MIN_KEY_SIZE};
use crate::source::{RngChoice, TrustSource};
use crate::store::{BlobStore, StoreError};

/// Which path the flow took.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Path {
    /// The current blob was unsealed.
    Unsealed,
    /// A blob was unsealed, but one slot did not verify (bit rot, or a
    /// write cut short by a power failure): one good copy is left. A
    /// [`reseal`] writes a second.
    UnsealedFallback,
    /// The store was empty: a new key was made, sealed, stored and proven.
    Provisioned,
    /// The key was sealed again (new seal options) and the new blob made
    /// current.
    Resealed,
    /// A new key replaced the old one.
    Rotated,
}

impl Path {
    /// What happened, in words: for firmware that prints without
    /// `core::fmt` (the same text as `Display`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Path::Unsealed => "unsealed the stored blob",
            Path::UnsealedFallback => "unsealed the stored blob (one slot did not verify)",
            Path::Provisioned => "first boot: new key sealed, stored and proven",
            Path::Resealed => "key sealed again, new blob stored and proven",
            Path::Rotated => "new key sealed, stored and proven in place of the old one",
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the flow reports: the store's or the trust source's error, kept
/// apart so a flash fault is not mistaken for a wrong device key.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum FlowError {
    /// The key store failed or refused.
    Store(StoreError),
    /// The trust source failed (`random`, `seal` or `unseal`).
    Source(Error),
    /// The caller's RNG failed.
    Rng,
    /// A key length outside 32..=128 bytes was asked for.
    KeyLength(usize),
    /// The blob read back from flash unsealed to another key: the new blob
    /// was not committed and the old one (if any) stays current.
    ProofFailed,
    /// [`reseal`] on a store that holds no blob.
    NothingStored,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Store(e) => fmt::Display::fmt(e, f),
            FlowError::Source(e) => write!(f, "trust source: {e}"),
            FlowError::Rng => f.write_str("the caller's RNG failed"),
            FlowError::KeyLength(n) => write!(
                f,
                "key length {n} outside {MIN_KEY_SIZE}..={MAX_KEY_SIZE} bytes"
            ),
            FlowError::ProofFailed => {
                f.write_str("the stored blob did not unseal to the sealed key; not committed")
            }
            FlowError::NothingStored => f.write_str("reseal: the key store holds no blob"),
        }
    }
}

impl core::error::Error for FlowError {}

impl DriverError for FlowError {
    // Out of line: `From` calls it too, and an inlined copy there doubles it.
    #[inline(never)]
    fn kind(&self) -> Error {
        match self {
            FlowError::Store(e) => e.kind(),
            FlowError::Source(e) => *e,
            FlowError::Rng => Error::Rng,
            FlowError::KeyLength(_) => Error::KeyLength,
            FlowError::ProofFailed => Error::Malformed("sealed blob did not unseal to its key"),
            FlowError::NothingStored => Error::InvalidArgument("reseal: the key store is empty"),
        }
    }
}

impl From<FlowError> for Error {
    fn from(e: FlowError) -> Self {
        e.kind()
    }
}

impl From<StoreError> for FlowError {
    fn from(e: StoreError) -> Self {
        FlowError::Store(e)
    }
}

/// How the flow makes and seals keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowOptions<'a> {
    /// Where new key bytes come from: the source's RNG or the caller's.
    pub rng: RngChoice,
    /// Length of a new key (32..=128 bytes).
    pub key_len: usize,
    /// keyctl-style options for seal and unseal (`keyhandle=0x81000001`
    /// for the TPM; the other sources ignore them).
    pub options: &'a str,
    /// Bytes of stack [`crate::scrub`] zeroes below the flow when it
    /// returns, where the cryptography left key material in dead frames;
    /// 0 (the default) wipes nothing. Use at least the backend's measured
    /// unseal and first-boot stack (`docs/size.md`), and leave as much
    /// stack free again.
    pub scrub_stack: usize,
}

impl<'a> FlowOptions<'a> {
    /// 32-byte keys from `rng`, no options.
    pub const fn new(rng: RngChoice) -> Self {
        Self {
            rng,
            key_len: 32,
            options: "",
            scrub_stack: 0,
        }
    }

    /// Linux's `trusted.rng=default` for `source`: its own RNG if it has
    /// one, else the caller's.
    pub fn for_source<S: TrustSource + ?Sized>(source: &S) -> Self {
        Self::new(if source.has_rng() {
            RngChoice::Source
        } else {
            RngChoice::Caller
        })
    }

    /// New keys of `key_len` bytes.
    pub const fn key_len(mut self, key_len: usize) -> Self {
        self.key_len = key_len;
        self
    }

    /// keyctl-style seal/unseal options.
    pub const fn options(mut self, options: &'a str) -> Self {
        self.options = options;
        self
    }

    /// Zero `bytes` of stack below the flow after each call (see
    /// [`FlowOptions::scrub_stack`]).
    pub const fn scrub_stack(mut self, bytes: usize) -> Self {
        self.scrub_stack = bytes;
        self
    }
}

/// A caller RNG for [`RngChoice::Source`]: the flow never asks it, and it
/// fails if it is asked anyway.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCallerRng;

/// The error of [`NoCallerRng`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRngError;

impl fmt::Display for NoRngError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no caller RNG was given")
    }
}

impl core::error::Error for NoRngError {}

impl rand_core::TryRng for NoCallerRng {
    type Error = NoRngError;
    fn try_next_u32(&mut self) -> Result<u32, NoRngError> {
        Err(NoRngError)
    }
    fn try_next_u64(&mut self) -> Result<u64, NoRngError> {
        Err(NoRngError)
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), NoRngError> {
        Err(NoRngError)
    }
}

impl TryCryptoRng for NoCallerRng {}

/// The boot flow: unseal the current blob of `source` from `store`; if the
/// store is empty, make a key (from the source's RNG or `key_rng`, as
/// `options.rng` says), seal it, stage the blob, read it back, unseal it
/// once to prove it, commit it, and return the key.
///
/// An unseal that fails is an error, never a reason to provision again: the
/// stored blob stays. `source` must be initialised (e.g. by
/// [`TrustSource::select`]).
///
/// With [`FlowOptions::scrub_stack`] set, the stack the flow used is
/// zeroed before it returns, on success and on error.
///
/// The crate documentation shows it in use ("The boot flow: one call").
pub fn provision_or_unseal<S, F, R>(
    source: &mut S,
    store: &mut BlobStore<F>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<(Key, Path), FlowError>
where
    S: TrustSource + ?Sized,
    F: NorFlash,
    R: TryCryptoRng + ?Sized,
{
    crate::scrub::after(options.scrub_stack, || {
        // Results are matched by reference and keys built inside the `Ok`
        // they are returned in: moving a blob or a key out of a `Result`
        // and back into another costs a copy at every step.
        let mut out = match &store.read(source.name()) {
            Err(e) => return Err(FlowError::Store(*e)),
            Ok(Some(stored)) => {
                let path = if stored.fell_back {
                    Path::UnsealedFallback
                } else {
                    Path::Unsealed
                };
                return match source.unseal(stored.blob.as_bytes(), options.options) {
                    Ok(key) => {
                        crate::debug!("flow: unsealed #{=u32}", stored.seq);
                        Ok((key, path))
                    }
                    Err(e) => Err(FlowError::Source(e)),
                };
            }
            Ok(None) => {
                crate::debug!("flow: key store empty, provisioning");
                new_key(source, key_rng, options).map(|key| (key, Path::Provisioned))
            }
        };
        if let Ok((key, _)) = &out
            && let Err(e) = store_proven(source, store, key, options.options)
        {
            // Replacing the `Ok` drops, and so zeroes, the key.
            out = Err(e);
        }
        out
    })
}

/// What [`reseal`] puts in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reseal {
    /// The same key, sealed again with the new options (e.g. a new PCR
    /// policy).
    SameKey,
    /// A new key from the RNG `options.rng` names (key rotation). Unseal
    /// the old key first if data must be re-encrypted with it.
    NewKey,
}

/// Replaces the stored blob: unseals the current one with
/// `options.options`, seals the same key or a new one with `seal_options`,
/// stages it in the other slot, proves it (read back, unseal, compare) and
/// commits it. Until the commit the old blob stays current, so a power cut
/// or failure at any point leaves the old key or the new one, never none.
/// [`FlowOptions::scrub_stack`] applies as in [`provision_or_unseal`].
pub fn reseal<S, F, R>(
    source: &mut S,
    store: &mut BlobStore<F>,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
    seal_options: &str,
    what: Reseal,
) -> Result<(Key, Path), FlowError>
where
    S: TrustSource + ?Sized,
    F: NorFlash,
    R: TryCryptoRng + ?Sized,
{
    crate::scrub::after(options.scrub_stack, || {
        let stored = store.read(source.name())?.ok_or(FlowError::NothingStored)?;
        let old = source
            .unseal(stored.blob.as_bytes(), options.options)
            .map_err(FlowError::Source)?;
        let (key, path) = match what {
            Reseal::SameKey => (old, Path::Resealed),
            // `old` is dropped, and zeroed, here.
            Reseal::NewKey => (new_key(source, key_rng, options)?, Path::Rotated),
        };
        store_proven(source, store, &key, seal_options)?;
        Ok((key, path))
    })
}

/// A new key of `options.key_len` bytes, filled in place.
fn new_key<S, R>(
    source: &mut S,
    key_rng: &mut R,
    options: &FlowOptions<'_>,
) -> Result<Key, FlowError>
where
    S: TrustSource + ?Sized,
    R: TryCryptoRng + ?Sized,
{
    // Filled inside the `Ok` it is returned in, not moved out and back in
    // (byte-wise copies on strict-alignment targets); an error replaces,
    // and so zeroes, it.
    let mut key = Key::zeroed(options.key_len).map_err(|_| FlowError::KeyLength(options.key_len));
    if let Ok(bytes) = &mut key {
        let filled = match options.rng {
            RngChoice::Source => source
                .random(bytes.as_mut_bytes())
                .map_err(FlowError::Source),
            RngChoice::Caller => key_rng
                .try_fill_bytes(bytes.as_mut_bytes())
                .map_err(|_| FlowError::Rng),
        };
        if let Err(e) = filled {
            key = Err(e);
        }
    }
    key
}

/// Seal `key`, stage the blob, read it back, unseal it, compare, commit,
/// and check the store now reads it as current.
fn store_proven<S, F>(
    source: &mut S,
    store: &mut BlobStore<F>,
    key: &Key,
    seal_options: &str,
) -> Result<(), FlowError>
where
    S: TrustSource + ?Sized,
    F: NorFlash,
{
    let blob = source.seal(key, seal_options);
    let blob = blob.as_ref().map_err(|e| FlowError::Source(*e))?;
    let pending = store.stage(source.name(), blob.as_bytes())?;
    let stored = store.read_pending(&pending);
    let stored = stored.as_ref().map_err(|e| FlowError::Store(*e))?;
    let proof = source.unseal(stored.as_bytes(), seal_options);
    let proof = proof.as_ref().map_err(|e| FlowError::Source(*e))?;
    if !bool::from(proof.ct_eq(key)) || stored != blob {
        crate::warning!("flow: stored blob does not unseal to its key; not committed");
        return Err(FlowError::ProofFailed);
    }
    let seq = store.commit(pending)?;
    let current = store.read(source.name());
    let current = match &current {
        Ok(Some(current)) => current,
        Ok(None) => return Err(FlowError::Store(StoreError::NotStaged)),
        Err(e) => return Err(FlowError::Store(*e)),
    };
    // Checked again, in the other sense, right before the key is handed out.
    if current.seq != seq || current.blob != *blob || bool::from(proof.ct_ne(key)) {
        return Err(FlowError::Store(StoreError::NotStaged));
    }
    crate::debug!("flow: blob #{=u32} committed and proven", seq);
    Ok(())
}
