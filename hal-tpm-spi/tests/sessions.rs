//! Salted, encrypted, HMAC-checked sessions on the bus: what crosses it,
//! what a tampering interposer or a swapped TPM gets, and the error paths
//! (RNG failure, StartAuthSession refused, truncated session area), over
//! the TIS-over-SPI sim with swtpm or canned answers behind it.
#![cfg(feature = "sessions")]

mod common;

use std::cell::RefCell;

use common::{
    BusStreams, Counting, Dev, device, provisioned, spi, swtpm, temp_dir, tools_create, tools_load,
    tools_unseal_in_hmac_session, tpm2_tool,
};
use hal_tpm_spi::session::{NAME_SIZE, object_name};
use hal_tpm_spi::sim::{BackendError, Fault, SimCs, SimSpi, TpmBackend, TpmSim};
use hal_tpm_spi::spec::{SRK_HANDLE, cc};
use hal_tpm_spi::{PcrSelection, SpiTis, Tis, TpmSource};
use trusted_core::test_util::{BrokenRng, NoDelay, ScriptRng};
use trusted_core::{Error, Key, TrustSource};

const OPTS: &str = "keyhandle=0x81000001";
const BLOBAUTH: &[u8] = b"horse-battery-staple";

/// Bus events one seal + unseal with a fresh key takes, with room to spare.
const TRACE: usize = 1 << 15;

/// Seals a key drawn with `random`, then unseals it, on a traced bus;
/// returns the key and the bus.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn traced_round_trip(insecure: bool) -> (Key, BusStreams) {
    let p = swtpm().unwrap();
    let dev: Box<Dev<TRACE>> = Box::new(device(&p).unwrap());
    provisioned(&*dev).unwrap();
    let mut src = TpmSource::new(spi(&*dev), ScriptRng::counting(0));
    if insecure {
        src = src.allow_insecure();
    }
    src.init().unwrap();
    dev.borrow_mut().reset_stats();
    let mut key = Key::zeroed(32).unwrap();
    src.random(key.as_mut_bytes()).unwrap();
    let opts = format!("{OPTS} blobauth={}", std::str::from_utf8(BLOBAUTH).unwrap());
    let blob = src.seal(&key, &opts).unwrap();
    let back = src
        .unseal(
            blob.as_bytes(),
            &format!("blobauth={}", std::str::from_utf8(BLOBAUTH).unwrap()),
        )
        .unwrap();
    assert_eq!(back, key);
    let sim = dev.borrow();
    assert!(!sim.trace_overflowed(), "trace too small");
    (key, BusStreams::from_trace(sim.trace()))
}

#[test]
fn key_and_blobauth_never_cross_the_bus_with_sessions() {
    let (key, bus) = traced_round_trip(false);
    assert!(bus.commands.len() > 500 && bus.responses.len() > 500);
    assert_eq!(bus.leaks(key.as_bytes()), vec![], "key on the bus");
    assert_eq!(bus.leaks(BLOBAUTH), vec![], "blobauth on the bus");
}

/// The control: the same check finds both when the source runs password
/// sessions, so the test above can fail.
#[test]
fn key_and_blobauth_cross_the_bus_without_sessions() {
    let (key, bus) = traced_round_trip(true);
    let whole = bus.find(key.as_bytes());
    assert!(
        whole.contains(&"FIFO commands") && whole.contains(&"FIFO responses"),
        "Create sends it, GetRandom and Unseal return it: {whole:?}"
    );
    assert!(bus.find(BLOBAUTH).contains(&"FIFO commands"));
    assert!(!bus.leaks(key.as_bytes()).is_empty());
}

/// Unseal response: header 10, parameterSize 4, outData 2 + 32, nonceTPM
/// 2 + 32, attributes 1, hmac 2 + 32.
const UNSEAL_RSP_LEN: u16 = 117;

