//! Salted, encrypted, HMAC sessions: the pure-crypto half.
//!
//! What Linux does with `CONFIG_TCG_TPM2_HMAC` (drivers/char/tpm/
//! tpm2-sessions.c), in the same shape: an unbound session salted by ECDH to
//! a TPM ECC NIST P-256 key, authHash SHA-256, symmetric AES-128-CFB,
//! 32-byte nonces. It protects the sealing path against a sniffer or an
//! interposer on the SPI bus: the sealed secret and its authValue cross the
//! bus encrypted, and every command and response is HMAC-checked with
//! rolling nonces (TPM 2.0 Part 1 §19.6, §21; research/hw-registers.md §4.9).
//!
//! No alloc, no panics; TPM-supplied inputs (the salt key's point, nonces,
//! response HMACs) are checked and rejected with a [`SessionError`]. Secrets
//! ([`Salt`], [`SessionKey`], every derived key) zero themselves on drop and
//! never print their contents.
//!
//! The command layer uses it like this:
//! 1. [`ecdh_salt`] with the salt key's public point (from TPM2_ReadPublic or
//!    TPM2_CreatePrimary; pin its Name, see §4.9 "active interposer");
//! 2. TPM2_StartAuthSession(tpmKey, TPM_RH_NULL, nonceCaller from
//!    [`random_nonce`], encryptedSalt, TPM_SE_HMAC/TPM_SE_POLICY,
//!    [`SYMMETRIC_AES_128_CFB`], [`TPM_ALG_SHA256`]), then
//!    [`SessionState::new`] with the handle and nonceTPM it returns;
//! 3. per command: [`SessionState::begin_command`],
//!    [`SessionState::encrypt_command_param`] if `decrypt` is set, [`cp_hash`],
//!    [`SessionState::command_hmac`]; per response: [`rp_hash`],
//!    [`SessionState::check_response`], then
//!    [`SessionState::decrypt_response_param`] if `encrypt` is set.
//!
//! Those methods are one-liners over free functions of an [`Exchange`]
//! (sessionKey, authValue, nonceCaller, nonceTPM: what one command/response
//! pair is protected with) that [`SessionState::exchange`] builds; the free
//! functions are public for a caller that keeps its own session state.

mod auth;
mod kdf;
mod salt;

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

pub use auth::{
    Direction, Exchange, cfb_key_iv, command_hmac, cp_hash, decrypt_response_param,
    encrypt_command_param, handle_name, object_name, response_hmac, rp_hash, verify_response_hmac,
};
pub use kdf::{kdfa, kdfe};
pub(crate) use salt::ecdh_salt_into;
pub use salt::{EncryptedSalt, ecdh_salt, ecdh_salt_from_scalar};

/// SHA-256 digest size: sessionKey, salt, cpHash, rpHash and HMAC size.
pub const DIGEST_SIZE: usize = 32;
/// Size of nonceCaller and nonceTPM (the authHash digest size, as Linux).
pub const NONCE_SIZE: usize = 32;
/// Size of a SHA-256 object Name: nameAlg (2) ‖ digest (32).
pub const NAME_SIZE: usize = 2 + DIGEST_SIZE;
/// Size of a P-256 coordinate.
pub const ECC_COORD_SIZE: usize = 32;
/// Size of the `encryptedSalt` TPM2B for a P-256 salt key, size field included.
pub const ENCRYPTED_SALT_SIZE: usize = 2 + 2 * (2 + ECC_COORD_SIZE);
/// Longest authValue accepted (trailing zeros removed): sizeof(TPMU_HA).
pub const MAX_AUTH_SIZE: usize = 64;

/// TPMA_SESSION continueSession: keep the session after this command.
pub const ATTR_CONTINUE_SESSION: u8 = 0x01;
/// TPMA_SESSION decrypt: the first command parameter is encrypted.
pub const ATTR_DECRYPT: u8 = 0x20;
/// TPMA_SESSION encrypt: the first response parameter is encrypted.
pub const ATTR_ENCRYPT: u8 = 0x40;
/// TPM_SE_HMAC session type.
pub const TPM_SE_HMAC: u8 = 0x00;
/// TPM_SE_POLICY session type.
pub const TPM_SE_POLICY: u8 = 0x01;
/// TPM_ALG_SHA256, the session's authHash.
pub const TPM_ALG_SHA256: u16 = 0x000B;
/// TPMT_SYM_DEF {TPM_ALG_AES, 128, TPM_ALG_CFB}, marshalled.
pub const SYMMETRIC_AES_128_CFB: [u8; 6] = [0x00, 0x06, 0x00, 0x80, 0x00, 0x43];

/// Label of the sessionKey KDFa (Part 1 §19.6.8).
const LABEL_ATH: &[u8] = b"ATH";

