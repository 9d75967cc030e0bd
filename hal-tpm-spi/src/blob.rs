//! Linux TPM 2.0 trusted-key blobs (security/keys/trusted-keys/tpm2key.asn1,
//! `tpm2_key_encode` / `tpm2_key_decode`):
//!
//! ```text
//! TPMKey ::= SEQUENCE {
//!     type       OBJECT IDENTIFIER,            -- 2.23.133.10.1.5
//!     emptyAuth  [0] EXPLICIT BOOLEAN OPTIONAL, -- present iff no blobauth
//!     parent     INTEGER,                       -- parent handle
//!     pubkey     OCTET STRING,                  -- TPM2B_PUBLIC, size included
//!     privkey    OCTET STRING }                 -- TPM2B_PRIVATE, size included
//! ```
//!
//! Linux writes emptyAuth TRUE as the byte 0x01 (`asn1_encode_boolean`),
//! which strict DER rejects (DER TRUE is 0xFF). Encoding here writes 0x01
//! so blobs are byte-identical to the kernel's; decoding accepts any
//! non-zero byte, as the kernel's BER decoder does.
//!
//! A blob that does not decode is the pre-5.13 raw format
//! `TPM2B_PRIVATE ‖ TPM2B_PUBLIC [‖ creation data]`, as Linux decides.

use der::asn1::{AnyRef, ObjectIdentifier};
use der::{
    Decode, Encode, EncodeValue, Length, Reader, SliceReader, SliceWriter, Tag, TagNumber, Writer,
};

use crate::marshal::Reader as TpmReader;

/// OID 2.23.133.10.1.5, TPM sealed data (Linux `OID_TPMSealedData`).
pub const TPM_SEALED_DATA_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.10.1.5");

/// A decoded blob, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TpmKeyBlob<'a> {
    /// emptyAuth was present and true (sealed without blobauth).
    pub empty_auth: bool,
    /// Parent handle; `None` for the old format (needs `keyhandle=`).
    pub parent: Option<u32>,
    /// `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` for the new format; for the old
    /// format the raw blob (trailing creation data included, ignored by
    /// TPM2_Load).
    pub private: &'a [u8],
    /// TPM2B_PUBLIC with its size (new format), empty for the old format.
    pub public: &'a [u8],
    /// True for the pre-5.13 raw format (key ‖ migratable byte sealed).
    pub old_format: bool,
}

impl TpmKeyBlob<'_> {
    /// TPMA_OBJECT of the sealed object (BE32 at offset 4 of TPMT_PUBLIC,
    /// as Linux reads it) or `None` if the public area is too short.
    pub fn object_attributes(&self) -> Option<u32> {
        let public = if self.old_format {
            let mut r = TpmReader::new(self.private);
            r.tpm2b(&"priv").ok()?;
            r.tpm2b_with_size(&"pub").ok()?
        } else {
            self.public
        };
        match public.get(6..10)? {
            &[a, b, c, d] => Some(u32::from_be_bytes([a, b, c, d])),
            _ => None,
        }
    }
}

/// Encodes a blob from the `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` that TPM2_Create
/// returned, exactly as Linux `tpm2_key_encode`; returns the length written
/// into `out`.
pub fn encode(
    parent: u32,
    empty_auth: bool,
    private_public: &[u8],
    out: &mut [u8],
) -> Result<usize, trusted_core::Error> {
    let bad =
        trusted_core::Error::BlobFormat("TPM2_Create output is not TPM2B_PRIVATE ‖ TPM2B_PUBLIC");
    let mut r = TpmReader::new(private_public);
    let private = r.tpm2b_with_size(&"priv").map_err(|_| bad)?;
    let public = r.tpm2b_with_size(&"pub").map_err(|_| bad)?;
    encode_der(parent, empty_auth, public, private, out).ok_or(trusted_core::Error::BlobLength)
}

