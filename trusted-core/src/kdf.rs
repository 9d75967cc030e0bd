//! NIST SP 800-108 key derivation in counter mode with AES-CMAC as the PRF.
//!
//! Generic over any `cipher` 0.5 block cipher that `cmac` accepts, so a
//! hardware-keyed AES (a DCP or CAAM key that never leaves the chip) can be
//! the PRF key. OP-TEE's DCP HUK is this KDF with 8-bit counter and length
//! fields (core/drivers/imx/dcp/dcp_huk.c).

use cmac::Cmac;
use cmac::block_api::CmacCipher;
use digest::{InnerInit, Mac};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// Widths, in bytes, of the counter `[i]` and the length `[L]` fields
/// (SP 800-108 allows 8..=32 bits for each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FieldWidths {
    /// Bytes of the big-endian block counter, starting at 1.
    pub counter: usize,
    /// Bytes of the big-endian output length in bits.
    pub length: usize,
}

impl FieldWidths {
    /// 32-bit counter and length: the common choice.
    pub const WORDS: Self = Self {
        counter: 4,
        length: 4,
    };
    /// 8-bit counter and length, as OP-TEE's DCP HUK label uses.
    pub const BYTES: Self = Self {
        counter: 1,
        length: 1,
    };
}

/// Fills `out` with K(1) ‖ K(2) ‖ … where
/// K(i) = CMAC(key, \[i\] ‖ `label` ‖ 0x00 ‖ `context` ‖ \[L\]) and L is
/// `out.len()` in bits. The key is whatever `cipher` was keyed with.
///
/// Fails when a counter or length value does not fit its field; `out` is
/// then all zero.
///
/// ```
/// use aes::Aes128;
/// use cipher::KeyInit;
/// use trusted_core::kdf::{kdf_counter_cmac, FieldWidths};
/// let mut huk = [0u8; 16];
/// kdf_counter_cmac(Aes128::new(&[0u8; 16].into()), b"huk", b"opteeosdcp",
///                  FieldWidths::BYTES, &mut huk).unwrap();
/// assert_eq!(huk[..4], [0x11, 0x47, 0x4a, 0x5a]);
/// ```
pub fn kdf_counter_cmac<C: CmacCipher>(
    cipher: C,
    label: &[u8],
    context: &[u8],
    widths: FieldWidths,
    out: &mut [u8],
) -> Result<()> {
    zeroed_on_error(out, |out| {
        let counter_max = field_max(widths.counter)?;
        let length_max = field_max(widths.length)?;
        let bits = (out.len() as u64)
            .checked_mul(8)
            .filter(|&l| l <= length_max)
            .ok_or(Error::InvalidArgument(
                "KDF output too long for its length field",
            ))?;
        let length_field = bits.to_be_bytes();
        let length_field = length_field
            .get(8 - widths.length..)
            .ok_or(Error::InvalidArgument("KDF length field width"))?;

        // `cmac` is built with its `zeroize` feature (this crate's Cargo.toml):
        // the CMAC state (the running block, which after the last update is the
        // output) is wiped when `mac` drops, and each finalized block is a
        // `CtOutput` wiped on drop, so no derived block (a DCP HUK) is left.
        let mut mac = <Cmac<C> as InnerInit>::inner_init(cipher);
        for (i, chunk) in out.chunks_mut(C::block_size()).enumerate() {
            let counter = (i as u64) + 1;
            if counter > counter_max {
                return Err(Error::InvalidArgument(
                    "KDF output too long for its counter field",
                ));
            }
            let counter_field = counter.to_be_bytes();
            mac.update(counter_field.get(8 - widths.counter..).unwrap_or(&[]));
            mac.update(label);
            mac.update(&[0]);
            mac.update(context);
            mac.update(length_field);
            let block = mac.finalize_reset();
            let n = chunk.len();
            chunk.copy_from_slice(block.as_bytes().get(..n).ok_or(Error::BufferTooSmall)?);
        }
        Ok(())
    })
}

/// Runs `fill` on `out` and zeroes `out` if it fails, so no partial key
/// material survives a refused request: the one wrapper of every
/// derivation here and in [`crate::huk`].
pub(crate) fn zeroed_on_error(
    out: &mut [u8],
    fill: impl FnOnce(&mut [u8]) -> Result<()>,
) -> Result<()> {
    let result = fill(out);
    if result.is_err() {
        out.zeroize();
    }
    result
}

fn field_max(bytes: usize) -> Result<u64> {
    match bytes {
        1..=4 => Ok((1u64 << (8 * bytes)) - 1),
        _ => Err(Error::InvalidArgument(
            "KDF field width must be 1..=4 bytes",
        )),
    }
}

/// The CMAC core wipes its state on drop only with `cmac`'s `zeroize`
/// feature; this fails to build if it is ever dropped from Cargo.toml.
const _: () = {
    const fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wipes_on_drop::<cmac::block_api::CmacCore<aes::Aes128>>();
    wipes_on_drop::<digest::CtOutput<Cmac<aes::Aes128>>>();
};
