//! TPM 2.0 commands over any [`Transport`], with bounds-checked parsing.
//!
//! Marshalling is this crate's own (a writer and a reader of ~150 lines)
//! rather than `tpm2-protocol`: that crate needs Rust 1.95 (the workspace
//! declares 1.89) and its generic TPM2B types are sized for the whole spec,
//! where seal/unseal needs 16 commands and a 1 KiB buffer. Its rules are
//! kept: no alloc, no panics, every response is untrusted input and every
//! read checks its bound first.
//!
//! Authorization is by password session (`TPM_RS_PW`) or by a policy
//! session without HMAC, as Linux does when its HMAC sessions are off.
//! Parameter encryption is not implemented: the sealed secret and the
//! passwords cross the bus in the clear (see the README).

use heapless::Vec;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroize;

use crate::error::{RC_INITIALIZE, Result, TpmError};
use crate::marshal::{Reader, Writer};
use crate::regs::TPM_HEADER_LEN;

/// Sends one command and receives its response.
///
/// Link errors are `Err`; a TPM error code arrives in an `Ok` response and
/// is checked by [`Tpm`] (tpm-rs `Connection::transact` shape).
pub trait Transport {
    /// Checks that a TPM is there ([`TpmError::NoDevice`] if not).
    fn probe(&mut self) -> Result<()> {
        Ok(())
    }

    /// Sends `cmd`, writes the response into `rsp`, returns its length.
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize>;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn probe(&mut self) -> Result<()> {
        (**self).probe()
    }
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize> {
        (**self).transact(cmd, rsp)
    }
}

/// Command codes (TPM 2.0 Part 2, TPM_CC).
#[allow(missing_docs)]
pub mod cc {
    pub const EVICT_CONTROL: u32 = 0x120;
    pub const CREATE_PRIMARY: u32 = 0x131;
    pub const SELF_TEST: u32 = 0x143;
    pub const STARTUP: u32 = 0x144;
    pub const CREATE: u32 = 0x153;
    pub const LOAD: u32 = 0x157;
    pub const UNSEAL: u32 = 0x15E;
    pub const FLUSH_CONTEXT: u32 = 0x165;
    pub const READ_PUBLIC: u32 = 0x173;
    pub const START_AUTH_SESSION: u32 = 0x176;
    pub const GET_CAPABILITY: u32 = 0x17A;
    pub const GET_RANDOM: u32 = 0x17B;
    pub const PCR_READ: u32 = 0x17E;
    pub const POLICY_PCR: u32 = 0x17F;
    pub const PCR_EXTEND: u32 = 0x182;
    pub const POLICY_GET_DIGEST: u32 = 0x189;
}

/// Algorithm IDs (TPM_ALG).
#[allow(missing_docs)]
pub mod alg {
    pub const SHA1: u16 = 0x0004;
    pub const AES: u16 = 0x0006;
    pub const KEYEDHASH: u16 = 0x0008;
    pub const SHA256: u16 = 0x000B;
    pub const SHA384: u16 = 0x000C;
    pub const SHA512: u16 = 0x000D;
    pub const NULL: u16 = 0x0010;
    pub const SM3_256: u16 = 0x0012;
    pub const ECC: u16 = 0x0023;
    pub const CFB: u16 = 0x0043;

    /// Digest size of a hash algorithm, if known.
    pub const fn digest_size(hash: u16) -> Option<usize> {
        match hash {
            SHA1 => Some(20),
            SHA256 | SM3_256 => Some(32),
            SHA384 => Some(48),
            SHA512 => Some(64),
            _ => None,
        }
    }
}

/// Permanent handles.
#[allow(missing_docs)]
pub mod rh {
    pub const OWNER: u32 = 0x4000_0001;
    pub const NULL: u32 = 0x4000_0007;
    pub const PW: u32 = 0x4000_0009;
    pub const ENDORSEMENT: u32 = 0x4000_000B;
    pub const PLATFORM: u32 = 0x4000_000C;
}

/// TPMA_OBJECT bits.
#[allow(missing_docs)]
pub mod attr {
    pub const FIXED_TPM: u32 = 0x0000_0002;
    pub const FIXED_PARENT: u32 = 0x0000_0010;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 0x0000_0020;
    pub const USER_WITH_AUTH: u32 = 0x0000_0040;
    pub const NO_DA: u32 = 0x0000_0400;
    pub const RESTRICTED: u32 = 0x0001_0000;
    pub const DECRYPT: u32 = 0x0002_0000;
}

