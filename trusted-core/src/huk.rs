//! Hardware unique keys and OP-TEE's derivations from them
//! (core/kernel/huk_subkey.c, core/pta/system.c).

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

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
    /// Wraps `huk`.
    pub fn new(huk: [u8; HUK_LEN]) -> Self {
        Self(Zeroizing::new(huk))
    }
}

impl Huk for StaticHuk {
    fn hardware_unique_key(&mut self) -> Result<HukBytes> {
        Ok(self.0.clone())
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
    if out.is_empty() || out.len() > HUK_SUBKEY_MAX_LEN {
        return Err(Error::InvalidArgument("subkey length must be 1..=32"));
    }
    let mut mac =
        <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(huk).map_err(|_| Error::KeyLength)?;
    mac.update(&(usage as u32).to_le_bytes());
    parts.iter().for_each(|part| mac.update(part));
    let digest = Zeroizing::new(mac.finalize().into_bytes());
    let n = out.len();
    out.copy_from_slice(digest.get(..n).ok_or(Error::BufferTooSmall)?);
    Ok(())
}

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
