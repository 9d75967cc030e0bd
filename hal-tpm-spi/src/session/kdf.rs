//! The two TPM key derivation functions, SHA-256 only.
//!
//! KDFa is SP 800-108 counter mode with HMAC (TPM 2.0 Part 1 §11.4.10.2);
//! KDFe is the SP 800-56A concatenation KDF (Part 1 §11.4.10.3, Annex C.6.1).
//! Both take the label without its terminating zero and hash one 0x00 after
//! it, as Linux's `tpm2_KDFa`/`tpm2_KDFe` do with `strlen(label) + 1`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{DIGEST_SIZE, ECC_COORD_SIZE, SessionError};

/// KDFa(SHA-256, `key`, `label`, `context_u`, `context_v`, 8·`out.len()` bits)
/// into `out`.
///
/// Block i (from 1) = HMAC-SHA256(key, BE32(i) ‖ label ‖ 0x00 ‖ contextU ‖
/// contextV ‖ BE32(bits)); the blocks are concatenated and cut to
/// `out.len()` bytes. Only whole bytes are produced (TPM sessions only ask
/// for multiples of 8 bits).
///
/// # Errors
/// [`SessionError::Size`] when `out` is longer than 2^29 − 1 bytes (its bit
/// count would not fit the 32-bit length field). On error `out` is zeroed.
pub fn kdfa(
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    out: &mut [u8],
) -> Result<(), SessionError> {
    let bits = u32::try_from(out.len())
        .ok()
        .and_then(|n| n.checked_mul(8))
        .ok_or(SessionError::Size)
        .inspect_err(|_| out.fill(0))?;
    let mut counter: u32 = 0;
    for chunk in out.chunks_mut(DIGEST_SIZE) {
        // cannot overflow: at most 2^29 / 32 blocks
        counter = counter.wrapping_add(1);
        let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
            Ok(m) => m,
            Err(_) => {
                chunk.fill(0);
                return Err(SessionError::Size);
            }
        };
        mac.update(&counter.to_be_bytes());
        mac.update(label);
        mac.update(&[0]);
        mac.update(context_u);
        mac.update(context_v);
        mac.update(&bits.to_be_bytes());
        let block = Zeroizing::new(<[u8; DIGEST_SIZE]>::from(mac.finalize().into_bytes()));
        // `chunk` is at most DIGEST_SIZE bytes by construction of chunks_mut
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
    }
    Ok(())
}

/// KDFe(SHA-256, `z_x`, `label`, `party_u_x`, `party_v_x`, 256 bits).
///
/// One block suffices for 256 bits: SHA256(BE32(1) ‖ Z ‖ label ‖ 0x00 ‖
/// partyUInfo ‖ partyVInfo). For a session salt (Part 1 §19.6.13, Linux
/// `tpm_buf_append_salt`) Z is the x coordinate of the ECDH point,
/// partyU the caller's ephemeral x, partyV the TPM key's x, label `"SECRET"`.
// Out of line: its SHA-256 state stays out of the ECDH frame.
#[inline(never)]
pub fn kdfe(
    z_x: &[u8; ECC_COORD_SIZE],
    label: &[u8],
    party_u_x: &[u8; ECC_COORD_SIZE],
    party_v_x: &[u8; ECC_COORD_SIZE],
) -> Zeroizing<[u8; DIGEST_SIZE]> {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z_x);
    h.update(label);
    h.update([0]);
    h.update(party_u_x);
    h.update(party_v_x);
    Zeroizing::new(h.finalize().into())
}
