//! ECDH salt to a TPM ECC NIST P-256 key (TPM 2.0 Part 1 §19.6.13, Annex
//! C.6; Linux `tpm_buf_append_salt`).
//!
//! The caller makes an ephemeral key pair (d, Q), computes Z = (d·P).x with
//! the TPM key's public point P, and sends Q as the `encryptedSalt` of
//! TPM2_StartAuthSession; both sides then hold salt = KDFe(Z, "SECRET", Q.x,
//! P.x). P must be checked: a point off the curve would leak bits of d
//! (invalid-curve attack), so it is rejected before any multiplication.

use p256::elliptic_curve::ecdh::diffie_hellman;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::{AffinePoint, FieldBytes, PublicKey, SecretKey};
use rand_core::TryCryptoRng;
use zeroize::{Zeroize, Zeroizing};

use super::kdf::kdfe;
use super::{ECC_COORD_SIZE, ENCRYPTED_SALT_SIZE, Salt, SessionError};

/// How many scalars to draw before giving up. A uniformly random 256-bit
/// string is not a valid P-256 scalar (0 or ≥ n) with probability < 2^-32,
/// so a second failure means the RNG is broken.
const SCALAR_TRIES: usize = 4;

/// Label of the salt KDFe (Part 1 §19.6.13); the terminating zero is added
/// by [`kdfe`](super::kdfe).
const LABEL_SECRET: &[u8] = b"SECRET";

/// The `encryptedSalt` parameter of TPM2_StartAuthSession for an ECC salt
/// key: a TPM2B_ENCRYPTED_SECRET whose buffer is the marshalled
/// TPMS_ECC_POINT Q, i.e. `00 44 | 00 20 | Q.x | 00 20 | Q.y` (70 bytes; the
/// same bytes Linux's `tpm_buf_append_salt` appends). Public data.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedSalt([u8; ENCRYPTED_SALT_SIZE]);

impl EncryptedSalt {
    /// An all-zero value, to be filled in place by [`EncryptedSalt::set`].
    pub(crate) const fn zeroed() -> Self {
        Self([0; ENCRYPTED_SALT_SIZE])
    }

    /// Marshals Q = (`q_x`, `q_y`) in place (no copy of the 70 bytes).
    fn set(&mut self, q_x: &[u8], q_y: &[u8]) -> Result<(), SessionError> {
        let b = &mut self.0;
        let inner = u16::try_from(2 * (2 + ECC_COORD_SIZE)).map_err(|_| SessionError::Size)?;
        let coord = u16::try_from(ECC_COORD_SIZE).map_err(|_| SessionError::Size)?;
        let (size, rest) = b.split_at_mut(2);
        size.copy_from_slice(&inner.to_be_bytes());
        let (x_size, rest) = rest.split_at_mut(2);
        x_size.copy_from_slice(&coord.to_be_bytes());
        let (x, rest) = rest.split_at_mut(ECC_COORD_SIZE);
        x.copy_from_slice(q_x.get(..ECC_COORD_SIZE).ok_or(SessionError::Size)?);
        let (y_size, y) = rest.split_at_mut(2);
        y_size.copy_from_slice(&coord.to_be_bytes());
        y.copy_from_slice(q_y.get(..ECC_COORD_SIZE).ok_or(SessionError::Size)?);
        Ok(())
    }

    /// The whole TPM2B (size field included), ready to append to the command.
    pub fn as_tpm2b(&self) -> &[u8; ENCRYPTED_SALT_SIZE] {
        &self.0
    }

    /// Q.x, the caller's ephemeral public x coordinate (KDFe partyUInfo).
    pub fn point_x(&self) -> &[u8] {
        self.0.get(4..4 + ECC_COORD_SIZE).unwrap_or(&[])
    }

    /// Q.y, the caller's ephemeral public y coordinate.
    pub fn point_y(&self) -> &[u8] {
        self.0.get(6 + ECC_COORD_SIZE..).unwrap_or(&[])
    }
}