/// The `TPMKey` SEQUENCE into `out`: its fields first, from the start of
/// `out`, then moved up behind the SEQUENCE header once their length is
/// known (so no length is computed twice). The lengths (but the
/// BOOLEAN's one octet) and the INTEGER's value are der's, the identifier
/// octets der's as computed by [`id`]; the fields are written by one
/// path, [`put`]. `None` if
/// `out` is too small (the one way this fails).
#[inline(never)]
pub(crate) fn encode_der(
    parent: u32,
    empty_auth: bool,
    public: &[u8],
    private: &[u8],
    out: &mut [u8],
) -> Option<usize> {
    let mut w = SliceWriter::new(out);
    put(&mut w, OID, TPM_SEALED_DATA_OID.as_bytes())?;
    if empty_auth {
        // [0] EXPLICIT BOOLEAN TRUE, written 0x01 as Linux writes it (the
        // BOOLEAN's length octet 1 is the short form of X.690 §8.1.3.4).
        put(&mut w, EMPTY_AUTH, &[BOOLEAN, 1, 1])?;
    }
    head(&mut w, INTEGER, parent.value_len().ok()?)?;
    parent.encode_value(&mut w).ok()?;
    put(&mut w, OCTET_STRING, public)?;
    put(&mut w, OCTET_STRING, private)?;
    let fields = w.finish().ok()?.len();
    // The SEQUENCE header: its tag and a length of at most 1 + 4 bytes.
    let mut header = [0u8; 6];
    let mut h = SliceWriter::new(&mut header);
    head(&mut h, SEQUENCE, Length::try_from(fields).ok()?)?;
    let header = h.finish().ok()?;
    let total = header.len().checked_add(fields)?;
    let blob = out.get_mut(..total)?;
    blob.copy_within(..fields, header.len());
    let (front, _) = blob.split_at_mut(header.len());
    front.copy_from_slice(header);
    Some(total)
}

/// One TLV: [`head`] for `value`, then `value`. Out of line: the one
/// path every field of the blob takes.
#[inline(never)]
fn put(w: &mut SliceWriter<'_>, id: u8, value: &[u8]) -> Option<()> {
    head(w, id, Length::try_from(value.len()).ok()?)?;
    w.write(value).ok()
}

/// A TLV's header: the identifier octet `id` (see [`id`]), then der's
/// length octets for `len`.
fn head(w: &mut SliceWriter<'_>, id: u8, len: Length) -> Option<()> {
    w.write_byte(id).ok()?;
    len.encode(w).ok()
}

/// Decodes the DER `TPMKey`; `None` if it is not one (then Linux treats
/// the bytes as the old format).
///
/// Each field has one possible tag, so each goes through `tlv` (that
/// tag's identifier octet as der encodes it, der's length rules) and is
/// read as a borrowed slice: the OID is compared as its encoded bytes, the
/// INTEGER is der's `u32`. No generic tag or OID parser is linked, and
/// what decodes is exactly what der's typed decoders (`sequence`,
/// `ObjectIdentifier`, `context_specific`, `u32`, `&OctetStringRef`)
/// accept: a primitive `[0]`, or a BOOLEAN that is not one byte, fails.
pub fn decode_der(blob: &[u8]) -> Option<TpmKeyBlob<'_>> {
    let mut outer = SliceReader::new(blob).ok()?;
    let sequence = tlv(&mut outer, SEQUENCE)?;
    outer.finish().ok()?;
    let mut r = SliceReader::new(sequence).ok()?;
    if tlv(&mut r, OID)? != TPM_SEALED_DATA_OID.as_bytes() {
        return None;
    }
    // emptyAuth is OPTIONAL: read ahead; if no whole [0] is there, the
    // INTEGER below meets whatever is (a broken [0] fails there, as it
    // fails der's optional field decoder).
    let mut ahead = r.clone();
    let empty_auth = match tlv(&mut ahead, EMPTY_AUTH) {
        Some(explicit) => {
            r = ahead;
            let mut inner = SliceReader::new(explicit).ok()?;
            let value = match tlv(&mut inner, BOOLEAN)? {
                [b] => *b != 0,
                _ => return None,
            };
            inner.finish().ok()?;
            value
        }
        None => false,
    };
    let parent = AnyRef::new(Tag::Integer, tlv(&mut r, INTEGER)?)
        .ok()?
        .decode_as::<u32>()
        .ok()?;
    let public = tlv(&mut r, OCTET_STRING)?;
    let private = tlv(&mut r, OCTET_STRING)?;
    r.finish().ok()?;
    Some(TpmKeyBlob {
        empty_auth,
        parent: Some(parent),
        private,
        public,
        old_format: false,
    })
}

