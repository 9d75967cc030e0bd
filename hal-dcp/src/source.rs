//! Policy: Linux `trusted_dcp` blobs ([`DcpSource`]) and OP-TEE's DCP
//! hardware unique key ([`DcpHuk`]). The driver's [`crate::Error`] becomes a
//! [`trusted_core::Error`] here, at the `TrustSource` / `Huk` boundary.

use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::U12;
use aes_gcm::{AesGcm, Nonce, Tag};
use embedded_hal::delay::DelayNs;
use rand_core::TryCryptoRng;
use trusted_core::fih::{self, Verdict};
use trusted_core::kdf::{FieldWidths, kdf_counter_cmac};
use trusted_core::one_block::DynBlock;
use trusted_core::{
    DmaRegion, Error, Huk, HukBytes, Key, MAX_BLOB_SIZE, MAX_KEY_SIZE, MIN_KEY_SIZE, Mmio, Result,
    SealedBlob, TrustSource,
};
use zeroize::{Zeroize, Zeroizing};

use crate::cipher::DcpAes;
use crate::dcp::{AesKey, Dcp};
use trusted_core::{debug, warning};

/// The payload's AES-128-GCM (12-byte IV) with the random blob key (BEK),
/// every block (H, the tag mask, the counter blocks) an ECB job on the DCP
/// with the BEK as payload key: the same blobs as software AES, without
/// linking one. Borrowed, so the cipher's latched error can be read after,
/// and through [`DynBlock`], so the modes are the same code as any other
/// cipher's in the firmware (the TEE sealer's AES-256).
type BlobGcm<'a> = AesGcm<DynBlock<'a>, U12>;

/// `DCP_BLOB_VERSION` of Linux `trusted_dcp.c`.
pub const DCP_BLOB_VERSION: u8 = 1;
/// `sizeof(struct dcp_blob_fmt)`: version, blob key, nonce, LE32 length.
pub const DCP_BLOB_HEADER: usize = 37;
/// `DCP_BLOB_AUTHLEN`: the GCM tag after the ciphertext.
pub const DCP_BLOB_AUTHLEN: usize = 16;
/// Bytes a blob adds to the key: 37 + 16.
pub const DCP_BLOB_OVERHEAD: usize = DCP_BLOB_HEADER + DCP_BLOB_AUTHLEN;

const BLOB_KEY: core::ops::Range<usize> = 1..17;
const NONCE: core::ops::Range<usize> = 17..33;
/// GCM uses only the first 12 nonce bytes: the kernel's `gcm(aes)` has a
/// 12-byte IV, so bytes 12..16 of the nonce field are unauthenticated filler.
const GCM_IV: core::ops::Range<usize> = 17..29;
const PAYLOAD_LEN: core::ops::Range<usize> = 33..37;

/// AES-128-ECB of sixteen 0x55 bytes under an all-zero key: what a DCP
/// whose hardware keys are the test key returns (`test_for_zero_key`).
pub const ZERO_KEY_PROBE: [u8; 16] = [
    0x9a, 0xda, 0xe0, 0x54, 0xf6, 0x3d, 0xfa, 0xff, 0x5e, 0xa1, 0x8e, 0x45, 0xed, 0xf6, 0xea, 0x6f,
];

/// AES-128-ECB of the all-zero block under the all-zero key: the second,
/// independent block of the hardened self test (see [`DcpSource`]'s `init`).
pub const ZERO_KEY_PROBE_ZEROS: [u8; 16] = [
    0x66, 0xe9, 0x4b, 0xd4, 0xef, 0x8a, 0x2c, 0x3b, 0x88, 0x4c, 0xfa, 0x59, 0xca, 0x34, 0x2b, 0x2e,
];

const ZERO_KEY_REFUSAL: Error = Error::InsecureState(
    "DCP hardware key is the all-zero test key (device neither in secure nor trusted mode)",
);

/// The hardware key that wraps the blob key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SealingKey {
    /// The device-unique key, key select 0xFE (Linux default).
    #[default]
    Unique,
    /// The OTP key, key select 0xFF (Linux `trusted.dcp_use_otp_key=1`).
    Otp,
}

impl SealingKey {
    fn aes_key(self) -> AesKey<'static> {
        match self {
            SealingKey::Unique => AesKey::Unique,
            SealingKey::Otp => AesKey::Otp,
        }
    }
}