#[test]
fn flipped_unseal_response_byte_is_rejected_as_tampering() {
    let p = swtpm().unwrap();
    let dev: Dev = device(&p).unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[0x3c; 32]).unwrap();
    let blob = src.seal(&key, OPTS).unwrap();
    // outData size and bytes, nonceTPM, attributes, hmac, its last byte.
    for offset in [15, 20, 45, 60, 82, 90, UNSEAL_RSP_LEN - 1] {
        dev.borrow_mut().inject(Fault::CorruptResponse {
            command_code: cc::UNSEAL,
            offset,
            xor: 0x01,
        });
        let got = src.unseal(blob.as_bytes(), "");
        assert_eq!(
            got,
            Err(Error::Malformed("response HMAC: bus or TPM tampered")),
            "offset {offset}"
        );
        assert!(src.driver_mut().buffers_zeroed(), "offset {offset}");
        assert!(dev.borrow().fifos_zeroed(), "offset {offset}");
        // One-shot: the next unseal goes through (no session or object
        // left behind on the TPM either).
        assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
    }
    // Tampering is not a wrong password.
    assert_ne!(
        trusted_core::Error::from(hal_tpm_spi::Error::ResponseHmac),
        Error::AuthFailed
    );
}

#[test]
fn flipped_create_and_random_responses_are_rejected() {
    let (_p, dev) = common::swtpm_sim().unwrap();
    let mut src = provisioned(&dev).unwrap();
    let key = Key::from_slice(&[0x3c; 32]).unwrap();
    let tampered = Err(Error::Malformed("response HMAC: bus or TPM tampered"));
    dev.borrow_mut().inject(Fault::CorruptResponse {
        command_code: cc::CREATE,
        offset: 40,
        xor: 0x80,
    });
    assert_eq!(src.seal(&key, OPTS).map(|_| ()), tampered);
    dev.borrow_mut().inject(Fault::CorruptResponse {
        command_code: cc::GET_RANDOM,
        offset: 20,
        xor: 0x04,
    });
    let mut out = [0xAAu8; 32];
    assert_eq!(src.random(&mut out), tampered);
    assert_eq!(out, [0; 32], "half-result zeroed");
    assert!(src.driver_mut().buffers_zeroed());
    src.seal(&key, OPTS).unwrap();
}

/// Records the command codes the TPM behind the sim executed.
struct Recorder<B> {
    inner: B,
    codes: Vec<u32>,
}

impl<B: TpmBackend> TpmBackend for Recorder<B> {
    fn execute(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, BackendError> {
        if let Some(&[a, b, c, d]) = command.get(6..10) {
            self.codes.push(u32::from_be_bytes([a, b, c, d]));
        }
        self.inner.execute(command, response)
    }
}

#[test]
fn swapped_srk_is_refused_before_any_session() {
    // The name from provisioning on the first TPM ...
    let first = swtpm().unwrap();
    let pinned = {
        let dev: Dev = device(&first).unwrap();
        let mut src = provisioned(&dev).unwrap();
        src.srk_name(SRK_HANDLE).unwrap()
    };
    assert_eq!(&pinned[..2], &[0x00, 0x0B]);
    // ... a blob sealed there, with the name pinned ...
    let blob = {
        let dev: Dev = device(&first).unwrap();
        let mut src = TpmSource::new(spi(&dev), ScriptRng::counting(0)).with_srk_name(pinned);
        src.init().unwrap();
        assert!(src.srk_pinned());
        src.seal(&Key::from_slice(&[1; 32]).unwrap(), OPTS).unwrap()
    };
    // ... and a second TPM (another seed: another SRK) put in its place.
    let second = swtpm().unwrap();
    {
        let dev: Dev = device(&second).unwrap();
        provisioned(&dev).unwrap();
    }
    let sim: RefCell<TpmSim<_>> = RefCell::new(TpmSim::new(Recorder {
        inner: second.connect().unwrap(),
        codes: vec![],
    }));
    let tis = Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay);
    let mut src = TpmSource::new(tis, ScriptRng::counting(0)).with_srk_name(pinned);
    src.init().unwrap();
    let refused = Err(Error::InsecureState(
        "SRK name differs from the pinned one: TPM replaced or interposer",
    ));
    assert_eq!(src.unseal(blob.as_bytes(), "").map(|_| ()), refused);
    assert_eq!(
        src.seal(&Key::from_slice(&[2; 32]).unwrap(), OPTS)
            .map(|_| ()),
        refused
    );
    assert_eq!(src.random(&mut [0u8; 32]), refused);
    let codes = sim.borrow_mut().backend_mut().codes.clone();
    assert!(
        codes
            .iter()
            .all(|&c| c == cc::STARTUP || c == cc::READ_PUBLIC),
        "only Startup and ReadPublic were sent: {codes:x?}"
    );
    assert!(codes.contains(&cc::READ_PUBLIC));
}

