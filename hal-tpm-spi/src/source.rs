//! [`TpmSource`]: Linux `trusted.source=tpm` (TPM 2.0) in firmware. The
//! policy lives here: which parent, which object attributes, which blob
//! format, which session. The protocol is in [`crate::tpm2`],
//! [`crate::object`], [`crate::policy`] and (feature `sessions`)
//! [`crate::salted`].

use rand_core::TryCryptoRng;
#[cfg(feature = "sessions")]
use trusted_core::keyctl::AUTH_SIZE;
use trusted_core::keyctl::{HashAlgo, TpmOptions};
use trusted_core::{
    Error, Key, MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE, SealedBlob, TrustSource,
};
use zeroize::Zeroize;

use crate::blob;
use crate::marshal::Joined;
use crate::policy::PcrSelection;
#[cfg(feature = "sessions")]
use crate::salted::{SaltKey, Session, SessionAuth};
#[cfg(feature = "sessions")]
use crate::session::NAME_SIZE;
#[cfg(feature = "sessions")]
use crate::spec::se;
use crate::spec::{attr, rh};
#[cfg(feature = "sessions")]
use crate::tpm2::Digest;
use crate::tpm2::{Auth, Tpm, Transport};

type Result<T> = core::result::Result<T, Error>;

/// Linux TPM 2.0 trusted keys over any [`Transport`] (usually
/// [`crate::Tis`] over [`crate::SpiTis`]), with the caller's RNG `R`.
///
/// * `seal(key, options)` = TPM2_Create of a keyed-hash object under
///   `keyhandle=` exactly as Linux `tpm2_seal_trusted` builds it, returned
///   as the DER `TPMKey` blob `keyctl pipe` prints;
/// * `unseal(blob, options)` = TPM2_Load + TPM2_Unseal + TPM2_FlushContext,
///   accepting the DER format and the pre-5.13 raw format;
/// * `random` = TPM2_GetRandom; [`TpmSource::rng`] gives a
///   `rand_core::TryCryptoRng`;
/// * [`TpmSource::seal_with_pcrs`] / [`TpmSource::unseal_with_pcrs`] bind
///   a key to the current SHA-256 PCR values (PolicyPCR).
///
/// Options follow Linux's grammar (`keyhandle=`, `keyauth=`, `blobauth=`,
/// `hash=`, `policydigest=`, `policyhandle=`, `migratable=`, `pcrlock=`).
///
/// # Sessions (feature `sessions`, default)
///
/// Every seal, unseal and `random` runs in a session salted to the parent
/// (for `random`: the key at [`TpmSource::with_srk_handle`], 0x81000001 by
/// default): the key, blobauth and the random bytes cross the bus
/// encrypted, keyauth and blobauth are only HMAC keys, and every response
/// is HMAC-checked ([`crate::Error::ResponseHmac`]). Commands per unseal:
/// StartAuthSession, Load, Unseal (which ends the session), FlushContext;
/// plus one TPM2_ReadPublic of the storage key per source (cached). A PCR
/// unseal adds a salted policy session and PolicyPCR (6 commands).
///
/// The RNG `R` supplies the nonces and the ephemeral ECDH key of each
/// session. It is the caller's, not the TPM's: TPM2_GetRandom output comes
/// over the same bus an interposer sits on, so it cannot be the only
/// source of the key that hides the session from that interposer. With
/// feature `sessions` off it is not used.
///
/// Pin the storage key with [`TpmSource::with_srk_name`] (the Name
/// `trustctl tpm provision` prints): a TPM or interposer that answers with
/// another key is refused ([`crate::Error::SrkMismatch`]) before anything
/// is salted to it. Without a pinned Name the first key seen is trusted
/// (trust on first use; a warning is logged once).
pub struct TpmSource<T, R> {
    tpm: Tpm<T>,
    #[cfg_attr(not(feature = "sessions"), allow(dead_code))]
    rng: R,
    #[cfg(feature = "sessions")]
    salted: Salted,
}

