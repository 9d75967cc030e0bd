//! The TEE sealer: blobs of OP-TEE's trusted_keys TA (Linux
//! `trusted.source=tee`), made in firmware from any subkey provider
//! ([`SubkeyDerive`]: every [`Huk`](crate::Huk), or a hardware KDF such as
//! the STM32MP13 SAES).
//!
//! Format (optee_os ta/trusted_keys/entry.c, `struct tk_blob_hdr`):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | reserved, 0 on seal, ignored on unseal |
//! | 1 | 16 | IV (GCM with a 128-bit IV) |
//! | 17 | 16 | GCM tag |
//! | 33 | N | AES-256-GCM ciphertext, no AAD |
//!
//! The AES-256 key is OP-TEE's TA-unique key of the trusted_keys TA,
//! `huk_subkey_derive(HUK_SUBKEY_UNIQUE_TA, TA UUID, 32 bytes)`: with a HUK
//! that is HMAC-SHA256(HUK, LE32(3) ‖ TA UUID) ([`crate::huk::ta_unique_key`]);
//! on an STM32MP13 it is the SAES DHUK KDF.

use core::marker::PhantomData;

use aes::Aes256;
use aes_gcm::aead::array::typenum::U16;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{AesGcm, Nonce, Tag};
use rand_core::TryCryptoRng;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};
use crate::fih;
use crate::huk::{HUK_SUBKEY_MAX_LEN, HukSubkeyUsage, SubkeyDerive, TRUSTED_KEYS_TA_UUID};
use crate::key::{Key, MAX_BLOB_SIZE, SealedBlob};
use crate::one_block::{AesEngine, DynBlock, EncryptBlock, EngineBlock};
use crate::source::TrustSource;

/// Header bytes before the ciphertext.
pub const TEE_BLOB_OVERHEAD: usize = 33;
const IV: core::ops::Range<usize> = 1..17;
const TAG: core::ops::Range<usize> = 17..33;

/// GCM over a borrowed cipher, one block at a time: the same blobs from
/// less code, the modes shared with any other cipher of the firmware (see
/// [`crate::one_block`]).
type TeeGcm<'a> = AesGcm<DynBlock<'a>, U16>;

/// A [`TrustSource`] writing and reading OP-TEE trusted_keys TA blobs with
/// the TA key from the subkey provider `K` (any [`Huk`](crate::Huk), or a
/// hardware [`SubkeyDerive`]) and IVs (and `random`) from `R`, the TEE's RNG.
///
/// ```
/// use trusted_core::{Key, StaticHuk, TrustSource, tee::TeeSealer};
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
/// let key = Key::from_slice(&[0x42; 32]).unwrap();
/// let blob = tee.seal(&key, "").unwrap();
/// assert_eq!(blob.len(), 32 + 33);
/// assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
/// ```
pub struct TeeSealer<K, R, A = SoftAes> {
    kdf: K,
    rng: R,
    aes: PhantomData<A>,
}

/// Where the TEE sealer's AES-256 runs: [`SoftAes`] (RustCrypto's `aes`,
/// the default), [`RngAes`] (an engine that is also the RNG) or [`KdfAes`]
/// (an engine that is also the subkey provider), each an [`AesEngine`].
pub trait TaCipher<K, R> {
    /// AES-256 under the TA key, one block per call.
    type Cipher<'a>: EncryptBlock
    where
        K: 'a,
        R: 'a;

    /// The cipher under `ta_key`, which the caller wipes once this returns.
    fn cipher<'a>(
        kdf: &'a mut K,
        rng: &'a mut R,
        ta_key: &[u8; HUK_SUBKEY_MAX_LEN],
    ) -> Result<Self::Cipher<'a>>;

    /// Whether every block of `cipher` was computed: an engine error wins
    /// over the mode's result (its output is then wrong).
    fn finish(cipher: &Self::Cipher<'_>) -> Result<()>;
}

/// RustCrypto's software AES-256 (`aes`): [`TeeSealer::new`].
pub enum SoftAes {}

/// AES-256 in the engine that is also the sealer's RNG (the CAAM):
/// [`TeeSealer::with_rng_aes`]. Same blobs, no software AES linked.
pub enum RngAes {}

/// AES-256 in the engine that is also the subkey provider (the STM32MP13
/// SAES): [`TeeSealer::with_kdf_aes`]. Same blobs, no software AES linked.
pub enum KdfAes {}

