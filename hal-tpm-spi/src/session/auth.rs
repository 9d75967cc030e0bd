//! Per-command session crypto: AES-128-CFB parameter encryption (TPM 2.0
//! Part 1 §21.3), cpHash/rpHash (§18.7, §18.8), the command and response
//! HMACs (§19.6.17, §19.6.18) and object Names (§16).
//!
//! Every key here is sessionKey ‖ authValue, with the authValue's trailing
//! zero bytes removed first: the TPM stores and uses authValues that way
//! (ms-tpm-20-ref `EntityGetAuthValue` → `MemoryRemoveTrailingZeros`) and
//! Linux strips them in `tpm_buf_append_hmac_session`.

use aes::cipher::BlockCipherEncrypt;
use aes::{Aes128Enc, Block};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::kdf::kdfa;
use super::{DIGEST_SIZE, MAX_AUTH_SIZE, NAME_SIZE, Nonce, SessionError, SessionKey};

/// TPM_ALG_SHA256, the nameAlg and session hash.
const TPM_ALG_SHA256: u16 = 0x000B;
/// AES-128 key and CFB IV sizes.
const AES_KEY_SIZE: usize = 16;
const AES_BLOCK_SIZE: usize = 16;
/// Label of the parameter encryption KDFa (Part 1 §21.3).
const LABEL_CFB: &[u8] = b"CFB";

/// The secrets and the two nonces one command/response pair is protected
/// with: its parameter keys and HMACs are keyed with sessionKey ‖
/// authValue and take the nonces in their [`Direction`]'s order. Built by
/// [`SessionState::exchange`](super::SessionState::exchange), or by hand
/// for the free functions. No `Debug`: it holds the sessionKey and the
/// authValue.
#[derive(Clone, Copy)]
pub struct Exchange<'a> {
    /// The session's sessionKey.
    pub session_key: &'a SessionKey,
    /// The authValue of the entity authorised, trailing zeros allowed (they
    /// are removed where it is used); empty for a policy session without
    /// PolicyAuthValue.
    pub auth_value: &'a [u8],
    /// nonceCaller of the command.
    pub nonce_caller: &'a Nonce,
    /// nonceTPM: the last verified one for the command, the response's own
    /// for the response.
    pub nonce_tpm: &'a Nonce,
}

/// Which half of an [`Exchange`] a key or HMAC is for. It orders the two
/// nonces: the newer one, the nonce of that half's sender, comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Caller to TPM: nonceNewer = nonceCaller, nonceOlder = nonceTPM.
    Command,
    /// TPM to caller: nonceNewer = nonceTPM, nonceOlder = nonceCaller.
    Response,
}

impl<'a> Exchange<'a> {
    /// (nonceNewer, nonceOlder) of `direction`.
    fn nonces(&self, direction: Direction) -> (&'a Nonce, &'a Nonce) {
        match direction {
            Direction::Command => (self.nonce_caller, self.nonce_tpm),
            Direction::Response => (self.nonce_tpm, self.nonce_caller),
        }
    }

    /// sessionKey ‖ authValue, the key of every KDFa and HMAC here.
    fn key(&self) -> Result<HmacKey, SessionError> {
        HmacKey::new(self.session_key, self.auth_value)
    }
}

/// sessionKey ‖ authValue (trailing zeros removed), in a buffer that zeroes
/// itself.
#[derive(Zeroize, ZeroizeOnDrop)]
struct HmacKey {
    buf: [u8; DIGEST_SIZE + MAX_AUTH_SIZE],
    len: usize,
}

impl HmacKey {
    fn new(session_key: &SessionKey, auth_value: &[u8]) -> Result<Self, SessionError> {
        let auth = strip_trailing_zeros(auth_value);
        let len = DIGEST_SIZE + auth.len();
        let mut key = Self {
            buf: [0; DIGEST_SIZE + MAX_AUTH_SIZE],
            len: 0,
        };
        let (sk, rest) = key.buf.split_at_mut(DIGEST_SIZE);
        sk.copy_from_slice(session_key.as_bytes());
        rest.get_mut(..auth.len())
            .ok_or(SessionError::Size)?
            .copy_from_slice(auth);
        key.len = len;
        Ok(key)
    }

    fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn mac(&self) -> Result<Hmac<Sha256>, SessionError> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(self.as_slice()).map_err(|_| SessionError::Size)
    }
}

/// `auth` without its trailing zero bytes (Part 1 §19.6.5), found in time
/// that depends on `auth`'s length only, not on its bytes.
pub(super) fn strip_trailing_zeros(auth: &[u8]) -> &[u8] {
    let keep = auth.iter().zip(1u32..).fold(0u32, |keep, (&b, end)| {
        u32::conditional_select(&keep, &end, !b.ct_eq(&0))
    });
    auth.get(..keep as usize).unwrap_or(&[])
}

