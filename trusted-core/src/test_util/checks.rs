//! Checks every crate runs the same way: RNG fills, fault matrices, glitch
//! sweeps over register reads.

extern crate std;

use std::vec;

use std::vec::Vec;

/// `len` bytes of a model's word stream from word `first` on, as a
/// word-at-a-time RNG driver (RNGB FIFO, STM32 RNG DR) must hand them out:
/// each word little-endian, the rest of the last one dropped. `word(i)` is
/// stream word `i` (the sim's `model_word` for its seed).
pub fn stream_bytes(word: impl Fn(u64) -> u32, first: u64, len: usize) -> Vec<u8> {
    (first..)
        .flat_map(|i| word(i).to_le_bytes())
        .take(len)
        .collect()
}

/// Fills `len` bytes of 0xAA through `rand_core`; when that fails, checks
/// every byte came back zero.
pub fn fill_zeroed_on_error<R: rand_core::TryRng>(
    rng: &mut R,
    len: usize,
) -> Result<Vec<u8>, R::Error> {
    let mut out = vec![0xAA; len];
    let result = rng.try_fill_bytes(&mut out);
    if result.is_err() {
        assert_eq!(out, vec![0; len], "output zeroed on error");
    }
    result.map(|()| out)
}

/// Fills buffers of lengths that cut words every way (odd, empty, whole
/// words) one after the other through `fill`, each checked against the
/// stream `word` (see [`stream_bytes`]) from word 0 on. Returns the stream
/// words used: one per started 4 bytes.
pub fn check_odd_length_fills<E: core::fmt::Debug>(
    mut fill: impl FnMut(&mut [u8]) -> Result<(), E>,
    word: impl Fn(u64) -> u32,
) -> u64 {
    let mut used = 0u64;
    for len in [1usize, 3, 5, 7, 13, 31, 33, 0, 2, 64] {
        let mut out = vec![0u8; len];
        fill(&mut out).unwrap_or_else(|e| panic!("{len} bytes: {e:?}"));
        assert_eq!(out, stream_bytes(&word, used, len), "{len} bytes");
        used += len.div_ceil(4) as u64;
    }
    used
}

/// The operations a fault matrix crosses with a sim's fault hooks (each
/// crate's matrix uses those its drivers have).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultOp {
    /// Bring-up: reset, probe, self tests.
    Init,
    /// Draw random bytes.
    Random,
    /// Seal a key.
    Seal,
    /// Unseal a blob.
    Unseal,
    /// Derive or read the hardware unique key.
    Huk,
    /// Burn fuses.
    Provision,
}

/// What one cell of a fault matrix saw, for [`run_fault_matrix`].
#[derive(Debug)]
pub struct CellSeen<T> {
    /// The outcome, compared with the table's.
    pub got: T,
    /// Nanoseconds the operation waited (from a [`CountingDelay`](super::CountingDelay)).
    pub waited_ns: u64,
    /// Whether the caller's output buffer was all zero afterwards.
    pub out_zero: bool,
    /// Whether the DMA region was all zero afterwards; `None` where the
    /// driver has none.
    pub dma_zero: Option<bool>,
}

/// Runs every cell of a fault-matrix table of `(fault name, fault,
/// operation, expected outcome)`: `cell` runs the operation on a fresh
/// model with the fault armed and must not panic, must end in the expected
/// outcome, wait at most `bound_ns`, and leave the output buffer (and the
/// DMA region) zero. A failure names the cell. Returns the cells run.
pub fn run_fault_matrix<F: Copy, T: PartialEq + core::fmt::Debug>(
    table: &[(&str, F, FaultOp, T)],
    bound_ns: u64,
    cell: impl Fn(F, FaultOp) -> CellSeen<T>,
) -> usize {
    let mut cells = 0;
    for (name, fault, op, want) in table {
        let cell_name = std::format!("{name} x {op:?}");
        let run = std::panic::AssertUnwindSafe(|| cell(*fault, *op));
        let seen =
            std::panic::catch_unwind(run).unwrap_or_else(|_| panic!("{cell_name}: panicked"));
        assert_eq!(&seen.got, want, "{cell_name}");
        let waited = seen.waited_ns;
        assert!(waited <= bound_ns, "{cell_name}: waited {waited} ns");
        if let Some(dma) = seen.dma_zero {
            assert!(dma, "{cell_name}: DMA region not zero");
        }
        assert!(seen.out_zero, "{cell_name}: output buffer not zero");
        cells += 1;
    }
    cells
}

/// The operation of an RNG driver's fault-matrix cell: for
/// [`FaultOp::Random`] the driver is brought up with `init` first; then
/// `arm` arms the fault and the operation runs: `init` again for
/// [`FaultOp::Init`] (which has no output buffer), else `fill` into 32
/// bytes of 0xEE. Returns the outcome and whether the buffer was zero
/// afterwards (what a successful fill wrote is cleared first: only a
/// failed one must leave zeros).
pub fn rng_cell<R, E: core::fmt::Debug>(
    rng: &mut R,
    op: FaultOp,
    mut init: impl FnMut(&mut R) -> Result<(), E>,
    fill: impl FnOnce(&mut R, &mut [u8]) -> Result<(), E>,
    arm: impl FnOnce(&mut R),
) -> (Result<(), E>, bool) {
    if op == FaultOp::Random {
        init(rng).unwrap_or_else(|e| panic!("set-up: init failed: {e:?}"));
    }
    arm(rng);
    let mut out = [0xEEu8; 32];
    let r = match op {
        FaultOp::Init => {
            out.fill(0);
            init(rng)
        }
        _ => fill(rng, &mut out),
    };
    if r.is_ok() {
        out.fill(0);
    }
    (r, out.iter().all(|&b| b == 0))
}

/// A glitch sweep over register reads: runs `op` once on a rig from
/// `make` (it must refuse: `op` returns true when it granted what it must
/// refuse), counts the reads it made with `reads`, then for every bit of
/// every one of those reads builds a fresh rig, arms one flip with
/// `flip(rig, nth, bit)` and runs `op` again. Check the result with
/// [`assert_sweep_refused`].
pub fn sweep_reads<R>(
    make: impl Fn() -> R,
    reads: impl Fn(&mut R) -> u32,
    flip: impl Fn(&mut R, u32, u8),
    op: impl Fn(&mut R) -> bool,
) -> crate::fih::Sweep {
    let mut clean = make();
    let before = reads(&mut clean);
    assert!(!op(&mut clean), "the unglitched case must be refused");
    let count = reads(&mut clean) - before;
    crate::fih::Sweep::over_reads(count, |nth, bit| {
        let mut rig = make();
        flip(&mut rig, nth, bit);
        !op(&mut rig)
    })
}

/// Prints a glitch sweep's tally (`--nocapture` shows it) and asserts
/// every case was refused.
pub fn assert_sweep_refused(check: &str, sweep: crate::fih::Sweep) {
    std::println!("glitch sweep {check}: {sweep}");
    assert!(sweep.all_refused(), "{check}: {sweep:?}");
}

// Stack residue: what a secret operation leaves in dead frames
