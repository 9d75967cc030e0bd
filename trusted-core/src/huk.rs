//! Hardware unique keys and OP-TEE's derivations from them
//! (core/kernel/huk_subkey.c, core/pta/system.c), and the seam between the
//! two: [`SubkeyDerive`], OP-TEE's `huk_subkey_derive`.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// HUK length OP-TEE uses by default (`CFG_HW_UNIQUE_KEY_LENGTH`), and the
/// length every provider here (DCP, CAAM MKVB, STM32MP15 OTP) produces.
pub const HUK_LEN: usize = 16;

/// A 16-byte hardware unique key, zeroed on drop.
pub type HukBytes = Zeroizing<[u8; HUK_LEN]>;

/// A provider of the device's hardware unique key, as OP-TEE's
/// `tee_otp_get_hw_unique_key`.
pub trait Huk {
    /// Returns the HUK. Providers may cache it (OP-TEE does, because some
    /// disable the hardware key after the first derivation).
    fn hardware_unique_key(&mut self) -> Result<HukBytes>;
}

impl<H: Huk + ?Sized> Huk for &mut H {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        (**self).hardware_unique_key()
    }
}

/// A HUK given as bytes: host tools (`trustctl --huk HEX`), tests, and
/// integrators whose HUK comes from elsewhere.
pub struct StaticHuk(HukBytes);

impl StaticHuk {
    /// Wraps `huk`. The argument is a copy the caller still owns: prefer
    /// [`StaticHuk::copy_from`] for a HUK held in a zeroizing buffer.
    pub fn new(huk: [u8; HUK_LEN]) -> Self {
        Self(Zeroizing::new(huk))
    }

    /// Copies `huk` straight into the zeroizing store, leaving no copy
    /// behind in a by-value argument.
    pub fn copy_from(huk: &[u8; HUK_LEN]) -> Self {
        let mut stored = Zeroizing::new([0u8; HUK_LEN]);
        stored.copy_from_slice(huk);
        Self(stored)
    }
}

impl Huk for StaticHuk {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        Ok(self.0.clone())
    }
}

/// OP-TEE's `huk_subkey_derive(usage, const_data, subkey)`: the one thing
/// the TEE sealer needs from a device. OP-TEE's weak default is
/// HMAC-SHA256 over a HUK (every [`Huk`] provides it through the blanket
/// impl below: DCP, CAAM, STM32MP15 OTP, [`StaticHuk`]); platforms may
/// replace it, as `core/drivers/crypto/stm32/stm32_saes.c` does on the
/// STM32MP13 with a KDF in the SAES keyed by a DHUK that never leaves the
/// chip (`hal-stm32mp1-otp`'s `SaesKdf`).
///
/// Contract every implementation keeps:
///
/// - `out` is 1..=[`HUK_SUBKEY_MAX_LEN`] bytes (OP-TEE documents
///   "sizes larger than HUK_SUBKEY_MAX_LEN are not accepted"); other
///   lengths are [`Error::InvalidArgument`] before any hardware is touched;
/// - an empty `const_data` stands for OP-TEE's `NULL` (every OP-TEE caller
///   that passes no data passes `NULL, 0`);
/// - on error `out` is left all zero, so no partial subkey survives.
///
/// ```
/// use trusted_core::{StaticHuk, SubkeyDerive, huk::HukSubkeyUsage};
/// let mut huk = StaticHuk::new([0; 16]);
/// let mut ssk = [0u8; 32];
/// huk.derive_subkey(HukSubkeyUsage::Ssk, &[], &mut ssk)?;
/// assert_eq!(huk.derive_subkey(HukSubkeyUsage::Ssk, &[], &mut [0u8; 33]),
///            Err(trusted_core::Error::InvalidArgument("subkey length must be 1..=32")));
/// # Ok::<(), trusted_core::Error>(())
/// ```
pub trait SubkeyDerive {
    /// Fills `out` with the subkey for `usage` over `const_data`, exactly as
    /// OP-TEE's `huk_subkey_derive` on the same device.
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<()>;
}

