//! The fault matrix (issue 14, item 4): every fault hook of the crate's
//! sims crossed with every operation, one table. Each cell runs on a fresh
//! model and must end in the expected outcome, within its time bound (a
//! `CountingDelay` adds up every wait), without a panic, and with the DMA
//! region (read through the model's bus) and the caller's output buffer
//! all zero afterwards.
mod common;

use common::BUS;
use hal_dcp::dcp::OTP_KEY_READY_WAIT_US;
use hal_dcp::rngb::{SEED_TIMEOUT_US, SELF_TEST_TIMEOUT_US};
use hal_dcp::sim::{DcpSim, Fault, ReadGlitch, RngbSim, rngb};
use hal_dcp::{Dcp, DcpHuk, DcpSource, Error as DcpError, Rngb, Wait, regs};
use trusted_core::test_util::{
    CellSeen, CountingDelay, FaultOp as Op, ScriptRng, leaked_dma, rng_cell, run_fault_matrix,
};
use trusted_core::{DmaBus, Error, Huk, Key, StaticDma, TrustSource};

const UNIQUE: [u8; 16] = [0x3c; 16];
/// Per-job bound of the rigs (the default is 10 ms; a short one keeps the
/// counted waits small, the bound is what is checked).
const TIMEOUT_US: u32 = 2_000;
const STEP_US: u32 = 10;

type Source = DcpSource<DcpSim, StaticDma, CountingDelay, ScriptRng>;

#[derive(Clone, Debug, PartialEq)]
enum Expect {
    /// The operation fails with this error.
    Err(Error),
    /// The fault does not matter to the operation (a corrupted probe of a
    /// real key is still no all-zero-key answer).
    Ok,
    /// Seal cannot see a corrupted wrap of its blob key; the blob it
    /// returns is refused at unseal with this error, never opened wrong.
    SealedThenRefused(Error),
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn dcp_rig() -> (Dcp<DcpSim, StaticDma, CountingDelay>, DmaBus) {
    let dma = leaked_dma(1024, BUS);
    let bus = dma.bus();
    let sim = DcpSim::new(bus).with_unique_key(UNIQUE);
    let mut dcp = Dcp::new(sim, dma, CountingDelay::default()).unwrap();
    dcp.set_timeout_us(TIMEOUT_US);
    (dcp, bus)
}

fn dma_zero(bus: &DmaBus) -> bool {
    let mut all = vec![0xAAu8; 1024];
    bus.read(BUS, &mut all).is_ok() && all.iter().all(|&b| b == 0)
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn key() -> Key {
    Key::from_slice(&[0x5a; 32]).unwrap()
}

/// Runs one cell; returns what happened, the time waited and whether the
/// DMA region and the output buffer were zero afterwards.
#[allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a failed set-up or a wrong key fails the test"
)]
fn dcp_cell(fault: Fault, op: Op) -> CellSeen<Expect> {
    let (dcp, bus) = dcp_rig();
    let mut out = [0xEEu8; 32];
    let (outcome, delay) = match op {
        Op::Huk => {
            let mut dcp = dcp;
            dcp.init().unwrap();
            dcp.regs_mut().inject(fault);
            let mut huk = DcpHuk::new(dcp);
            let r = huk.hardware_unique_key().map(|_| ());
            out.fill(0); // the HUK comes back zeroizing, not in a caller buffer
            let (_, _, delay) = huk.into_inner().into_inner();
            (r, delay)
        }
        _ => {
            let mut src: Source = DcpSource::new(dcp, ScriptRng::counting(0));
            let blob = if matches!(op, Op::Init) {
                None
            } else {
                src.init().unwrap();
                Some(src.seal(&key(), "").unwrap())
            };
            src.driver_mut().regs_mut().inject(fault);
            if matches!(op, Op::Seal) {
                out.fill(0); // seal returns its blob, no caller buffer
            }
            let r = match op {
                Op::Init => {
                    out.fill(0); // init has no output buffer
                    src.init()
                }
                Op::Random => {
                    out.fill(0);
                    src.random(&mut out)
                }
                Op::Seal => match src.seal(&key(), "") {
                    Ok(sealed) => {
                        src.driver_mut().regs_mut().clear_faults();
                        let opened = src.unseal(sealed.as_bytes(), "");
                        let (dcp, _) = src.into_inner();
                        let (_, _, delay) = dcp.into_inner();
                        let outcome = match opened {
                            Ok(k) if k == key() => Expect::Ok,
                            Ok(_) => panic!("a corrupted blob opened to another key"),
                            Err(e) => Expect::SealedThenRefused(e),
                        };
                        return CellSeen {
                            got: outcome,
                            waited_ns: delay.waited_ns,
                            out_zero: true,
                            dma_zero: Some(dma_zero(&bus)),
                        };
                    }
                    Err(e) => Err(e),
                },
                Op::Unseal => {
                    let blob = blob.unwrap();
                    let r = src.unseal_into(blob.as_bytes(), &mut out).map(|_| ());
                    if r.is_ok() {
                        assert_eq!(out, key().as_bytes()[..32]);
                        out.fill(0);
                    }
                    r
                }
                Op::Huk | Op::Provision => unreachable!(),
            };
            let (dcp, _) = src.into_inner();
            let (_, _, delay) = dcp.into_inner();
            (r, delay)
        }
    };
    let outcome = match outcome {
        Ok(()) => Expect::Ok,
        Err(e) => Expect::Err(e),
    };
    CellSeen {
        got: outcome,
        waited_ns: delay.waited_ns,
        out_zero: out.iter().all(|&b| b == 0),
        dma_zero: Some(dma_zero(&bus)),
    }
}

