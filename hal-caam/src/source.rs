//! Policy: Linux `trusted_caam` blobs as a [`TrustSource`], and the OP-TEE
//! MKVB hardware unique key as a [`Huk`].

use embedded_hal::delay::DelayNs;
use heapless::Vec;
use subtle::ConstantTimeEq;
use trusted_core::fih::{self, Verdict};
use trusted_core::{
    DmaRegion, Error, Huk, HukBytes, Key, MAX_KEY_SIZE, MIN_KEY_SIZE, Mmio, Result, SealedBlob,
    TrustSource,
};
use zeroize::Zeroizing;

use crate::blob::KeyMod;
use crate::jr::{Caam, SecurityState};
use crate::regs::blob as blobsz;

/// Linux `trusted_caam.c` `KEYMOD`: the ASCII bytes `SECURE_KEY`, 10 bytes,
/// no terminator, passed inline in the descriptor.
pub const LINUX_KEYMOD: &[u8] = &LINUX_KEYMOD_BYTES;

const LINUX_KEYMOD_BYTES: [u8; 10] = *b"SECURE_KEY";

fn refusal(state: SecurityState) -> Error {
    match state {
        SecurityState::Fail => Error::InsecureState(
            "CAAM is in fail state (security violation); refusing to use the test key",
        ),
        _ => Error::InsecureState(
            "CAAM is non-secure: blobs would use the common test key, not the OTPMK (close the device with HAB)",
        ),
    }
}

/// The security-state (test-key) check, hardened against a glitch
/// (`trusted_core::fih`): CSTA.MOO is read twice, each reading decides
/// "secure or trusted" in constant time, and both must say so; the hazmat
/// grant is a [`Verdict`] too, not a `bool`. One flipped bit of one CSTA
/// read, or one skipped comparison, leaves the other refusing. Called
/// before every blob job and again before a decapsulated key or an MKVB
/// is released.
fn check_state<M: Mmio, D: DmaRegion, T: DelayNs>(
    caam: &mut Caam<M, D, T>,
    insecure_allowed: Verdict,
) -> Result<()> {
    let mut seen = SecurityState::NonSecure;
    let device_key = fih::check_twice(|| {
        let state = caam.security_state() as u32;
        if state != SecurityState::Secure as u32 && state != SecurityState::Trusted as u32 {
            seen = caam_state(state);
        }
        Verdict::from_choice(
            state.ct_eq(&(SecurityState::Secure as u32))
                | state.ct_eq(&(SecurityState::Trusted as u32)),
        )
    });
    device_key.or(insecure_allowed).ok_or(refusal(seen))
}

fn caam_state(code: u32) -> SecurityState {
    if code == SecurityState::Fail as u32 {
        SecurityState::Fail
    } else {
        SecurityState::NonSecure
    }
}

fn grant(allow_insecure: bool) -> Verdict {
    if allow_insecure {
        Verdict::SUCCESS
    } else {
        Verdict::FAILURE
    }
}

