//! Salted sessions in the command layer (feature `sessions`): what Linux's
//! `CONFIG_TCG_TPM2_HMAC` does in drivers/char/tpm/tpm2-sessions.c, on
//! [`Tpm`], with the crypto of [`crate::session`].
//!
//! * [`Tpm::read_salt_key`]: TPM2_ReadPublic of the storage key a session
//!   is salted to (the parent, ECC NIST P-256), with the Name the TPM
//!   reports checked against the Name computed here from the public area;
//! * [`Tpm::start_salted_session`]: TPM2_StartAuthSession(tpmKey = that
//!   key, bind = TPM_RH_NULL, nonceCaller from the caller's RNG,
//!   encryptedSalt from an ephemeral ECDH key of the caller's RNG, HMAC or
//!   POLICY, AES-128-CFB, SHA-256) → [`Session`];
//! * [`SessionAuth`] in [`Auth::Session`]: a command authorized in the
//!   session (cpHash over the handle's Name, HMAC keyed with sessionKey ‖
//!   authValue, first parameter encrypted with `decrypt`), and its response
//!   HMAC checked before any byte is used (first parameter decrypted with
//!   `encrypt`);
//! * [`Tpm::get_random_encrypted`]: TPM2_GetRandom whose bytes come back
//!   encrypted.
//!
//! The authValue (keyauth, blobauth) is only ever an HMAC and CFB key here;
//! it never goes on the bus. Every command draws a fresh nonceCaller
//! ([`Session::refresh`]); a command on a session whose nonce was not
//! refreshed is refused before anything is sent.

use core::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::marshal::{Reader, Writer};
use crate::session::{
    DIGEST_SIZE, ECC_COORD_SIZE, EncryptedSalt, NAME_SIZE, NONCE_SIZE, SYMMETRIC_AES_128_CFB, Salt,
    SessionState, command_hmac, cp_hash, ecdh_salt_into, encrypt_command_param, object_name,
    random_nonce, rp_hash,
};
use crate::spec::{alg, cc, ecc, rh, sa, se, st};
use crate::tpm2::{Auth, Tpm, Transport};

/// The salted session's authorization area: authSize (4), sessionHandle
/// (4), nonceCaller (2 + 32), attributes (1), hmac (2 + 32).
const SESSION_AREA_LEN: usize = 4 + 4 + 2 + NONCE_SIZE + 1 + 2 + DIGEST_SIZE;

/// TPM_ALG_ECDAA: the one ECC scheme with a second field (count).
const ALG_ECDAA: u16 = 0x001A;

/// The public half of the storage key a session is salted to: its handle,
/// its Name (checked: the TPM's equals the one computed from the public
/// area) and its P-256 point. Public data.
#[derive(Clone, PartialEq, Eq)]
pub struct SaltKey {
    handle: u32,
    name: [u8; NAME_SIZE],
    x: [u8; ECC_COORD_SIZE],
    y: [u8; ECC_COORD_SIZE],
}

impl SaltKey {
    /// The key's handle (tpmKey of StartAuthSession).
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// The key's Name, `0x000B ‖ SHA-256(TPMT_PUBLIC)`: what to pin
    /// ([`crate::TpmSource::with_srk_name`]).
    pub fn name(&self) -> &[u8; NAME_SIZE] {
        &self.name
    }

    /// True if `pinned` is this key's Name (constant time, decided twice).
    pub fn is_named(&self, pinned: &[u8; NAME_SIZE]) -> bool {
        trusted_core::fih::ct_eq(&self.name, pinned).is_success()
    }
}