/// Linux `trusted.source=dcp`: blobs byte-compatible with
/// `security/keys/trusted-keys/trusted_dcp.c` (format version 1, 53 + N
/// bytes). The DCP has no RNG: the blob key and nonce come from `R`.
pub struct DcpSource<M, D, T, R> {
    dcp: Dcp<M, D, T>,
    rng: R,
    key: SealingKey,
    /// [`Verdict::SUCCESS`] only under `allow_insecure` (hazmat): a
    /// verdict, not a `bool`, so one flipped bit cannot skip the test.
    skip_zero_key_test: Verdict,
    /// The self test's result, checked again before every use of the
    /// hardware key; [`Verdict::FAILURE`] until a test passed.
    key_checked: Verdict,
    ready: bool,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs, R: TryCryptoRng> DcpSource<M, D, T, R> {
    /// A source sealing with the UNIQUE key and running the zero-key self
    /// test at init, as Linux does by default.
    pub fn new(dcp: Dcp<M, D, T>, rng: R) -> Self {
        Self {
            dcp,
            rng,
            key: SealingKey::Unique,
            skip_zero_key_test: Verdict::FAILURE,
            key_checked: Verdict::FAILURE,
            ready: false,
        }
    }

    /// Chooses the hardware key (Linux `trusted.dcp_use_otp_key`).
    pub fn with_sealing_key(mut self, key: SealingKey) -> Self {
        self.key = key;
        self.ready = false;
        self.key_checked = Verdict::FAILURE;
        self
    }

    /// Skips the zero-key self test at init (Linux
    /// `trusted.dcp_skip_zk_test`): allows sealing and unsealing with a
    /// hardware key that is the all-zero test key of an open part. Blobs
    /// sealed then are readable by anyone with an open part: use this for
    /// development only. Nothing else is relaxed.
    #[cfg(feature = "hazmat")]
    pub fn allow_insecure(mut self) -> Self {
        self.skip_zero_key_test = Verdict::SUCCESS;
        self
    }

    /// The hardware key in use.
    pub fn sealing_key(&self) -> SealingKey {
        self.key
    }

    /// The wrapped driver (job counts, sim hooks).
    pub fn driver_mut(&mut self) -> &mut Dcp<M, D, T> {
        &mut self.dcp
    }

    /// The driver and RNG back.
    pub fn into_inner(self) -> (Dcp<M, D, T>, R) {
        (self.dcp, self.rng)
    }

    /// Unseals `blob` into `out` and returns the key length N. On any error
    /// `out` is left all zero, so no partial plaintext survives.
    pub fn unseal_into(&mut self, blob: &[u8], out: &mut [u8]) -> Result<usize> {
        let result = parse_blob_header(blob).and_then(|n| {
            self.ensure_ready()?;
            let out = out.get_mut(..n).ok_or(Error::BufferTooSmall)?;
            self.unseal_inner(blob, out).map(|()| n)
        });
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    fn ensure_ready(&mut self) -> Result<()> {
        if self.ready && self.dcp.is_ready() {
            Ok(())
        } else {
            self.init()
        }
    }

    /// The re-check right before the hardware key is used: the self test's
    /// stored verdict (or the hazmat grant), compared again in both copies.
    fn recheck_key(&self) -> Result<()> {
        self.key_checked
            .or(self.skip_zero_key_test)
            .ok_or(ZERO_KEY_REFUSAL)
    }

    /// The zero-key self test, hardened against one glitch (Linux's
    /// `test_for_zero_key` makes one comparison of one block): one job
    /// encrypts two blocks, 55..55 and 00..00, and the key passes only if
    /// *both* differ from what the all-zero key gives, each difference
    /// decided twice ([`fih::ct_ne`]). A flipped bit of the output, of a
    /// register read or of one comparison changes at most one block or one
    /// decision, and the other still refuses an all-zero key.
    fn zero_key_test(&mut self) -> Result<Verdict> {
        let mut probe = Zeroizing::new([0u8; 32]);
        let (first, second) = probe.split_at_mut(16);
        first.fill(0x55);
        second.fill(0);
        self.dcp.ecb_encrypt(self.key.aes_key(), probe.as_mut())?;
        let (first, second) = probe.split_at(16);
        Ok(fih::ct_ne(first, &ZERO_KEY_PROBE).and(fih::ct_ne(second, &ZERO_KEY_PROBE_ZEROS)))
    }

    fn seal_inner(&mut self, key: &Key, blob: &mut [u8]) -> Result<()> {
        let n = key.len();
        let (header, body) = blob
            .split_at_mut_checked(DCP_BLOB_HEADER)
            .ok_or(Error::BlobLength)?;
        let (ct, tag_out) = body.split_at_mut_checked(n).ok_or(Error::BlobLength)?;
        // Linux draws the nonce first, then the blob key.
        let nonce = header.get_mut(NONCE).ok_or(Error::BlobLength)?;
        self.rng.try_fill_bytes(nonce).map_err(|_| Error::Rng)?;
        let mut bek = Zeroizing::new([0u8; 16]);
        self.rng
            .try_fill_bytes(bek.as_mut())
            .map_err(|_| Error::Rng)?;

        let mut wrapped = bek.clone();
        self.recheck_key()?;
        self.dcp.ecb_encrypt(self.key.aes_key(), wrapped.as_mut())?;

        ct.copy_from_slice(key.as_bytes());
        let iv = Nonce::try_from(header.get(GCM_IV).ok_or(Error::BlobLength)?)
            .map_err(|_| Error::BlobLength)?;
        // The DCP reads the BEK by reference from the zeroizing buffer (no
        // copy; the driver wipes its DMA region after every job). A failed
        // job is latched by the cipher and turned into an error here; the
        // caller (`seal`) zeroes the blob.
        let aes = DcpAes::new(&mut self.dcp, AesKey::Payload(&bek));
        let sealed = BlobGcm::from(DynBlock::new(&aes))
            .encrypt_inout_detached(&iv, &[], (&mut *ct).into())
            .map_err(|_| Error::BlobLength)
            .and_then(|tag| {
                tag_out.copy_from_slice(&tag);
                // A fresh GCM: H is computed again too.
                open_back(
                    &BlobGcm::from(DynBlock::new(&aes)),
                    &iv,
                    ct,
                    &tag,
                    key.as_bytes(),
                )
            });
        aes.finish()?;
        sealed?;

        header
            .get_mut(BLOB_KEY)
            .ok_or(Error::BlobLength)?
            .copy_from_slice(wrapped.as_ref());
        header
            .get_mut(PAYLOAD_LEN)
            .ok_or(Error::BlobLength)?
            .copy_from_slice(&(n as u32).to_le_bytes());
        if let Some(version) = header.first_mut() {
            *version = DCP_BLOB_VERSION;
        }
        Ok(())
    }

    fn unseal_inner(&mut self, blob: &[u8], out: &mut [u8]) -> Result<()> {
        let mut bek = Zeroizing::new([0u8; 16]);
        bek.copy_from_slice(blob.get(BLOB_KEY).ok_or(Error::BlobLength)?);
        self.recheck_key()?;
        self.dcp.ecb_decrypt(self.key.aes_key(), bek.as_mut())?;
        let n = out.len();
        let iv = Nonce::try_from(blob.get(GCM_IV).ok_or(Error::BlobLength)?)
            .map_err(|_| Error::BlobLength)?;
        let ct = blob
            .get(DCP_BLOB_HEADER..DCP_BLOB_HEADER + n)
            .ok_or(Error::BlobLength)?;
        let tag = Tag::try_from(blob.get(DCP_BLOB_HEADER + n..).ok_or(Error::BlobLength)?)
            .map_err(|_| Error::BlobLength)?;
        // The tag is checked, then checked again by encrypting the
        // plaintext back, before any plaintext is released. A failed DCP
        // job wins over the GCM's verdict (blocks after it are zeros, so
        // that verdict means nothing) and leaves `out` zeroed.
        let aes = DcpAes::new(&mut self.dcp, AesKey::Payload(&bek));
        let opened =
            fih::aead_open_checked(&BlobGcm::from(DynBlock::new(&aes)), &iv, ct, &tag, out);
        let result = aes.finish().map_err(Error::from).and(opened);
        if result.is_err() {
            out.zeroize();
        }
        result
    }
}

/// The seal's re-check: `ct` and `tag` must open back to `key`. Each
/// payload block is a DCP job, and a job whose output was silently
/// corrupted in a counter block would still get a right tag (GCM tags the
/// ciphertext), making a blob that unseals to another key; decrypting
/// with fresh jobs catches it before the blob is handed out.
fn open_back<A: AeadInOut>(
    gcm: &A,
    iv: &aes_gcm::aead::Nonce<A>,
    ct: &[u8],
    tag: &aes_gcm::aead::Tag<A>,
    key: &[u8],
) -> Result<()> {
    const CORRUPTED: Error = Error::Malformed(
        "DCP blob payload does not decrypt back to the key (glitch or corrupted job)",
    );
    let mut again = Zeroizing::new([0u8; MAX_KEY_SIZE]);
    let again = again.get_mut(..ct.len()).ok_or(Error::KeyLength)?;
    again.copy_from_slice(ct);
    gcm.decrypt_inout_detached(iv, &[], (&mut *again).into(), tag)
        .map_err(|_| CORRUPTED)?;
    fih::ct_eq(again, key).ok_or(CORRUPTED)
}

/// Checks a blob's header as Linux `trusted_dcp_unseal` does, plus the key
/// size bound Linux leaves to the caller; returns the key length N.
pub fn parse_blob_header(blob: &[u8]) -> Result<usize> {
    if blob.len() < DCP_BLOB_OVERHEAD || blob.len() > MAX_BLOB_SIZE {
        return Err(Error::BlobLength);
    }
    if blob.first() != Some(&DCP_BLOB_VERSION) {
        return Err(Error::BlobFormat("DCP blob version is not 1"));
    }
    let mut len = [0u8; 4];
    len.copy_from_slice(blob.get(PAYLOAD_LEN).ok_or(Error::BlobLength)?);
    let n = u32::from_le_bytes(len) as usize;
    if n.checked_add(DCP_BLOB_OVERHEAD) != Some(blob.len()) {
        return Err(Error::BlobFormat(
            "DCP blob payload length does not match the blob length",
        ));
    }
    if !(MIN_KEY_SIZE..=MAX_KEY_SIZE).contains(&n) {
        return Err(Error::KeyLength);
    }
    Ok(n)
}

/// The fields of a Linux `trusted_dcp` blob (`struct dcp_blob_fmt`),
/// borrowed from it. Nothing here is secret: the blob key is wrapped by
/// the DCP's hardware key and the payload is AES-128-GCM ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobFields<'a> {
    /// `fmt_version` ([`DCP_BLOB_VERSION`]).
    pub version: u8,
    /// `blob_key`: the random AES-128 blob key, encrypted (AES-128-ECB)
    /// under the UNIQUE or OTP key; which one is not recorded.
    pub wrapped_blob_key: &'a [u8],
    /// `nonce`: 16 bytes, of which GCM uses the first 12.
    pub nonce: &'a [u8],
    /// The encrypted key, `payload_len` bytes.
    pub payload: &'a [u8],
    /// The GCM tag after the payload ([`DCP_BLOB_AUTHLEN`] bytes).
    pub tag: &'a [u8],
}

/// Splits a blob into its fields after the checks of
/// [`parse_blob_header`] (which give its errors). Reads only the layout;
/// the tag is not verified (that needs the device).
pub fn parse_blob(blob: &[u8]) -> Result<BlobFields<'_>> {
    let n = parse_blob_header(blob)?;
    let field = |r: core::ops::Range<usize>| blob.get(r).ok_or(Error::BlobLength);
    Ok(BlobFields {
        version: DCP_BLOB_VERSION,
        wrapped_blob_key: field(BLOB_KEY)?,
        nonce: field(NONCE)?,
        payload: field(DCP_BLOB_HEADER..DCP_BLOB_HEADER + n)?,
        tag: field(DCP_BLOB_HEADER + n..blob.len())?,
    })
}