/// Session settings and the cached storage key.
#[cfg(feature = "sessions")]
struct Salted {
    /// Sessions in use (false only through `allow_insecure`).
    on: bool,
    /// Salt key of `random`.
    srk_handle: u32,
    pinned: Option<[u8; NAME_SIZE]>,
    /// The last salt key read (and checked), by handle.
    key: Option<SaltKey>,
    warned_tofu: bool,
}

#[cfg(feature = "sessions")]
impl Salted {
    /// The checked salt key at `handle`, from the cache or ReadPublic
    /// (checked against the pinned Name, then cached). Borrowed from the
    /// cache, not copied: unseal's deepest chain starts in the frame that
    /// holds it. Out of line, so the ReadPublic parse stays out of that
    /// frame.
    #[inline(never)]
    fn key_for<T: Transport>(
        &mut self,
        tpm: &mut Tpm<T>,
        handle: u32,
    ) -> core::result::Result<&SaltKey, crate::Error> {
        if self.key.as_ref().is_none_or(|k| k.handle() != handle) {
            let key = tpm.read_salt_key(handle)?;
            match &self.pinned {
                Some(pinned) if !key.is_named(pinned) => return Err(crate::Error::SrkMismatch),
                Some(_) => {}
                None if !self.warned_tofu => {
                    self.warned_tofu = true;
                    trusted_core::warning!(
                        "tpm: no SRK name pinned: trusting the storage key on first use"
                    );
                }
                None => {}
            }
            self.key = Some(key);
        }
        // Just filled in if it was not there.
        self.key.as_ref().ok_or(crate::Error::SrkMismatch)
    }
}

impl<T: Transport, R: TryCryptoRng> TpmSource<T, R> {
    /// A source on the TPM behind `transport`; `rng` gives the session
    /// nonces and ephemeral keys (see the type's docs).
    pub fn new(transport: T, rng: R) -> Self {
        Self {
            tpm: Tpm::new(transport),
            rng,
            #[cfg(feature = "sessions")]
            salted: Salted {
                on: true,
                srk_handle: crate::spec::SRK_HANDLE,
                pinned: None,
                key: None,
                warned_tofu: false,
            },
        }
    }

    /// Pins the storage key's Name (TPM2B_NAME bytes: `0x000B ‖ SHA-256`
    /// of its TPMT_PUBLIC, as `trustctl tpm provision` prints it). Before a
    /// session is salted, the Name TPM2_ReadPublic reports and the Name
    /// computed here from the public area it returns must both equal this,
    /// else [`crate::Error::SrkMismatch`] and nothing more is sent.
    #[cfg(feature = "sessions")]
    pub fn with_srk_name(mut self, name: [u8; NAME_SIZE]) -> Self {
        self.salted.pinned = Some(name);
        self
    }

    /// The storage key `random` salts its session to (default
    /// [`crate::spec::SRK_HANDLE`]); seal and unseal salt to their parent.
    #[cfg(feature = "sessions")]
    pub fn with_srk_handle(mut self, handle: u32) -> Self {
        self.salted.srk_handle = handle;
        self
    }

    /// **Insecure**: password sessions as with feature `sessions` off, at
    /// run time. The sealed key, blobauth, keyauth and the TPM's random
    /// bytes then cross the bus in clear and no response is checked; use
    /// only where the bus is physically trusted (tests compare the two
    /// modes with it). Blobs are the same either way.
    #[cfg(feature = "hazmat")]
    #[cfg_attr(not(feature = "sessions"), allow(unused_mut))]
    pub fn allow_insecure(mut self) -> Self {
        #[cfg(feature = "sessions")]
        {
            self.salted.on = false;
        }
        self
    }

    /// True if seal, unseal and `random` run in salted sessions.
    pub fn sessions_enabled(&self) -> bool {
        #[cfg(feature = "sessions")]
        {
            self.salted.on
        }
        #[cfg(not(feature = "sessions"))]
        {
            false
        }
    }

    /// True if a storage key Name is pinned ([`TpmSource::with_srk_name`]).
    pub fn srk_pinned(&self) -> bool {
        #[cfg(feature = "sessions")]
        {
            self.salted.pinned.is_some()
        }
        #[cfg(not(feature = "sessions"))]
        {
            false
        }
    }

    /// The TPM command layer.
    pub fn driver_mut(&mut self) -> &mut Tpm<T> {
        &mut self.tpm
    }

