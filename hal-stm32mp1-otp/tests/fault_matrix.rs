//! The fault matrix (issue 14, item 4): every fault hook of the crate's
//! three models (BSEC, RNG, SAES) crossed with every operation that uses
//! them, one table each. Each cell runs on a fresh model and must end in
//! the expected outcome, within its time bound (a `CountingDelay` adds up
//! every wait), without a panic, and with the caller's output buffer all
//! zero afterwards. (This crate has no DMA region.)

mod common;

use common::*;
use hal_stm32mp1_otp::bsec::BSEC_TIMEOUT_US;
use hal_stm32mp1_otp::error::code;
use hal_stm32mp1_otp::regs;
use hal_stm32mp1_otp::rng::INIT_TIMEOUT_US;
use hal_stm32mp1_otp::saes::SAES_TIMEOUT_US;
use hal_stm32mp1_otp::sim::{self, BsecSim, ReadGlitch, RngSim, SaesSim};
use hal_stm32mp1_otp::{
    Error as OtpError, HukConfig, ProvisionOptions, SaesFault, SaesKdf, Stm32Rng, Stm32Saes,
    Stm32mp15Huk, provision_huk,
};
use trusted_core::huk::HukSubkeyUsage;
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{
    CellSeen, CountingDelay, FaultOp as Op, ScriptRng, rng_cell as rng_op, run_fault_matrix as run,
};
use trusted_core::{Error, Huk, Key, SubkeyDerive, TrustSource};

const KEY: [u32; 4] = [0x1111_1111, 0x2222_2222, 0x3333_3333, 0x4444_4444];
const NEW_HUK: [u8; 16] = [0x5a; 16];

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn key() -> Key {
    Key::from_slice(&[0x77; 32]).unwrap()
}

/// What a cell of this crate saw (it has no DMA region).
fn seen(got: Result<(), Error>, waited_ns: u64, out: &[u8]) -> CellSeen<Result<(), Error>> {
    CellSeen {
        got,
        waited_ns,
        out_zero: out.iter().all(|&b| b == 0),
        dma_zero: None,
    }
}

fn hw(code: u32, word: u32) -> Result<(), Error> {
    Err(Error::Hardware(code | word))
}

/// A BSEC cell: the outcome, the time waited, and whether the caller's
/// buffer was zero afterwards.
#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn bsec_cell(fault: sim::Fault, op: Op) -> CellSeen<Result<(), Error>> {
    let blob = {
        let mut s = sim_with(&KEY, &[0, 0, 0]);
        let huk = Stm32mp15Huk::new(secure(&mut s), HukConfig::default()).unwrap();
        let mut tee = TeeSealer::new(huk, ScriptRng::counting(0));
        tee.seal(&key(), "").unwrap()
    };
    let mut sim = if matches!(op, Op::Provision) {
        BsecSim::new()
    } else {
        sim_with(&KEY, &[0, 0, 0])
    };
    sim.inject(fault);
    let mut out = [0u8; 32];
    let waited;
    let r = match op {
        Op::Init => {
            let mut bsec = secure(&mut sim);
            let r = bsec.probe().map_err(Error::from).and_then(|()| {
                bsec.read_shadow(regs::CFG0_OTP)
                    .map(|_| ())
                    .map_err(Error::from)
            });
            waited = bsec.into_inner().1.waited_ns;
            r
        }
        Op::Huk | Op::Seal | Op::Unseal => {
            let huk = Stm32mp15Huk::new(secure(&mut sim), HukConfig::default()).unwrap();
            let mut tee = TeeSealer::new(huk, ScriptRng::counting(0));
            let r = match op {
                Op::Huk => tee.driver_mut().hardware_unique_key().map(|_| ()),
                Op::Seal => tee.seal(&key(), "").map(|_| ()),
                _ => {
                    out.fill(0xEE);
                    let r = tee.unseal_into(blob.as_bytes(), &mut out).map(|_| ());
                    if r.is_ok() {
                        out.fill(0);
                    }
                    r
                }
            };
            let (huk, _) = tee.into_inner();
            waited = huk.into_inner().into_inner().1.waited_ns;
            r
        }
        Op::Provision => {
            let mut bsec = secure(&mut sim);
            let r = provision_huk(&mut bsec, &NEW_HUK, ProvisionOptions::default())
                .map(|_| ())
                .map_err(Error::from);
            waited = bsec.into_inner().1.waited_ns;
            r
        }
        Op::Random => unreachable!(),
    };
    seen(r, waited, &out)
}