/// Linux `trusted_caam` blobs (`trusted.source=caam`): key modifier
/// `SECURE_KEY` inline, blob = 32-byte encrypted blob key ‖ N bytes ‖
/// 16-byte MAC (N + 48 bytes).
///
/// Unlike Linux, which only warns, it refuses to seal or unseal while the
/// CAAM is non-secure or failed (blobs would use the common test key)
/// unless `allow_insecure` (feature `hazmat`) was called.
pub struct CaamSource<M, D, T> {
    caam: Caam<M, D, T>,
    keymod: Vec<u8, { blobsz::KEYMOD_MAX }>,
    /// [`Verdict::SUCCESS`] only after `allow_insecure` (hazmat).
    insecure_allowed: Verdict,
    /// `random` draws from RNG4 ([`CaamSource::with_rng4`]).
    rng4: bool,
    ready: bool,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> CaamSource<M, D, T> {
    /// Linux's source over `caam`: key modifier `SECURE_KEY`, test key refused.
    pub fn new(caam: Caam<M, D, T>) -> Self {
        // A constant, not a copy loop at run time (10 <= 16 is checked
        // at compile time).
        const KEYMOD: Vec<u8, { blobsz::KEYMOD_MAX }> = Vec::from_array(LINUX_KEYMOD_BYTES);
        Self {
            caam,
            keymod: KEYMOD,
            insecure_allowed: Verdict::FAILURE,
            rng4: false,
            ready: false,
        }
    }

    /// Uses another key modifier (at most 16 bytes, `CAAM_BLOB_KEYMOD_LENGTH`;
    /// Linux returns `-EINVAL` for longer ones). Blobs made with one key
    /// modifier do not open with another.
    pub fn with_key_modifier(mut self, keymod: &[u8]) -> Result<Self> {
        self.keymod = Vec::from_slice(keymod)
            .map_err(|_| Error::InvalidArgument("CAAM key modifier is at most 16 bytes"))?;
        Ok(self)
    }

    /// Allows `init`, seal and unseal while CSTA.MOO is non-secure or fail,
    /// where the CAAM uses its common test key instead of the OTPMK: such
    /// blobs open on every non-secure CAAM and are not bound to the device.
    /// For development boards (HAB open) only.
    #[cfg(feature = "hazmat")]
    pub fn allow_insecure(mut self) -> Self {
        self.insecure_allowed = Verdict::SUCCESS;
        self
    }

    /// Serves [`TrustSource::random`] from the CAAM's RNG4 (state handle
    /// 0, instantiated by `init`) and reports an RNG of its own, so
    /// `trusted.rng=default` draws new keys there. Linux's CAAM source
    /// has none and takes keys from the kernel's RNG; firmware on an
    /// i.MX8M often has no other RNG than RNG4. The blobs do not change.
    pub fn with_rng4(mut self) -> Self {
        self.rng4 = true;
        self
    }

    /// The driver, e.g. to use its RNG.
    pub fn driver_mut(&mut self) -> &mut Caam<M, D, T> {
        &mut self.caam
    }

    /// The driver back.
    pub fn into_inner(self) -> Caam<M, D, T> {
        self.caam
    }

    fn prepare(&mut self) -> Result<()> {
        if !self.ready {
            self.init()?;
        }
        check_state(&mut self.caam, self.insecure_allowed)
    }
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> TrustSource for CaamSource<M, D, T> {
    fn name(&self) -> &'static str {
        "caam"
    }

    /// Linux's CAAM source has no `get_random`: keys come from the caller's
    /// RNG, unless [`CaamSource::with_rng4`] chose RNG4. The CAAM RNG is
    /// also available as a `rand_core` RNG on [`Caam`].
    fn has_rng(&self) -> bool {
        self.rng4
    }

    /// RNG4, after [`CaamSource::with_rng4`] (see [`Caam::random`]).
    fn random(&mut self, out: &mut [u8]) -> Result<()> {
        if !self.rng4 {
            return Err(Error::Unsupported(
                "CAAM source without with_rng4(): keys come from the caller's RNG",
            ));
        }
        self.prepare()?;
        Ok(self.caam.random(out)?)
    }

    /// Resets and sets up the job ring, reports [`Error::NoDevice`] when the
    /// CAAM has no blob protocol (Linux `caam_blob_gen_init`), checks the
    /// security state, and instantiates RNG4 (blob keys come from it).
    fn init(&mut self) -> Result<()> {
        self.ready = false;
        self.caam.init()?;
        if !self.caam.blob_present() {
            return Err(Error::NoDevice);
        }
        check_state(&mut self.caam, self.insecure_allowed)?;
        self.caam.rng_instantiate()?;
        self.ready = true;
        Ok(())
    }

    fn seal(&mut self, key: &Key, _options: &str) -> Result<SealedBlob> {
        self.prepare()?;
        let mut blob = SealedBlob::zeroed(key.len() + blobsz::OVERHEAD)?;
        self.caam.encapsulate(
            KeyMod::Immediate(&self.keymod),
            key.as_bytes(),
            blob.as_mut_bytes(),
        )?;
        Ok(blob)
    }

    /// Linux accepts 48 <= len and len - 48 <= 128 (`caam_decap_blob`);
    /// keys shorter than 32 bytes are rejected here too, because
    /// [`Key`] cannot hold them.
    fn unseal(&mut self, blob: &[u8], _options: &str) -> Result<Key> {
        let n = blob
            .len()
            .checked_sub(blobsz::OVERHEAD)
            .filter(|&n| n <= MAX_KEY_SIZE)
            .ok_or(Error::BlobLength)?;
        if n < MIN_KEY_SIZE {
            return Err(Error::KeyLength);
        }
        self.prepare()?;
        let mut key = Key::zeroed(n)?;
        self.caam
            .decapsulate(KeyMod::Immediate(&self.keymod), blob, key.as_mut_bytes())?;
        // Re-checked before the key is released; on refusal `key` drops
        // and zeroes itself.
        check_state(&mut self.caam, self.insecure_allowed)?;
        Ok(key)
    }
}

/// How [`CaamHuk::new`] behaves. The default: PRIBLOB left as it is, a
/// non-secure or failed CAAM refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HukOptions {
    allow_insecure: bool,
    increment_priblob: bool,
}