const ST_NO_SESSIONS: u16 = 0x8001;
const ST_SESSIONS: u16 = 0x8002;
const SU_CLEAR: u16 = 0x0000;
const SE_POLICY: u8 = 0x01;
const SE_TRIAL: u8 = 0x03;
const CAP_TPM_PROPERTIES: u32 = 6;
const RC_RETRY: u32 = 0x922;
const RC_TESTING: u32 = 0x90A;
const RC_YIELDED: u32 = 0x908;
/// Resends of a command the TPM answered with RETRY/TESTING/YIELDED.
const MAX_RETRIES: u32 = 16;

/// Command buffer size (the largest command here, Create with a 128-byte
/// key, 64-byte policy and 32-byte auth, is ~300 bytes).
pub const CMD_BUF: usize = 512;
/// Response buffer size (CreatePrimary of an ECC key is ~500 bytes).
pub const RSP_BUF: usize = 1024;
/// Persistent handle of the storage root key by convention.
pub const SRK_HANDLE: u32 = 0x8100_0001;

/// A digest or name of at most 66 bytes (u16 algorithm + SHA-512).
pub type Digest = Vec<u8, 66>;

/// How a command's one authorized handle is authorized.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// Password session `TPM_RS_PW` with the auth value in clear.
    Password(&'a [u8]),
    /// A policy session (no HMAC; `password` is sent as the hmac field, as
    /// Linux does with `policyhandle=`, so only PolicyPassword or no
    /// password works). continueSession is clear: the TPM flushes the
    /// session after a successful command.
    Policy {
        /// Session handle (0x03xx_xxxx).
        session: u32,
        /// Sent in the hmac field.
        password: &'a [u8],
    },
}

impl Auth<'_> {
    fn marshal(&self, w: &mut Writer<'_>) {
        let (handle, hmac) = match *self {
            Auth::Password(p) => (rh::PW, p),
            Auth::Policy { session, password } => (session, password),
        };
        let mark = w.begin_size32();
        // sessionHandle, empty nonceCaller, attributes 0, hmac.
        w.u32(handle).u16(0).u8(0).tpm2b(hmac);
        w.end_size32(mark);
    }
}

/// The PCR selection of one bank, PCRs 0..=23.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PcrSelection {
    /// PCR bank (hash algorithm).
    pub hash: u16,
    /// Bit n selects PCR n.
    pub mask: u32,
}

impl PcrSelection {
    /// The SHA-256 bank PCRs in `pcrs` (each 0..=23).
    pub fn sha256(pcrs: &[u8]) -> Result<Self> {
        let mut mask = 0u32;
        for &p in pcrs {
            if p > 23 {
                return Err(TpmError::InvalidArgument("PCR index must be 0..=23"));
            }
            mask |= 1 << p;
        }
        Ok(Self {
            hash: alg::SHA256,
            mask,
        })
    }

    /// TPML_PCR_SELECTION with one entry, sizeofSelect 3.
    fn marshal(&self, w: &mut Writer<'_>) {
        let m = self.mask.to_le_bytes();
        w.u32(1).u16(self.hash).u8(3).bytes(&m[..3]);
    }
}

/// SHA-256 TPM_CC_PolicyPCR update of `old` (TPM 2.0 Part 3 §23.7):
/// `H(old ‖ TPM_CC_PolicyPCR ‖ pcrs ‖ pcrDigest)`.
pub fn policy_pcr_update(old: &[u8; 32], pcrs: &PcrSelection, pcr_digest: &[u8; 32]) -> [u8; 32] {
    let mut sel = [0u8; 10];
    let mut w = Writer::new(&mut sel);
    pcrs.marshal(&mut w);
    let mut h = Sha256::new();
    h.update(old);
    h.update(cc::POLICY_PCR.to_be_bytes());
    h.update(sel);
    h.update(pcr_digest);
    h.finalize().into()
}

/// A TPM 2.0 behind a [`Transport`], with its command and response buffers
/// (both zeroed after use and on drop: they carry secrets).
pub struct Tpm<T> {
    transport: T,
    cmd: [u8; CMD_BUF],
    rsp: [u8; RSP_BUF],
    commands: u32,
    nonce_counter: u32,
}