/// AES-128 key ‖ IV for parameter encryption: KDFa(SHA-256, sessionKey ‖
/// authValue, "CFB", nonceNewer, nonceOlder, 256 bits) (Part 1 §21.3).
///
/// nonceNewer is nonceCaller for a command and nonceTPM for a response
/// (`direction`).
///
/// # Errors
/// [`SessionError::Size`] if the authValue (trailing zeros removed) is
/// longer than [`MAX_AUTH_SIZE`].
pub fn cfb_key_iv(
    exchange: &Exchange<'_>,
    direction: Direction,
) -> Result<Zeroizing<[u8; AES_KEY_SIZE + AES_BLOCK_SIZE]>, SessionError> {
    let key = exchange.key()?;
    let (nonce_newer, nonce_older) = exchange.nonces(direction);
    let mut out = Zeroizing::new([0u8; AES_KEY_SIZE + AES_BLOCK_SIZE]);
    kdfa(
        key.as_slice(),
        LABEL_CFB,
        nonce_newer,
        nonce_older,
        out.as_mut_slice(),
    )?;
    Ok(out)
}

/// AES-128-CFB (full-block feedback, the last block cut short, no padding:
/// Part 1 §21.3) over `param` in place, encrypting or decrypting. Both
/// directions run the forward cipher only, so only the encryption key
/// schedule is built (`Aes128Enc`, one block at a time), in this frame,
/// which is never live together with the KDFa's HMAC frames of
/// [`cfb_key_iv`]. The keystream and feedback blocks are zeroed after use.
#[inline(never)]
fn cfb_apply(
    key_iv: &[u8; AES_KEY_SIZE + AES_BLOCK_SIZE],
    encrypt: bool,
    param: &mut [u8],
) -> Result<(), SessionError> {
    let (key, iv) = key_iv.split_at(AES_KEY_SIZE);
    let cipher = Aes128Enc::new_from_slice(key).map_err(|_| SessionError::Size)?;
    let mut feedback = Zeroizing::new(Block::default());
    feedback.copy_from_slice(iv);
    let mut keystream = Zeroizing::new(Block::default());
    for chunk in param.chunks_mut(AES_BLOCK_SIZE) {
        keystream.copy_from_slice(&feedback);
        cipher.encrypt_block(&mut keystream);
        for ((b, k), f) in chunk
            .iter_mut()
            .zip(keystream.iter())
            .zip(feedback.iter_mut())
        {
            let plain_or_cipher = *b;
            *b ^= *k;
            // The next IV is this block's ciphertext.
            *f = if encrypt { *b } else { plain_or_cipher };
        }
    }
    Ok(())
}

/// Encrypt, in place, the first command parameter of a session with the
/// `decrypt` attribute (0x20): `param` is the TPM2B's buffer, after its
/// u16 size, which stays clear. Full-block AES-128-CFB, no padding, key and
/// IV from [`cfb_key_iv`] with nonceNewer = nonceCaller (the fresh one of
/// this command) and nonceOlder = nonceTPM. Encrypt before computing the
/// cpHash: it covers the bytes as sent (Linux `tpm_buf_fill_hmac_session`).
///
/// # Errors
/// [`SessionError::Size`] as [`cfb_key_iv`]; `param` is untouched then.
pub fn encrypt_command_param(
    exchange: &Exchange<'_>,
    param: &mut [u8],
) -> Result<(), SessionError> {
    cfb_param(exchange, Direction::Command, param)
}

/// Decrypt, in place, the first response parameter of a session with the
/// `encrypt` attribute (0x40): `param` is the TPM2B's buffer after its
/// size. Key and IV from [`cfb_key_iv`] with nonceNewer = the nonceTPM of
/// this response and nonceOlder = nonceCaller of the command. Check the
/// response HMAC first: it covers the encrypted bytes (Linux
/// `tpm_buf_check_hmac_response`).
///
/// # Errors
/// [`SessionError::Size`] as [`cfb_key_iv`]; `param` is untouched then.
pub fn decrypt_response_param(
    exchange: &Exchange<'_>,
    param: &mut [u8],
) -> Result<(), SessionError> {
    cfb_param(exchange, Direction::Response, param)
}

/// The first parameter of `direction` through AES-128-CFB: the caller
/// encrypts what it sends (a command) and decrypts what it receives.
fn cfb_param(
    exchange: &Exchange<'_>,
    direction: Direction,
    param: &mut [u8],
) -> Result<(), SessionError> {
    let key_iv = cfb_key_iv(exchange, direction)?;
    cfb_apply(&key_iv, direction == Direction::Command, param)
}

/// cpHash = SHA256(BE32(commandCode) ‖ name(handle 1) ‖ … ‖ parameters),
/// with the parameter area exactly as sent (first parameter already
/// encrypted). `names` are the Names of the command's handles in order:
/// [`object_name`] for transient/persistent objects and NV indices,
/// [`handle_name`] for permanent handles and sessions.
pub fn cp_hash(command_code: u32, names: &[&[u8]], params: &[u8]) -> [u8; DIGEST_SIZE] {
    let mut h = Sha256::new();
    h.update(command_code.to_be_bytes());
    for name in names {
        h.update(name);
    }
    h.update(params);
    h.finalize().into()
}