impl<K, R> TaCipher<K, R> for SoftAes {
    type Cipher<'a>
        = Aes256
    where
        K: 'a,
        R: 'a;

    /// The cipher wipes its round keys when dropped.
    fn cipher(_kdf: &mut K, _rng: &mut R, ta_key: &[u8; HUK_SUBKEY_MAX_LEN]) -> Result<Aes256> {
        Aes256::new_from_slice(ta_key).map_err(|_| Error::KeyLength)
    }

    fn finish(_cipher: &Aes256) -> Result<()> {
        Ok(())
    }
}

impl<K, R: AesEngine> TaCipher<K, R> for RngAes {
    type Cipher<'a>
        = EngineBlock<'a, R>
    where
        K: 'a,
        R: 'a;

    fn cipher<'a>(
        _kdf: &'a mut K,
        rng: &'a mut R,
        ta_key: &[u8; HUK_SUBKEY_MAX_LEN],
    ) -> Result<EngineBlock<'a, R>> {
        EngineBlock::new(rng, ta_key)
    }

    fn finish(cipher: &EngineBlock<'_, R>) -> Result<()> {
        cipher.finish()
    }
}

impl<K: AesEngine, R> TaCipher<K, R> for KdfAes {
    type Cipher<'a>
        = EngineBlock<'a, K>
    where
        K: 'a,
        R: 'a;

    fn cipher<'a>(
        kdf: &'a mut K,
        _rng: &'a mut R,
        ta_key: &[u8; HUK_SUBKEY_MAX_LEN],
    ) -> Result<EngineBlock<'a, K>> {
        EngineBlock::new(kdf, ta_key)
    }

    fn finish(cipher: &EngineBlock<'_, K>) -> Result<()> {
        cipher.finish()
    }
}

impl<K: SubkeyDerive, R: TryCryptoRng> TeeSealer<K, R> {
    /// A sealer over the subkey provider `kdf` (a HUK provider such as
    /// `StaticHuk`, `DcpHuk`, `CaamHuk`, `Stm32mp15Huk`, or a hardware KDF
    /// such as the STM32MP13 `SaesKdf`) and the RNG `rng`, with software
    /// AES-256.
    pub fn new(kdf: K, rng: R) -> Self {
        Self::with(kdf, rng)
    }
}

impl<K: SubkeyDerive, R: TryCryptoRng + AesEngine> TeeSealer<K, R, RngAes> {
    /// [`TeeSealer::new`] with AES-256 run by `engine`, which is also the
    /// RNG (a CAAM job ring): the same blobs, and no software AES in the
    /// image beside the engine's.
    pub fn with_rng_aes(kdf: K, engine: R) -> Self {
        Self::with(kdf, engine)
    }
}

impl<K: SubkeyDerive + AesEngine, R: TryCryptoRng> TeeSealer<K, R, KdfAes> {
    /// [`TeeSealer::new`] with AES-256 run by `engine`, which is also the
    /// subkey provider (the STM32MP13 SAES, `SaesKdf`): the same blobs, and
    /// no software AES in the image beside the engine's.
    pub fn with_kdf_aes(engine: K, rng: R) -> Self {
        Self::with(engine, rng)
    }
}

impl<K: SubkeyDerive, R: TryCryptoRng, A: TaCipher<K, R>> TeeSealer<K, R, A> {
    fn with(kdf: K, rng: R) -> Self {
        Self {
            kdf,
            rng,
            aes: PhantomData,
        }
    }

    /// The subkey provider and RNG back.
    pub fn into_inner(self) -> (K, R) {
        (self.kdf, self.rng)
    }

    /// The subkey provider this sealer wraps (a HUK provider or a hardware
    /// KDF), for what the sealer does not do itself.
    pub fn driver_mut(&mut self) -> &mut K {
        &mut self.kdf
    }