/// OP-TEE's default `__huk_subkey_derive`: HMAC-SHA256 keyed by the HUK.
/// Every HUK provider is a subkey provider, so `TeeSealer::new(huk, rng)`
/// keeps working for every [`Huk`] and its blobs stay byte-identical.
impl<H: Huk + ?Sized> SubkeyDerive for H {
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        crate::kdf::zeroed_on_error(out, |out| {
            check_subkey_len(out.len())?;
            // Used where it lies: moving the bytes out of the `Result`
            // costs byte-wise copies on strict-alignment targets. The
            // `Zeroizing` in it wipes them when `huk` drops.
            let huk = self.hardware_unique_key();
            match &huk {
                Ok(huk) => huk_subkey_derive(huk, usage, const_data, out),
                Err(e) => Err(*e),
            }
        })
    }
}

/// Longest `const_data` a [`StaticSubkey`] remembers (the TA UUID is 16).
pub const STATIC_SUBKEY_MAX_CONST_DATA: usize = 64;

/// A subkey derived elsewhere, for exactly one usage, one `const_data` and
/// one length: the TA key an integrator got out of band, or the answer of
/// an independent reference in a test. It answers only the request it was
/// made for; any other usage, data or length is refused, so it can never
/// hand one key out for two purposes.
///
/// ```
/// use trusted_core::{Key, StaticSubkey, TrustSource, tee::TeeSealer};
/// # struct Rng;
/// # impl rand_core::TryRng for Rng {
/// #     type Error = core::convert::Infallible;
/// #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(9) }
/// #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(9) }
/// #     fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(9); Ok(()) }
/// # }
/// # impl rand_core::TryCryptoRng for Rng {}
/// // The trusted_keys TA key of a device (here: the one of HUK = 16 x 00).
/// let ta_key = [
///     0x8b, 0x6d, 0xe0, 0xe4, 0xe1, 0x8b, 0xfd, 0xa1, 0xb3, 0xfe, 0xc3, 0xb1, 0x1d, 0x34, 0xac, 0x12,
///     0x99, 0x73, 0xa3, 0x02, 0xdc, 0x83, 0xd6, 0xae, 0x90, 0xbe, 0xb6, 0x6b, 0xb3, 0x90, 0x95, 0x9f,
/// ];
/// let mut by_key = TeeSealer::new(StaticSubkey::trusted_keys_ta(ta_key), Rng);
/// let mut by_huk = TeeSealer::new(trusted_core::StaticHuk::new([0; 16]), Rng);
/// let key = Key::from_slice(&[0x42; 32])?;
/// assert_eq!(by_key.seal(&key, "")?, by_huk.seal(&key, "")?);
/// # Ok::<(), trusted_core::Error>(())
/// ```
pub struct StaticSubkey {
    usage: HukSubkeyUsage,
    const_data: heapless::Vec<u8, STATIC_SUBKEY_MAX_CONST_DATA>,
    subkey: Zeroizing<[u8; HUK_SUBKEY_MAX_LEN]>,
    len: usize,
}

impl StaticSubkey {
    /// The subkey `subkey` (1..=32 bytes) of `usage` over `const_data`
    /// (at most [`STATIC_SUBKEY_MAX_CONST_DATA`] bytes).
    pub fn new(usage: HukSubkeyUsage, const_data: &[u8], subkey: &[u8]) -> Result<Self> {
        check_subkey_len(subkey.len())?;
        let const_data = heapless::Vec::from_slice(const_data)
            .map_err(|_| Error::InvalidArgument("const_data exceeds 64 bytes"))?;
        let mut stored = Zeroizing::new([0u8; HUK_SUBKEY_MAX_LEN]);
        stored
            .get_mut(..subkey.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(subkey);
        Ok(Self {
            usage,
            const_data,
            subkey: stored,
            len: subkey.len(),
        })
    }

    /// The 32-byte key of OP-TEE's trusted_keys TA (usage `UniqueTa` over
    /// [`TRUSTED_KEYS_TA_UUID`], no extra data): all a TEE sealer asks for.
    pub fn trusted_keys_ta(mut ta_key: [u8; HUK_SUBKEY_MAX_LEN]) -> Self {
        let subkey = Zeroizing::new(ta_key);
        ta_key.zeroize();
        Self {
            usage: HukSubkeyUsage::UniqueTa,
            const_data: heapless::Vec::from_array(TRUSTED_KEYS_TA_UUID),
            subkey,
            len: HUK_SUBKEY_MAX_LEN,
        }
    }
}

impl SubkeyDerive for StaticSubkey {
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        out.zeroize();
        check_subkey_len(out.len())?;
        if usage != self.usage || const_data != self.const_data.as_slice() {
            return Err(Error::InvalidArgument(
                "static subkey asked for another usage or const_data",
            ));
        }
        if out.len() != self.len {
            return Err(Error::InvalidArgument(
                "static subkey asked for another length",
            ));
        }
        out.copy_from_slice(self.subkey.get(..self.len).ok_or(Error::BufferTooSmall)?);
        Ok(())
    }
}