/// emptyAuth's tag: `[0]` EXPLICIT (so constructed).
const EMPTY_AUTH_TAG: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(0),
};

/// The identifier octet der encodes for `tag` (`Tag::encode`: class,
/// constructed bit, and the number in the low five bits, which holds the
/// numbers below 31 all tags here have), taken from der's own `const`
/// accessors at compile time: the blob's few tags need no run-time tag
/// encoder (316 B on Thumb-2). `tests` checks each against `Tag::encode`.
const fn id(tag: Tag) -> u8 {
    let number = tag.number().0;
    assert!(number < 31, "one-octet tags only");
    tag.class() as u8 | (tag.is_constructed() as u8) << 5 | number as u8
}

/// The identifier octets of the blob's tags.
const SEQUENCE: u8 = id(Tag::Sequence);
const OID: u8 = id(Tag::ObjectIdentifier);
const EMPTY_AUTH: u8 = id(EMPTY_AUTH_TAG);
const BOOLEAN: u8 = id(Tag::Boolean);
const INTEGER: u8 = id(Tag::Integer);
const OCTET_STRING: u8 = id(Tag::OctetString);

/// The value of the next TLV, which must have the identifier octet `id`
/// (see [`id`]), borrowed from the input; the length is der's (definite,
/// minimal). Out of line: the one path every field of the blob takes.
#[inline(never)]
fn tlv<'a>(r: &mut SliceReader<'a>, id: u8) -> Option<&'a [u8]> {
    if r.read_byte().ok()? != id {
        return None;
    }
    let length = Length::decode(r).ok()?;
    r.read_slice(length).ok()
}

/// Decodes a blob as Linux `tpm2_load_cmd` does: the DER format, else the
/// old raw format.
pub fn decode(blob: &[u8]) -> TpmKeyBlob<'_> {
    decode_der(blob).unwrap_or(TpmKeyBlob {
        empty_auth: false,
        parent: None,
        private: blob,
        public: &[],
        old_format: true,
    })
}

/// The `TPM2B_PRIVATE` and `TPM2B_PUBLIC` of a blob, each with its 2-byte
/// size, and what follows them. Borrows from the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobParts<'a> {
    /// `TPM2B_PRIVATE` (size included): the TPM-encrypted sensitive area.
    pub private: &'a [u8],
    /// `TPM2B_PUBLIC` (size included); [`decode_public`] reads it.
    pub public: &'a [u8],
    /// Bytes after the two: the rest of the TPM2_Create parameter area
    /// (creation data, hash, ticket) that pre-5.13 Linux stored and
    /// TPM2_Load ignores; empty for the DER format.
    pub trailing: &'a [u8],
}

impl<'a> TpmKeyBlob<'a> {
    /// Splits the blob into its TPM structures, checking that each size
    /// field fits (and, for the DER format, that each OCTET STRING holds
    /// exactly one TPM2B, as Linux `tpm2_key_decode` assumes). `None` if
    /// they do not parse: for the old format this is the "not a TPM blob"
    /// answer, since raw bytes carry no other mark.
    pub fn parts(&self) -> Option<BlobParts<'a>> {
        if self.old_format {
            let mut r = TpmReader::new(self.private);
            let private = r.tpm2b_with_size(&"priv").ok()?;
            let public = r.tpm2b_with_size(&"pub").ok()?;
            return Some(BlobParts {
                private,
                public,
                trailing: r.rest(),
            });
        }
        let whole = |bytes: &'a [u8]| {
            let mut r = TpmReader::new(bytes);
            let tpm2b = r.tpm2b_with_size(&"tpm2b").ok()?;
            r.rest().is_empty().then_some(tpm2b)
        };
        Some(BlobParts {
            private: whole(self.private)?,
            public: whole(self.public)?,
            trailing: &[],
        })
    }
}

/// `TPMT_KEYEDHASH_SCHEME` (TPM 2.0 Part 2 §11.1.23): how a keyedhash
/// object's data may be used. Linux seals with [`KeyedHashScheme::Null`]
/// (a sealed data object, usable only by TPM2_Unseal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyedHashScheme {
    /// `TPM_ALG_NULL`: sealed data.
    Null,
    /// `TPM_ALG_HMAC` with this hash: an HMAC key.
    Hmac {
        /// `TPMS_SCHEME_HMAC.hashAlg`.
        hash_alg: u16,
    },
    /// `TPM_ALG_XOR` with this hash and KDF: an XOR obfuscation key.
    Xor {
        /// `TPMS_SCHEME_XOR.hashAlg`.
        hash_alg: u16,
        /// `TPMS_SCHEME_XOR.kdf`.
        kdf: u16,
    },
}

