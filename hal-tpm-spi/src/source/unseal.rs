//! The unseal half of [`TpmSource`]: Load and Unseal of a blob, salted or
//! with password sessions, and the checks on the blob before anything is
//! sent.

use rand_core::TryCryptoRng;
#[cfg(feature = "sessions")]
use trusted_core::keyctl::AUTH_SIZE;
use trusted_core::keyctl::TpmOptions;
use trusted_core::{Error, Key, MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE};
use zeroize::Zeroize;

use crate::blob;
use crate::marshal::Joined;
use crate::policy::PcrSelection;
#[cfg(feature = "sessions")]
use crate::salted::{SaltKey, Session, SessionAuth};
#[cfg(feature = "sessions")]
use crate::spec::se;
#[cfg(feature = "sessions")]
use crate::tpm2::Digest;
use crate::tpm2::{Auth, Tpm, Transport};

use super::{Result, TpmSource, pcrlock};

impl<T: Transport, R: TryCryptoRng> TpmSource<T, R> {
    /// Load, Unseal, FlushContext and pcrlock of `sealed`. The salted
    /// path starts its session from this shallow frame (the ECDH chain is
    /// unseal's deepest): the unseal buffer and the key live below it.
    pub(super) fn unseal_commands(
        &mut self,
        sealed: &[u8],
        opts: &UnsealOpts,
        pcrs: Option<&PcrSelection>,
    ) -> Result<Key> {
        let (parent, to_load, old_format) = tri!(to_load(sealed, opts.keyhandle));
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
                &"policyhandle= with blobauth= (blobauth would cross the bus in clear)",
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
        tpm.load_parts(job.parent, Auth::Session(auth), job.to_load)
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
        let handle = tri!(self.tpm.load_parts(
            job.parent,
            Auth::Password(&job.opts.keyauth),
            job.to_load
        ))
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
        let n = tri!(unsealed);
        tri!(flushed);
        Ok(n)
    }
}

/// What Load and Unseal work on: the arguments the salted and password
/// paths share.
struct LoadJob<'a> {
    parent: u32,
    opts: &'a UnsealOpts,
    /// TPM2B_PRIVATE ‖ TPM2B_PUBLIC, as TPM2_Load takes them, checked
    /// and without what follows them.
    to_load: Joined<'a>,
    /// The pre-5.13 format: the unsealed data ends in a migratable byte.
    old_format: bool,
}

/// The options unseal uses, out of [`TpmOptions`] (about a third of its
/// size: the salted session starts while they are on the stack). The
/// auth values are zeroed on drop, as in [`TpmOptions`].
#[cfg(feature = "sessions")]
pub(super) struct UnsealOpts {
    keyhandle: Option<u32>,
    policyhandle: Option<u32>,
    pcrlock: u32,
    keyauth: [u8; AUTH_SIZE],
    pub(super) blobauth: heapless::Vec<u8, AUTH_SIZE>,
}

/// Without sessions no ECDH runs under unseal: the options stay whole
/// (same fields), which spares the copy's code.
#[cfg(not(feature = "sessions"))]
pub(super) type UnsealOpts = TpmOptions;

#[cfg(feature = "sessions")]
impl UnsealOpts {
    /// Parses `options` as [`TpmOptions::parse`] does (same errors). Out
    /// of line: the whole [`TpmOptions`] and its parser's frame are gone
    /// before any command is sent.
    #[inline(never)]
    pub(super) fn parse(options: &str) -> Result<Self> {
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
    let key = tri!(result);
    tri!(pcrlock(tpm, job.opts.pcrlock));
    Ok(key)
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
    let total = check_private_public(to_load)?;
    // Just checked to fit.
    let (head, tail) = to_load.prefix(total).ok_or(Error::BlobLength)?;
    Ok((parent, Joined(head, tail), decoded.old_format))
}

/// Linux `tpm2_load_cmd` checks: two BE16-sized parts that fit the blob.
/// Returns their length together.
fn check_private_public(b: Joined<'_>) -> Result<usize> {
    let bad = Error::BlobFormat("not TPM2B_PRIVATE ‖ TPM2B_PUBLIC");
    let private_len = b.be16(0).ok_or(bad)?;
    let public_len = b.be16(2 + private_len).ok_or(bad)?;
    if private_len + public_len + 4 > b.len() || public_len < 8 {
        return Err(bad);
    }
    Ok(private_len + public_len + 4)
}