/// What went wrong in session crypto.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SessionError {
    /// The TPM's salt key is not a point of NIST P-256.
    NotOnCurve,
    /// The response HMAC does not verify: tampering, replay or a wrong key.
    ResponseHmac,
    /// The RNG failed (or kept producing invalid scalars).
    Rng,
    /// A given ephemeral scalar is 0 or not below the P-256 group order.
    Scalar,
    /// A nonce, authValue or KDF output length outside what is supported.
    Size,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionError::NotOnCurve => "TPM salt key is not a P-256 point",
            SessionError::ResponseHmac => "TPM response HMAC does not verify",
            SessionError::Rng => "random number generator failed",
            SessionError::Scalar => "invalid P-256 scalar",
            SessionError::Size => "nonce, authValue or KDF length out of range",
        })
    }
}

impl core::error::Error for SessionError {}

/// A nonceCaller or nonceTPM (public).
pub type Nonce = [u8; NONCE_SIZE];

macro_rules! secret_32 {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; DIGEST_SIZE]);

        impl $name {
            /// Wrap bytes (moved in; zeroed when this value drops).
            pub fn from_bytes(bytes: [u8; DIGEST_SIZE]) -> Self {
                Self(bytes)
            }

            /// The secret bytes.
            pub fn as_bytes(&self) -> &[u8; DIGEST_SIZE] {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

secret_32! {
    /// The session salt both sides derive (KDFe output for an ECC salt key).
    Salt
}

secret_32! {
    /// sessionKey = KDFa(SHA-256, bind.authValue ‖ salt, "ATH", nonceTPM,
    /// nonceCaller, 256) (Part 1 §19.6.8).
    SessionKey
}

impl SessionKey {
    /// Derive the sessionKey from StartAuthSession's inputs: `salt` (None
    /// for an unsalted session), the bind entity's authValue (empty when
    /// unbound; trailing zeros removed), nonceTPM from the response and the
    /// nonceCaller that was sent.
    ///
    /// An unsalted unbound session has an empty sessionKey in the spec; that
    /// case is refused here with [`SessionError::Size`] because it protects
    /// nothing.
    ///
    /// # Errors
    /// [`SessionError::Size`] as above or if `bind_auth` is longer than
    /// [`MAX_AUTH_SIZE`].
    // Out of line: its key buffer and KDFa stay out of the session start's
    // frame, which the ECDH chain runs below.
    #[inline(never)]
    pub fn derive(
        salt: Option<&Salt>,
        bind_auth: &[u8],
        nonce_tpm: &Nonce,
        nonce_caller: &Nonce,
    ) -> Result<Self, SessionError> {
        let bind = auth::strip_trailing_zeros(bind_auth);
        let salt: &[u8] = salt.map_or(&[], |s| s.as_bytes());
        if bind.len() > MAX_AUTH_SIZE || (bind.is_empty() && salt.is_empty()) {
            return Err(SessionError::Size);
        }
        let mut key = Zeroizing::new([0u8; MAX_AUTH_SIZE + DIGEST_SIZE]);
        let len = bind.len() + salt.len();
        let (b, s) = key.split_at_mut(bind.len());
        b.copy_from_slice(bind);
        s.get_mut(..salt.len())
            .ok_or(SessionError::Size)?
            .copy_from_slice(salt);
        let mut out = Self([0; DIGEST_SIZE]);
        kdfa(
            key.get(..len).ok_or(SessionError::Size)?,
            LABEL_ATH,
            nonce_tpm,
            nonce_caller,
            &mut out.0,
        )?;
        Ok(out)
    }
}

/// A fresh nonce from `rng` (nonceCaller for StartAuthSession or a command).
///
/// # Errors
/// [`SessionError::Rng`] if the RNG fails.
pub fn random_nonce<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Nonce, SessionError> {
    let mut nonce = [0u8; NONCE_SIZE];
    rng.try_fill_bytes(&mut nonce)
        .map_err(|_| SessionError::Rng)?;
    Ok(nonce)
}

/// One open HMAC or policy session, as Linux's `struct tpm2_auth`: handle,
/// the current nonces, sessionKey and the attributes of the next command.
///
/// The nonces roll: [`begin_command`](Self::begin_command) draws a new
/// nonceCaller, [`check_response`](Self::check_response) adopts the
/// response's nonceTPM once its HMAC verified. authValues are passed per
/// call (they belong to the entity authorised, not to the session).
pub struct SessionState {
    handle: u32,
    nonce_caller: Nonce,
    nonce_tpm: Nonce,
    session_key: SessionKey,
    attributes: u8,
}

impl fmt::Debug for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionState")
            .field("handle", &format_args!("{:#010x}", self.handle))
            .field("attributes", &format_args!("{:#04x}", self.attributes))
            .finish_non_exhaustive()
    }
}