    /// `random` as a `rand_core` 0.10 `TryCryptoRng` (in a salted session
    /// with feature `sessions`).
    pub fn rng(&mut self) -> TpmRng<'_, T, R> {
        TpmRng { source: self }
    }

    /// The Name of the storage key at `handle` (TPM2_ReadPublic, checked
    /// against the public area and the pinned Name, then cached): what to
    /// pin on the next boots.
    #[cfg(feature = "sessions")]
    pub fn srk_name(&mut self, handle: u32) -> Result<[u8; NAME_SIZE]> {
        let key = self.salt_key(handle);
        self.tpm.wipe_response();
        Ok(*key?.name())
    }

    /// The checked salt key at `handle`, from the cache or ReadPublic.
    #[cfg(feature = "sessions")]
    fn salt_key(&mut self, handle: u32) -> core::result::Result<SaltKey, crate::Error> {
        self.salted.key_for(&mut self.tpm, handle).cloned()
    }

    /// Makes sure a storage key lives at `persistent` (e.g. 0x81000001):
    /// if nothing is there, creates the ECC P-256 primary under the owner
    /// hierarchy (empty owner auth) and persists it. Returns `true` if it
    /// created one. 1 command if present, 4 otherwise (ReadPublic,
    /// CreatePrimary, EvictControl, FlushContext).
    pub fn provision_srk(&mut self, persistent: u32) -> Result<bool> {
        let mut public = [0u8; 512];
        match self.tpm.read_public(persistent, &mut public) {
            Ok(_) => return Ok(false),
            Err(crate::Error::Rc(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let handle = self
            .tpm
            .create_primary_ecc_srk(rh::OWNER, Auth::Password(&[]))?;
        let persisted = self
            .tpm
            .evict_control(Auth::Password(&[]), handle, persistent);
        let flushed = self.tpm.flush_context(handle);
        #[cfg(feature = "sessions")]
        {
            self.salted.key = None;
        }
        persisted?;
        flushed?;
        Ok(true)
    }

    /// Seals `key` to the current values of the SHA-256 PCRs in `pcrs`:
    /// the policy digest is computed from TPM2_PCR_Read (TPM 2.0 Part 3
    /// PolicyPCR) and put in the object's authPolicy, so only
    /// [`TpmSource::unseal_with_pcrs`] (or any PolicyPCR session with the
    /// same PCR values) opens it. `options` as for `seal`, without
    /// `policydigest=`.
    pub fn seal_with_pcrs(
        &mut self,
        key: &Key,
        options: &str,
        pcrs: &PcrSelection,
    ) -> Result<SealedBlob> {
        let opts = TpmOptions::parse(options)?;
        if !opts.policydigest.is_empty() {
            return Err(Error::InvalidArgument(
                "policydigest= and a PCR policy exclude each other",
            ));
        }
        if opts.hash != HashAlgo::Sha256 {
            return Err(Error::Unsupported(
                "PCR policies with a name hash other than sha256",
            ));
        }
        self.check_pcr_blobauth(&opts.blobauth)?;
        let policy = self.tpm.pcr_policy_digest(pcrs)?;
        self.seal_inner(key, &opts, &policy)
    }

    /// Unseals a blob made by [`TpmSource::seal_with_pcrs`]: starts a
    /// policy session, runs PolicyPCR over `pcrs`, unseals with it. If a
    /// PCR changed since sealing the TPM refuses ([`Error::AuthFailed`]).
    pub fn unseal_with_pcrs(
        &mut self,
        blob: &[u8],
        options: &str,
        pcrs: &PcrSelection,
    ) -> Result<Key> {
        let parsed = UnsealOpts::parse(options);
        let opts = parsed.as_ref().map_err(|e| *e)?;
        self.check_pcr_blobauth(&opts.blobauth)?;
        self.wiping(|s| s.unseal_commands(blob, opts, Some(pcrs)))
    }

    /// With sessions, the PCR policy is PolicyPCR alone, which never checks
    /// the object's authValue: a blobauth would protect nothing, so it is
    /// refused rather than silently ignored (Linux would need
    /// PolicyAuthValue or PolicyPassword in the policy for it).
    fn check_pcr_blobauth(&self, blobauth: &[u8]) -> Result<()> {
        if self.sessions_enabled() && !blobauth.is_empty() {
            return Err(Error::Unsupported(
                "blobauth= with a PCR policy (the policy would need PolicyAuthValue)",
            ));
        }
        Ok(())
    }

    /// Seals, then zeroes the response buffer (whatever the outcome).
    fn seal_inner(&mut self, key: &Key, opts: &TpmOptions, policy: &[u8]) -> Result<SealedBlob> {
        let sealed = self.seal_commands(key, opts, policy);
        self.tpm.wipe_response();
        sealed
    }

    fn seal_commands(&mut self, key: &Key, opts: &TpmOptions, policy: &[u8]) -> Result<SealedBlob> {
        let keyhandle = match opts.keyhandle {
            Some(handle) if handle != 0 => handle,
            _ => return Err(Error::Payload("keyhandle= is required for TPM 2.0")),
        };
        // Linux: tpm2_find_hash_alg fails with -EINVAL for hashes a TPM lacks.
        let name_alg = opts
            .hash
            .tpm_alg_id()
            .ok_or(Error::InvalidArgument("hash= names no TPM 2.0 algorithm"))?;
        let mut attributes = 0;
        if policy.is_empty() {
            attributes |= attr::USER_WITH_AUTH;
        }
        if !opts.migratable {
            attributes |= attr::FIXED_TPM | attr::FIXED_PARENT;
        }
        let mut created = [0u8; MAX_BLOB_SIZE];
        let sealed = SealedData {
            user_auth: &opts.blobauth,
            data: key.as_bytes(),
            name_alg,
            attributes,
            policy,
        };
        let result = self
            .create(keyhandle, &opts.keyauth, &sealed, &mut created)
            .map_err(Error::from)
            .and_then(|n| {
                let mut der = [0u8; MAX_BLOB_SIZE];
                let src = created.get(..n).ok_or(Error::BlobLength)?;
                let len = blob::encode(keyhandle, opts.blobauth.is_empty(), src, &mut der)?;
                SealedBlob::from_slice(der.get(..len).ok_or(Error::BlobLength)?)
            });
        created.zeroize();
        let sealed = result?;
        pcrlock(&mut self.tpm, opts.pcrlock)?;
        Ok(sealed)
    }

    /// Runs `commands`, then zeroes the response buffer (whatever the
    /// outcome): the unseal paths share this wrapper.
    fn wiping<V>(&mut self, commands: impl FnOnce(&mut Self) -> Result<V>) -> Result<V> {
        let out = commands(self);
        self.tpm.wipe_response();
        out
    }

    /// Load, Unseal, FlushContext and pcrlock of `sealed`. The salted
    /// path starts its session from this shallow frame (the ECDH chain is
    /// unseal's deepest): the unseal buffer and the key live below it.
    fn unseal_commands(
        &mut self,
        sealed: &[u8],
        opts: &UnsealOpts,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let (parent, to_load, old_format) = to_load(sealed, opts.keyhandle)?;
        let job = LoadJob {
            parent,
            opts,
            to_load,
            old_format,
        };
        #[cfg(feature = "sessions")]
        if self.salted.on {
            return self.load_unseal_salted(&job, pcrs);
        }
        self.load_unseal_password(&job, pcrs)
    }

    /// TPM2_Create of the sealed object under `parent`: in a salted HMAC
    /// session (inSensitive encrypted, keyauth an HMAC key) or with a
    /// password session.
    fn create(
        &mut self,
        parent: u32,
        keyauth: &[u8],
        sealed: &SealedData<'_>,
        out: &mut [u8],
    ) -> core::result::Result<usize, crate::Error> {
        let create = |tpm: &mut Tpm<T>, auth: Auth<'_>, out: &mut [u8]| {
            tpm.create_sealed(
                parent,
                auth,
                sealed.user_auth,
                sealed.data,
                sealed.name_alg,
                sealed.attributes,
                sealed.policy,
                out,
            )
        };
        #[cfg(feature = "sessions")]
        if self.salted.on {
            let key = self.salt_key(parent)?;
            let mut s = self
                .tpm
                .start_salted_session(&key, se::HMAC, &mut self.rng)?;
            let created = s.refresh(&mut self.rng).and_then(|()| {
                let auth = SessionAuth::new(&mut s, key.name(), keyauth).last_use();
                create(&mut self.tpm, Auth::Session(auth), out)
            });
            self.tpm.end_session(&mut s);
            return created;
        }
        create(&mut self.tpm, Auth::Password(keyauth), out)
    }

    /// Load in a salted HMAC session (keyauth as HMAC key), then Unseal in
    /// the same session (blobauth as HMAC key, outData encrypted, the
    /// session ends with it) or, for a PCR blob, in a salted policy
    /// session after PolicyPCR; FlushContext of the object.
    ///
    /// Out of line, as the password path: this frame, under which the
    /// session start runs its ECDH, holds little more than the session.
    #[cfg(feature = "sessions")]
    #[inline(never)]
    fn load_unseal_salted(
        &mut self,
        job: &LoadJob<'_>,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let policyhandle = job.opts.policyhandle.filter(|&h| h != 0);
        if policyhandle.is_some() && !job.opts.blobauth.is_empty() {
            // Linux sends blobauth in clear in the policy session's hmac
            // field (PolicyPassword); that is what sessions rule out.
            return Err(crate::Error::Unsupported(
                "policyhandle= with blobauth= (blobauth would cross the bus in clear)",
            )
            .into());
        }
        let Self { tpm, rng, salted } = self;
        let key = salted.key_for(tpm, job.parent)?;
        // Used in place: moving the session out of the result would copy it.
        let mut started = tpm.start_salted_session(key, se::HMAC, rng);
        match &mut started {
            Ok(hmac) => Self::in_session(tpm, rng, key, hmac, job, pcrs),
            Err(e) => Err((*e).into()),
        }
    }

    /// Load, Unseal, end of `hmac`, FlushContext, the key and pcrlock. Out
    /// of line: the unseal buffer and the key are not on the stack while
    /// the session start above runs its ECDH.
    #[cfg(feature = "sessions")]
    #[inline(never)]
    fn in_session(
        tpm: &mut Tpm<T>,
        rng: &mut R,
        key: &SaltKey,
        hmac: &mut Session,
        job: &LoadJob<'_>,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let (item, name) = match Self::load_in(tpm, rng, key, hmac, job, pcrs.is_some()) {
            Ok(loaded) => loaded,
            Err(e) => {
                tpm.end_session(hmac);
                return Err(e.into());
            }
        };
        let mut data = [0u8; MAX_KEY_SIZE + 1];
        let unsealed = Self::unseal_in(tpm, rng, key, hmac, item, &name, job, pcrs, &mut data);
        tpm.end_session(hmac);
        let flushed = tpm.flush_context(item);
        // The unseal error wins over the flush error.
        let n = unsealed.and_then(|n| flushed.map(|()| n));
        into_key(tpm, n, &mut data, job)
    }

    /// Load of `job` in the salted session `hmac`. Out of line, as
    /// [`TpmSource::unseal_in`]: the session start above runs the ECDH
    /// chain, the deepest of unseal, so the frame that calls it holds
    /// little more than the session.
    #[cfg(feature = "sessions")]
    #[inline(never)]
    fn load_in(
        tpm: &mut Tpm<T>,
        rng: &mut R,
        key: &SaltKey,
        hmac: &mut Session,
        job: &LoadJob<'_>,
        pcr_blob: bool,
    ) -> core::result::Result<(u32, Digest), crate::Error> {
        hmac.refresh(rng)?;
        let auth = SessionAuth::new(hmac, key.name(), &job.opts.keyauth);
        // A PCR blob is unsealed in its own policy session.
        let auth = if pcr_blob { auth.last_use() } else { auth };
        tpm.load_joined(job.parent, Auth::Session(auth), job.to_load)
    }

    /// Unseal of the loaded `item` (Name `name`) into `data`: in `hmac`
    /// (blobauth as HMAC key, outData encrypted, the session ends with
    /// it), behind the caller's `policyhandle=`, or for a PCR blob in a
    /// salted policy session after PolicyPCR.
    #[cfg(feature = "sessions")]
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn unseal_in(
        tpm: &mut Tpm<T>,
        rng: &mut R,
        key: &SaltKey,
        hmac: &mut Session,
        item: u32,
        name: &[u8],
        job: &LoadJob<'_>,
        pcrs: Option<&PcrSelection>,
        data: &mut [u8],
    ) -> core::result::Result<usize, crate::Error> {
        let policyhandle = job.opts.policyhandle.filter(|&h| h != 0);
        match (pcrs, policyhandle) {
            (None, None) => hmac.refresh(rng).and_then(|()| {
                let auth = SessionAuth::new(hmac, name, &job.opts.blobauth).last_use();
                tpm.unseal(item, Auth::Session(auth), data)
            }),
            // Linux with policyhandle=: the caller's policy session
            // authorizes, this one encrypts outData and checks the response.
            (None, Some(policy)) => hmac.refresh(rng).and_then(|()| {
                let auth = SessionAuth::new(hmac, name, &[])
                    .behind_policy(policy)
                    .last_use();
                tpm.unseal(item, Auth::Session(auth), data)
            }),
            (Some(sel), _) => Self::policy_unseal(tpm, rng, key, item, name, sel, data),
        }
    }

    /// A salted policy session, PolicyPCR over `sel`, Unseal of `item` in
    /// it (outData encrypted; no authValue: the policy is PolicyPCR alone).
    #[cfg(feature = "sessions")]
    fn policy_unseal(
        tpm: &mut Tpm<T>,
        rng: &mut R,
        key: &SaltKey,
        item: u32,
        name: &[u8],
        sel: &PcrSelection,
        data: &mut [u8],
    ) -> core::result::Result<usize, crate::Error> {
        let mut policy = tpm.start_salted_session(key, se::POLICY, rng)?;
        let unsealed = tpm
            .policy_pcr(policy.handle(), &[], sel)
            .and_then(|()| policy.refresh(rng))
            .and_then(|()| {
                let auth = SessionAuth::new(&mut policy, name, &[]).last_use();
                tpm.unseal(item, Auth::Session(auth), data)
            });
        tpm.end_session(&mut policy);
        unsealed
    }

    /// Load and Unseal with the auth values in clear (password sessions),
    /// as Linux without `CONFIG_TCG_TPM2_HMAC`; FlushContext, the key and
    /// pcrlock.
    #[cfg_attr(feature = "sessions", inline(never))]
    fn load_unseal_password(
        &mut self,
        job: &LoadJob<'_>,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let mut data = [0u8; MAX_KEY_SIZE + 1];
        let n = self.password_commands(job, pcrs, &mut data);
        into_key(&mut self.tpm, n, &mut data, job)
    }

    /// Load, Unseal into `data` and FlushContext with password (and plain
    /// policy) sessions. Returns the unsealed length.
    fn password_commands(
        &mut self,
        job: &LoadJob<'_>,
        pcrs: Option<&PcrSelection>,
        data: &mut [u8],
    ) -> core::result::Result<usize, crate::Error> {
        let handle = self
            .tpm
            .load_joined(job.parent, Auth::Password(&job.opts.keyauth), job.to_load)?
            .0;

        let mut own_session = None;
        let session = match pcrs {
            Some(sel) => self.tpm.start_policy_session(false).and_then(|s| {
                own_session = Some(s);
                self.tpm.policy_pcr(s, &[], sel).map(|_| Some(s))
            }),
            None => Ok(job.opts.policyhandle.filter(|&h| h != 0)),
        };
        let unsealed = session.and_then(|s| {
            let auth = match s {
                Some(session) => Auth::Policy {
                    session,
                    password: &job.opts.blobauth,
                },
                None => Auth::Password(&job.opts.blobauth),
            };
            self.tpm.unseal(handle, auth, data)
        });
        let flushed = self.tpm.flush_context(handle);
        if unsealed.is_err() {
            // A failed command leaves the session loaded.
            if let Some(s) = own_session {
                let _ = self.tpm.flush_context(s);
            }
        }
        let n = unsealed?;
        flushed?;
        Ok(n)
    }
}

