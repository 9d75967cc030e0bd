//! Shared pieces of the fuzz targets: a cursor over the fuzz input, a
//! register wrapper that corrupts reads, scripted TPM answers, a reusable
//! DMA region and the vector files the seed corpora come from.
//!
//! Everything here is test harness (std, may panic on its own misuse); the
//! code under test is the library crates, driven as firmware drives them.

use std::cell::RefCell;

use hal_tpm_spi::{Error as TpmError, Tis, TisAccess, TpmSource, Transport};
use trusted_core::test_util::{NoDelay, ScriptRng};
use trusted_core::test_util::{Section, section, vectors};
use trusted_core::{DmaRegion, Mmio, NoCache, StaticDma};
use trusted_core::{Key, TrustSource};

/// A cursor over the fuzz input. Reads past the end give zeros (or empty
/// slices), so every input drives the target to the end.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Bytes not read yet.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 at the end).
    pub fn byte(&mut self) -> u8 {
        let (first, rest) = self
            .data
            .split_first()
            .map_or((0, &[][..]), |(b, r)| (*b, r));
        self.data = rest;
        first
    }

    /// The next `n` bytes, or what is left.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.data.split_at(n.min(self.data.len()));
        self.data = tail;
        head
    }

    /// The next big-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// The next big-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// A chunk with a 2-byte big-endian length in front (what is left if
    /// the length runs past the end).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// Splits `data` into pieces at the separator `b"\xff\xfe"` (the `--`
/// of libFuzzer's dictionaries; chosen so seeds stay readable): a target
/// that needs several independent byte strings (TPM answers, a blob and
/// its corruption plan) takes them in order.
pub fn pieces(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    core::iter::from_fn(move || {
        let r = rest?;
        match r.windows(2).position(|w| w == SEPARATOR) {
            Some(i) => {
                rest = r.get(i + 2..);
                r.get(..i)
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The separator of [`pieces`].
pub const SEPARATOR: [u8; 2] = [0xff, 0xfe];

/// Joins pieces with [`SEPARATOR`] (for seeds and regression tests).
pub fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend(SEPARATOR);
        }
        out.extend_from_slice(p);
    }
    out
}

/// A corruption plan for register reads: XOR `mask` into read number
/// `at` (counted from 0 over every read of the wrapped block).
///
/// Encoded in the fuzz input as 6-byte records `delta: u16, mask: u32`
/// (big endian): each corrupts the read `delta` after the previous one, so
/// a short plan reaches deep into an operation and most reads stay clean.
#[derive(Clone, Debug, Default)]
pub struct ReadPlan {
    flips: Vec<(u32, u32)>,
}

impl ReadPlan {
    /// The plan encoded in `bytes` (a trailing partial record is dropped).
    pub fn decode(bytes: &[u8]) -> Self {
        let mut at = 0u32;
        let flips = bytes
            .chunks_exact(6)
            .map(|r| {
                at = at.saturating_add(u32::from(u16::from_be_bytes([r[0], r[1]])));
                let mask = u32::from_be_bytes([r[2], r[3], r[4], r[5]]);
                (at, mask)
            })
            .collect();
        Self { flips }
    }

    /// The XOR mask for read number `n` (all planned masks for that read).
    fn mask(&self, n: u32) -> u32 {
        self.flips
            .iter()
            .filter(|(at, _)| *at == n)
            .fold(0, |m, (_, x)| m ^ x)
    }

    /// True when no read is corrupted.
    pub fn is_clean(&self) -> bool {
        self.flips.iter().all(|(_, m)| *m == 0)
    }
}

/// A register block whose reads come back XORed as a [`ReadPlan`] says:
/// a glitch, a bad bus or a hostile device, during whatever the driver
/// does. Writes pass through untouched.
pub struct XorMmio<M> {
    inner: M,
    plan: ReadPlan,
    reads: u32,
}

impl<M: Mmio> XorMmio<M> {
    /// `inner` with reads corrupted by `plan`.
    pub fn new(inner: M, plan: ReadPlan) -> Self {
        Self {
            inner,
            plan,
            reads: 0,
        }
    }

    /// The wrapped block.
    pub fn inner_mut(&mut self) -> &mut M {
        &mut self.inner
    }

    /// Reads so far.
    pub fn reads(&self) -> u32 {
        self.reads
    }
}

impl<M: Mmio> Mmio for XorMmio<M> {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = self.inner.read32(offset) ^ self.plan.mask(self.reads);
        self.reads = self.reads.saturating_add(1);
        value
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.inner.write32(offset, value)
    }
}

/// Byte reads (the memory-mapped TIS's ACCESS, STS and FIFO accesses)
/// count as reads of the same plan and take the mask's low byte.
impl<M: hal_tpm_spi::ByteMmio> hal_tpm_spi::ByteMmio for XorMmio<M> {
    fn read8(&mut self, offset: usize) -> u8 {
        let value = self.inner.read8(offset) ^ self.plan.mask(self.reads) as u8;
        self.reads = self.reads.saturating_add(1);
        value
    }

    fn write8(&mut self, offset: usize, value: u8) {
        self.inner.write8(offset, value)
    }
}

/// Short TIS waits (200 µs, polled every 20 µs) for the TPM targets, so
/// a device that never answers fails its wait quickly.
pub const FAST_TIMEOUTS: hal_tpm_spi::Timeouts = hal_tpm_spi::Timeouts {
    a_us: 200,
    b_us: 200,
    c_us: 200,
    d_us: 200,
    durations_us: [200; 5],
    max_poll_step_us: 20,
};

/// A register block that is nothing but the fuzz input: every read takes
/// the next four bytes (zeros at the end), writes are dropped.
pub struct InputMmio<'a> {
    input: Input<'a>,
}