fn check_subkey_len(len: usize) -> Result<()> {
    if (1..=HUK_SUBKEY_MAX_LEN).contains(&len) {
        Ok(())
    } else {
        Err(Error::InvalidArgument("subkey length must be 1..=32"))
    }
}

/// OP-TEE `enum huk_subkey_usage`; the value is hashed as a 4-byte
/// little-endian word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u32)]
pub enum HukSubkeyUsage {
    /// RPMB key (differs under `CFG_CORE_HUK_SUBKEY_COMPAT`; not modelled).
    Rpmb = 0,
    /// Secure storage key (differs under compat; not modelled).
    Ssk = 1,
    /// Die ID.
    DieId = 2,
    /// TA unique keys, among them the trusted_keys TA sealing key.
    UniqueTa = 3,
    /// TA encryption key.
    TaEnc = 4,
    /// SE050 key.
    Se050 = 5,
}

/// Longest subkey OP-TEE derives (`HUK_SUBKEY_MAX_LEN`).
pub const HUK_SUBKEY_MAX_LEN: usize = 32;

/// OP-TEE `huk_subkey_derive`: the first `out.len()` bytes of
/// HMAC-SHA256(key = HUK, usage as LE32 ‖ `const_data`).
///
/// `out` must be 1..=32 bytes.
pub fn huk_subkey_derive(
    huk: &[u8; HUK_LEN],
    usage: HukSubkeyUsage,
    const_data: &[u8],
    out: &mut [u8],
) -> Result<()> {
    derive(huk, usage, &[const_data], out)
}

/// HMAC-SHA256(HUK, usage LE32 ‖ parts…) truncated to `out`, the message
/// given in parts so callers need no concatenation buffer.
fn derive(
    huk: &[u8; HUK_LEN],
    usage: HukSubkeyUsage,
    parts: &[&[u8]],
    out: &mut [u8],
) -> Result<()> {
    check_subkey_len(out.len())?;
    // `hmac` and `sha2` are built with their `zeroize` features (this
    // crate's Cargo.toml): the keyed inner and outer SHA-256 states are
    // wiped when `mac` drops, on every path, and so is the `CtOutput`.
    let mut mac =
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(huk).map_err(|_| Error::KeyLength)?;
    mac.update(&(usage as u32).to_le_bytes());
    parts.iter().for_each(|part| mac.update(part));
    let digest = mac.finalize();
    let n = out.len();
    out.copy_from_slice(digest.as_bytes().get(..n).ok_or(Error::BufferTooSmall)?);
    Ok(())
}

/// The HMAC state is wiped on drop only with the crates' `zeroize`
/// features; this fails to build if they are ever dropped from Cargo.toml.
const _: () = {
    const fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wipes_on_drop::<sha2::Sha256>();
    wipes_on_drop::<hmac::digest::CtOutput<hmac::Hmac<Sha256>>>();
};

/// UUID of OP-TEE's trusted_keys TA, `f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c`,
/// in OP-TEE's native `TEE_UUID` layout (first three fields little-endian).
pub const TRUSTED_KEYS_TA_UUID: [u8; 16] = [
    0xe7, 0x0f, 0x4a, 0xf0, 0x5d, 0x1f, 0x9b, 0x4b, 0xab, 0xf7, 0x61, 0x9b, 0x85, 0xb4, 0xce, 0x8c,
];

/// OP-TEE `system_derive_ta_unique_key`: the HUK subkey for usage
/// `UniqueTa` over the TA's UUID (native layout) ‖ `extra`.
/// `out` must be 16..=32 bytes and `extra` at most 1024 bytes, as OP-TEE checks.
pub fn ta_unique_key(
    huk: &[u8; HUK_LEN],
    ta_uuid: &[u8; 16],
    extra: &[u8],
    out: &mut [u8],
) -> Result<()> {
    if !(16..=32).contains(&out.len()) {
        return Err(Error::InvalidArgument("TA key length must be 16..=32"));
    }
    if extra.len() > 1024 {
        return Err(Error::InvalidArgument(
            "TA key extra data exceeds 1024 bytes",
        ));
    }
    derive(huk, HukSubkeyUsage::UniqueTa, &[ta_uuid, extra], out)
}