/// What Load and Unseal work on: the arguments the salted and password
/// paths share.
struct LoadJob<'a> {
    parent: u32,
    opts: &'a UnsealOpts,
    /// TPM2B_PRIVATE ‖ TPM2B_PUBLIC, as TPM2_Load takes them.
    to_load: Joined<'a>,
    /// The pre-5.13 format: the unsealed data ends in a migratable byte.
    old_format: bool,
}

/// The options unseal uses, out of [`TpmOptions`] (about a third of its
/// size: the salted session starts while they are on the stack). The
/// auth values are zeroed on drop, as in [`TpmOptions`].
#[cfg(feature = "sessions")]
struct UnsealOpts {
    keyhandle: Option<u32>,
    policyhandle: Option<u32>,
    pcrlock: u32,
    keyauth: [u8; AUTH_SIZE],
    blobauth: heapless::Vec<u8, AUTH_SIZE>,
}

/// Without sessions no ECDH runs under unseal: the options stay whole
/// (same fields), which spares the copy's code.
#[cfg(not(feature = "sessions"))]
type UnsealOpts = TpmOptions;

#[cfg(feature = "sessions")]
impl UnsealOpts {
    /// Parses `options` as [`TpmOptions::parse`] does (same errors). Out
    /// of line: the whole [`TpmOptions`] and its parser's frame are gone
    /// before any command is sent.
    #[inline(never)]
    fn parse(options: &str) -> Result<Self> {
        TpmOptions::parse(options).map(|opts| Self {
            keyhandle: opts.keyhandle,
            policyhandle: opts.policyhandle,
            pcrlock: opts.pcrlock,
            keyauth: opts.keyauth,
            blobauth: opts.blobauth.clone(),
        })
    }
}