#[test]
fn pinned_srk_name_opens_the_way() {
    let (_p, dev) = common::swtpm_sim().unwrap();
    let name = provisioned(&dev).unwrap().srk_name(SRK_HANDLE).unwrap();
    let mut src = TpmSource::new(spi(&dev), ScriptRng::counting(9)).with_srk_name(name);
    src.init().unwrap();
    let key = Key::from_slice(&[0x21; 48]).unwrap();
    let blob = src.seal(&key, OPTS).unwrap();
    assert_eq!(src.unseal(blob.as_bytes(), "").unwrap(), key);
    // A different pinned name on the same TPM is refused.
    let mut other = name;
    other[NAME_SIZE - 1] ^= 1;
    let mut src = TpmSource::new(spi(&dev), ScriptRng::counting(9)).with_srk_name(other);
    src.init().unwrap();
    assert!(matches!(
        src.unseal(blob.as_bytes(), ""),
        Err(Error::InsecureState(_))
    ));
}

// ---- canned answers: the error paths that need no TPM ----

/// A response: tag, size, rc, then `body`.
fn response(tag: u16, rc: u32, body: &[u8]) -> Vec<u8> {
    let mut r = tag.to_be_bytes().to_vec();
    r.extend((10 + body.len() as u32).to_be_bytes());
    r.extend(rc.to_be_bytes());
    r.extend(body);
    r
}

fn tpm2b(b: &[u8]) -> Vec<u8> {
    [(b.len() as u16).to_be_bytes().to_vec(), b.to_vec()].concat()
}

/// The TPMT_PUBLIC of an ECC P-256 storage key whose point is the curve's
/// generator (a valid point; nobody holds its "private key" here).
fn ecc_public() -> Vec<u8> {
    let gx = trusted_core::test_util::unhex(
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    );
    let gy = trusted_core::test_util::unhex(
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    );
    let mut p = vec![0x00, 0x23, 0x00, 0x0B, 0x00, 0x03, 0x00, 0x72, 0x00, 0x00];
    p.extend([0x00, 0x06, 0x00, 0x80, 0x00, 0x43]); // AES-128-CFB
    p.extend([0x00, 0x10, 0x00, 0x03, 0x00, 0x10]); // scheme NULL, P-256, kdf NULL
    p.extend(tpm2b(&gx));
    p.extend(tpm2b(&gy));
    p
}

/// TPM2_ReadPublic's answer for [`ecc_public`], reporting `name`.
fn read_public(name: &[u8]) -> Vec<u8> {
    let public = ecc_public();
    response(
        0x8001,
        0,
        &[tpm2b(&public), tpm2b(name), tpm2b(name)].concat(),
    )
}

fn honest_read_public() -> Vec<u8> {
    read_public(&object_name(&ecc_public()))
}

/// TPM2_StartAuthSession's answer: handle 0x02000000, a 32-byte nonceTPM.
fn session_started() -> Vec<u8> {
    response(
        0x8001,
        0,
        &[vec![0x02, 0, 0, 0], tpm2b(&[0x5A; 32])].concat(),
    )
}

const STARTUP_OK: &[u8] = &[0x80, 0x01, 0, 0, 0, 10, 0, 0, 0, 0];

/// Runs `op` on a source whose TPM answers `answers` in order (then
/// TPM_RC_FAILURE), with `rng`; returns its result, the command codes the
/// TPM saw and whether the driver's buffers ended up zeroed.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn canned<R: rand_core::TryCryptoRng, T>(
    answers: &[Vec<u8>],
    rng: R,
    pin: Option<[u8; NAME_SIZE]>,
    op: impl FnOnce(&mut TpmSource<Counting<common::CannedStack<'_>>, R>) -> T,
) -> (T, Vec<u32>, bool) {
    let all: Vec<&[u8]> = std::iter::once(STARTUP_OK)
        .chain(answers.iter().map(Vec::as_slice))
        .collect();
    let sim = RefCell::new(TpmSim::new(hal_tpm_spi::sim::CannedBackend::new(&all)));
    let tis = Tis::new(SpiTis::new(SimSpi(&sim), SimCs(&sim)), NoDelay);
    let mut src = TpmSource::new(Counting::new(tis), rng);
    if let Some(name) = pin {
        src = src.with_srk_name(name);
    }
    src.init().unwrap();
    let out = op(&mut src);
    let codes = src.driver_mut().transport_mut().codes.clone();
    let zeroed = src.driver_mut().buffers_zeroed();
    (out, codes, zeroed)
}