impl<M: Mmio, D: DmaRegion, T: DelayNs, R: TryCryptoRng> TrustSource for DcpSource<M, D, T, R> {
    fn name(&self) -> &'static str {
        "dcp"
    }

    /// Resets and configures the DCP, then (unless skipped) refuses a part
    /// whose hardware key is the all-zero test key, as Linux
    /// `trusted_dcp_init` does with `test_for_zero_key`.
    ///
    /// The test is hardened against a glitch (see the crate README): two
    /// blocks in one job, each compared twice, the verdict kept as a
    /// [`Verdict`] and checked again before every seal and unseal.
    fn init(&mut self) -> Result<()> {
        self.ready = false;
        self.key_checked = Verdict::FAILURE;
        self.dcp.init()?;
        if !self.skip_zero_key_test.is_success() {
            let verdict = self.zero_key_test()?;
            if !verdict.is_success() {
                warning!("dcp: hardware key is the zero test key");
                return Err(ZERO_KEY_REFUSAL);
            }
            self.key_checked = verdict;
        }
        self.recheck_key()?;
        self.ready = true;
        Ok(())
    }

    fn seal(&mut self, key: &Key, _options: &str) -> Result<SealedBlob> {
        self.ensure_ready()?;
        let mut blob = SealedBlob::zeroed(key.len() + DCP_BLOB_OVERHEAD)?;
        let result = self.seal_inner(key, blob.as_mut_bytes());
        if let Err(e) = result {
            debug!("dcp: seal failed");
            blob.as_mut_bytes().zeroize();
            return Err(e);
        }
        Ok(blob)
    }

    fn unseal(&mut self, blob: &[u8], _options: &str) -> Result<Key> {
        let n = parse_blob_header(blob)?;
        self.ensure_ready()?;
        let mut key = Key::zeroed(n)?;
        // On error `key` is dropped, which zeroes it.
        self.unseal_inner(blob, key.as_mut_bytes())?;
        Ok(key)
    }
}

