//! [`TpmSource`]: Linux `trusted.source=tpm` (TPM 2.0) in firmware. The
//! policy lives here: which parent, which object attributes, which blob
//! format, which session. The protocol is in [`crate::tpm2`],
//! [`crate::object`] and [`crate::policy`].

use trusted_core::keyctl::{HashAlgo, TpmOptions};
use trusted_core::{
    Error, Key, MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE, SealedBlob, TrustSource,
};
use zeroize::Zeroize;

use crate::blob;
use crate::policy::PcrSelection;
use crate::spec::{attr, rh};
use crate::tpm2::{Auth, Tpm, Transport};

type Result<T> = core::result::Result<T, Error>;

/// Linux TPM 2.0 trusted keys over any [`Transport`] (usually
/// [`crate::Tis`] over [`crate::SpiTis`]).
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
pub struct TpmSource<T> {
    tpm: Tpm<T>,
}

impl<T: Transport> TpmSource<T> {
    /// A source on the TPM behind `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            tpm: Tpm::new(transport),
        }
    }

    /// The TPM command layer.
    pub fn driver_mut(&mut self) -> &mut Tpm<T> {
        &mut self.tpm
    }

    /// GetRandom as a `rand_core` 0.10 `TryCryptoRng`.
    pub fn rng(&mut self) -> TpmRng<'_, T> {
        TpmRng { tpm: &mut self.tpm }
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
        let opts = TpmOptions::parse(options)?;
        self.unseal_inner(blob, &opts, Some(pcrs))
    }

    fn seal_inner(&mut self, key: &Key, opts: &TpmOptions, policy: &[u8]) -> Result<SealedBlob> {
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
        let result = self
            .tpm
            .create_sealed(
                keyhandle,
                Auth::Password(&opts.keyauth),
                &opts.blobauth,
                key.as_bytes(),
                name_alg,
                attributes,
                policy,
                &mut created,
            )
            .map_err(Error::from)
            .and_then(|n| {
                let mut der = [0u8; MAX_BLOB_SIZE];
                let src = created.get(..n).ok_or(Error::BlobLength)?;
                let len = blob::encode(keyhandle, opts.blobauth.is_empty(), src, &mut der)?;
                SealedBlob::from_slice(der.get(..len).ok_or(Error::BlobLength)?)
            });
        created.zeroize();
        let sealed = result?;
        self.pcrlock(opts)?;
        Ok(sealed)
    }

    /// Linux `pcrlock()`: extend the PCR so the key cannot be unsealed
    /// again this boot. Linux extends every bank with a zero digest; this
    /// extends the SHA-256 bank.
    fn pcrlock(&mut self, opts: &TpmOptions) -> Result<()> {
        if opts.pcrlock == 0 {
            return Ok(());
        }
        let pcr = u8::try_from(opts.pcrlock).map_err(|_| Error::Payload("pcrlock out of range"))?;
        self.tpm.pcr_extend(pcr, &[0; 32]).map_err(Error::from)
    }

    fn unseal_inner(
        &mut self,
        sealed: &[u8],
        opts: &TpmOptions,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let decoded = blob::decode(sealed);
        let parent = decoded.parent.or(opts.keyhandle).unwrap_or(0);
        if parent == 0 {
            return Err(Error::Payload(
                "keyhandle= is required for an old-format blob",
            ));
        }
        let mut load_buf = [0u8; MAX_BLOB_SIZE + 4];
        let to_load: &[u8] = if decoded.old_format {
            check_private_public(sealed)?;
            sealed
        } else {
            let total = decoded.private.len() + decoded.public.len();
            let dst = load_buf.get_mut(..total).ok_or(Error::BlobLength)?;
            let (a, b) = dst.split_at_mut(decoded.private.len());
            a.copy_from_slice(decoded.private);
            b.copy_from_slice(decoded.public);
            check_private_public(dst)?;
            dst
        };
        let handle = self
            .tpm
            .load(parent, Auth::Password(&opts.keyauth), to_load)?;

        let mut own_session = None;
        let session = match pcrs {
            Some(sel) => self.tpm.start_policy_session(false).and_then(|s| {
                own_session = Some(s);
                self.tpm.policy_pcr(s, &[], sel).map(|_| Some(s))
            }),
            None => Ok(opts.policyhandle.filter(|&h| h != 0)),
        };
        let mut data = [0u8; MAX_KEY_SIZE + 1];
        let unsealed = session.and_then(|s| {
            let auth = match s {
                Some(session) => Auth::Policy {
                    session,
                    password: &opts.blobauth,
                },
                None => Auth::Password(&opts.blobauth),
            };
            self.tpm.unseal(handle, auth, &mut data)
        });
        let flushed = self.tpm.flush_context(handle);
        if unsealed.is_err() {
            // A failed command leaves the session loaded.
            if let Some(s) = own_session {
                let _ = self.tpm.flush_context(s);
            }
        }
        let result = unsealed.map_err(Error::from).and_then(|n| {
            // Linux: MIN_KEY_SIZE <= len <= MAX_KEY_SIZE, else -EFAULT; the
            // old format carries a trailing migratable byte.
            if !(MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&n) {
                return Err(Error::KeyLength);
            }
            let key_len = if decoded.old_format { n - 1 } else { n };
            let src = data.get(..key_len).ok_or(Error::KeyLength)?;
            Key::from_slice(src)
        });
        data.zeroize();
        load_buf.zeroize();
        let key = result?;
        flushed?;
        self.pcrlock(opts)?;
        Ok(key)
    }
}

/// Linux `tpm2_load_cmd` checks: two BE16-sized parts that fit the blob.
fn check_private_public(b: &[u8]) -> Result<()> {
    let bad = Error::BlobFormat("not TPM2B_PRIVATE ‖ TPM2B_PUBLIC");
    let be16 = |at: usize| -> Result<usize> {
        match b.get(at..at + 2) {
            Some(&[h, l]) => Ok(usize::from(u16::from_be_bytes([h, l]))),
            _ => Err(bad),
        }
    };
    let private_len = be16(0)?;
    let public_len = be16(2 + private_len)?;
    if private_len + public_len + 4 > b.len() || public_len < 8 {
        return Err(bad);
    }
    Ok(())
}

impl<T: Transport> TrustSource for TpmSource<T> {
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

    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        self.tpm.get_random(out).map_err(Error::from)
    }

    fn seal(&mut self, key: &Key, options: &str) -> Result<SealedBlob> {
        let opts = TpmOptions::parse(options)?;
        let policy = opts.policydigest.clone();
        self.seal_inner(key, &opts, &policy)
    }

    fn unseal(&mut self, blob: &[u8], options: &str) -> Result<Key> {
        let opts = TpmOptions::parse(options)?;
        self.unseal_inner(blob, &opts, None)
    }
}

/// TPM2_GetRandom as a `rand_core` 0.10 fallible crypto RNG.
pub struct TpmRng<'a, T> {
    tpm: &'a mut Tpm<T>,
}

impl<T: Transport> rand_core::TryRng for TpmRng<'_, T> {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<()> {
        self.tpm.get_random(dst).map_err(|_| Error::Rng)
    }
}

impl<T: Transport> rand_core::TryCryptoRng for TpmRng<'_, T> {}
