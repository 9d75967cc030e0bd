//! The fault matrix (issue 14, item 4): every fault hook of `CaamSim`
//! crossed with every operation, one table. Each cell runs on a fresh
//! model and must end in the expected error, within its time bound (a
//! `CountingDelay` adds up every wait), without a panic, and with the DMA
//! region (read through the model's bus) and the caller's output buffer
//! all zero afterwards.

mod common;

use common::*;
use hal_caam::regs::jr;
use hal_caam::sim::{Fault, ReadGlitch};
use hal_caam::{CaamHuk, HukOptions, KeyMod};
use trusted_core::test_util::{CellSeen, FaultOp as Op, run_fault_matrix};
use trusted_core::{Error, TrustSource};

const KM: KeyMod<'static> = KeyMod::Immediate(b"SECURE_KEY");
const JR0: usize = 0x1000;

/// Runs one cell: the error, the time waited, and whether the DMA region
/// and the output buffer were zero afterwards.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn cell(fault: Fault, op: Op) -> CellSeen<Result<(), Error>> {
    let (mut source, bus) = secure_source();
    let data = [0x3cu8; 32];
    let mut blob = [0u8; 80];
    if !matches!(op, Op::Init) {
        source.init().unwrap();
        source
            .driver_mut()
            .encapsulate(KM, &data, &mut blob)
            .unwrap();
    }
    source.driver_mut().regs_mut().inject(fault);
    let mut out = [0xEEu8; 80];
    let caam = source.driver_mut();
    let r = match op {
        Op::Init => {
            out.fill(0); // no caller buffer
            source.init()
        }
        Op::Random => caam.random(&mut out).map_err(Error::from),
        Op::Seal => caam
            .encapsulate(KM, &data, &mut out)
            .map(|_| ())
            .map_err(Error::from),
        Op::Unseal => caam
            .decapsulate(KM, &blob, {
                out[32..].fill(0); // the key is 32 bytes
                &mut out[..32]
            })
            .map(|_| ())
            .map_err(Error::from),
        Op::Huk => {
            out.fill(0); // the HUK comes back zeroizing
            CaamHuk::new(caam, HukOptions::new()).map(|_| ())
        }
        Op::Provision => unreachable!("the CAAM has no fuses to burn"),
    };
    if r.is_ok() {
        out.fill(0);
    }
    let out_zero = out.iter().all(|&b| b == 0);
    let (_, _, delay) = source.into_inner().into_inner();
    let mut all = vec![0xAAu8; DMA_LEN];
    let dma_zero = bus.read(BUS, &mut all).is_ok() && all.iter().all(|&b| b == 0);
    CellSeen {
        got: r,
        waited_ns: delay.waited_ns,
        out_zero,
        dma_zero: Some(dma_zero),
    }
}

#[test]
fn caam_fault_matrix() {
    let deco_dma = 0x4000_0016;
    // JRINTR after the overflow: JRE with error type 6, JRI.
    let jre = Error::Hardware(0x0000_0603);
    let flip = Fault::FlipReadBit(ReadGlitch {
        offset: Some(JR0 + jr::ORSFR),
        nth: 0,
        bit: 31,
    });
    let overflow = Error::Malformed("CAAM output ring overflow");
    let faults = [
        ("ErrorStatus", Fault::ErrorStatus(deco_dma)),
        ("NoCompletion", Fault::NoCompletion),
        ("OutputRingOverflow", Fault::OutputRingOverflow),
        ("FlipReadBit", flip),
    ];
    let ops = [Op::Init, Op::Random, Op::Seal, Op::Unseal, Op::Huk];
    let expect = [Error::Hardware(deco_dma), Error::Timeout, jre, overflow];
    // One job wait that runs out plus the two ring-reset waits of the
    // recovery (which end at once), each at most one poll step over.
    let c = config();
    let bound = u64::from(3 * (c.timeout_us + c.poll_step_us)) * 1000;
    let mut table = Vec::new();
    for ((name, fault), want) in faults.into_iter().zip(expect) {
        table.extend(ops.map(|op| (name, fault, op, Err(want))));
    }
    let cells = run_fault_matrix(&table, bound, cell);
    assert_eq!(cells, 20, "every fault x every operation");
    println!("hal-caam fault matrix: {cells} cells");
}