#[test]
fn bsec_fault_matrix() {
    use sim::Fault as F;
    // The security-relevant glitch: CFG0 read once as "closed device".
    let flip_cfg0 = F::FlipReadBit(ReadGlitch {
        offset: Some(regs::otp_data(regs::CFG0_OTP)),
        nth: 0,
        bit: 6,
    });
    let ok = Ok(());
    let t = Err(Error::Timeout);
    let table = [
        // Init is the probe and a shadow read: no fuse operation, so the
        // fuse faults do not reach it (provably irrelevant, as for the
        // program and lock faults on the read-only operations below).
        ("Disturbed", F::Disturbed(60), Op::Init, ok),
        (
            "Disturbed",
            F::Disturbed(60),
            Op::Huk,
            hw(code::DISTURBED, 60),
        ),
        (
            "Disturbed",
            F::Disturbed(60),
            Op::Seal,
            hw(code::DISTURBED, 60),
        ),
        (
            "Disturbed",
            F::Disturbed(60),
            Op::Unseal,
            hw(code::DISTURBED, 60),
        ),
        (
            "Disturbed",
            F::Disturbed(60),
            Op::Provision,
            hw(code::DISTURBED, 60),
        ),
        ("EccError", F::EccError(61), Op::Init, ok),
        ("EccError", F::EccError(61), Op::Huk, hw(code::ECC, 61)),
        ("EccError", F::EccError(61), Op::Seal, hw(code::ECC, 61)),
        ("EccError", F::EccError(61), Op::Unseal, hw(code::ECC, 61)),
        (
            "EccError",
            F::EccError(61),
            Op::Provision,
            hw(code::ECC, 61),
        ),
        ("ProgramFail", F::ProgramFail(62), Op::Init, ok),
        ("ProgramFail", F::ProgramFail(62), Op::Huk, ok),
        ("ProgramFail", F::ProgramFail(62), Op::Seal, ok),
        ("ProgramFail", F::ProgramFail(62), Op::Unseal, ok),
        (
            "ProgramFail",
            F::ProgramFail(62),
            Op::Provision,
            hw(code::PROGFAIL, 62),
        ),
        (
            "PartialBurn",
            F::PartialBurn {
                word: 63,
                mask: 0xF,
            },
            Op::Init,
            ok,
        ),
        (
            "PartialBurn",
            F::PartialBurn {
                word: 63,
                mask: 0xF,
            },
            Op::Huk,
            ok,
        ),
        (
            "PartialBurn",
            F::PartialBurn {
                word: 63,
                mask: 0xF,
            },
            Op::Seal,
            ok,
        ),
        (
            "PartialBurn",
            F::PartialBurn {
                word: 63,
                mask: 0xF,
            },
            Op::Unseal,
            ok,
        ),
        (
            "PartialBurn",
            F::PartialBurn {
                word: 63,
                mask: 0xF,
            },
            Op::Provision,
            hw(code::PROGFAIL, 63),
        ),
        ("LockFail", F::LockFail(60), Op::Init, ok),
        ("LockFail", F::LockFail(60), Op::Huk, ok),
        ("LockFail", F::LockFail(60), Op::Seal, ok),
        ("LockFail", F::LockFail(60), Op::Unseal, ok),
        (
            "LockFail",
            F::LockFail(60),
            Op::Provision,
            hw(code::PROGFAIL, 60),
        ),
        ("BusyStuck", F::BusyStuck, Op::Init, ok),
        ("BusyStuck", F::BusyStuck, Op::Huk, t),
        ("BusyStuck", F::BusyStuck, Op::Seal, t),
        ("BusyStuck", F::BusyStuck, Op::Unseal, t),
        ("BusyStuck", F::BusyStuck, Op::Provision, t),
        ("PowerStuck", F::PowerStuck, Op::Init, ok),
        ("PowerStuck", F::PowerStuck, Op::Huk, t),
        ("PowerStuck", F::PowerStuck, Op::Seal, t),
        ("PowerStuck", F::PowerStuck, Op::Unseal, t),
        ("PowerStuck", F::PowerStuck, Op::Provision, t),
        // A one-read "closed" CFG0 is seen as a disagreement: the device
        // counts as open, the lock check runs (see glitch.rs), and
        // provisioning never reads CFG0.
        ("FlipReadBit", flip_cfg0, Op::Init, ok),
        ("FlipReadBit", flip_cfg0, Op::Huk, ok),
        ("FlipReadBit", flip_cfg0, Op::Seal, ok),
        ("FlipReadBit", flip_cfg0, Op::Unseal, ok),
        ("FlipReadBit", flip_cfg0, Op::Provision, ok),
    ];
    // At most one wait runs out (an error ends the operation); the others
    // end after a few polls, fewer than 200 across a provisioning.
    let bound = (u64::from(BSEC_TIMEOUT_US) + 200 * 10) * 1000;
    let cells = run(&table, bound, bsec_cell);
    assert_eq!(cells, 8 * 5, "every fault x every operation");
    println!("hal-stm32mp1-otp fault matrix, BsecSim: {cells} cells");
}