/// The parsed frame of a successful response.
struct Response<'a> {
    handles: Reader<'a>,
    params: Reader<'a>,
}

impl<T: Transport> Tpm<T> {
    /// A TPM behind `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            cmd: [0; CMD_BUF],
            rsp: [0; RSP_BUF],
            commands: 0,
            nonce_counter: 0,
        }
    }

    /// The transport, e.g. to inspect a sim.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Commands sent so far.
    pub fn commands_sent(&self) -> u32 {
        self.commands
    }

    /// True when the command and response buffers are all zero (tests use
    /// it to prove error paths wipe them).
    #[doc(hidden)]
    pub fn buffers_zeroed(&self) -> bool {
        self.cmd.iter().chain(self.rsp.iter()).all(|&b| b == 0)
    }

    /// Probes the transport.
    pub fn probe(&mut self) -> Result<()> {
        self.transport.probe()
    }

    /// Sends the `len` command bytes, checks the response header and its
    /// code; returns the response length.
    fn exchange(&mut self, len: usize) -> Result<usize> {
        self.rsp.zeroize();
        let mut tries = 0;
        let checked = loop {
            let Some(cmd) = self.cmd.get(..len) else {
                break Err(TpmError::CommandTooLarge);
            };
            let result = self.transport.transact(cmd, &mut self.rsp);
            self.commands = self.commands.wrapping_add(1);
            let checked = result.and_then(|n| self.check_header(n));
            // TPM_RC_RETRY, TPM_RC_TESTING, TPM_RC_YIELDED: the TPM asks
            // for the same command again (Linux tpm2_transmit retries too;
            // libtpms answers Create with RETRY now and then).
            match checked {
                Err(TpmError::Rc(RC_RETRY | RC_TESTING | RC_YIELDED)) if tries < MAX_RETRIES => {
                    tries += 1
                }
                other => break other,
            }
        };
        self.cmd.zeroize();
        if checked.is_err() {
            self.rsp.zeroize();
        }
        checked
    }

    fn check_header(&self, n: usize) -> Result<usize> {
        let rsp = self.rsp.get(..n).ok_or(TpmError::ResponseTooLarge)?;
        let mut r = Reader::new(rsp);
        let tag = r.u16("response tag")?;
        let size = r.u32("response size")?;
        let rc = r.u32("response code")?;
        if size as usize != n {
            return Err(TpmError::Parse("response size field"));
        }
        if rc != 0 {
            return Err(TpmError::Rc(rc));
        }
        if tag != ST_NO_SESSIONS && tag != ST_SESSIONS {
            return Err(TpmError::Parse("response tag"));
        }
        Ok(n)
    }

    /// Splits a successful response into `handles` handles and parameters.
    fn response(&self, n: usize, handles: usize) -> Result<Response<'_>> {
        let rsp = self.rsp.get(..n).ok_or(TpmError::ResponseTooLarge)?;
        let mut r = Reader::new(rsp);
        let tag = r.u16("response tag")?;
        r.bytes(TPM_HEADER_LEN - 2, "response header")?;
        let h = r.bytes(4 * handles, "response handles")?;
        let params = if tag == ST_SESSIONS {
            let size = r.u32("parameterSize")? as usize;
            r.bytes(size, "parameter area")?
        } else {
            r.rest()
        };
        Ok(Response {
            handles: Reader::new(h),
            params: Reader::new(params),
        })
    }

    /// TPM2_Startup(CLEAR); TPM_RC_INITIALIZE (already started by earlier
    /// firmware) counts as success.
    pub fn startup(&mut self) -> Result<()> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::STARTUP).u16(SU_CLEAR);
        let len = w.finish()?;
        match self.exchange(len) {
            Ok(_) | Err(TpmError::Rc(RC_INITIALIZE)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// TPM2_SelfTest.
    pub fn self_test(&mut self, full: bool) -> Result<()> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::SELF_TEST).u8(u8::from(full));
        let len = w.finish()?;
        self.exchange(len).map(|_| ())
    }

    /// Fills `out` with TPM2_GetRandom, as many commands as needed (a TPM
    /// returns at most one digest's worth per call). On error `out` is
    /// zeroed.
    pub fn get_random(&mut self, out: &mut [u8]) -> Result<()> {
        let result = self.get_random_inner(out);
        if result.is_err() {
            out.zeroize();
        }
        self.rsp.zeroize();
        result
    }

    fn get_random_inner(&mut self, out: &mut [u8]) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            let want = (out.len() - done).min(32);
            let mut w = Writer::new(&mut self.cmd);
            w.header(ST_NO_SESSIONS, cc::GET_RANDOM).u16(want as u16);
            let len = w.finish()?;
            let n = self.exchange(len)?;
            let mut resp = self.response(n, 0)?;
            let bytes = resp.params.tpm2b("randomBytes")?;
            if bytes.is_empty() || bytes.len() > want {
                return Err(TpmError::Parse("randomBytes size"));
            }
            let dst = out
                .get_mut(done..done + bytes.len())
                .ok_or(TpmError::Parse("randomBytes size"))?;
            dst.copy_from_slice(bytes);
            done += bytes.len();
        }
        Ok(())
    }

    /// TPM2_GetCapability(TPM_PROPERTIES, `property`, 1): the property's
    /// value.
    pub fn tpm_property(&mut self, property: u32) -> Result<u32> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::GET_CAPABILITY)
            .u32(CAP_TPM_PROPERTIES)
            .u32(property)
            .u32(1);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut p = self.response(n, 0)?.params;
        let _more = p.u8("moreData")?;
        if p.u32("capability")? != CAP_TPM_PROPERTIES {
            return Err(TpmError::Parse("capability"));
        }
        let count = p.u32("property count")?;
        for _ in 0..count.min(64) {
            let tag = p.u32("property")?;
            let value = p.u32("property value")?;
            if tag == property {
                return Ok(value);
            }
        }
        Err(TpmError::Parse("property not returned"))
    }

    /// TPM2_CreatePrimary of the ECC P-256 storage key with the template
    /// `tpm2_createprimary -C o -G ecc256` uses (attributes 0x00030072:
    /// fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, restricted,
    /// decrypt; AES-128-CFB; no scheme, no KDF; empty unique), so the key
    /// equals the one tpm2-tools makes from the same seed. Returns the
    /// transient handle.
    pub fn create_primary_ecc_srk(&mut self, hierarchy: u32, auth: Auth<'_>) -> Result<u32> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::CREATE_PRIMARY).u32(hierarchy);
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
            .u16(0x0003) // TPM_ECC_NIST_P256
            .u16(alg::NULL) // kdf
            .u16(0) // unique.x
            .u16(0); // unique.y
        w.end_size16(public);
        w.u16(0).u32(0); // outsideInfo, creationPCR
        let len = w.finish()?;
        let n = self.exchange(len)?;
        self.response(n, 1)?.handles.u32("objectHandle")
    }

    /// TPM2_EvictControl under the owner: makes `object` persistent at
    /// `persistent` (or, with `object == persistent`, evicts it).
    pub fn evict_control(&mut self, auth: Auth<'_>, object: u32, persistent: u32) -> Result<()> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::EVICT_CONTROL)
            .u32(rh::OWNER)
            .u32(object);
        auth.marshal(&mut w);
        w.u32(persistent);
        let len = w.finish()?;
        self.exchange(len).map(|_| ())
    }

    /// TPM2_ReadPublic: copies the TPM2B_PUBLIC (with its size) into
    /// `public` and returns its length and the object's name.
    pub fn read_public(&mut self, handle: u32, public: &mut [u8]) -> Result<(usize, Digest)> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::READ_PUBLIC).u32(handle);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut p = self.response(n, 0)?.params;
        let out_public = p.tpm2b_with_size("outPublic")?;
        let name = p.tpm2b("name")?;
        let _qualified = p.tpm2b("qualifiedName")?;
        let dst = public
            .get_mut(..out_public.len())
            .ok_or(TpmError::BufferTooSmall)?;
        dst.copy_from_slice(out_public);
        let name = Vec::from_slice(name).map_err(|_| TpmError::Parse("name too long"))?;
        Ok((out_public.len(), name))
    }

    /// TPM2_Create of a sealed data object (keyed hash, scheme NULL, empty
    /// unique) under `parent`, built as Linux `tpm2_seal_trusted` does.
    /// Writes `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` (sizes included: what Linux
    /// stores and TPM2_Load takes) into `out` and returns the length.
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
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::CREATE).u32(parent);
        parent_auth.marshal(&mut w);
        let sensitive = w.begin_size16();
        w.tpm2b(user_auth).tpm2b(data);
        w.end_size16(sensitive);
        let public = w.begin_size16();
        w.u16(alg::KEYEDHASH)
            .u16(name_alg)
            .u32(attributes)
            .tpm2b(policy)
            .u16(alg::NULL)
            .u16(0);
        w.end_size16(public);
        w.u16(0).u32(0);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut p = self.response(n, 0)?.params;
        let private = p.tpm2b_with_size("outPrivate")?;
        let public = p.tpm2b_with_size("outPublic")?;
        let total = private.len() + public.len();
        let dst = out.get_mut(..total).ok_or(TpmError::BufferTooSmall)?;
        let (a, b) = dst.split_at_mut(private.len());
        a.copy_from_slice(private);
        b.copy_from_slice(public);
        Ok(total)
    }

    /// TPM2_Load of `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` (anything after them is
    /// ignored, as Linux does for pre-5.13 blobs). Returns the handle.
    pub fn load(&mut self, parent: u32, auth: Auth<'_>, private_public: &[u8]) -> Result<u32> {
        let mut r = Reader::new(private_public);
        let private = r
            .tpm2b_with_size("TPM2B_PRIVATE")
            .map_err(|_| TpmError::InvalidArgument("blob: TPM2B_PRIVATE"))?;
        let public = r
            .tpm2b_with_size("TPM2B_PUBLIC")
            .map_err(|_| TpmError::InvalidArgument("blob: TPM2B_PUBLIC"))?;
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::LOAD).u32(parent);
        auth.marshal(&mut w);
        w.bytes(private).bytes(public);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        self.response(n, 1)?.handles.u32("objectHandle")
    }

    /// TPM2_Unseal: writes the sealed data into `out` and returns its
    /// length. On error `out` is zeroed.
    pub fn unseal(&mut self, item: u32, auth: Auth<'_>, out: &mut [u8]) -> Result<usize> {
        let result = self.unseal_inner(item, auth, out);
        if result.is_err() {
            out.zeroize();
        }
        self.rsp.zeroize();
        result
    }

    fn unseal_inner(&mut self, item: u32, auth: Auth<'_>, out: &mut [u8]) -> Result<usize> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::UNSEAL).u32(item);
        auth.marshal(&mut w);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut p = self.response(n, 0)?.params;
        let data = p.tpm2b("outData")?;
        let dst = out.get_mut(..data.len()).ok_or(TpmError::BufferTooSmall)?;
        dst.copy_from_slice(data);
        Ok(data.len())
    }

    /// TPM2_FlushContext.
    pub fn flush_context(&mut self, handle: u32) -> Result<()> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::FLUSH_CONTEXT).u32(handle);
        let len = w.finish()?;
        self.exchange(len).map(|_| ())
    }

    /// TPM2_PCR_Read of the SHA-256 bank: calls `each(pcr, value)` in
    /// ascending PCR order for every PCR in `sel`, with as many commands as
    /// the TPM needs (it may return fewer PCRs than asked).
    pub fn pcr_read(
        &mut self,
        sel: &PcrSelection,
        mut each: impl FnMut(u8, &[u8; 32]),
    ) -> Result<()> {
        if sel.hash != alg::SHA256 {
            return Err(TpmError::InvalidArgument(
                "only the SHA-256 PCR bank is implemented",
            ));
        }
        let mut remaining = sel.mask & 0x00FF_FFFF;
        while remaining != 0 {
            let mut w = Writer::new(&mut self.cmd);
            w.header(ST_NO_SESSIONS, cc::PCR_READ);
            PcrSelection {
                hash: sel.hash,
                mask: remaining,
            }
            .marshal(&mut w);
            let len = w.finish()?;
            let n = self.exchange(len)?;
            let mut p = self.response(n, 0)?.params;
            let _counter = p.u32("pcrUpdateCounter")?;
            let count = p.u32("pcrSelectionOut count")?;
            let mut got = 0u32;
            for _ in 0..count.min(16) {
                let hash = p.u16("pcrSelectionOut hash")?;
                let size = p.u8("sizeofSelect")?;
                let bits = p.bytes(usize::from(size), "pcrSelect")?;
                if hash == sel.hash {
                    for (i, b) in bits.iter().take(3).enumerate() {
                        got |= u32::from(*b) << (8 * i);
                    }
                }
            }
            got &= remaining;
            let digests = p.u32("pcrValues count")?;
            if got == 0 || digests != got.count_ones() {
                return Err(TpmError::Parse("PCR_Read returned no or mismatched PCRs"));
            }
            for pcr in 0..24u8 {
                if got & (1 << pcr) != 0 {
                    let d = p.tpm2b("pcr value")?;
                    let d: &[u8; 32] = d
                        .try_into()
                        .map_err(|_| TpmError::Parse("pcr value size"))?;
                    each(pcr, d);
                }
            }
            remaining &= !got;
        }
        Ok(())
    }

    /// SHA-256 of the selected PCR values in ascending order: the pcrDigest
    /// PolicyPCR binds to.
    pub fn pcr_digest(&mut self, sel: &PcrSelection) -> Result<[u8; 32]> {
        let mut h = Sha256::new();
        let mut last: Option<u8> = None;
        let mut ordered = true;
        self.pcr_read(sel, |pcr, v| {
            ordered &= last.is_none_or(|l| l < pcr);
            last = Some(pcr);
            h.update(v);
        })?;
        if !ordered {
            return Err(TpmError::Parse("PCR_Read out of order"));
        }
        Ok(h.finalize().into())
    }

    /// TPM2_PCR_Extend of one SHA-256 bank PCR (password auth, empty).
    pub fn pcr_extend(&mut self, pcr: u8, digest: &[u8; 32]) -> Result<()> {
        if pcr > 23 {
            return Err(TpmError::InvalidArgument("PCR index must be 0..=23"));
        }
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_SESSIONS, cc::PCR_EXTEND).u32(u32::from(pcr));
        Auth::Password(&[]).marshal(&mut w);
        w.u32(1).u16(alg::SHA256).bytes(digest);
        let len = w.finish()?;
        self.exchange(len).map(|_| ())
    }

    /// TPM2_StartAuthSession of an unsalted, unbound SHA-256 policy (or
    /// trial) session without parameter encryption. The caller nonce only
    /// has to be fresh (no HMAC is computed), so it is a counter, not random.
    pub fn start_policy_session(&mut self, trial: bool) -> Result<u32> {
        self.nonce_counter = self.nonce_counter.wrapping_add(1);
        let mut nonce = [0u8; 16];
        nonce[..4].copy_from_slice(&self.nonce_counter.to_be_bytes());
        nonce[4..8].copy_from_slice(&self.commands.to_be_bytes());
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::START_AUTH_SESSION)
            .u32(rh::NULL)
            .u32(rh::NULL)
            .tpm2b(&nonce)
            .u16(0)
            .u8(if trial { SE_TRIAL } else { SE_POLICY })
            .u16(alg::NULL)
            .u16(alg::SHA256);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut resp = self.response(n, 1)?;
        let _nonce_tpm = resp.params.tpm2b("nonceTPM")?;
        resp.handles.u32("sessionHandle")
    }

    /// TPM2_PolicyPCR with an empty pcrDigest (the TPM uses the current
    /// values) or a given one.
    pub fn policy_pcr(
        &mut self,
        session: u32,
        pcr_digest: &[u8],
        sel: &PcrSelection,
    ) -> Result<()> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::POLICY_PCR)
            .u32(session)
            .tpm2b(pcr_digest);
        sel.marshal(&mut w);
        let len = w.finish()?;
        self.exchange(len).map(|_| ())
    }

    /// TPM2_PolicyGetDigest.
    pub fn policy_get_digest(&mut self, session: u32) -> Result<Digest> {
        let mut w = Writer::new(&mut self.cmd);
        w.header(ST_NO_SESSIONS, cc::POLICY_GET_DIGEST).u32(session);
        let len = w.finish()?;
        let n = self.exchange(len)?;
        let mut p = self.response(n, 0)?.params;
        Vec::from_slice(p.tpm2b("policyDigest")?).map_err(|_| TpmError::Parse("policyDigest size"))
    }

    /// The SHA-256 PolicyPCR digest for the current values of `sel`,
    /// computed offline from TPM2_PCR_Read (no session needed).
    pub fn pcr_policy_digest(&mut self, sel: &PcrSelection) -> Result<[u8; 32]> {
        let pcrs = self.pcr_digest(sel)?;
        Ok(policy_pcr_update(&[0; 32], sel, &pcrs))
    }
}

impl<T> Drop for Tpm<T> {
    fn drop(&mut self) {
        self.cmd.zeroize();
        self.rsp.zeroize();
    }
}