    /// AES-256 under the trusted_keys TA key, derived afresh for every
    /// operation (OP-TEE derives it per call too) and zeroed once the
    /// cipher is keyed.
    fn cipher(&mut self) -> Result<A::Cipher<'_>> {
        let mut ta_key = Zeroizing::new([0u8; HUK_SUBKEY_MAX_LEN]);
        self.kdf.derive_subkey(
            HukSubkeyUsage::UniqueTa,
            &TRUSTED_KEYS_TA_UUID,
            ta_key.as_mut(),
        )?;
        A::cipher(&mut self.kdf, &mut self.rng, &ta_key)
    }

    /// Unseals `blob` into `out` and returns the key length. On any error
    /// `out` is left all zero, so no partial plaintext survives.
    pub fn unseal_into(&mut self, blob: &[u8], out: &mut [u8]) -> Result<usize> {
        let result = self.unseal_inner(blob, out);
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    fn unseal_inner(&mut self, blob: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = key_len_of(blob.len())?;
        let out = out.get_mut(..n).ok_or(Error::BufferTooSmall)?;
        let (iv, tag, ct) = match (blob.get(IV), blob.get(TAG), blob.get(TEE_BLOB_OVERHEAD..)) {
            (Some(iv), Some(tag), Some(ct)) => (iv, tag, ct),
            _ => return Err(Error::BlobLength),
        };
        // Borrowed in place, not copied out of the blob: byte-wise copies
        // are costly on strict-alignment targets (Cortex-A with the MMU off).
        let nonce = <&Nonce<U16>>::try_from(iv).map_err(|_| Error::BlobLength)?;
        let tag = <&Tag<U16>>::try_from(tag).map_err(|_| Error::BlobLength)?;
        // Decrypted in the caller's buffer; the tag is checked, then checked
        // again by encrypting the plaintext back, before it is released
        // (a glitch on one tag comparison meets the other).
        let aes = self.cipher()?;
        let opened =
            fih::aead_open_checked(&TeeGcm::from(DynBlock::new(&aes)), nonce, ct, tag, out);
        A::finish(&aes)?;
        opened?;
        Ok(n)
    }
}

/// The key length of a blob of `blob_len` bytes. OP-TEE accepts
/// 33 < len <= 512 ([`Error::BlobLength`] otherwise); Linux keeps
/// 32..=128-byte keys ([`Error::KeyLength`] otherwise).
fn key_len_of(blob_len: usize) -> Result<usize> {
    if blob_len <= TEE_BLOB_OVERHEAD || blob_len > MAX_BLOB_SIZE {
        return Err(Error::BlobLength);
    }
    let n = blob_len - TEE_BLOB_OVERHEAD;
    if !(crate::MIN_KEY_SIZE..=crate::MAX_KEY_SIZE).contains(&n) {
        return Err(Error::KeyLength);
    }
    Ok(n)
}

impl<K: SubkeyDerive, R: TryCryptoRng, A: TaCipher<K, R>> TrustSource for TeeSealer<K, R, A> {
    fn name(&self) -> &'static str {
        "tee"
    }

    /// The TA has `TA_CMD_GET_RANDOM`, served by the TEE's RNG.
    fn has_rng(&self) -> bool {
        true
    }

    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        self.rng.try_fill_bytes(out).map_err(|_| Error::Rng)
    }

    fn seal(&mut self, key: &Key, _options: &str) -> Result<SealedBlob> {
        let mut blob = SealedBlob::zeroed(key.len() + TEE_BLOB_OVERHEAD)?;
        let mut iv = [0u8; 16];
        self.rng.try_fill_bytes(&mut iv).map_err(|_| Error::Rng)?;
        let aes = self.cipher()?;
        let cipher = TeeGcm::from(DynBlock::new(&aes));
        let bytes = blob.as_mut_bytes();
        let (header, body) = bytes
            .split_at_mut_checked(TEE_BLOB_OVERHEAD)
            .ok_or(Error::BlobLength)?;
        body.copy_from_slice(key.as_bytes());
        let sealed =
            cipher.encrypt_inout_detached(<&Nonce<U16>>::from(&iv), &[], (&mut *body).into());
        // The tag is read where it lies, not moved out (see `unseal_inner`).
        let tag = match &sealed {
            Ok(tag) => tag,
            Err(_) => {
                // The body still holds the plaintext key: wipe it.
                body.zeroize();
                return Err(Error::BlobLength);
            }
        };
        // An engine that failed a block made a wrong ciphertext and tag
        // (nothing to check for software AES).
        if let Err(e) = A::finish(&aes) {
            body.zeroize();
            return Err(e);
        }
        let (_reserved, iv_and_tag) = header.split_at_mut(IV.start);
        let (h_iv, h_tag) = iv_and_tag.split_at_mut(IV.len());
        h_iv.copy_from_slice(&iv);
        h_tag.copy_from_slice(tag);
        Ok(blob)
    }

    fn unseal(&mut self, blob: &[u8], _options: &str) -> Result<Key> {
        let mut key = Key::zeroed(key_len_of(blob.len())?)?;
        self.unseal_into(blob, key.as_mut_bytes())?;
        Ok(key)
    }
}