type SimRng = Stm32Rng<RngSim, CountingDelay>;

fn rng_cell(fault: sim::rng::Fault, op: Op) -> CellSeen<Result<(), Error>> {
    let mut rng: SimRng =
        Stm32Rng::new(RngSim::new(), CountingDelay::default()).with_clock_error_detection(true);
    let arm = |rng: &mut SimRng| rng.regs_mut().inject(fault);
    let (r, out_zero) = rng_op(&mut rng, op, SimRng::init, SimRng::fill, arm);
    let waited = rng.into_inner().1.waited_ns;
    CellSeen {
        got: r.map_err(Error::from),
        waited_ns: waited,
        out_zero,
        dma_zero: None,
    }
}

#[test]
fn rng_fault_matrix() {
    use sim::rng::Fault as F;
    let seis = F::FlipReadBit(ReadGlitch {
        offset: Some(regs::rng::SR),
        nth: 0,
        bit: 6,
    });
    let (ok, rng, t) = (Ok(()), Err(Error::Rng), Err(Error::Timeout));
    let table = [
        // Init fails on any error bit, as Linux; a read conceals a seed
        // error (Linux, U-Boot) and goes on.
        ("SeedError", F::SeedError, Op::Init, rng),
        ("SeedError", F::SeedError, Op::Random, ok),
        ("SeedErrorStuck", F::SeedErrorStuck, Op::Init, rng),
        ("SeedErrorStuck", F::SeedErrorStuck, Op::Random, rng),
        // A late seed error shows in DR, which init does not read.
        ("LateSeedError", F::LateSeedError, Op::Init, ok),
        ("LateSeedError", F::LateSeedError, Op::Random, ok),
        ("ClockError", F::ClockError, Op::Init, rng),
        ("ClockError", F::ClockError, Op::Random, rng),
        ("ClockGlitch", F::ClockGlitch, Op::Init, rng),
        ("ClockGlitch", F::ClockGlitch, Op::Random, ok),
        ("NeverReady", F::NeverReady, Op::Init, t),
        ("NeverReady", F::NeverReady, Op::Random, t),
        // SR read once with SEIS: init refuses, a read conceals.
        ("FlipReadBit", seis, Op::Init, rng),
        ("FlipReadBit", seis, Op::Random, ok),
    ];
    // One wait at most runs out: init's (100 ms) or a word's (50 ms).
    let bound = (u64::from(INIT_TIMEOUT_US) + 100) * 1000;
    let cells = run(&table, bound, rng_cell);
    assert_eq!(cells, 7 * 2, "every fault x every operation");
    println!("hal-stm32mp1-otp fault matrix, RngSim: {cells} cells");
}

