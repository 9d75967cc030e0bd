//! Object commands (TPM 2.0 Part 3 §12 objects, §16.1 GetRandom, §24.1
//! CreatePrimary, §28 context management): the storage key, sealed data
//! objects, and the TPM's RNG. Each is one command on
//! [`Tpm`]; the choice of parent, attributes and blob format is the
//! source's ([`crate::source`]).

use heapless::Vec;
use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::marshal::Joined;
use crate::spec::{alg, attr, cc, ecc, rh, sa, st};
use crate::tpm2::{Auth, Digest, Tpm, Transport};

/// What TPM2_Create seals, besides the parent: the sealed object's
/// authValue and data, nameAlg, attributes and authPolicy.
#[derive(Clone, Copy)]
pub(crate) struct SealedData<'a> {
    pub(crate) user_auth: &'a [u8],
    pub(crate) data: &'a [u8],
    pub(crate) name_alg: u16,
    pub(crate) attributes: u32,
    pub(crate) policy: &'a [u8],
}

/// Most bytes one TPM2_GetRandom is asked for (one SHA-256 digest's worth:
/// a TPM returns at most its largest digest per call).
pub(crate) const RANDOM_CHUNK: usize = 32;

impl<T: Transport> Tpm<T> {
    /// Fills `out` with TPM2_GetRandom, as many commands as needed (a TPM
    /// returns at most one digest's worth per call). On error `out` is
    /// zeroed.
    pub fn get_random(&mut self, out: &mut [u8]) -> Result<()> {
        let result = self.get_random_inner(out);
        if result.is_err() {
            out.zeroize();
        }
        self.wipe_response();
        result
    }

