//! [`TpmSource`]: Linux `trusted.source=tpm` (TPM 2.0) in firmware. The
//! policy lives here: which parent, which object attributes, which blob
//! format, which session. The protocol is in [`crate::tpm2`],
//! [`crate::object`], [`crate::policy`] and (feature `sessions`)
//! [`crate::salted`]. Seal and the source's set-up are here, unseal's
//! half (Load, Unseal, the blob checks) in `unseal`.

use rand_core::TryCryptoRng;
use trusted_core::keyctl::{HashAlgo, TpmOptions};
use trusted_core::{Error, Key, MAX_BLOB_SIZE, SealedBlob, TrustSource};
use zeroize::Zeroize;

use crate::blob;
use crate::object::SealedData;
use crate::policy::PcrSelection;
#[cfg(feature = "sessions")]
use crate::salted::{SaltKey, SessionAuth};
#[cfg(feature = "sessions")]
use crate::session::NAME_SIZE;
#[cfg(feature = "sessions")]
use crate::spec::se;
use crate::spec::{attr, rh};
use crate::tpm2::{Auth, Tpm, Transport};

mod unseal;

use unseal::UnsealOpts;

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
            .and_then(|(private_len, n)| {
                let mut der = [0u8; MAX_BLOB_SIZE];
                // TPM2B_PRIVATE ‖ TPM2B_PUBLIC, each already checked by
                // create_split: `blob::encode` without its second parse.
                let src = created.get(..n).ok_or(Error::BlobLength)?;
                let (private, public) =
                    src.split_at_checked(private_len).ok_or(Error::BlobLength)?;
                let empty_auth = opts.blobauth.is_empty();
                let len = blob::encode_der(keyhandle, empty_auth, public, private, &mut der)
                    .ok_or(Error::BlobLength)?;
                SealedBlob::from_slice(der.get(..len).ok_or(Error::BlobLength)?)
            });
        created.zeroize();
        let sealed = tri!(result);
        tri!(pcrlock(&mut self.tpm, opts.pcrlock));
        Ok(sealed)
    }

    /// Runs `commands`, then zeroes the response buffer (whatever the
    /// outcome): the unseal paths share this wrapper.
    fn wiping<V>(&mut self, commands: impl FnOnce(&mut Self) -> Result<V>) -> Result<V> {
        let out = commands(self);
        self.tpm.wipe_response();
        out
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
    ) -> core::result::Result<(usize, usize), crate::Error> {
        let create = |tpm: &mut Tpm<T>, auth: Auth<'_>, out: &mut [u8]| {
            tpm.create_split(parent, auth, sealed, out)
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
        match self.tpm.probe().and_then(|()| self.tpm.startup()) {
            Ok(()) => Ok(()),
            Err(e) => Err(e.into()),
        }
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
        // Borrowed from the parse result, as in unseal: no move of the
        // options, no copy of the policy digest.
        let parsed = TpmOptions::parse(options);
        let opts = parsed.as_ref().map_err(|e| *e)?;
        self.seal_inner(key, opts, &opts.policydigest)
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
