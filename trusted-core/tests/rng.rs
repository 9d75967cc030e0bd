//! What the hardware RNG drivers share (`trusted_core::rng`) and the test
//! helpers their tests share (`test_util`): each helper must fail when what
//! it checks is not so.

use core::convert::Infallible;

use rand_core::TryRng;
use trusted_core::fih::{ReadFlip, ReadGlitch, Sweep};
use trusted_core::rng::fill_or_wipe;
use trusted_core::test_util::{
    CellSeen, FaultOp, RngFault, check_odd_length_fills, fill_zeroed_on_error, rng_cell,
    run_fault_matrix, stream_bytes, sweep_reads,
};

/// A word generator like a FIFO: word `i` is `i * 0x0101_0101 + 1`, drawn
/// a word per started 4 bytes, failing once `fail_at` words were drawn
/// (the bytes drawn before the failure stay in the buffer, as in a driver
/// without the wipe).
struct Words<W> {
    next: u64,
    fail_at: Option<u64>,
    _width: core::marker::PhantomData<W>,
}

fn word(i: u64) -> u32 {
    (i as u32).wrapping_mul(0x0101_0101).wrapping_add(1)
}

impl<W> Words<W> {
    fn new(fail_at: Option<u64>) -> Self {
        Self {
            next: 0,
            fail_at,
            _width: core::marker::PhantomData,
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "chunks_mut(4) gives at most 4 bytes"
    )]
    fn fill_words(&mut self, out: &mut [u8]) -> Result<(), RngFault> {
        for chunk in out.chunks_mut(4) {
            if self.fail_at == Some(self.next) {
                return Err(RngFault);
            }
            let bytes = word(self.next).to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
            self.next += 1;
        }
        Ok(())
    }

    fn fill(&mut self, out: &mut [u8]) -> Result<(), RngFault> {
        fill_or_wipe(out, |out| self.fill_words(out))
    }
}

// Generic, as the drivers are over their register access and delay.
trusted_core::impl_try_rng_via_fill! {
    impl<W: Copy> TryRng for Words<W> {
        type Error = RngFault;
    }
}

#[test]
fn fill_or_wipe_zeroes_what_a_failed_fill_wrote() {
    let mut rng = Words::<u8>::new(Some(2));
    let mut out = [0xAAu8; 16];
    assert_eq!(rng.fill_words(&mut out), Err(RngFault));
    assert_ne!(out[..8], [0; 8], "the unwiped fill left two words");
    let mut rng = Words::<u8>::new(Some(2));
    let mut out = [0xAAu8; 16];
    assert_eq!(rng.fill(&mut out), Err(RngFault));
    assert_eq!(out, [0; 16]);
}

#[test]
fn try_rng_via_fill_draws_words_little_endian_through_fill() {
    let mut rng = Words::<u8>::new(None);
    assert_eq!(rng.try_next_u32(), Ok(word(0)));
    let w1 = u64::from(word(1));
    let w2 = u64::from(word(2));
    assert_eq!(rng.try_next_u64(), Ok(w1 | w2 << 32));
    let mut out = [0u8; 6];
    rng.try_fill_bytes(&mut out).unwrap();
    assert_eq!(out.to_vec(), stream_bytes(word, 3, 6));
    let mut broken = Words::<u8>::new(Some(0));
    assert_eq!(broken.try_next_u32(), Err(RngFault));
    assert_eq!(fill_zeroed_on_error(&mut broken, 9), Err(RngFault));
}

#[test]
fn odd_length_fills_count_one_word_per_started_four_bytes() {
    let mut rng = Words::<u8>::new(None);
    let used = check_odd_length_fills(|out| rng.fill(out), word);
    assert_eq!(used, rng.next);
    assert_eq!(used, 1 + 1 + 2 + 2 + 4 + 8 + 9 + 1 + 16);
}

#[test]
#[should_panic(expected = "3 bytes")]
fn odd_length_fills_catch_a_skipped_word() {
    let mut rng = Words::<u8>::new(None);
    let mut calls = 0;
    check_odd_length_fills(
        |out| {
            calls += 1;
            if calls == 2 {
                rng.next += 1;
            }
            rng.fill(out)
        },
        word,
    );
}

/// A driver that does not wipe on error.
struct Leaky;

impl Leaky {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), Infallible> {
        out.fill(1);
        Ok(())
    }
}

trusted_core::impl_try_rng_via_fill! {
    impl TryRng for Leaky {
        type Error = Infallible;
    }
}

#[test]
fn fill_zeroed_on_error_passes_good_bytes_through() {
    assert_eq!(fill_zeroed_on_error(&mut Leaky, 3), Ok(vec![1, 1, 1]));
}

#[test]
#[should_panic(expected = "output zeroed on error")]
fn fill_zeroed_on_error_catches_bytes_left_behind() {
    let mut rng = Words::<u8>::new(Some(1));
    // The raw word loop, without the wipe, behind `rand_core`.
    struct Raw<'a>(&'a mut Words<u8>);
    impl Raw<'_> {
        fn fill(&mut self, out: &mut [u8]) -> Result<(), RngFault> {
            self.0.fill_words(out)
        }
    }
    trusted_core::impl_try_rng_via_fill! {
        impl TryRng for Raw<'_> {
            type Error = RngFault;
        }
    }
    let _ = fill_zeroed_on_error(&mut Raw(&mut rng), 8);
}