impl fmt::Debug for SaltKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SaltKey({:#010x}, name ", self.handle)?;
        for b in self.name {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Parses an ECC TPMT_PUBLIC (Part 2 §12.2.4) down to its P-256 point.
fn ecc_point(public: &[u8]) -> Result<([u8; ECC_COORD_SIZE], [u8; ECC_COORD_SIZE])> {
    let mut p = Reader::new(public);
    if tri!(p.u16(&"public type")) != alg::ECC {
        return Err(Error::Unsupported(
            &"salting to a key other than ECC (RSA salt keys are not implemented)",
        ));
    }
    if tri!(p.u16(&"nameAlg")) != alg::SHA256 {
        return Err(Error::Unsupported(
            &"salt key with a nameAlg other than SHA-256",
        ));
    }
    let _attributes = tri!(p.u32(&"objectAttributes"));
    let _policy = tri!(p.tpm2b(&"authPolicy"));
    if tri!(p.u16(&"symmetric")) != alg::NULL {
        let _bits = tri!(p.u16(&"symmetric keyBits"));
        let _mode = tri!(p.u16(&"symmetric mode"));
    }
    let scheme = tri!(p.u16(&"scheme"));
    if scheme != alg::NULL {
        let _hash = tri!(p.u16(&"scheme hashAlg"));
        if scheme == ALG_ECDAA {
            let _count = tri!(p.u16(&"scheme count"));
        }
    }
    if tri!(p.u16(&"curveID")) != ecc::NIST_P256 {
        return Err(Error::Unsupported(
            &"salt key on a curve other than NIST P-256",
        ));
    }
    if tri!(p.u16(&"kdf")) != alg::NULL {
        let _hash = tri!(p.u16(&"kdf hashAlg"));
    }
    let x = tri!(coordinate(tri!(p.tpm2b(&"unique.x"))));
    let y = tri!(coordinate(tri!(p.tpm2b(&"unique.y"))));
    if !p.rest().is_empty() {
        return Err(Error::Parse(&"bytes after the ECC public area"));
    }
    Ok((x, y))
}

/// A P-256 coordinate, left-padded to 32 bytes.
fn coordinate(b: &[u8]) -> Result<[u8; ECC_COORD_SIZE]> {
    let mut out = [0u8; ECC_COORD_SIZE];
    let at = ECC_COORD_SIZE
        .checked_sub(b.len())
        .ok_or(Error::Parse(&"ECC coordinate longer than 32 bytes"))?;
    out.get_mut(at..)
        .ok_or(Error::Parse(&"ECC coordinate"))?
        .copy_from_slice(b);
    Ok(out)
}

/// An open salted session (handle, sessionKey, rolling nonces), with
/// whether the TPM still holds it. Zeroes its key when dropped; does not
/// flush itself (it has no TPM): call [`Tpm::end_session`] on error paths.
pub struct Session {
    state: SessionState,
    session_type: u8,
    open: bool,
    fresh: bool,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("handle", &format_args!("{:#010x}", self.state.handle()))
            .field("type", &self.session_type)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session handle.
    pub fn handle(&self) -> u32 {
        self.state.handle()
    }

    /// `TPM_SE_HMAC` or `TPM_SE_POLICY`.
    pub fn session_type(&self) -> u8 {
        self.session_type
    }

    /// False once a command with continueSession clear succeeded (the TPM
    /// flushed the session).
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Draws the nonceCaller of the next command from `rng`.
    ///
    /// # Errors
    /// [`Error::Rng`]; the session cannot be used for a command then.
    pub fn refresh<R: TryCryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<()> {
        self.fresh = false;
        self.state.begin_command(rng)?;
        self.fresh = true;
        Ok(())
    }
}

/// A command's authorization by a [`Session`] (put it in
/// [`Auth::Session`]).
pub struct SessionAuth<'a> {
    session: &'a mut Session,
    name: &'a [u8],
    auth_value: &'a [u8],
    keep: bool,
    /// A caller's plain policy session in front (Linux `policyhandle=`).
    policy: Option<u32>,
}

impl<'a> SessionAuth<'a> {
    /// Authorizes the handle with Name `name` (cpHash) and authValue
    /// `auth_value` (the HMAC key's second half; empty for a policy session
    /// without PolicyAuthValue and for a command without an authorized
    /// handle, such as GetRandom). The session stays open after the command
    /// (continueSession) unless [`SessionAuth::last_use`].
    pub fn new(session: &'a mut Session, name: &'a [u8], auth_value: &'a [u8]) -> Self {
        Self {
            session,
            name,
            auth_value,
            keep: true,
            policy: None,
        }
    }

    /// Puts the caller's policy session `handle` (unsalted, no HMAC, empty
    /// password, as Linux's `policyhandle=` with an empty blobauth) in
    /// front as the command's authorization; this session then only
    /// encrypts and checks the response, as Linux's second session does:
    /// build it with an empty authValue. The TPM ends the policy session
    /// after the command (continueSession clear).
    pub fn behind_policy(mut self, handle: u32) -> Self {
        self.policy = Some(handle);
        self
    }

    /// Clears continueSession: the TPM flushes the session once this
    /// command succeeds, so no FlushContext is needed for it.
    pub fn last_use(mut self) -> Self {
        self.keep = false;
        self
    }

    pub(crate) fn prepare(&mut self, param_enc: u8) {
        let keep = if self.keep { sa::CONTINUE_SESSION } else { 0 };
        self.session.state.set_attributes(keep | param_enc);
    }

    /// The authorization area with a zero placeholder for the HMAC.
    pub(crate) fn marshal(&self, w: &mut Writer<'_>) {
        let state = &self.session.state;
        let nonce = state.nonce_caller();
        // The area's size, known up front: the policy session's 9 bytes,
        // then handle, nonce, attributes and hmac (an overlong nonce fails
        // the command at `finish`).
        let policy_len = if self.policy.is_some() { 9 } else { 0 };
        w.u32((policy_len + 4 + 2 + nonce.len() + 1 + 2 + DIGEST_SIZE) as u32);
        if let Some(policy) = self.policy {
            // sessionHandle, empty nonceCaller, attributes 0, empty hmac.
            w.u32(policy).u16(0).u8(0).u16(0);
        }
        w.u32(state.handle())
            .tpm2b(nonce)
            .u8(state.attributes())
            .tpm2b(&[0; DIGEST_SIZE]);
    }

    /// Encrypts the first parameter (decrypt) and fills in the HMAC of the
    /// command `cmd` whose parameters start at `params`, right after this
    /// session's area.
    pub(crate) fn authorize(&mut self, cmd: &mut [u8], code: u32, params: usize) -> Result<()> {
        if !self.session.open {
            return Err(Error::InvalidArgument(&"session already ended"));
        }
        if !self.session.fresh {
            return Err(Error::InvalidArgument(&"session nonce not refreshed"));
        }
        let state = &self.session.state;
        if params < SESSION_AREA_LEN || params > cmd.len() {
            return Err(Error::InvalidArgument(&"session area"));
        }
        let (head, param_bytes) = cmd.split_at_mut(params);
        // One exchange for both: the parameter key and the HMAC.
        let exchange = state.exchange(self.auth_value);
        if state.attributes() & sa::DECRYPT != 0 {
            let body = tpm2b_body(param_bytes)?;
            encrypt_command_param(&exchange, body)?;
        }
        let cp = cp_hash(code, &[self.name], param_bytes);
        let hmac = command_hmac(&exchange, &cp, state.attributes())?;
        head.get_mut(params - DIGEST_SIZE..)
            .ok_or(Error::InvalidArgument(&"session area"))?
            .copy_from_slice(&hmac);
        self.session.fresh = false;
        Ok(())
    }

    /// Checks the session area of the successful response `rsp` to command
    /// `code` with `handles` response handles: tag, layout, HMAC over the
    /// rpHash; then decrypts the first parameter if this command said
    /// encrypt. Nothing is decrypted unless the HMAC verified.
    pub(crate) fn check_response(
        &mut self,
        rsp: &mut [u8],
        code: u32,
        handles: usize,
    ) -> Result<()> {
        if !self.keep {
            // A success with continueSession clear ends the session on the
            // TPM, whatever this side makes of the response.
            self.session.open = false;
        }
        let params_at = crate::spec::HEADER_LEN + 4 * handles + 4;
        let mut r = Reader::new(rsp);
        if tri!(r.u16(&"response tag")) != st::SESSIONS {
            // A success without the session area is unauthenticated.
            return Err(Error::ResponseHmac);
        }
        r.bytes(
            crate::spec::HEADER_LEN - 2 + 4 * handles,
            &"response handles",
        )?;
        let size = tri!(r.u32(&"parameterSize")) as usize;
        let params = r.bytes(size, &"parameter area")?;
        if self.policy.is_some() {
            // The caller's policy session: no HMAC of ours to check.
            let _nonce = tri!(r.tpm2b(&"response session area"));
            let _attributes = tri!(r.u8(&"response session area"));
            let _hmac = tri!(r.tpm2b(&"response session area"));
        }
        let nonce_tpm = tri!(r.tpm2b(&"response session area"));
        let attributes = tri!(r.u8(&"response session area"));
        let hmac = tri!(r.tpm2b(&"response session area"));
        if !r.rest().is_empty() {
            return Err(Error::Parse(&"response session area"));
        }
        let rp = rp_hash(code, params);
        self.session
            .state
            .check_response(self.auth_value, &rp, nonce_tpm, attributes, hmac)?;
        if self.session.state.attributes() & sa::ENCRYPT != 0 {
            let end = params_at + size;
            let param = rsp
                .get_mut(params_at..end)
                .ok_or(Error::Parse(&"parameter area"))?;
            let body = tpm2b_body(param)?;
            self.session
                .state
                .decrypt_response_param(self.auth_value, body)?;
        }
        Ok(())
    }
}

/// The buffer of the TPM2B at the start of `bytes` (after its size).
fn tpm2b_body(bytes: &mut [u8]) -> Result<&mut [u8]> {
    let size = match bytes.get(..2) {
        Some(&[h, l]) => usize::from(u16::from_be_bytes([h, l])),
        _ => return Err(Error::Parse(&"first parameter is not a TPM2B")),
    };
    bytes
        .get_mut(2..2 + size)
        .ok_or(Error::Parse(&"first parameter is not a TPM2B"))
}

impl<T: Transport> Tpm<T> {
    /// TPM2_ReadPublic of the ECC P-256 key at `handle` that sessions are
    /// salted to. The Name the TPM returns must equal the Name computed
    /// here from the returned public area ([`object_name`]), else
    /// [`Error::SrkMismatch`]: a TPM (or interposer) that names one key and
    /// shows another.
    pub fn read_salt_key(&mut self, handle: u32) -> Result<SaltKey> {
        let mut w = self.command(st::NO_SESSIONS, cc::READ_PUBLIC);
        w.u32(handle);
        let written = w.finish();
        let mut p = self.run(written, None, 0, 0)?.params;
        let public = tri!(p.tpm2b(&"outPublic"));
        let name = tri!(p.tpm2b(&"name"));
        let _qualified = tri!(p.tpm2b(&"qualifiedName"));
        let (x, y) = ecc_point(public)?;
        let computed = object_name(public);
        let reported: &[u8; NAME_SIZE] = name.try_into().map_err(|_| Error::SrkMismatch)?;
        trusted_core::fih::ct_eq(&computed, reported).ok_or(Error::SrkMismatch)?;
        Ok(SaltKey {
            handle,
            name: computed,
            x,
            y,
        })
    }

    /// TPM2_StartAuthSession salted to `key`: unbound (bind =
    /// TPM_RH_NULL), nonceCaller and the ephemeral ECDH key from `rng`,
    /// `session_type` [`se::HMAC`] or [`se::POLICY`], AES-128-CFB, SHA-256.
    /// The session starts without a fresh nonce: [`Session::refresh`]
    /// before each command.
    ///
    /// # Errors
    /// [`Error::Rng`] (nothing is sent), [`Error::Rc`], or a malformed
    /// response (the session is flushed then).
    pub fn start_salted_session<R: TryCryptoRng + ?Sized>(
        &mut self,
        key: &SaltKey,
        session_type: u8,
        rng: &mut R,
    ) -> Result<Session> {
        if session_type != se::HMAC && session_type != se::POLICY {
            return Err(Error::InvalidArgument(
                &"session type must be HMAC or POLICY",
            ));
        }
        let nonce_caller = random_nonce(rng)?;
        // Filled in place: a returned pair would be one more copy in this
        // frame, under which the ECDH runs.
        let mut salt = Salt::from_bytes([0; DIGEST_SIZE]);
        let mut encrypted_salt = EncryptedSalt::zeroed();
        ecdh_salt_into(&key.x, &key.y, rng, &mut salt, &mut encrypted_salt)?;
        self.open_salted(
            key.handle,
            session_type,
            &nonce_caller,
            &salt,
            &encrypted_salt,
        )
    }

    /// StartAuthSession with the nonce and salt drawn, and the [`Session`]
    /// from its response. Out of line: the ECDH runs below
    /// [`Tpm::start_salted_session`]'s frame, which then holds little more
    /// than the salt.
    #[inline(never)]
    fn open_salted(
        &mut self,
        salt_key: u32,
        session_type: u8,
        nonce_caller: &[u8; NONCE_SIZE],
        salt: &Salt,
        encrypted_salt: &EncryptedSalt,
    ) -> Result<Session> {
        let mut w = self.command(st::NO_SESSIONS, cc::START_AUTH_SESSION);
        w.u32(salt_key) // tpmKey: the salt key
            .u32(rh::NULL) // bind: unbound
            .tpm2b(nonce_caller)
            .bytes(encrypted_salt.as_tpm2b())
            .u8(session_type)
            .bytes(&SYMMETRIC_AES_128_CFB)
            .u16(alg::SHA256);
        let written = w.finish();
        let opened = {
            let mut resp = self.run(written, None, 0, 1)?;
            let handle = tri!(resp.handles.u32(&"sessionHandle"));
            let nonce_tpm = resp.params.tpm2b(&"nonceTPM");
            (handle, nonce_tpm.map(<[u8; NONCE_SIZE]>::try_from))
        };
        let state = match opened {
            (handle, Ok(Ok(nonce_tpm))) => SessionState::new(
                handle,
                Some(salt),
                &[],
                nonce_caller,
                &nonce_tpm,
                sa::CONTINUE_SESSION,
            )
            .map_err(|e| (handle, Error::from(e))),
            (handle, _) => Err((handle, Error::Parse(&"nonceTPM size"))),
        };
        self.wipe_response();
        match state {
            Ok(state) => Ok(Session {
                state,
                session_type,
                open: true,
                fresh: false,
            }),
            Err((handle, e)) => {
                let _ = self.flush_context(handle);
                Err(e)
            }
        }
    }

    /// Flushes `session` if the TPM still holds it (after a failed
    /// command, which never ends a session). Errors are ignored: this runs
    /// on error paths, whose first error is the one to report.
    pub fn end_session(&mut self, session: &mut Session) {
        if session.open {
            session.open = false;
            let _ = self.flush_context(session.handle());
        }
    }

    /// TPM2_GetRandom in `session` with the encrypt attribute, so the bytes
    /// cross the bus encrypted: one command per 32 bytes, each with a fresh
    /// nonce from `rng`; with `last_use` the last one clears
    /// continueSession. On error `out` is zeroed.
    pub fn get_random_encrypted<R: TryCryptoRng + ?Sized>(
        &mut self,
        session: &mut Session,
        rng: &mut R,
        out: &mut [u8],
        last_use: bool,
    ) -> Result<()> {
        let mut done = 0;
        let mut result = Ok(());
        let total = out.len();
        while done < total {
            let want = (total - done).min(crate::object::RANDOM_CHUNK);
            let Some(dst) = out.get_mut(done..done + want) else {
                result = Err(Error::BufferTooSmall);
                break;
            };
            if let Err(e) = session.refresh(rng) {
                result = Err(e);
                break;
            }
            let mut auth = SessionAuth::new(session, &[], &[]);
            if last_use && done + want == total {
                auth = auth.last_use();
            }
            match self.random_chunk(Some(&mut Auth::Session(auth)), dst) {
                Ok(got) => done += got,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        if result.is_err() {
            out.zeroize();
        }
        self.wipe_response();
        result
    }
}
