//! `CFG_STM32MP15_HUK_BSEC_DERIVE_UID`: the UID block encrypted under the
//! OTP key, as OP-TEE's `stm32mp15_huk.c` does it (feature `derive-uid`).

#[cfg(feature = "derive-uid")]
use aes::Aes128;
#[cfg(feature = "derive-uid")]
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use trusted_core::Error;
#[cfg(feature = "derive-uid")]
use trusted_core::{HUK_LEN, Result};

/// [`crate::HukMode::DeriveUid`] in a build without the feature.
pub(crate) const NOT_BUILT: Error =
    Error::Unsupported("HukMode::DeriveUid: hal-stm32mp1-otp built without feature derive-uid");

/// GCM's first counter block for OP-TEE's UID nonce `55 00 .. 00`:
/// nonce ‖ BE32(2) (J0 = nonce ‖ BE32(1) is kept for the tag).
#[cfg(feature = "derive-uid")]
const GCM_FIRST_COUNTER_BLOCK: [u8; 16] = [0x55, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// Encrypts `uid` (UID0 ‖ UID1 ‖ UID2 ‖ 0) under the key in `key_then_huk`
/// and leaves the ciphertext, the HUK, in its place (no copy of it).
///
/// OP-TEE encrypts it with AES-128-GCM (nonce 55 00..00, no AAD) and
/// keeps the ciphertext, not the tag. For one block that is CTR's first
/// keystream block: the block XOR AES(key, nonce ‖ BE32(2)), 96-bit nonce
/// (SP 800-38D §7.1); no GHASH is needed.
///
/// Out of line: inlined into the sealer's key derivation, the AES-128 of
/// a mode most devices never use costs more code there.
#[cfg(feature = "derive-uid")]
#[inline(never)]
pub(crate) fn encrypt(key_then_huk: &mut [u8; HUK_LEN], uid: &[u8; HUK_LEN]) -> Result<()> {
    let cipher = Aes128::new_from_slice(key_then_huk).map_err(|_| Error::KeyLength)?;
    let mut keystream = zeroize::Zeroizing::new(Array::from(GCM_FIRST_COUNTER_BLOCK));
    cipher.encrypt_block(&mut keystream);
    for ((h, u), k) in key_then_huk.iter_mut().zip(uid).zip(keystream.iter()) {
        *h = u ^ k;
    }
    Ok(())
}