/// Bound on the waits of one cell: the reset and OTP-key waits of an init
/// and one job wait per job, each overshooting by at most one step.
fn dcp_budget_ns(jobs: u64) -> u64 {
    let init = u64::from(TIMEOUT_US + STEP_US) + u64::from(OTP_KEY_READY_WAIT_US + STEP_US);
    (init + jobs * u64::from(TIMEOUT_US + STEP_US)) * 1000
}

#[test]
fn dcp_fault_matrix() {
    use Expect::{Err as E, Ok as Fine, SealedThenRefused as Later};
    let setup = regs::CH_STAT_ERROR_SETUP;
    let glitch = Fault::FlipReadBit(ReadGlitch {
        offset: Some(regs::ch_stat(0)),
        nth: 0,
        bit: 2,
    });
    let no_rng = Error::Unsupported("this trust source has no RNG of its own");
    let huk_mismatch =
        Error::Malformed("DCP HUK derivation gave two different results (glitch or corrupted job)");
    let faults = [
        ("ErrorStatus", Fault::ErrorStatus(setup)),
        ("NoCompletion", Fault::NoCompletion),
        ("CorruptOutput", Fault::CorruptOutput { index: 0, xor: 1 }),
        ("FlipReadBit", glitch),
    ];
    let table: [(usize, Op, Expect); 20] = [
        (0, Op::Init, E(Error::Hardware(setup))),
        (0, Op::Random, E(no_rng)),
        (0, Op::Seal, E(Error::Hardware(setup))),
        (0, Op::Unseal, E(Error::Hardware(setup))),
        (0, Op::Huk, E(Error::Hardware(setup))),
        (1, Op::Init, E(Error::Timeout)),
        (1, Op::Random, E(no_rng)),
        (1, Op::Seal, E(Error::Timeout)),
        (1, Op::Unseal, E(Error::Timeout)),
        (1, Op::Huk, E(Error::Timeout)),
        (2, Op::Init, Fine),
        (2, Op::Random, E(no_rng)),
        (2, Op::Seal, Later(Error::AuthFailed)),
        (2, Op::Unseal, E(Error::AuthFailed)),
        (2, Op::Huk, E(huk_mismatch)),
        (3, Op::Init, E(Error::Hardware(setup))),
        (3, Op::Random, E(no_rng)),
        (3, Op::Seal, E(Error::Hardware(setup))),
        (3, Op::Unseal, E(Error::Hardware(setup))),
        (3, Op::Huk, E(Error::Hardware(setup))),
    ];
    let table = table.map(|(f, op, expect)| (faults[f].0, faults[f].1, op, expect));
    // At most five jobs in one cell (seal, then unseal to check it).
    let cells = run_fault_matrix(&table, dcp_budget_ns(5), dcp_cell);
    assert_eq!(cells, faults.len() * 5, "every fault x every operation");
    println!("hal-dcp fault matrix, DcpSim: {cells} cells");
}