#[cfg(feature = "sessions")]
impl Drop for UnsealOpts {
    fn drop(&mut self) {
        self.keyauth.zeroize();
        self.blobauth.as_mut_slice().zeroize();
    }
}

/// The key from the unsealed `data` (`n` bytes, or the command error),
/// `data` zeroed, then pcrlock.
fn into_key<T: Transport>(
    tpm: &mut Tpm<T>,
    n: core::result::Result<usize, crate::Error>,
    data: &mut [u8; MAX_KEY_SIZE + 1],
    job: &LoadJob<'_>,
) -> Result<Key> {
    let result = n.map_err(Error::from).and_then(|n| {
        // Linux: MIN_KEY_SIZE <= len <= MAX_KEY_SIZE, else -EFAULT; the
        // old format carries a trailing migratable byte.
        if !(MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&n) {
            return Err(Error::KeyLength);
        }
        let key_len = if job.old_format { n - 1 } else { n };
        let src = data.get(..key_len).ok_or(Error::KeyLength)?;
        Key::from_slice(src)
    });
    data.zeroize();
    let key = result?;
    pcrlock(tpm, job.opts.pcrlock)?;
    Ok(key)
}

/// Linux `pcrlock()`: extend the PCR so the key cannot be unsealed again
/// this boot. Linux extends every bank with a zero digest; this extends the
/// SHA-256 bank.
fn pcrlock<T: Transport>(tpm: &mut Tpm<T>, pcrlock: u32) -> Result<()> {
    if pcrlock == 0 {
        return Ok(());
    }
    let pcr = u8::try_from(pcrlock).map_err(|_| Error::Payload("pcrlock out of range"))?;
    tpm.pcr_extend(pcr, &[0; 32]).map_err(Error::from)
}

