//! What Linux's key type does with a payload (`trusted_instantiate`,
//! `trusted_update`): `new` draws random bytes and seals them, `load`
//! unseals, `update` reseals a migratable key.

use rand_core::TryCryptoRng;

use crate::error::{Error, Result};
use crate::key::{Key, SealedBlob};
use crate::keyctl::{Command, Payload};
use crate::source::{RngChoice, TrustSource};

/// A key with the blob it is stored as, like the kernel's
/// `trusted_key_payload`.
#[derive(Debug)]
pub struct TrustedKey {
    /// The plain key.
    pub key: Key,
    /// The sealed form, printed by `keyctl pipe`.
    pub blob: SealedBlob,
    /// Whether `update` may reseal it.
    pub migratable: bool,
}

/// Runs a `new` or `load` payload against `source`. New key bytes come from
/// the source or from `caller_rng` as `rng` says. `update` is refused here,
/// as `keyctl add` refuses it.
///
/// ```
/// # use trusted_core::{StaticHuk, RngChoice, tee::TeeSealer, trusted::instantiate};
/// # struct Counter(u8);
/// # impl rand_core::TryRng for Counter {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(0) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(0) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> {
/// #         d.iter_mut().for_each(|b| { self.0 = self.0.wrapping_add(1); *b = self.0 }); Ok(()) }
/// # }
/// # impl rand_core::TryCryptoRng for Counter {}
/// let mut tee = TeeSealer::new(StaticHuk::new([0; 16]), Counter(0));
/// let made = instantiate(&mut tee, RngChoice::Source, &mut Counter(7), "new 32").unwrap();
/// let text = format!("load {}", made.blob);
/// let loaded = instantiate(&mut tee, RngChoice::Source, &mut Counter(7), &text).unwrap();
/// assert_eq!(loaded.key, made.key);
/// ```
pub fn instantiate<S: TrustSource, R: TryCryptoRng>(
    source: &mut S,
    rng: RngChoice,
    caller_rng: &mut R,
    payload: &str,
) -> Result<TrustedKey> {
    let payload = Payload::parse(payload)?;
    match payload.command {
        Command::New { key_len } => {
            let mut key = Key::zeroed(key_len)?;
            match rng {
                RngChoice::Source => source.random(key.as_mut_bytes())?,
                RngChoice::Caller => caller_rng
                    .try_fill_bytes(key.as_mut_bytes())
                    .map_err(|_| Error::Rng)?,
            }
            let blob = source.seal(&key, payload.options)?;
            Ok(TrustedKey {
                key,
                blob,
                migratable: source.migratable(),
            })
        }
        Command::Load { blob } => {
            let key = source.unseal(blob.as_bytes(), payload.options)?;
            Ok(TrustedKey {
                key,
                blob,
                migratable: source.migratable(),
            })
        }
        Command::Update => Err(Error::Payload("update is only valid for an existing key")),
    }
}

/// Reseals `old` with new options (`keyctl update KEY "update [options]"`);
/// refused for keys that are not migratable, as Linux returns `-EPERM`.
pub fn update<S: TrustSource>(
    source: &mut S,
    old: &TrustedKey,
    payload: &str,
) -> Result<TrustedKey> {
    if !old.migratable {
        return Err(Error::Locked);
    }
    let payload = Payload::parse(payload)?;
    if payload.command != Command::Update {
        return Err(Error::Payload("keyctl update takes \"update [options]\""));
    }
    let blob = source.seal(&old.key, payload.options)?;
    Ok(TrustedKey {
        key: old.key.clone(),
        blob,
        migratable: old.migratable,
    })
}