impl SessionState {
    /// The session TPM2_StartAuthSession opened: `handle` and `nonce_tpm`
    /// from its response, `nonce_caller` as sent, `salt` as from
    /// [`ecdh_salt`], `bind_auth` empty for an unbound session.
    /// `attributes` are used for the following commands (usually
    /// [`ATTR_CONTINUE_SESSION`] plus decrypt/encrypt as needed).
    ///
    /// # Errors
    /// [`SessionError::Size`] if `nonce_tpm` is not 32 bytes, or as
    /// [`SessionKey::derive`].
    pub fn new(
        handle: u32,
        salt: Option<&Salt>,
        bind_auth: &[u8],
        nonce_caller: &Nonce,
        nonce_tpm: &[u8],
        attributes: u8,
    ) -> Result<Self, SessionError> {
        let nonce_tpm: Nonce = nonce_tpm.try_into().map_err(|_| SessionError::Size)?;
        let session_key = SessionKey::derive(salt, bind_auth, &nonce_tpm, nonce_caller)?;
        Ok(Self {
            handle,
            nonce_caller: *nonce_caller,
            nonce_tpm,
            session_key,
            attributes,
        })
    }

    /// The session handle (goes in the command's authorization area).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Session attributes for the next command.
    pub fn attributes(&self) -> u8 {
        self.attributes
    }

    /// Set the attributes for the next command (e.g. decrypt for Create,
    /// encrypt for Unseal and GetRandom).
    pub fn set_attributes(&mut self, attributes: u8) {
        self.attributes = attributes;
    }

    /// Current nonceCaller (goes in the command's authorization area).
    pub fn nonce_caller(&self) -> &Nonce {
        &self.nonce_caller
    }

    /// Current nonceTPM (the last verified one).
    pub fn nonce_tpm(&self) -> &Nonce {
        &self.nonce_tpm
    }

    /// The sessionKey.
    pub fn session_key(&self) -> &SessionKey {
        &self.session_key
    }

    /// Start a command: draw a fresh nonceCaller.
    ///
    /// # Errors
    /// [`SessionError::Rng`]; the old nonce is kept then.
    pub fn begin_command<R: TryCryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<(), SessionError> {
        self.nonce_caller = random_nonce(rng)?;
        Ok(())
    }

    /// The [`Exchange`] of this session's key and current nonces with
    /// `auth_value`, the authValue of the entity authorised (after
    /// [`check_response`](Self::check_response), nonceTPM is the response's).
    pub fn exchange<'a>(&'a self, auth_value: &'a [u8]) -> Exchange<'a> {
        Exchange {
            session_key: &self.session_key,
            auth_value,
            nonce_caller: &self.nonce_caller,
            nonce_tpm: &self.nonce_tpm,
        }
    }

    /// [`encrypt_command_param`] with this session's key and nonces.
    ///
    /// # Errors
    /// As [`encrypt_command_param`].
    pub fn encrypt_command_param(
        &self,
        auth_value: &[u8],
        param: &mut [u8],
    ) -> Result<(), SessionError> {
        encrypt_command_param(&self.exchange(auth_value), param)
    }

    /// The command HMAC for `cp_hash` (see [`cp_hash`]), with this session's
    /// nonces and attributes.
    ///
    /// # Errors
    /// As [`command_hmac`].
    pub fn command_hmac(
        &self,
        auth_value: &[u8],
        cp_hash: &[u8; DIGEST_SIZE],
    ) -> Result<[u8; DIGEST_SIZE], SessionError> {
        command_hmac(&self.exchange(auth_value), cp_hash, self.attributes)
    }

    /// Check a response's session: `nonce_tpm`, `attributes` and `hmac` as
    /// parsed from its authorization area, `rp_hash` over its parameters
    /// (see [`rp_hash`]). On success the response's nonceTPM becomes
    /// current; on failure the state is unchanged and the response must be
    /// discarded.
    ///
    /// # Errors
    /// [`SessionError::ResponseHmac`] if the HMAC does not verify or
    /// `nonce_tpm` is not 32 bytes; [`SessionError::Size`] as
    /// [`response_hmac`].
    pub fn check_response(
        &mut self,
        auth_value: &[u8],
        rp_hash: &[u8; DIGEST_SIZE],
        nonce_tpm: &[u8],
        attributes: u8,
        hmac: &[u8],
    ) -> Result<(), SessionError> {
        let nonce_tpm: Nonce = nonce_tpm
            .try_into()
            .map_err(|_| SessionError::ResponseHmac)?;
        let response = Exchange {
            nonce_tpm: &nonce_tpm,
            ..self.exchange(auth_value)
        };
        verify_response_hmac(&response, rp_hash, attributes, hmac)?;
        self.nonce_tpm = nonce_tpm;
        Ok(())
    }

    /// [`decrypt_response_param`] with this session's key and nonces; call
    /// after [`check_response`](Self::check_response) succeeded.
    ///
    /// # Errors
    /// As [`decrypt_response_param`].
    pub fn decrypt_response_param(
        &self,
        auth_value: &[u8],
        param: &mut [u8],
    ) -> Result<(), SessionError> {
        decrypt_response_param(&self.exchange(auth_value), param)
    }
}