impl HukOptions {
    /// The default options.
    pub const fn new() -> Self {
        Self {
            allow_insecure: false,
            increment_priblob: false,
        }
    }

    /// Raise SCFGR.PRIBLOB after reading the MKVB (OP-TEE
    /// `CFG_CAAM_INC_PRIBLOB`), so later software cannot reproduce it.
    pub const fn increment_priblob(mut self) -> Self {
        self.increment_priblob = true;
        self
    }

    /// Accept a CAAM whose CSTA.MOO is non-secure or fail: the MKVB, and so
    /// the HUK, then derives from the common test key and is the same on
    /// every such chip. For development boards (HAB open) only.
    #[cfg(feature = "hazmat")]
    pub const fn allow_insecure(mut self) -> Self {
        self.allow_insecure = true;
        self
    }
}

/// OP-TEE's CAAM hardware unique key: the first 16 bytes of the 32-byte
/// master key verification blob, read once and kept (OP-TEE reads it at
/// CAAM init and caches it, `tee_otp_get_hw_unique_key`).
pub struct CaamHuk {
    huk: HukBytes,
}

impl CaamHuk {
    /// Runs the MKVB job on `caam` (initialising it first if needed), keeps
    /// the first 16 bytes, then optionally raises PRIBLOB. As in OP-TEE,
    /// the PRIBLOB increment happens whether or not the MKVB job succeeded.
    pub fn new<M: Mmio, D: DmaRegion, T: DelayNs>(
        caam: &mut Caam<M, D, T>,
        options: HukOptions,
    ) -> Result<Self> {
        if !caam.is_ready() {
            caam.init()?;
        }
        let insecure_allowed = grant(options.allow_insecure);
        check_state(caam, insecure_allowed)?;
        let mut mkvb = Zeroizing::new([0u8; blobsz::MKVB_LEN]);
        let result = caam.master_key_verification_blob(&mut mkvb);
        if options.increment_priblob {
            caam.increment_priblob()?;
        }
        result?;
        // Re-checked before the MKVB becomes the HUK (`mkvb` is wiped on
        // refusal).
        check_state(caam, insecure_allowed)?;
        let mut huk = HukBytes::default();
        huk.iter_mut().zip(mkvb.iter()).for_each(|(h, m)| *h = *m);
        Ok(Self { huk })
    }
}

impl Huk for CaamHuk {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        Ok(self.huk.clone())
    }
}