    fn get_random_inner(&mut self, out: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            let want = (out.len() - done).min(RANDOM_CHUNK);
            let dst = out
                .get_mut(done..done + want)
                .ok_or(Error::BufferTooSmall)?;
            done += self.random_chunk(None, dst)?;
        }
        Ok(())
    }

    /// One TPM2_GetRandom for at most `dst.len()` bytes (≤ 32), without a
    /// session or in the one `auth` gives (encrypt); returns how many bytes
    /// came (at least one).
    pub(crate) fn random_chunk(
        &mut self,
        mut auth: Option<&mut Auth<'_>>,
        dst: &mut [u8],
    ) -> Result<usize> {
        let want = u16::try_from(dst.len()).map_err(|_| Error::BufferTooSmall)?;
        let tag = if auth.is_some() {
            st::SESSIONS
        } else {
            st::NO_SESSIONS
        };
        let mut w = self.command(tag, cc::GET_RANDOM);
        if let Some(a) = auth.as_deref_mut() {
            a.prepare(sa::ENCRYPT);
            a.marshal(&mut w);
        }
        let params = w.pos();
        w.u16(want);
        let written = w.finish();
        let mut resp = self.run(written, auth, params, 0)?;
        let bytes = resp.params.tpm2b(&"randomBytes")?;
        if bytes.is_empty() || bytes.len() > dst.len() {
            return Err(Error::Parse(&"randomBytes size"));
        }
        dst.get_mut(..bytes.len())
            .ok_or(Error::Parse(&"randomBytes size"))?
            .copy_from_slice(bytes);
        Ok(bytes.len())
    }

    /// TPM2_CreatePrimary of the ECC P-256 storage key with the template
    /// `tpm2_createprimary -C o -G ecc256` uses (attributes 0x00030072:
    /// fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted,
    /// decrypt; AES-128-CFB; no scheme, no KDF; empty unique), so the key
    /// equals the one tpm2-tools makes from the same seed. Returns the
    /// transient handle.
    pub fn create_primary_ecc_srk(&mut self, hierarchy: u32, auth: Auth<'_>) -> Result<u32> {
        let mut w = self.command(st::SESSIONS, cc::CREATE_PRIMARY);
        w.u32(hierarchy);
        auth.marshal(&mut w);
        // inSensitive: empty userAuth and data.
        w.u16(4).u16(0).u16(0);
        let public = w.begin_size16();
        w.u16(alg::ECC)
            .u16(alg::SHA256)
            .u32(
                attr::FIXED_TPM
                    | attr::FIXED_PARENT
                    | attr::SENSITIVE_DATA_ORIGIN
                    | attr::USER_WITH_AUTH
                    | attr::RESTRICTED
                    | attr::DECRYPT,
            )
            .u16(0) // authPolicy
            .u16(alg::AES)
            .u16(128)
            .u16(alg::CFB)
            .u16(alg::NULL) // scheme
            .u16(ecc::NIST_P256)
            .u16(alg::NULL) // kdf
            .u16(0) // unique.x
            .u16(0); // unique.y
        w.end_size16(public);
        w.u16(0).u32(0); // outsideInfo, creationPCR
        let written = w.finish();
        self.run(written, None, 0, 1)?.handles.u32(&"objectHandle")
    }

    /// TPM2_EvictControl under the owner: makes `object` persistent at
    /// `persistent` (or, with `object == persistent`, evicts it).
    pub fn evict_control(&mut self, auth: Auth<'_>, object: u32, persistent: u32) -> Result<()> {
        let mut w = self.command(st::SESSIONS, cc::EVICT_CONTROL);
        w.u32(rh::OWNER).u32(object);
        auth.marshal(&mut w);
        w.u32(persistent);
        let written = w.finish();
        self.run(written, None, 0, 0).map(|_| ())
    }

    /// TPM2_ReadPublic: copies the TPM2B_PUBLIC (with its size) into
    /// `public` and returns its length and the object's name.
    pub fn read_public(&mut self, handle: u32, public: &mut [u8]) -> Result<(usize, Digest)> {
        let mut w = self.command(st::NO_SESSIONS, cc::READ_PUBLIC);
        w.u32(handle);
        let written = w.finish();
        let mut p = self.run(written, None, 0, 0)?.params;
        let out_public = p.tpm2b_with_size(&"outPublic")?;
        let name = p.tpm2b(&"name")?;
        let _qualified = p.tpm2b(&"qualifiedName")?;
        let dst = public
            .get_mut(..out_public.len())
            .ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(out_public);
        let name = Vec::from_slice(name).map_err(|_| Error::Parse(&"name too long"))?;
        Ok((out_public.len(), name))
    }

    /// TPM2_Create of a sealed data object (keyed hash, scheme NULL, empty
    /// unique) under `parent`, built as Linux `tpm2_seal_trusted` does.
    /// Writes `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` (sizes included: what Linux
    /// stores and TPM2_Load takes) into `out` and returns the length.
    ///
    /// Out of line: the source calls it from its salted and its password
    /// path, and inlined into seal it only adds to that frame's spills.
    #[allow(clippy::too_many_arguments)]
    pub fn create_sealed(
        &mut self,
        parent: u32,
        parent_auth: Auth<'_>,
        user_auth: &[u8],
        data: &[u8],
        name_alg: u16,
        attributes: u32,
        policy: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let sealed = SealedData {
            user_auth,
            data,
            name_alg,
            attributes,
            policy,
        };
        self.create_split(parent, parent_auth, &sealed, out)
            .map(|(_, total)| total)
    }

    /// [`Tpm::create_sealed`], also returning where TPM2B_PUBLIC starts in
    /// `out` (the length of TPM2B_PRIVATE), so the blob encoder need not
    /// parse `out` again. Out of line, as said there.
    #[inline(never)]
    pub(crate) fn create_split(
        &mut self,
        parent: u32,
        mut parent_auth: Auth<'_>,
        sealed: &SealedData<'_>,
        out: &mut [u8],
    ) -> Result<(usize, usize)> {
        let SealedData {
            user_auth,
            data,
            name_alg,
            attributes,
            policy,
        } = *sealed;
        let mut w = self.begin(cc::CREATE, parent, &mut parent_auth, sa::DECRYPT);
        let params = w.pos();
        // Both sizes are known up front: inSensitive holds two TPM2Bs, the
        // public area 14 fixed bytes and the policy.
        w.size16(4 + user_auth.len() + data.len())
            .tpm2b(user_auth)
            .tpm2b(data);
        w.size16(14 + policy.len())
            .u16(alg::KEYEDHASH)
            .u16(name_alg)
            .u32(attributes)
            .tpm2b(policy)
            .u16(alg::NULL)
            .u16(0);
        w.u16(0).u32(0);
        let written = w.finish();
        let mut p = self.run(written, Some(&mut parent_auth), params, 0)?.params;
        let private = p.tpm2b_with_size(&"outPrivate")?;
        let public = p.tpm2b_with_size(&"outPublic")?;
        // Checked sum and split: with a plain `+` and `split_at_mut` the
        // optimizer cannot rule out a wrap, and keeps a panic path.
        let total = private
            .len()
            .checked_add(public.len())
            .ok_or(Error::BufferTooSmall)?;
        let dst = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let (a, b) = dst
            .split_at_mut_checked(private.len())
            .ok_or(Error::BufferTooSmall)?;
        a.copy_from_slice(private);
        b.copy_from_slice(public);
        Ok((private.len(), total))
    }

    /// TPM2_Load of `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` (anything after them is
    /// ignored, as Linux does for pre-5.13 blobs). Returns the handle.
    pub fn load(&mut self, parent: u32, auth: Auth<'_>, private_public: &[u8]) -> Result<u32> {
        self.load_named(parent, auth, private_public)
            .map(|(handle, _)| handle)
    }

    /// [`Tpm::load`], also returning the loaded object's Name (what a
    /// session's cpHash needs for the next command on it; in a salted
    /// session it is covered by the response HMAC).
    pub fn load_named(
        &mut self,
        parent: u32,
        auth: Auth<'_>,
        private_public: &[u8],
    ) -> Result<(u32, Digest)> {
        self.load_joined(parent, auth, Joined(private_public, &[]))
    }

    /// [`Tpm::load_named`] of the concatenation `blob` (TPM2B_PRIVATE ‖
    /// TPM2B_PUBLIC, possibly split across its two parts), copied straight
    /// into the command.
    pub(crate) fn load_joined(
        &mut self,
        parent: u32,
        auth: Auth<'_>,
        blob: Joined<'_>,
    ) -> Result<(u32, Digest)> {
        let bad_private = Error::InvalidArgument(&"blob: TPM2B_PRIVATE");
        let bad_public = Error::InvalidArgument(&"blob: TPM2B_PUBLIC");
        let private_len = blob.be16(0).ok_or(bad_private)?;
        let public_at = private_len + 2;
        if public_at > blob.len() {
            return Err(bad_private);
        }
        let public_len = blob.be16(public_at).ok_or(bad_public)?;
        let total = public_at + 2 + public_len;
        if total > blob.len() {
            return Err(bad_public);
        }
        // Both TPM2Bs, whichever part of `blob` each byte is in.
        let (head, tail) = blob.prefix(total).ok_or(bad_public)?;
        self.load_parts(parent, auth, Joined(head, tail))
    }

    /// TPM2_Load of exactly `TPM2B_PRIVATE ‖ TPM2B_PUBLIC`, split across
    /// the two parts of `parts` and already checked (the unseal path
    /// checks them as Linux does before anything is sent, so this does
    /// not check them twice).
    pub(crate) fn load_parts(
        &mut self,
        parent: u32,
        mut auth: Auth<'_>,
        parts: Joined<'_>,
    ) -> Result<(u32, Digest)> {
        let Joined(head, tail) = parts;
        let mut w = self.begin(cc::LOAD, parent, &mut auth, 0);
        let params = w.pos();
        w.bytes(head).bytes(tail);
        let written = w.finish();
        let mut resp = self.run(written, Some(&mut auth), params, 1)?;
        let handle = resp.handles.u32(&"objectHandle")?;
        let name = resp.params.tpm2b(&"name")?;
        let name = Vec::from_slice(name).map_err(|_| Error::Parse(&"name too long"))?;
        Ok((handle, name))
    }

    /// TPM2_Unseal: writes the sealed data into `out` and returns its
    /// length. On error `out` is zeroed.
    pub fn unseal(&mut self, item: u32, auth: Auth<'_>, out: &mut [u8]) -> Result<usize> {
        let result = self.unseal_inner(item, auth, out);
        if result.is_err() {
            out.zeroize();
        }
        self.wipe_response();
        result
    }

    fn unseal_inner(&mut self, item: u32, mut auth: Auth<'_>, out: &mut [u8]) -> Result<usize> {
        let w = self.begin(cc::UNSEAL, item, &mut auth, sa::ENCRYPT);
        let params = w.pos();
        let written = w.finish();
        let mut p = self.run(written, Some(&mut auth), params, 0)?.params;
        let data = p.tpm2b(&"outData")?;
        let dst = out.get_mut(..data.len()).ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(data);
        Ok(data.len())
    }

    /// TPM2_FlushContext.
    pub fn flush_context(&mut self, handle: u32) -> Result<()> {
        let mut w = self.command(st::NO_SESSIONS, cc::FLUSH_CONTEXT);
        w.u32(handle);
        let written = w.finish();
        self.run(written, None, 0, 0).map(|_| ())
    }
}