/// What TPM2_Create seals, besides the parent.
struct SealedData<'a> {
    user_auth: &'a [u8],
    data: &'a [u8],
    name_alg: u16,
    attributes: u32,
    policy: &'a [u8],
}

/// The parent and what TPM2_Load takes from `sealed` (DER or the old
/// format), checked as Linux does before anything is sent; true for the old
/// format. Out of line: the DER decoder's temporaries stay out of unseal's
/// frame, under which the deepest chain runs.
#[inline(never)]
fn to_load(sealed: &[u8], keyhandle: Option<u32>) -> Result<(u32, Joined<'_>, bool)> {
    let decoded = blob::decode(sealed);
    let parent = decoded.parent.or(keyhandle).unwrap_or(0);
    if parent == 0 {
        return Err(Error::Payload(
            "keyhandle= is required for an old-format blob",
        ));
    }
    let to_load = if decoded.old_format {
        Joined(sealed, &[])
    } else {
        // TPM2_Load takes both parts back to back; no copy is made, but
        // a blob too large for one is still refused as before.
        let total = decoded
            .private
            .len()
            .checked_add(decoded.public.len())
            .ok_or(Error::BlobLength)?;
        if total > MAX_BLOB_SIZE + 4 {
            return Err(Error::BlobLength);
        }
        Joined(decoded.private, decoded.public)
    };
    check_private_public(to_load)?;
    Ok((parent, to_load, decoded.old_format))
}