fn seen(
    got: Result<(), u8>,
    waited_ns: u64,
    out_zero: bool,
    dma: Option<bool>,
) -> CellSeen<Result<(), u8>> {
    CellSeen {
        got,
        waited_ns,
        out_zero,
        dma_zero: dma,
    }
}

#[test]
fn fault_matrix_runs_every_cell_once() {
    let table = [
        ("A", 1u8, FaultOp::Init, Err(1)),
        ("A", 1, FaultOp::Seal, Err(1)),
        ("B", 2, FaultOp::Init, Ok(())),
    ];
    let ran = core::cell::Cell::new(0);
    let cells = run_fault_matrix(&table, 10, |fault, _| {
        ran.set(ran.get() + 1);
        let got = if fault == 1 { Err(1) } else { Ok(()) };
        seen(got, 10, true, Some(true))
    });
    assert_eq!((cells, ran.get()), (3, 3));
}

#[allow(clippy::unwrap_used, reason = "the matrix runs its one cell once")]
fn one_cell(cell: CellSeen<Result<(), u8>>) {
    let cell = std::cell::RefCell::new(Some(cell));
    run_fault_matrix(&[("F", (), FaultOp::Unseal, Err(1))], 100, |(), _| {
        cell.borrow_mut().take().unwrap()
    });
}

#[test]
#[should_panic(expected = "F x Unseal")]
fn fault_matrix_catches_the_wrong_outcome() {
    one_cell(seen(Ok(()), 0, true, None));
}

#[test]
#[should_panic(expected = "F x Unseal: waited 101 ns")]
fn fault_matrix_catches_an_unbounded_wait() {
    one_cell(seen(Err(1), 101, true, None));
}

#[test]
#[should_panic(expected = "F x Unseal: DMA region not zero")]
fn fault_matrix_catches_a_dirty_dma_region() {
    one_cell(seen(Err(1), 0, true, Some(false)));
}

#[test]
#[should_panic(expected = "F x Unseal: output buffer not zero")]
fn fault_matrix_catches_a_dirty_output_buffer() {
    one_cell(seen(Err(1), 0, false, None));
}

#[test]
#[should_panic(expected = "F x Random: panicked")]
fn fault_matrix_catches_a_panic() {
    run_fault_matrix(
        &[("F", (), FaultOp::Random, Ok::<(), u8>(()))],
        0,
        |(), _| panic!("the driver panicked"),
    );
}

#[test]
fn rng_cell_inits_first_for_random_and_reports_the_buffer() {
    let init = |r: &mut Words<u8>| {
        r.next += 100;
        Ok::<(), RngFault>(())
    };
    let arm = |r: &mut Words<u8>| r.fail_at = Some(r.next + 1);
    let mut rng = Words::new(None);
    let (r, zero) = rng_cell(&mut rng, FaultOp::Random, init, Words::fill, arm);
    assert_eq!((r, zero, rng.next), (Err(RngFault), true, 101));
    // A fill that fails without its wipe is seen.
    let mut rng = Words::new(None);
    let (r, zero) = rng_cell(&mut rng, FaultOp::Random, init, Words::fill_words, arm);
    assert_eq!((r, zero), (Err(RngFault), false));
    // Init runs once more, with the fault armed and no buffer.
    let mut rng = Words::new(None);
    let (r, zero) = rng_cell(&mut rng, FaultOp::Init, init, Words::fill, arm);
    assert_eq!((r, zero, rng.next), (Ok(()), true, 100));
}

/// A rig whose decision reads three registers and grants when any of them
/// reads as `1`: one flip of bit 0 of any read grants.
struct Rig {
    flip: ReadFlip,
}

impl Rig {
    fn read(&mut self, offset: usize) -> u32 {
        self.flip.apply(offset, 0)
    }

    fn granted(&mut self, reads: usize) -> bool {
        (0..reads).any(|offset| self.read(offset) == 1)
    }
}

fn rig_sweep(reads: usize) -> Sweep {
    sweep_reads(
        || Rig {
            flip: ReadFlip::default(),
        },
        |rig| rig.flip.reads(),
        |rig, nth, bit| {
            rig.flip.arm(ReadGlitch {
                offset: None,
                nth,
                bit,
            })
        },
        |rig| rig.granted(reads),
    )
}

#[test]
fn sweep_reads_flips_every_bit_of_every_read_and_sees_a_grant() {
    let sweep = rig_sweep(3);
    assert_eq!(sweep.to_string(), "96 cases tried, 93 refused");
    assert!(!sweep.all_refused());
}

#[test]
#[should_panic(expected = "the unglitched case must be refused")]
fn sweep_reads_refuses_a_case_granted_without_a_glitch() {
    sweep_reads(|| (), |_| 0, |_, _, _| {}, |_| true);
}