impl<'a> InputMmio<'a> {
    /// Reads from `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            input: Input::new(data),
        }
    }
}

impl Mmio for InputMmio<'_> {
    fn read32(&mut self, _offset: usize) -> u32 {
        self.input.u32()
    }
    fn write32(&mut self, _offset: usize, _value: u32) {}
}

/// A TPM [`Transport`] that answers the n-th command with the n-th answer,
/// then with a transport error. With `fix_headers`, each answer gets a
/// plausible 10-byte header in front (tag from its first byte, the right
/// size, response code 0), so the parsers behind the header checks run.
pub struct ScriptedTpm<'a> {
    answers: Vec<&'a [u8]>,
    next: usize,
    fix_headers: bool,
}

impl<'a> ScriptedTpm<'a> {
    /// Answers in order.
    pub fn new(answers: Vec<&'a [u8]>, fix_headers: bool) -> Self {
        Self {
            answers,
            next: 0,
            fix_headers,
        }
    }

    /// Commands answered so far.
    pub fn answered(&self) -> usize {
        self.next
    }
}

/// A response frame: `tag`, size, response code, `body`.
pub fn tpm_response(tag: u16, rc: u32, body: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(10 + body.len());
    r.extend(tag.to_be_bytes());
    r.extend(((10 + body.len()) as u32).to_be_bytes());
    r.extend(rc.to_be_bytes());
    r.extend_from_slice(body);
    r
}

impl Transport for ScriptedTpm<'_> {
    fn transact(&mut self, _cmd: &[u8], rsp: &mut [u8]) -> Result<usize, TpmError> {
        let answer = *self.answers.get(self.next).ok_or(TpmError::NoDevice)?;
        self.next += 1;
        let framed;
        let bytes = if self.fix_headers {
            // First byte: 0 = no sessions (0x8001), else sessions (0x8002).
            let (tag, body) = match answer.split_first() {
                Some((0, body)) => (0x8001, body),
                Some((_, body)) => (0x8002, body),
                None => (0x8001, answer),
            };
            framed = tpm_response(tag, 0, body);
            &framed[..]
        } else {
            answer
        };
        let dst = rsp
            .get_mut(..bytes.len())
            .ok_or(TpmError::ResponseTooLarge)?;
        dst.copy_from_slice(bytes);
        Ok(bytes.len())
    }
}

thread_local! {
    static DMA: RefCell<Vec<(usize, u64, usize)>> = const { RefCell::new(Vec::new()) };
}

/// A zeroed DMA region of `len` bytes at bus address `bus`, over memory
/// leaked once per `(len, bus)` and reused by every run (a leak per run
/// would grow without bound over millions of runs).
///
/// One run must not hold two regions of the same `(len, bus)` at once.
pub fn dma(len: usize, bus: u64) -> StaticDma {
    let ptr = DMA.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache.iter().find(|(l, b, _)| *l == len && *b == bus) {
            Some(&(_, _, p)) => p as *mut u8,
            None => {
                let p = Box::leak(vec![0u8; len].into_boxed_slice()).as_mut_ptr();
                cache.push((len, bus, p as usize));
                p
            }
        }
    });
    // SAFETY: `ptr` is a leaked allocation of `len` bytes that is never
    // freed. The previous `StaticDma` over it (and the sim's `DmaBus`
    // copies) belonged to the previous run, which has returned: fuzz runs
    // are sequential and each builds its drivers afresh, so this is the
    // only live access path to the buffer.
    let buffer: &'static mut [u8] = unsafe { core::slice::from_raw_parts_mut(ptr, len) };
    buffer.fill(0);
    StaticDma::new(buffer, bus, NoCache)
}