#[test]
fn srk_whose_reported_name_is_not_its_public_area_is_refused() {
    // An impostor that reports the pinned name but shows another key.
    let mut lie = object_name(&ecc_public());
    lie[5] ^= 0xFF;
    // Unpinned, or pinned to the name it reports: refused all the same.
    for pin in [None, Some(lie)] {
        let (got, codes, zeroed) =
            canned(&[read_public(&lie)], ScriptRng::counting(0), pin, |src| {
                src.seal(&Key::from_slice(&[1; 32]).unwrap(), OPTS)
                    .map(|_| ())
            });
        assert!(matches!(got, Err(Error::InsecureState(_))), "{got:?}");
        assert_eq!(codes, [cc::STARTUP, cc::READ_PUBLIC]);
        assert!(zeroed);
    }
    // The honest key under the same pin is refused too; unpinned it is
    // trusted on first use (and the session then fails at the canned end).
    let (got, _, _) = canned(
        &[honest_read_public()],
        ScriptRng::counting(0),
        Some(lie),
        |src| src.srk_name(SRK_HANDLE),
    );
    assert_eq!(
        got,
        Err(Error::InsecureState(
            "SRK name differs from the pinned one: TPM replaced or interposer"
        ))
    );
    let (got, _, _) = canned(
        &[honest_read_public()],
        ScriptRng::counting(0),
        None,
        |src| src.srk_name(SRK_HANDLE),
    );
    assert_eq!(got.unwrap(), object_name(&ecc_public()));
}

#[test]
fn rng_failure_while_starting_a_session_sends_nothing_more() {
    // A well-formed blob: private 4 bytes, a 14-byte keyed-hash public.
    let mut pp = vec![
        0, 4, 1, 2, 3, 4, 0, 14, 0, 8, 0, 11, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0,
    ];
    let mut der = [0u8; 128];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &pp, &mut der).unwrap();
    pp.clear();
    let (got, codes, zeroed) = canned(&[honest_read_public()], BrokenRng, None, |src| {
        src.unseal(&der[..n], "").map(|_| ())
    });
    assert_eq!(got, Err(Error::Rng));
    assert_eq!(codes, [cc::STARTUP, cc::READ_PUBLIC]);
    assert!(zeroed);
    let mut out = [7u8; 16];
    let (got, codes, _) = canned(&[honest_read_public()], BrokenRng, None, |src| {
        src.random(&mut out)
    });
    assert_eq!(got, Err(Error::Rng));
    assert_eq!(out, [0; 16]);
    assert_eq!(codes, [cc::STARTUP, cc::READ_PUBLIC]);
}

#[test]
fn start_auth_session_refused_is_reported_and_ends_the_operation() {
    // TPM_RC_SESSION_MEMORY: out of session slots.
    let refused = response(0x8001, 0x903, &[]);
    let (got, codes, zeroed) = canned(
        &[honest_read_public(), refused],
        ScriptRng::counting(0),
        None,
        |src| {
            src.seal(&Key::from_slice(&[1; 32]).unwrap(), OPTS)
                .map(|_| ())
        },
    );
    assert_eq!(got, Err(Error::Tpm(0x903)));
    assert_eq!(
        codes,
        [cc::STARTUP, cc::READ_PUBLIC, cc::START_AUTH_SESSION]
    );
    assert!(zeroed);
}

