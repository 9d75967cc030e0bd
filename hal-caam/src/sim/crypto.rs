//! The sim's stand-in for the CAAM's undocumented blob and RNG crypto.
//!
//! Stated derivations (not NXP's, which are not public):
//!
//! - master key MK (32 bytes) = OTPMK in secure/trusted state, else
//!   [`super::TEST_MASTER_KEY`];
//! - BKEK = SP 800-108 counter-mode KDF with AES-256-CMAC keyed with MK,
//!   label `"CAAM BKEK"`, context = PRIBLOB ‖ blob format ‖ key modifier
//!   (exact bytes, so a 10-byte and a zero-padded 16-byte modifier differ),
//!   32-bit counter and length fields, 32 bytes out;
//! - blob = AES-256-ECB(BKEK, BK) ‖ AES-256-CCM(BK, nonce 13 × 0x00, no AAD,
//!   16-byte tag) over the data, BK a fresh 32-byte RNG output; a fixed
//!   nonce is safe because every BK encrypts one message;
//! - MKVB = the same KDF with label `"CAAM MKVB"`, context = PRIBLOB;
//! - RNG4 state handle *h*: key = the same KDF keyed with the entropy seed,
//!   label `"CAAM RNG4"`, context = *h*; output = AES-256 over a 128-bit
//!   big-endian block counter.
//!
//! Each entry point is kept out of line (`#[inline(never)]`): its cipher
//! state is on the stack only while it runs, not in the frame of the
//! interpreter, which sits under every job the driver runs.

use aes::Aes256;
use ccm::aead::AeadInOut;
use ccm::consts::{U13, U16};
use ccm::{Ccm, KeyInit};
use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt};
use trusted_core::kdf::{FieldWidths, kdf_counter_cmac};
use zeroize::Zeroizing;

use crate::regs::blob::{BLOB_KEY_LEN, KEYMOD_MAX, MAC_LEN};

type BlobCcm = Ccm<Aes256, U16, U13>;
const NONCE: [u8; 13] = [0; 13];

/// A failure the interpreter turns into a CAAM status word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CryptoError {
    /// Buffer lengths do not match the blob layout.
    Length,
    /// MAC mismatch.
    Icv,
}

/// Largest blob payload the sim handles (the driver's data area is 512 bytes).
pub(crate) const MAX_DATA: usize = 512;

fn aes(key: &[u8; 32]) -> Aes256 {
    Aes256::new(key.into())
}

/// One AES-ECB encryption of `block` under `key` (16, 24 or 32 bytes), as
/// the class-1 AESA does; `false` for any other key length.
pub(crate) fn aes_ecb_block(key: &[u8], block: &mut [u8; 16]) -> bool {
    let block: &mut Array<u8, _> = block.into();
    match key.len() {
        16 => aes::Aes128::new_from_slice(key).map(|c| c.encrypt_block(block)),
        24 => aes::Aes192::new_from_slice(key).map(|c| c.encrypt_block(block)),
        32 => Aes256::new_from_slice(key).map(|c| c.encrypt_block(block)),
        _ => return false,
    }
    .is_ok()
}

/// KDF(MK, label, context) → 32 bytes.
#[inline(never)]
pub(crate) fn derive(key: &[u8; 32], label: &[u8], context: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    // Only fails for outputs longer than the 32-bit fields allow.
    let _ = kdf_counter_cmac(aes(key), label, context, FieldWidths::WORDS, out.as_mut());
    out
}

/// BKEK for a blob of `format` under `keymod`.
pub(crate) fn bkek(mk: &[u8; 32], priblob: u8, format: u8, keymod: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut context = [0u8; 2 + KEYMOD_MAX];
    let n = 2 + keymod.len().min(KEYMOD_MAX);
    [priblob, format]
        .iter()
        .chain(keymod)
        .zip(context.iter_mut())
        .for_each(|(k, c)| *c = *k);
    derive(mk, b"CAAM BKEK", context.get(..n).unwrap_or(&[]))
}

/// Master key verification blob.
pub(crate) fn mkvb(mk: &[u8; 32], priblob: u8) -> Zeroizing<[u8; 32]> {
    derive(mk, b"CAAM MKVB", &[priblob])
}

/// Seals `blob` in place: its body (all but the first 32 and the last 16
/// bytes) holds the data; the blob key slot gets E(BKEK, BK), the body
/// CCM(BK, data), the last 16 bytes the tag.
#[inline(never)]
pub(crate) fn encapsulate(
    bkek: &[u8; 32],
    bk: &[u8; 32],
    blob: &mut [u8],
) -> Result<(), CryptoError> {
    let (head, rest) = blob
        .split_at_mut_checked(BLOB_KEY_LEN)
        .ok_or(CryptoError::Length)?;
    let body_len = rest.len().checked_sub(MAC_LEN).ok_or(CryptoError::Length)?;
    let (body, tag_out) = rest.split_at_mut(body_len);
    head.copy_from_slice(bk);
    let wrap = aes(bkek);
    for block in head.chunks_exact_mut(16) {
        let block: &mut Array<u8, _> = block.try_into().map_err(|_| CryptoError::Length)?;
        wrap.encrypt_block(block);
    }
    let ccm = BlobCcm::new_from_slice(bk).map_err(|_| CryptoError::Length)?;
    let tag = ccm
        .encrypt_inout_detached(&NONCE.into(), &[], body.into())
        .map_err(|_| CryptoError::Length)?;
    tag_out.copy_from_slice(&tag);
    Ok(())
}

/// Inverse of [`encapsulate`], in place: on success the body holds the
/// data; when the MAC does not verify it is left all zero.
#[inline(never)]
pub(crate) fn decapsulate(bkek: &[u8; 32], blob: &mut [u8]) -> Result<(), CryptoError> {
    let (head, rest) = blob
        .split_at_mut_checked(BLOB_KEY_LEN)
        .ok_or(CryptoError::Length)?;
    let body_len = rest.len().checked_sub(MAC_LEN).ok_or(CryptoError::Length)?;
    let (body, tag) = rest.split_at_mut(body_len);
    let mut bk = Zeroizing::new([0u8; 32]);
    bk.copy_from_slice(head);
    let wrap = aes(bkek);
    for block in bk.chunks_exact_mut(16) {
        let block: &mut Array<u8, _> = block.try_into().map_err(|_| CryptoError::Length)?;
        wrap.decrypt_block(block);
    }
    let ccm = BlobCcm::new_from_slice(bk.as_ref()).map_err(|_| CryptoError::Length)?;
    let tag = Array::try_from(&*tag).map_err(|_| CryptoError::Length)?;
    ccm.decrypt_inout_detached(&NONCE.into(), &[], body.into(), &tag)
        .map_err(|_| CryptoError::Icv)
}

/// One RNG4 state handle: AES-256 over a block counter.
pub(crate) struct Drbg {
    key: Zeroizing<[u8; 32]>,
    counter: u128,
}

impl Drbg {
    #[inline(never)]
    pub(crate) fn instantiate(seed: &[u8; 32], handle: u8) -> Self {
        Self {
            key: derive(seed, b"CAAM RNG4", &[handle]),
            counter: 0,
        }
    }

    #[inline(never)]
    pub(crate) fn generate(&mut self, out: &mut [u8]) {
        let cipher = aes(&self.key);
        for chunk in out.chunks_mut(16) {
            let mut block = Array::from(self.counter.to_be_bytes());
            cipher.encrypt_block(&mut block);
            chunk
                .iter_mut()
                .zip(block.iter())
                .for_each(|(o, b)| *o = *b);
            self.counter = self.counter.wrapping_add(1);
        }
    }
}