type Kdf = SaesKdf<SaesSim, CountingDelay>;

fn kdf(fault: sim::saes::Fault) -> Kdf {
    let mut sim = SaesSim::new([0x2b; 16]);
    sim.inject(fault);
    SaesKdf::stm32mp13(Stm32Saes::new(
        sim,
        CountingDelay::default(),
        regs::saes::MP13,
    ))
}

#[allow(clippy::unwrap_used, reason = "a failed set-up fails the test")]
fn saes_cell(fault: sim::saes::Fault, op: Op) -> CellSeen<Result<(), Error>> {
    let clean = SaesKdf::stm32mp13(Stm32Saes::new(
        SaesSim::new([0x2b; 16]),
        CountingDelay::default(),
        regs::saes::MP13,
    ));
    let blob = TeeSealer::new(clean, ScriptRng::counting(0))
        .seal(&key(), "")
        .unwrap();
    let mut out = [0u8; 32];
    let mut k = kdf(fault);
    let r = match op {
        Op::Init => k.driver_mut().self_test().map_err(Error::from),
        Op::Huk => {
            out.fill(0xEE);
            k.derive_subkey(HukSubkeyUsage::UniqueTa, &[1, 2, 3], &mut out)
        }
        Op::Seal | Op::Unseal => {
            let mut tee = TeeSealer::new(k, ScriptRng::counting(0));
            let r = if matches!(op, Op::Seal) {
                tee.seal(&key(), "").map(|_| ())
            } else {
                out.fill(0xEE);
                tee.unseal_into(blob.as_bytes(), &mut out).map(|_| ())
            };
            k = tee.into_inner().0;
            r
        }
        _ => unreachable!(),
    };
    if r.is_ok() {
        out.fill(0);
    }
    let waited = k.into_inner().into_inner().1.waited_ns;
    seen(r, waited, &out)
}

#[test]
fn saes_fault_matrix() {
    use sim::saes::Fault as F;
    let saes = |f: SaesFault| Err(Error::from(OtpError::Saes(f)));
    // The first output word of the first block (the self test's) flipped.
    let dout = F::FlipReadBit(ReadGlitch {
        offset: Some(regs::saes::DOUTR),
        nth: 0,
        bit: 0,
    });
    let t = Err(Error::Timeout);
    let mut table = Vec::new();
    for op in [Op::Init, Op::Huk, Op::Seal, Op::Unseal] {
        let key_error = if matches!(op, Op::Init) {
            // The self test loads a software key, not the DHUK.
            Ok(())
        } else {
            saes(SaesFault::KeyError)
        };
        table.extend([
            ("BusyStuck", F::BusyStuck, op, t),
            ("KeyError", F::KeyError, op, key_error),
            ("ReadError", F::ReadError, op, saes(SaesFault::ReadError)),
            ("WriteError", F::WriteError, op, saes(SaesFault::WriteError)),
            // Every operation starts with the FIPS-197 self test, which a
            // corrupted block fails.
            (
                "CorruptOutputOnce",
                F::CorruptOutputOnce,
                op,
                saes(SaesFault::SelfTestFailed),
            ),
            (
                "CorruptOutput",
                F::CorruptOutput,
                op,
                saes(SaesFault::SelfTestFailed),
            ),
            ("RngError", F::RngError, op, saes(SaesFault::RngError)),
            ("FlipReadBit", dout, op, saes(SaesFault::SelfTestFailed)),
        ]);
    }
    let bound = (u64::from(SAES_TIMEOUT_US) + 100) * 1000;
    let cells = run(&table, bound, saes_cell);
    assert_eq!(cells, 8 * 4, "every fault x every operation");
    println!("hal-stm32mp1-otp fault matrix, SaesSim: {cells} cells");
}