/// The STM32MP15 HUK configuration bits 0 (derivation: UID) and 1
/// (locks required) of `flags` choose.
pub fn huk_config(flags: u8) -> hal_stm32mp1_otp::HukConfig {
    use hal_stm32mp1_otp::HukMode;
    hal_stm32mp1_otp::HukConfig {
        mode: if flags & 1 != 0 {
            HukMode::DeriveUid
        } else {
            HukMode::BsecKey
        },
        require_locked: flags & 2 != 0,
        ..Default::default()
    }
}

/// True when every byte of `region` is zero (what drivers promise after
/// every operation, successful or not).
pub fn dma_is_zero(region: &impl DmaRegion) -> bool {
    let mut all = vec![0xaau8; region.len()];
    region.read(0, &mut all).is_ok() && all.iter().all(|&b| b == 0)
}

/// Section `name` of a vector file committed beside a crate's tests
/// (`file` relative to the repository root), parsed once.
pub fn vector(file: VectorFile, name: &str) -> &'static Section {
    let all = file.sections();
    section(all, name)
}

/// The vector files the targets and their seeds draw on.
#[derive(Clone, Copy, Debug)]
pub enum VectorFile {
    /// trusted-core/tests/vectors/vectors.txt (TEE blobs, KDF).
    Core,
    /// hal-dcp/tests/vectors/dcp_vectors.txt (DCP blobs and devices).
    Dcp,
    /// hal-caam/tests/vectors/sim_blob_kat.txt (CAAM sim blobs).
    Caam,
    /// trusted-core/tests/vectors/store_vectors.txt (store slot images).
    Store,
}

impl VectorFile {
    /// All sections of the file.
    pub fn sections(self) -> &'static [Section] {
        use std::sync::OnceLock;
        static CORE: OnceLock<Vec<Section>> = OnceLock::new();
        static DCP: OnceLock<Vec<Section>> = OnceLock::new();
        static CAAM: OnceLock<Vec<Section>> = OnceLock::new();
        static STORE: OnceLock<Vec<Section>> = OnceLock::new();
        match self {
            VectorFile::Core => CORE.get_or_init(|| {
                vectors(include_str!("../../trusted-core/tests/vectors/vectors.txt"))
            }),
            VectorFile::Dcp => DCP.get_or_init(|| {
                vectors(include_str!("../../hal-dcp/tests/vectors/dcp_vectors.txt"))
            }),
            VectorFile::Caam => CAAM.get_or_init(|| {
                vectors(include_str!(
                    "../../hal-caam/tests/vectors/sim_blob_kat.txt"
                ))
            }),
            VectorFile::Store => STORE.get_or_init(|| {
                vectors(include_str!(
                    "../../trusted-core/tests/vectors/store_vectors.txt"
                ))
            }),
        }
    }
}

/// Drives a `TpmSource` over `tis` as firmware would, one operation per
/// byte of `ops` (at most 8): TIS init, locality request and release,
/// abort, source init, random (which must leave its buffer zero when it
/// fails), seal, and a raw GetRandom. `after_op` runs after each with the
/// operation's number, for a target's own invariant.
pub fn drive_tpm_source<A: TisAccess>(
    tis: Tis<A, NoDelay>,
    ops: &[u8],
    mut after_op: impl FnMut(u8),
) {
    let mut src = TpmSource::new(tis, ScriptRng::counting(3)).allow_insecure();
    let key = Key::from_slice(&[0x42; 32]).expect("32 bytes");
    for &op in ops.iter().take(8) {
        let tis = src.driver_mut().transport_mut();
        match op % 8 {
            0 => drop(tis.init()),
            1 => drop(tis.request_locality()),
            2 => drop(tis.release_locality()),
            3 => drop(tis.abort()),
            4 => drop(src.init()),
            5 => {
                let mut out = [0u8; 48];
                if src.random(&mut out).is_err() {
                    assert_eq!(out, [0; 48], "failed random left bytes behind");
                }
            }
            6 => drop(src.seal(&key, "keyhandle=0x81000001")),
            _ => {
                let mut rsp = [0u8; 256];
                let cmd = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0];
                let _ = tis.transmit(&cmd, &mut rsp);
            }
        }
        after_op(op % 8);
    }
}
