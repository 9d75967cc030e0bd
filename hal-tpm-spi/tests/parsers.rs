//! Fuzz-style: random and truncated responses into every response parser,
//! random and truncated blobs into the TPMKey decoder and unseal, random
//! option text into the option parser. Nothing may panic or over-read;
//! every answer is `Ok` or an error.

use hal_tpm_spi::spec::SRK_HANDLE;
use hal_tpm_spi::{Auth, Error, PcrSelection, Tpm, Transport};
use trusted_core::test_util::ScriptRng;
use trusted_core::{Key, TrustSource};

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

/// Answers every command with `script(n)` for the n-th command.
struct Scripted<F: FnMut(usize, &[u8]) -> Vec<u8>> {
    n: usize,
    f: F,
}
impl<F: FnMut(usize, &[u8]) -> Vec<u8>> Transport for Scripted<F> {
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize, Error> {
        let r = (self.f)(self.n, cmd);
        self.n += 1;
        let dst = rsp.get_mut(..r.len()).ok_or(Error::ResponseTooLarge)?;
        dst.copy_from_slice(&r);
        Ok(r.len())
    }
}

/// The PCRs `exercise` reads and binds to.
const PCRS: &[u8] = &[0, 7, 16];

/// Runs every command and the source's seal/unseal against `tpm`, with
/// `sel` the selection of [`PCRS`].
fn exercise<T: Transport>(tpm: &mut Tpm<T>, sel: &PcrSelection) {
    let _ = tpm.startup();
    let _ = tpm.self_test(true);
    let _ = tpm.get_random(&mut [0u8; 40]);
    let _ = tpm.tpm_property(0x105);
    let _ = tpm.create_primary_ecc_srk(0x4000_0001, Auth::Password(&[]));
    let _ = tpm.evict_control(Auth::Password(&[]), 0x8000_0000, SRK_HANDLE);
    let _ = tpm.read_public(SRK_HANDLE, &mut [0u8; 512]);
    let _ = tpm.create_sealed(
        SRK_HANDLE,
        Auth::Password(&[0; 20]),
        b"pw",
        &[1; 128],
        0x000B,
        0x40,
        &[2; 32],
        &mut [0u8; 512],
    );
    let _ = tpm.load(
        SRK_HANDLE,
        Auth::Password(&[]),
        &[0, 2, 1, 1, 0, 8, 0, 8, 0, 11, 0, 0, 0, 0x40],
    );
    let _ = tpm.unseal(
        0x8000_0001,
        Auth::Policy {
            session: 0x0300_0000,
            password: b"x",
        },
        &mut [0u8; 129],
    );
    let _ = tpm.flush_context(0x8000_0001);
    let _ = tpm.pcr_read(sel, |_, _| {});
    let _ = tpm.pcr_digest(sel);
    let _ = tpm.pcr_extend(16, &[0; 32]);
    let _ = tpm.start_policy_session(true);
    let _ = tpm.policy_pcr(0x0300_0000, &[], sel);
    let _ = tpm.policy_get_digest(0x0300_0000);
    let _ = tpm.pcr_policy_digest(sel);
}

fn header(tag: u16, len: usize, rc: u32) -> Vec<u8> {
    let mut h = tag.to_be_bytes().to_vec();
    h.extend((len as u32).to_be_bytes());
    h.extend(rc.to_be_bytes());
    h
}

#[test]
fn random_responses_never_panic() {
    let sel = PcrSelection::sha256(PCRS).unwrap();
    let mut rng = XorShift(0x1234_5678_9abc_def0);
    for round in 0..400u32 {
        let mut tpm = Tpm::new(Scripted {
            n: 0,
            f: |_, _| {
                let len = (rng.next() % 200) as usize;
                let mut r: Vec<u8> = (0..len).map(|_| rng.byte()).collect();
                // Half the time, a plausible header so the parsers behind it run.
                if round.is_multiple_of(2) && len >= 10 {
                    let tag = if rng.next().is_multiple_of(2) {
                        0x8001u16
                    } else {
                        0x8002
                    };
                    r[..10].copy_from_slice(&header(tag, len, 0));
                }
                r
            },
        });
        exercise(&mut tpm, &sel);
    }
}