enum HukState {
    Empty,
    Generated(HukBytes),
    Failed(Error),
}

/// OP-TEE's hardware unique key on i.MX6ULL/6SL/6SLL
/// (`core/drivers/imx/dcp/dcp_huk.c`): AES-128-CMAC under the UNIQUE key
/// (0xFE) of the SP 800-108 block `01 'huk' 00 'opteeosdcp' 80`, then
/// CAPABILITY0.DISABLE_UNIQUE_KEY, then the value is cached.
///
/// The derivation runs twice (four DCP jobs: the CMAC subkey L = E(0) and
/// the one message block, each time) and the two results must agree
/// ([`fih::ct_eq`]): a glitched or corrupted job gives an error instead of
/// a wrong HUK that would be cached, and that TEE blobs would then be
/// sealed under. OP-TEE derives once. After the first call the unique key
/// is disabled whether the derivation worked or not (as in OP-TEE), so a
/// failure is final until power-up.
pub struct DcpHuk<M, D, T> {
    dcp: Dcp<M, D, T>,
    state: HukState,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> DcpHuk<M, D, T> {
    /// A HUK provider over `dcp` (initialised on first use if needed).
    pub fn new(dcp: Dcp<M, D, T>) -> Self {
        Self {
            dcp,
            state: HukState::Empty,
        }
    }

    /// The wrapped driver (job counts, sim hooks).
    pub fn driver_mut(&mut self) -> &mut Dcp<M, D, T> {
        &mut self.dcp
    }

    /// The driver back; the cached HUK is zeroed.
    pub fn into_inner(self) -> Dcp<M, D, T> {
        self.dcp
    }

    fn derive_once(&mut self, huk: &mut [u8; 16]) -> Result<()> {
        let aes = DcpAes::new(&mut self.dcp, AesKey::Unique);
        let kdf = kdf_counter_cmac(&aes, b"huk", b"opteeosdcp", FieldWidths::BYTES, huk);
        kdf.and(aes.finish().map_err(Error::from))
    }

    fn derive(&mut self) -> Result<HukBytes> {
        let mut huk = Zeroizing::new([0u8; 16]);
        let mut again = Zeroizing::new([0u8; 16]);
        let result = self
            .derive_once(&mut huk)
            .and_then(|()| self.derive_once(&mut again))
            .and_then(|()| {
                fih::ct_eq(huk.as_ref(), again.as_ref()).ok_or(Error::Malformed(
                    "DCP HUK derivation gave two different results (glitch or corrupted job)",
                ))
            });
        // OP-TEE disables the key after the attempt, successful or not.
        self.dcp.disable_unique_key();
        result.map(|()| huk)
    }
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> Huk for DcpHuk<M, D, T> {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        match &self.state {
            HukState::Generated(huk) => return Ok(huk.clone()),
            HukState::Failed(e) => return Err(*e),
            HukState::Empty => {}
        }
        // An init failure derived nothing and disabled nothing: retryable.
        if !self.dcp.is_ready() {
            self.dcp.init()?;
        }
        match self.derive() {
            Ok(huk) => {
                self.state = HukState::Generated(huk.clone());
                Ok(huk)
            }
            Err(e) => {
                self.state = HukState::Failed(e);
                Err(e)
            }
        }
    }
}