/// A TPM2_Create answer whose session area ends early, or is missing.
#[test]
fn truncated_or_missing_response_session_area_is_rejected() {
    let params = [tpm2b(&[1; 20]), tpm2b(&[2; 20])].concat();
    let with_params = |auth: &[u8], tag: u16| {
        let mut body = (params.len() as u32).to_be_bytes().to_vec();
        body.extend(&params);
        body.extend(auth);
        response(tag, 0, &body)
    };
    let full_auth = [tpm2b(&[3; 32]), vec![0x00], tpm2b(&[4; 32])].concat();
    let flushed = response(0x8001, 0, &[]);
    for (answer, want) in [
        // Cut inside the hmac.
        (
            with_params(&full_auth[..full_auth.len() - 5], 0x8002),
            Error::Malformed("response session area"),
        ),
        // Cut after the nonce.
        (
            with_params(&full_auth[..34], 0x8002),
            Error::Malformed("response session area"),
        ),
        // No session area at all, tag says so: unauthenticated.
        (
            with_params(&[], 0x8001),
            Error::Malformed("response HMAC: bus or TPM tampered"),
        ),
        // Complete but not the TPM's HMAC.
        (
            with_params(&full_auth, 0x8002),
            Error::Malformed("response HMAC: bus or TPM tampered"),
        ),
    ] {
        let (got, codes, zeroed) = canned(
            &[
                honest_read_public(),
                session_started(),
                answer,
                flushed.clone(),
            ],
            ScriptRng::counting(0),
            None,
            |src| {
                src.seal(&Key::from_slice(&[1; 32]).unwrap(), OPTS)
                    .map(|_| ())
            },
        );
        assert_eq!(got, Err(want));
        assert_eq!(
            codes,
            [
                cc::STARTUP,
                cc::READ_PUBLIC,
                cc::START_AUTH_SESSION,
                cc::CREATE
            ]
        );
        assert!(zeroed);
    }
}

// ---- interop with sessions on ----

/// Our PCR-policy blob opens with tpm2_unseal's own policy session, and an
/// object tpm2-tools seals with a PolicyPCR policy opens here through the
/// salted policy session.
#[test]
fn pcr_policy_blobs_interoperate_with_tpm2_tools() {
    let p = swtpm().unwrap();
    let dir = temp_dir("pcr-interop").unwrap();
    let tcti = p.tcti();
    let sel = PcrSelection::sha256(&[16]).unwrap();
    let key = Key::from_slice(&[0x61; 32]).unwrap();
    let blob = {
        let dev: Dev = device(&p).unwrap();
        let mut src = provisioned(&dev).unwrap();
        src.seal_with_pcrs(&key, OPTS, &sel).unwrap()
    };
    let tool = |args: &[&str]| tpm2_tool(&tcti, &dir, args).unwrap();
    tools_load(&tcti, &dir, blob.as_bytes(), "ours", &[]).unwrap();
    let out = tool(&["tpm2_unseal", "-c", "ours.ctx", "-p", "pcr:sha256:16"]);
    tool(&["tpm2_flushcontext", "-t"]);
    assert_eq!(out, key.as_bytes());

    // tpm2-tools' PolicyPCR object, unsealed here.
    let secret: Vec<u8> = (100..148u8).collect();
    tool(&[
        "tpm2_createpolicy",
        "-Q",
        "--policy-pcr",
        "-l",
        "sha256:16",
        "-L",
        "pcr.policy",
    ]);
    let policy = ["-L", "pcr.policy", "-a", "fixedtpm|fixedparent"];
    let (private, public) = tools_create(&tcti, &dir, &secret, &policy).unwrap();
    let priv_pub = [private, public].concat();
    let mut der = [0u8; 512];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &priv_pub, &mut der).unwrap();
    let dev: Dev = device(&p).unwrap();
    let mut src = common::source(&dev).unwrap();
    assert!(src.sessions_enabled());
    assert_eq!(
        src.unseal_with_pcrs(&der[..n], "", &sel)
            .unwrap()
            .as_bytes(),
        &secret[..]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A blob in the exact byte layout Linux 6.1 writes (research
/// linux-formats.md §5.1: emptyAuth TRUE as 0x01, parent INTEGER with a
/// leading zero), built here by hand around a `tpm2_create -i` object, not
/// by this crate's encoder, unseals with sessions on; and tpm2-tools opens
/// our blob with a salted HMAC session of its own
/// (`tpm2_startauthsession --hmac-session -c 0x81000001`).
#[test]
fn linux_layout_blob_and_tpm2_tools_hmac_session_interoperate() {
    let p = swtpm().unwrap();
    let dir = temp_dir("linux-layout").unwrap();
    let tcti = p.tcti();
    {
        let dev: Dev = device(&p).unwrap();
        provisioned(&dev).unwrap();
    }
    let tool = |args: &[&str]| tpm2_tool(&tcti, &dir, args).unwrap();
    let secret = [0x6Bu8; 32];
    let (private, public) = tools_create(&tcti, &dir, &secret, &[]).unwrap();
    let der_len = |n: usize| -> Vec<u8> {
        match n {
            0..=127 => vec![n as u8],
            128..=255 => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        }
    };
    let mut body = vec![0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x05];
    body.extend([0xa0, 0x03, 0x01, 0x01, 0x01]);
    body.extend([0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01]);
    body.push(0x04);
    body.extend(der_len(public.len()));
    body.extend(&public);
    body.push(0x04);
    body.extend(der_len(private.len()));
    body.extend(&private);
    let mut linux = vec![0x30];
    linux.extend(der_len(body.len()));
    linux.extend(body);
    let (key, blob) = {
        let dev: Dev = device(&p).unwrap();
        let mut src = common::source(&dev).unwrap();
        let key = src.unseal(&linux, "").unwrap();
        assert_eq!(key.as_bytes(), &secret);
        // Our encoder writes the same bytes.
        let mut der = [0u8; 512];
        let n = hal_tpm_spi::blob::encode(
            SRK_HANDLE,
            true,
            &[private.clone(), public.clone()].concat(),
            &mut der,
        )
        .unwrap();
        assert_eq!(&der[..n], &linux[..]);
        let key = Key::from_slice(&[0x2e; 40]).unwrap();
        let blob = src.seal(&key, OPTS).unwrap();
        (key, blob)
    };
    let out = tools_unseal_in_hmac_session(&tcti, &dir, blob.as_bytes(), "ours").unwrap();
    tool(&["tpm2_flushcontext", "s.ctx"]);
    tool(&["tpm2_flushcontext", "-t"]);
    assert_eq!(out, key.as_bytes());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Answers by command: an honest storage key and session start, then
/// random or cut-down bytes for everything else.
struct Fuzzed {
    state: u64,
    valid: Vec<u8>,
}

impl Fuzzed {
    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }
}

impl hal_tpm_spi::Transport for Fuzzed {
    #[allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "the driver sends whole commands; a short one fails the test"
    )]
    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> hal_tpm_spi::Result<usize> {
        let code = u32::from_be_bytes(cmd[6..10].try_into().unwrap());
        let answer = match code {
            cc::READ_PUBLIC => honest_read_public(),
            cc::START_AUTH_SESSION => session_started(),
            _ => {
                let r = self.next();
                let cut = (r as usize >> 8) % (self.valid.len() + 1);
                let mut a = if r.is_multiple_of(3) {
                    // A plausible success with a session area, cut short.
                    self.valid[..cut].to_vec()
                } else {
                    (0..(r as usize >> 16) % 200)
                        .map(|_| self.next() as u8)
                        .collect()
                };
                if a.len() >= 10 {
                    let n = (a.len() as u32).to_be_bytes();
                    a[..2].copy_from_slice(&[0x80, 0x02]);
                    a[2..6].copy_from_slice(&n);
                    a[6..10].copy_from_slice(&[0; 4]);
                }
                a
            }
        };
        rsp.get_mut(..answer.len())
            .ok_or(hal_tpm_spi::Error::ResponseTooLarge)?
            .copy_from_slice(&answer);
        Ok(answer.len())
    }
}