#[test]
fn truncated_valid_responses_never_panic() {
    let sel = PcrSelection::sha256(PCRS).unwrap();
    // Plausible success bodies for each parser, truncated at every length
    // and with every size field inflated.
    let bodies: Vec<(u16, Vec<u8>)> = vec![
        (0x8001, vec![0, 8, 1, 2, 3, 4, 5, 6, 7, 8]), // GetRandom
        (
            0x8001,
            vec![0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0, 1, 5, 0, 0, 0, 1],
        ), // GetCapability
        (
            0x8002,
            [vec![0x80, 0, 0, 0], vec![0, 0, 0, 4, 0, 0, 0, 0]].concat(),
        ), // handle + params
        (
            0x8002,
            [vec![0, 0, 0, 12], vec![0, 2, 9, 9, 0, 4, 0, 8, 0, 11, 0, 0]].concat(),
        ), // Create
        (
            0x8001,
            [vec![0, 4, 1, 2, 3, 4], vec![0, 2, 0, 11], vec![0, 0]].concat(),
        ), // ReadPublic
        (0x8002, [vec![0, 0, 0, 34, 0, 32], vec![7; 32]].concat()), // Unseal
        (
            0x8001,
            [
                vec![0, 0, 0, 1, 0, 0, 0, 1, 0, 11, 3, 0x81, 0, 1, 0, 0, 0, 3],
                [vec![0, 32], vec![5; 32]].concat().repeat(3),
            ]
            .concat(),
        ), // PCR_Read
        (
            0x8001,
            [vec![0x03, 0, 0, 0], vec![0, 16], vec![1; 16]].concat(),
        ), // StartAuthSession
        (0x8001, [vec![0, 32], vec![9; 32]].concat()), // PolicyGetDigest
    ];
    for (tag, body) in &bodies {
        for cut in 0..=body.len() {
            for inflate in [0u8, 1, 0x7F, 0xFF] {
                let mut b = body[..cut].to_vec();
                if let Some(x) = b.get_mut(1) {
                    *x = x.wrapping_add(inflate);
                }
                let resp = [header(*tag, 10 + b.len(), 0), b].concat();
                let mut tpm = Tpm::new(Scripted {
                    n: 0,
                    f: |_, _| resp.clone(),
                });
                exercise(&mut tpm, &sel);
            }
        }
    }
}

#[test]
fn header_lies_are_errors() {
    for resp in [
        vec![],
        vec![0x80],
        header(0x8001, 11, 0),
        header(0x1234, 10, 0),
        header(0x8001, 9, 0),
    ] {
        let mut tpm = Tpm::new(Scripted {
            n: 0,
            f: |_, _| resp.clone(),
        });
        assert!(tpm.flush_context(1).is_err(), "{resp:?}");
        assert!(tpm.buffers_zeroed());
    }
}

#[test]
fn random_and_truncated_blobs_never_panic() {
    let mut rng = XorShift(42);
    // A valid Linux blob layout with a fake public/private pair.
    let mut pp = vec![0, 4, 1, 2, 3, 4];
    pp.extend([0, 14, 0, 8, 0, 11, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0]);
    let mut der = [0u8; 512];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &pp, &mut der).unwrap();
    let good = der[..n].to_vec();
    assert!(hal_tpm_spi::blob::decode_der(&good).is_some());
    let mut cases: Vec<Vec<u8>> = (0..good.len()).map(|i| good[..i].to_vec()).collect();
    for _ in 0..500 {
        let mut b = good.clone();
        let i = (rng.next() as usize) % b.len();
        b[i] ^= rng.byte() | 1;
        cases.push(b);
        cases.push((0..(rng.next() % 300)).map(|_| rng.byte()).collect());
    }
    let ok = [header(0x8002, 10, 0)].concat();
    for c in &cases {
        let d = hal_tpm_spi::blob::decode(c);
        let _ = d.object_attributes();
        // Through the source too, with a TPM that says yes to everything.
        let mut src = hal_tpm_spi::TpmSource::new(
            Scripted {
                n: 0,
                f: |_, _| ok.clone(),
            },
            ScriptRng::counting(0),
        );
        let _ = src.unseal(c, "keyhandle=81000001");
        let _ = src.unseal(c, "");
    }
}

#[test]
fn random_option_text_never_panics() {
    let mut rng = XorShift(7);
    let words = [
        "keyhandle=",
        "keyauth=",
        "blobauth=",
        "hash=",
        "policydigest=",
        "policyhandle=",
        "migratable=",
        "pcrlock=",
        "pcrinfo=",
        "0x",
        "81000001",
        "sha1",
        " ",
        "\t",
        "=",
        "ff",
        "0",
    ];
    let ok = header(0x8001, 10, 0);
    for _ in 0..2000 {
        let s: String = (0..(rng.next() % 8))
            .map(|_| words[(rng.next() as usize) % words.len()])
            .collect();
        let mut src = hal_tpm_spi::TpmSource::new(
            Scripted {
                n: 0,
                f: |_, _| ok.clone(),
            },
            ScriptRng::counting(0),
        );
        let _ = src.seal(&Key::from_slice(&[0; 32]).unwrap(), &s);
    }
}

#[test]
fn linux_observed_blob_header_is_reproduced() {
    // linux-formats.md §5.1: Linux 6.1 `keyctl pipe` of `new 32
    // keyhandle=0x81000001`: 236 bytes, pub 48 + 2, priv 160 + 2... the
    // header bytes up to the pubkey OCTET STRING.
    let mut pp = vec![0u8, 158];
    pp.extend([0xAA; 158]);
    pp.extend([0, 46]);
    pp.extend([
        0x00, 0x08, 0x00, 0x0b, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0x20,
    ]);
    pp.extend([0xBB; 32]);
    let mut der = [0u8; 512];
    let n = hal_tpm_spi::blob::encode(0x8100_0001, true, &pp, &mut der).unwrap();
    assert_eq!(n, 236);
    assert_eq!(
        &der[..26],
        &[
            0x30, 0x81, 0xe9, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05, 0xa0, 0x03, 0x01,
            0x01, 0x01, 0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01, 0x04, 0x30, 0x00
        ]
    );
    assert_eq!(&der[73..77], &[0x04, 0x81, 0xa0, 0x00]);
    // DER's canonical TRUE (0xFF) is accepted too.
    der[15] = 0xFF;
    assert!(hal_tpm_spi::blob::decode_der(&der[..n]).unwrap().empty_auth);
}