impl core::fmt::Debug for EncryptedSalt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EncryptedSalt(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// Salt a session to the TPM's P-256 key (x, y as read from the `unique`
/// field of TPM2_ReadPublic / TPM2_CreatePrimary): draws an ephemeral scalar
/// from `rng` and returns (salt, encryptedSalt).
///
/// # Errors
/// [`SessionError::NotOnCurve`] if (x, y) is not a point of P-256 (checked
/// before the RNG is used); [`SessionError::Rng`] if the RNG fails or keeps
/// returning invalid scalars.
pub fn ecdh_salt<R: TryCryptoRng + ?Sized>(
    tpm_x: &[u8; ECC_COORD_SIZE],
    tpm_y: &[u8; ECC_COORD_SIZE],
    rng: &mut R,
) -> Result<(Salt, EncryptedSalt), SessionError> {
    let mut salt = Salt::from_bytes([0; ECC_COORD_SIZE]);
    let mut encrypted = EncryptedSalt::zeroed();
    ecdh_salt_into(tpm_x, tpm_y, rng, &mut salt, &mut encrypted)?;
    Ok((salt, encrypted))
}

/// [`ecdh_salt`] into the caller's `salt` and `encrypted` (left as they
/// were on error). Out of line, and writing in place rather than returning
/// the pair: the scalar multiplications, the deepest stack of a session
/// start, run under this frame and the caller's, so both stay small.
#[inline(never)]
pub(crate) fn ecdh_salt_into<R: TryCryptoRng + ?Sized>(
    tpm_x: &[u8; ECC_COORD_SIZE],
    tpm_y: &[u8; ECC_COORD_SIZE],
    rng: &mut R,
    salt: &mut Salt,
    encrypted: &mut EncryptedSalt,
) -> Result<(), SessionError> {
    let tpm_point = tpm_public_key(tpm_x, tpm_y)?;
    let secret = random_secret(rng)?;
    salt_from_secret(&secret, &tpm_point, tpm_x, salt, encrypted)
}

/// The ephemeral secret: scalars drawn from `rng` until one is valid (at
/// most [`SCALAR_TRIES`]). Out of line: the range check's temporaries
/// stay out of [`ecdh_salt_into`]'s frame.
#[inline(never)]
fn random_secret<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<SecretKey, SessionError> {
    let mut scalar = Zeroizing::new([0u8; ECC_COORD_SIZE]);
    for _ in 0..SCALAR_TRIES {
        rng.try_fill_bytes(scalar.as_mut_slice())
            .map_err(|_| SessionError::Rng)?;
        if let Ok(secret) = SecretKey::from_bytes(&FieldBytes::from(*scalar)) {
            return Ok(secret);
        }
    }
    Err(SessionError::Rng)
}

/// [`ecdh_salt`] with the ephemeral scalar given instead of drawn: for
/// known-answer tests and for callers that generate the scalar themselves.
///
/// # Security
/// The scalar must be fresh, secret and used once; a reused scalar gives
/// every session salted with it the same salt.
///
/// # Errors
/// [`SessionError::NotOnCurve`] as [`ecdh_salt`]; [`SessionError::Scalar`]
/// if `ephemeral_scalar` is 0 or not below the group order.
pub fn ecdh_salt_from_scalar(
    tpm_x: &[u8; ECC_COORD_SIZE],
    tpm_y: &[u8; ECC_COORD_SIZE],
    ephemeral_scalar: &[u8; ECC_COORD_SIZE],
) -> Result<(Salt, EncryptedSalt), SessionError> {
    let tpm_point = tpm_public_key(tpm_x, tpm_y)?;
    let secret = SecretKey::from_bytes(&FieldBytes::from(*ephemeral_scalar))
        .map_err(|_| SessionError::Scalar)?;
    let mut salt = Salt::from_bytes([0; ECC_COORD_SIZE]);
    let mut encrypted = EncryptedSalt::zeroed();
    salt_from_secret(&secret, &tpm_point, tpm_x, &mut salt, &mut encrypted)?;
    Ok((salt, encrypted))
}

/// P from its affine coordinates: `from_coordinates` checks that both are
/// below p and that y² = x³ − 3x + b (what `from_sec1_bytes` does for an
/// uncompressed point, without linking point decompression, 2.7 KB);
/// `from_affine` refuses the identity. Out of line: the field arithmetic
/// of the curve check stays out of [`ecdh_salt`]'s frame.
#[inline(never)]
fn tpm_public_key(
    x: &[u8; ECC_COORD_SIZE],
    y: &[u8; ECC_COORD_SIZE],
) -> Result<PublicKey, SessionError> {
    let point = AffinePoint::from_coordinates(&FieldBytes::from(*x), &FieldBytes::from(*y))
        .into_option()
        .ok_or(SessionError::NotOnCurve)?;
    PublicKey::from_affine(point).map_err(|_| SessionError::NotOnCurve)
}

/// The salt and encryptedSalt from the ephemeral `secret`, into `salt`
/// and `encrypted`: each scalar multiplication runs in its own small frame
/// below this one, so the deepest P-256 chain carries none of the other's
/// temporaries.
fn salt_from_secret(
    secret: &SecretKey,
    tpm_point: &PublicKey,
    tpm_x: &[u8; ECC_COORD_SIZE],
    salt: &mut Salt,
    encrypted: &mut EncryptedSalt,
) -> Result<(), SessionError> {
    ephemeral_point(secret, encrypted)?;
    let z = shared_x(secret, tpm_point);
    let party_u: &[u8; ECC_COORD_SIZE] = encrypted
        .point_x()
        .try_into()
        .map_err(|_| SessionError::Size)?;
    let derived = kdfe(&z, LABEL_SECRET, party_u, tpm_x);
    *salt = Salt::from_bytes(*derived);
    Ok(())
}

/// Q = d·G, marshalled into `encrypted`.
#[inline(never)]
fn ephemeral_point(secret: &SecretKey, encrypted: &mut EncryptedSalt) -> Result<(), SessionError> {
    let q = secret.public_key();
    let q = q.as_affine();
    encrypted.set(&q.x(), &q.y())
}

/// Z = (d·P).x, the ECDH shared secret (zeroed on drop, as the scalar
/// copy made for it).
#[inline(never)]
fn shared_x(secret: &SecretKey, tpm_point: &PublicKey) -> Zeroizing<[u8; ECC_COORD_SIZE]> {
    let mut d = secret.to_nonzero_scalar();
    let shared = diffie_hellman(d, tpm_point.as_affine());
    d.zeroize();
    Zeroizing::new(<[u8; ECC_COORD_SIZE]>::from(*shared.raw_secret_bytes()))
}