/// A keyedhash object's `TPMT_PUBLIC` (TPM 2.0 Part 2 §12.2.4), the type
/// every trusted-key blob holds. Borrows from the input; nothing in it is
/// secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicArea<'a> {
    /// `nameAlg`: the hash of the object's Name (Linux `hash=`).
    pub name_alg: u16,
    /// `objectAttributes` (TPMA_OBJECT, bits in [`crate::spec::attr`]).
    pub object_attributes: u32,
    /// `authPolicy`: the policy digest (Linux `policydigest=`), empty if none.
    pub auth_policy: &'a [u8],
    /// `parameters.keyedHashDetail.scheme`.
    pub scheme: KeyedHashScheme,
    /// `unique.keyedHash`: the digest binding the public area to the
    /// sealed data (the nameAlg hash of the seed value and the data).
    pub unique: &'a [u8],
}

/// Decodes a `TPM2B_PUBLIC` (size included, as a blob carries it; see
/// [`BlobParts::public`]) holding a keyedhash object. Errors say which
/// field does not fit or which value is not a sealed object's; the size
/// field must cover the bytes exactly.
pub fn decode_public(tpm2b_public: &[u8]) -> Result<PublicArea<'_>, trusted_core::Error> {
    use trusted_core::Error::BlobFormat;
    let mut outer = TpmReader::new(tpm2b_public);
    let area = outer
        .tpm2b(&"")
        .map_err(|_| BlobFormat("TPM2B_PUBLIC size exceeds the bytes present"))?;
    if !outer.rest().is_empty() {
        return Err(BlobFormat("bytes after the TPM2B_PUBLIC"));
    }
    let short = |_| BlobFormat("TPMT_PUBLIC ends early");
    let mut r = TpmReader::new(area);
    if r.u16(&"").map_err(short)? != crate::spec::alg::KEYEDHASH {
        return Err(BlobFormat("TPMT_PUBLIC type is not keyedhash"));
    }
    let name_alg = r.u16(&"").map_err(short)?;
    let object_attributes = r.u32(&"").map_err(short)?;
    let auth_policy = r.tpm2b(&"").map_err(short)?;
    let scheme = match r.u16(&"").map_err(short)? {
        crate::spec::alg::NULL => KeyedHashScheme::Null,
        ALG_HMAC => KeyedHashScheme::Hmac {
            hash_alg: r.u16(&"").map_err(short)?,
        },
        ALG_XOR => KeyedHashScheme::Xor {
            hash_alg: r.u16(&"").map_err(short)?,
            kdf: r.u16(&"").map_err(short)?,
        },
        _ => return Err(BlobFormat("keyedhash scheme is not NULL, HMAC or XOR")),
    };
    let unique = r.tpm2b(&"").map_err(short)?;
    if !r.rest().is_empty() {
        return Err(BlobFormat("bytes after the TPMT_PUBLIC inside its TPM2B"));
    }
    Ok(PublicArea {
        name_alg,
        object_attributes,
        auth_policy,
        scheme,
        unique,
    })
}

/// `TPM_ALG_HMAC` (Part 2 §6.3).
const ALG_HMAC: u16 = 0x0005;
/// `TPM_ALG_XOR` (Part 2 §6.3).
const ALG_XOR: u16 = 0x000A;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_octets_are_ders() {
        for (tag, octet) in [
            (Tag::Sequence, SEQUENCE),
            (Tag::ObjectIdentifier, OID),
            (EMPTY_AUTH_TAG, EMPTY_AUTH),
            (Tag::Boolean, BOOLEAN),
            (Tag::Integer, INTEGER),
            (Tag::OctetString, OCTET_STRING),
        ] {
            let mut out = [0u8; 2];
            let encoded = tag.encode_to_slice(&mut out).unwrap();
            assert_eq!(encoded, [octet], "{tag:?}");
        }
    }
}