type SimRngb = Rngb<RngbSim, CountingDelay>;

fn rngb_cell(fault: rngb::Fault, op: Op) -> CellSeen<Result<(), DcpError>> {
    let mut rng: SimRngb = Rngb::new(RngbSim::new(), CountingDelay::default());
    rng.set_timeout_us(TIMEOUT_US);
    let arm = |rng: &mut SimRngb| rng.regs_mut().inject(fault);
    let (r, out_zero) = rng_cell(&mut rng, op, SimRngb::init, SimRngb::fill, arm);
    let (_, delay) = rng.into_inner();
    // The STATUS word of a failed self test carries live FIFO bits.
    let got = r.map_err(|e| match e {
        DcpError::RngbSelfTest { error, .. } => DcpError::RngbSelfTest { status: 0, error },
        e => e,
    });
    CellSeen {
        got,
        waited_ns: delay.waited_ns,
        out_zero,
        dma_zero: None,
    }
}

#[test]
fn rngb_fault_matrix() {
    use rngb::Fault as F;
    let status_error = F::FlipReadBit(ReadGlitch {
        offset: Some(regs::rngb::STATUS),
        nth: 0,
        bit: 16,
    });
    let faults = [
        ("SelfTestFails", F::SelfTestFails),
        ("SeedError", F::SeedError { times: u8::MAX }),
        ("OscillatorDead", F::OscillatorDead),
        ("NeverCompletes", F::NeverCompletes),
        ("FifoStaysEmpty", F::FifoStaysEmpty),
        ("FifoUnderflow", F::FifoUnderflow),
        ("FlipReadBit", status_error),
    ];
    let esr = regs::rngb::ESR_SELF_TEST;
    let table: [(usize, Op, Result<(), DcpError>); 14] = [
        (
            0,
            Op::Init,
            Err(DcpError::RngbSelfTest {
                status: 0,
                error: esr,
            }),
        ),
        (0, Op::Random, Ok(())),
        (
            1,
            Op::Init,
            Err(DcpError::RngbSeed {
                error: regs::rngb::ESR_STAT,
            }),
        ),
        (1, Op::Random, Ok(())),
        (
            2,
            Op::Init,
            Err(DcpError::RngbSeed {
                error: regs::rngb::ESR_OSC,
            }),
        ),
        (
            2,
            Op::Random,
            Err(DcpError::RngbFifo {
                error: regs::rngb::ESR_OSC,
            }),
        ),
        (3, Op::Init, Err(DcpError::Timeout(Wait::RngbSelfTest))),
        (3, Op::Random, Ok(())),
        (4, Op::Init, Ok(())),
        (4, Op::Random, Err(DcpError::Timeout(Wait::RngbFifo))),
        (5, Op::Init, Ok(())),
        (
            5,
            Op::Random,
            Err(DcpError::RngbFifo {
                error: regs::rngb::ESR_FIFO_UNDERFLOW,
            }),
        ),
        (
            6,
            Op::Init,
            Err(DcpError::RngbSelfTest {
                status: 0,
                error: 0,
            }),
        ),
        (6, Op::Random, Err(DcpError::RngbFifo { error: 0 })),
    ];
    let table = table.map(|(f, op, expect)| (faults[f].0, faults[f].1, op, expect));
    let bound = SELF_TEST_TIMEOUT_US
        + u32::from(hal_dcp::rngb::SEED_TRIES) * SEED_TIMEOUT_US
        + TIMEOUT_US
        + 4 * STEP_US;
    let cells = run_fault_matrix(&table, u64::from(bound) * 1000, rngb_cell);
    assert_eq!(cells, faults.len() * 2);
    println!("hal-dcp fault matrix, RngbSim: {cells} cells");
}
