//! `blob::encode` / `blob::decode_der` against der's typed encoders and
//! decoders (`sequence`, `ObjectIdentifier`, `context_specific`, `u32`,
//! `&OctetStringRef`): the driver reads and writes the `TPMKey` TLV by TLV
//! to stay small, and must accept, reject and write exactly what the typed
//! path does. The reference below is the typed code the driver used before.

use der::asn1::{ContextSpecific, ObjectIdentifier, OctetStringRef};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, SliceReader, Tag,
    TagMode, TagNumber, Writer,
};
use hal_tpm_spi::blob::{self, TPM_SEALED_DATA_OID};

/// BOOLEAN as Linux writes it (0x01); any non-zero byte decodes true.
struct LinuxBool(bool);

impl<'a> DecodeValue<'a> for LinuxBool {
    type Error = der::Error;
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        if header.length() != Length::ONE {
            return Err(reader.error(der::ErrorKind::Length { tag: Tag::Boolean }));
        }
        Ok(LinuxBool(reader.read_byte()? != 0))
    }
}

impl EncodeValue for LinuxBool {
    fn value_len(&self) -> der::Result<Length> {
        Ok(Length::ONE)
    }
    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write_byte(u8::from(self.0))
    }
}

impl FixedTag for LinuxBool {
    const TAG: Tag = Tag::Boolean;
}

struct TpmKey<'a> {
    empty_auth: bool,
    parent: u32,
    public: &'a OctetStringRef,
    private: &'a OctetStringRef,
}

impl TpmKey<'_> {
    fn empty_auth_field(&self) -> Option<ContextSpecific<LinuxBool>> {
        self.empty_auth.then_some(ContextSpecific {
            tag_number: TagNumber(0),
            tag_mode: TagMode::Explicit,
            value: LinuxBool(true),
        })
    }
}

impl EncodeValue for TpmKey<'_> {
    fn value_len(&self) -> der::Result<Length> {
        let mut len = TPM_SEALED_DATA_OID.encoded_len()?;
        if let Some(f) = self.empty_auth_field() {
            len = (len + f.encoded_len()?)?;
        }
        len = (len + self.parent.encoded_len()?)?;
        len = (len + self.public.encoded_len()?)?;
        len + self.private.encoded_len()?
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        TPM_SEALED_DATA_OID.encode(writer)?;
        if let Some(f) = self.empty_auth_field() {
            f.encode(writer)?;
        }
        self.parent.encode(writer)?;
        self.public.encode(writer)?;
        self.private.encode(writer)
    }
}

impl FixedTag for TpmKey<'_> {
    const TAG: Tag = Tag::Sequence;
}

/// `(empty_auth, parent, public, private)` as the typed decoders read them.
type Fields<'a> = (bool, u32, &'a [u8], &'a [u8]);

fn reference_decode(blob: &[u8]) -> Option<Fields<'_>> {
    let mut reader = SliceReader::new(blob).ok()?;
    let fields = reader
        .sequence(|r: &mut SliceReader<'_>| {
            let oid = ObjectIdentifier::decode(r)?;
            if oid != TPM_SEALED_DATA_OID {
                return Err(der::Error::from(der::ErrorKind::OidUnknown { oid }));
            }
            let empty_auth = r.context_specific::<LinuxBool>(TagNumber(0), TagMode::Explicit)?;
            let parent = u32::decode(r)?;
            let public = <&OctetStringRef>::decode(r)?;
            let private = <&OctetStringRef>::decode(r)?;
            Ok::<_, der::Error>((
                empty_auth.is_some_and(|b| b.0),
                parent,
                public.as_bytes(),
                private.as_bytes(),
            ))
        })
        .ok()?;
    reader.finish().ok()?;
    Some(fields)
}

fn driver_decode(blob: &[u8]) -> Option<Fields<'_>> {
    // A DER blob always names its parent: a `None` here fails the compare.
    let b = blob::decode_der(blob)?;
    Some((b.empty_auth, b.parent?, b.public, b.private))
}

fn reference_encode(
    empty_auth: bool,
    parent: u32,
    public: &[u8],
    private: &[u8],
    out: &mut [u8],
) -> Option<usize> {
    let key = TpmKey {
        empty_auth,
        parent,
        public: OctetStringRef::new(public).ok()?,
        private: OctetStringRef::new(private).ok()?,
    };
    key.encode_to_slice(out).ok().map(<[u8]>::len)
}

/// `TPM2B_PRIVATE ‖ TPM2B_PUBLIC` with bodies of the given lengths.
fn private_public(private: usize, public: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (len, fill) in [(private, 0xa5u8), (public, 0x5a)] {
        out.extend((len as u16).to_be_bytes());
        out.extend((0..len).map(|i| fill ^ i as u8));
    }
    out
}