/// Linux `tpm2_load_cmd` checks: two BE16-sized parts that fit the blob.
fn check_private_public(b: Joined<'_>) -> Result<()> {
    let bad = Error::BlobFormat("not TPM2B_PRIVATE ‖ TPM2B_PUBLIC");
    let private_len = b.be16(0).ok_or(bad)?;
    let public_len = b.be16(2 + private_len).ok_or(bad)?;
    if private_len + public_len + 4 > b.len() || public_len < 8 {
        return Err(bad);
    }
    Ok(())
}

impl<T: Transport, R: TryCryptoRng> TrustSource for TpmSource<T, R> {
    fn name(&self) -> &'static str {
        "tpm"
    }

    /// Linux `trusted_key_tpm_ops.migratable = 1`.
    fn migratable(&self) -> bool {
        true
    }

    fn has_rng(&self) -> bool {
        true
    }

    /// Probes the chip (locality, TPM 2.0 family) and sends
    /// TPM2_Startup(CLEAR) (already started is fine).
    fn init(&mut self) -> Result<()> {
        self.tpm.probe()?;
        self.tpm.startup().map_err(Error::from)
    }

    /// TPM2_GetRandom; with sessions its bytes come back encrypted (a
    /// salted session to the [`TpmSource::with_srk_handle`] key: ReadPublic
    /// once, StartAuthSession, one GetRandom per 32 bytes).
    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        #[cfg(feature = "sessions")]
        if self.salted.on {
            let result = self.random_salted(out);
            if result.is_err() {
                out.zeroize();
            }
            return result.map_err(Error::from);
        }
        self.tpm.get_random(out).map_err(Error::from)
    }

    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob> {
        let opts = TpmOptions::parse(options)?;
        let policy = opts.policydigest.clone();
        self.seal_inner(key, &opts, &policy)
    }

    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key> {
        // Borrowed from the parse result: one copy of the auth values on
        // the stack (zeroed when it drops), not a moved-from second one.
        let parsed = UnsealOpts::parse(options);
        let opts = parsed.as_ref().map_err(|e| *e)?;
        self.wiping(|s| s.unseal_commands(blob, opts, None))
    }
}

#[cfg(feature = "sessions")]
impl<T: Transport, R: TryCryptoRng> TpmSource<T, R> {
    fn random_salted(&mut self, out: &mut [u8]) -> core::result::Result<(), crate::Error> {
        let key = self.salt_key(self.salted.srk_handle);
        self.tpm.wipe_response();
        let mut s = self
            .tpm
            .start_salted_session(&key?, se::HMAC, &mut self.rng)?;
        let result = self
            .tpm
            .get_random_encrypted(&mut s, &mut self.rng, out, true);
        self.tpm.end_session(&mut s);
        self.tpm.wipe_response();
        result
    }
}

/// [`TpmSource`]'s `random` (TPM2_GetRandom) as a `rand_core` 0.10
/// fallible crypto RNG.
pub struct TpmRng<'a, T, R> {
    source: &'a mut TpmSource<T, R>,
}

impl<T: Transport, R: TryCryptoRng> rand_core::TryRng for TpmRng<'_, T, R> {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
        self.source.random(dst).map_err(|_| Error::Rng)
    }
}

impl<T: Transport, R: TryCryptoRng> rand_core::TryCryptoRng for TpmRng<'_, T, R> {}