#[test]
fn random_answers_inside_a_session_never_panic_or_pass() {
    // A well-formed Unseal-shaped success whose HMAC cannot be right.
    let params = tpm2b(&[9; 32]);
    let mut body = (params.len() as u32).to_be_bytes().to_vec();
    body.extend(&params);
    body.extend([tpm2b(&[3; 32]), vec![0x00], tpm2b(&[4; 32])].concat());
    let valid = response(0x8002, 0, &body);
    let mut der = [0u8; 128];
    let pp = [
        0, 4, 1, 2, 3, 4, 0, 14, 0, 8, 0, 11, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0,
    ];
    let n = hal_tpm_spi::blob::encode(SRK_HANDLE, true, &pp, &mut der).unwrap();
    let key = Key::from_slice(&[1; 32]).unwrap();
    let sel = PcrSelection::sha256(&[16]).unwrap();
    for round in 0..60u64 {
        let t = Fuzzed {
            state: 0x9E37_79B9_7F4A_7C15 ^ round,
            valid: valid.clone(),
        };
        let mut src = TpmSource::new(t, ScriptRng::counting(round as u8));
        assert!(src.seal(&key, OPTS).is_err());
        assert!(src.unseal(&der[..n], "").is_err());
        assert!(src.unseal_with_pcrs(&der[..n], "", &sel).is_err());
        let mut out = [0u8; 40];
        assert!(src.random(&mut out).is_err());
        assert_eq!(out, [0; 40]);
        assert!(src.driver_mut().buffers_zeroed());
    }
}