/// Splits what `private_public` built into its two TPM2Bs, sizes included.
fn parts(pp: &[u8], private: usize) -> (&[u8], &[u8]) {
    pp.split_at(2 + private)
}

#[test]
fn encode_writes_what_ders_typed_encoder_writes() {
    // Lengths on both sides of the short/long and one/two-octet length
    // forms, for the fields and for the whole SEQUENCE.
    let lens = [
        0, 1, 60, 123, 124, 125, 126, 127, 128, 200, 250, 251, 252, 253, 256, 300,
    ];
    let mut cases = 0;
    for &private in &lens {
        for &public in &lens {
            let pp = private_public(private, public);
            let (priv2b, pub2b) = parts(&pp, private);
            for empty_auth in [false, true] {
                for parent in [0, 0x7f, 0x80, 0x8100_0001, u32::MAX] {
                    let mut ours = [0u8; 1024];
                    let mut theirs = [0u8; 1024];
                    let n = blob::encode(parent, empty_auth, &pp, &mut ours).unwrap();
                    let m = reference_encode(empty_auth, parent, pub2b, priv2b, &mut theirs);
                    assert_eq!(Some(n), m, "{private} {public} {empty_auth} {parent:#x}");
                    assert_eq!(ours[..n], theirs[..n]);
                    // Every shorter buffer fails, as the typed encoder does.
                    for short in [n - 1, n / 2, 0] {
                        let mut out = vec![0u8; short];
                        assert!(blob::encode(parent, empty_auth, &pp, &mut out).is_err());
                        assert!(
                            reference_encode(empty_auth, parent, pub2b, priv2b, &mut out).is_none()
                        );
                    }
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, lens.len() * lens.len() * 2 * 5);
}

/// Tags, length forms (short, 0x80 indefinite, 0x81..0x85 long) and
/// BOOLEAN bytes.
const VALUES: [u8; 15] = [
    0x00, 0x01, 0x02, 0x04, 0x06, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xa0, 0xff,
];

#[test]
fn decode_accepts_and_rejects_what_ders_typed_decoders_do() {
    let mut seeds = Vec::new();
    for (private, public) in [(0, 0), (4, 14), (126, 60), (200, 300)] {
        let pp = private_public(private, public);
        for empty_auth in [false, true] {
            for parent in [0x8100_0001, 0x40, 0x80] {
                let mut out = [0u8; 1024];
                let n = blob::encode(parent, empty_auth, &pp, &mut out).unwrap();
                seeds.push(out[..n].to_vec());
            }
        }
    }
    let mut checked = 0;
    let mut accepted = 0;
    let mut check = |b: &[u8]| {
        let ours = driver_decode(b);
        assert_eq!(ours, reference_decode(b), "{b:02x?}");
        checked += 1;
        accepted += usize::from(ours.is_some());
    };
    for seed in &seeds {
        check(seed);
        // Every prefix, and every byte of the first 40 (all headers, the
        // OID, emptyAuth, the INTEGER and the first OCTET STRING's header)
        // set to values that hit tags, length forms and BOOLEAN bytes.
        for n in 0..seed.len() {
            check(&seed[..n]);
        }
        let mut longer = seed.clone();
        longer.push(0);
        check(&longer);
        for i in 0..seed.len().min(40) {
            let s = seed[i];
            let near = [s | 0x80, s ^ 1, s.wrapping_add(1), s.wrapping_sub(1)];
            for v in VALUES.into_iter().chain(near) {
                let mut b = seed.clone();
                b[i] = v;
                check(&b);
            }
        }
    }
    // emptyAuth by hand: BOOLEAN bytes other than 0x01 and 0x00, a
    // primitive [0], a BOOLEAN of two bytes, an empty [0].
    let tail = [0x02, 0x01, 0x40, 0x04, 0x00, 0x04, 0x00];
    let oid = [0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05];
    for empty_auth in [
        &[][..],
        &[0xa0, 0x03, 0x01, 0x01, 0x00],
        &[0xa0, 0x03, 0x01, 0x01, 0x7f],
        &[0xa0, 0x03, 0x01, 0x01, 0xff],
        &[0x80, 0x03, 0x01, 0x01, 0x01],
        &[0xa0, 0x04, 0x01, 0x02, 0x01, 0x01],
        &[0xa0, 0x00],
        &[0xa0, 0x04, 0x01, 0x01, 0x01, 0x00],
    ] {
        let body = [&oid[..], empty_auth, &tail].concat();
        let blob = [&[0x30, body.len() as u8][..], &body].concat();
        check(&blob);
    }
    assert!(checked > 10_000, "{checked}");
    // The seeds, the 0x00/0x7f/0xff BOOLEANs, and mutations that keep a
    // blob valid (the parent's value, a public or private byte).
    assert!(accepted > 24 + 3, "{accepted}");
}