/// rpHash = SHA256(BE32(responseCode = 0) ‖ BE32(commandCode) ‖
/// parameters), with the response parameter area as received (first
/// parameter still encrypted). Only successful responses carry an HMAC.
pub fn rp_hash(command_code: u32, params: &[u8]) -> [u8; DIGEST_SIZE] {
    let mut h = Sha256::new();
    h.update(0u32.to_be_bytes());
    h.update(command_code.to_be_bytes());
    h.update(params);
    h.finalize().into()
}

/// Command HMAC = HMAC-SHA256(sessionKey ‖ authValue, cpHash ‖ nonceCaller
/// ‖ nonceTPM ‖ sessionAttributes) (Part 1 §19.6.17). For a policy session
/// without PolicyAuthValue, the exchange's authValue is empty.
///
/// # Errors
/// [`SessionError::Size`] if the authValue is longer than [`MAX_AUTH_SIZE`].
pub fn command_hmac(
    exchange: &Exchange<'_>,
    cp_hash: &[u8; DIGEST_SIZE],
    attributes: u8,
) -> Result<[u8; DIGEST_SIZE], SessionError> {
    session_hmac(exchange, Direction::Command, cp_hash, attributes)
}

/// Response HMAC = HMAC-SHA256(sessionKey ‖ authValue, rpHash ‖ nonceTPM ‖
/// nonceCaller ‖ sessionAttributes) (Part 1 §19.6.18), with the nonceTPM
/// (in `exchange`) and attributes of the response.
///
/// # Errors
/// [`SessionError::Size`] if the authValue is longer than [`MAX_AUTH_SIZE`].
pub fn response_hmac(
    exchange: &Exchange<'_>,
    rp_hash: &[u8; DIGEST_SIZE],
    attributes: u8,
) -> Result<[u8; DIGEST_SIZE], SessionError> {
    session_hmac(exchange, Direction::Response, rp_hash, attributes)
}

/// HMAC-SHA256(sessionKey ‖ authValue, hash ‖ newer nonce ‖ older nonce ‖
/// attributes): the one formula of §19.6.17 and §19.6.18, the nonces in
/// `direction`'s order. One copy, out of line: its HMAC state then lives in
/// its own frame, not in the frames of the command layer that unseal's
/// deepest chain runs through.
#[inline(never)]
fn session_hmac(
    exchange: &Exchange<'_>,
    direction: Direction,
    hash: &[u8; DIGEST_SIZE],
    attributes: u8,
) -> Result<[u8; DIGEST_SIZE], SessionError> {
    let (nonce_newer, nonce_older) = exchange.nonces(direction);
    let mut mac = exchange.key()?.mac()?;
    mac.update(hash);
    mac.update(nonce_newer);
    mac.update(nonce_older);
    mac.update(&[attributes]);
    Ok(mac.finalize().into_bytes().into())
}

/// Check a response HMAC in constant time.
///
/// The comparison is made twice, the second time on the bitwise
/// complements, and both must agree (STYLE: a security decision is not one
/// boolean on the success path).
///
/// # Errors
/// [`SessionError::ResponseHmac`] if `received` is not the expected HMAC
/// (including a wrong length); [`SessionError::Size`] as [`response_hmac`].
pub fn verify_response_hmac(
    exchange: &Exchange<'_>,
    rp_hash: &[u8; DIGEST_SIZE],
    attributes: u8,
    received: &[u8],
) -> Result<(), SessionError> {
    let expected = response_hmac(exchange, rp_hash, attributes)?;
    let received: [u8; DIGEST_SIZE] = received
        .try_into()
        .map_err(|_| SessionError::ResponseHmac)?;
    trusted_core::fih::ct_eq(&expected, &received).ok_or(SessionError::ResponseHmac)
}

/// Name of a transient or persistent object or NV index with nameAlg
/// SHA-256: nameAlg (u16) ‖ SHA256(public area) (Part 1 §16). `public_area`
/// is the marshalled TPMT_PUBLIC (or TPMS_NV_PUBLIC) without its TPM2B size.
pub fn object_name(public_area: &[u8]) -> [u8; NAME_SIZE] {
    let mut name = [0u8; NAME_SIZE];
    let (alg, digest) = name.split_at_mut(2);
    alg.copy_from_slice(&TPM_ALG_SHA256.to_be_bytes());
    digest.copy_from_slice(&Sha256::digest(public_area));
    name
}

/// Name of a permanent handle (TPM_RH_*, TPM_RS_PW) or a session: the
/// handle itself, big-endian (Part 1 §16).
pub fn handle_name(handle: u32) -> [u8; 4] {
    handle.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::strip_trailing_zeros;

    #[test]
    fn strips_only_trailing_zeros() {
        let cases: [(&[u8], &[u8]); 6] = [
            (&[], &[]),
            (&[0, 0], &[]),
            (&[7], &[7]),
            (&[0, 7], &[0, 7]),
            (&[1, 0, 2, 0, 0], &[1, 0, 2]),
            (&[0xff; 64], &[0xff; 64]),
        ];
        for (auth, kept) in cases {
            assert_eq!(strip_trailing_zeros(auth), kept, "{auth:02x?}");
        }
    }
}
