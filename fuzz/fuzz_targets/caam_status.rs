//! CAAM job-ring status words (`hal_caam::JobStatus`, `Caam::run`): any
//! word through the decoder, and a hostile job ring — every job's output
//! entry gets a fuzzed status word (and, when asked, a fuzzed descriptor
//! pointer) — under init, RNG, seal, unseal and the MKVB HUK. A seal or
//! unseal whose job came back with a non-zero status word, or with another
//! descriptor's address, must fail, whatever the word.
#![no_main]

use hal_caam::jr::layout::{DESCRIPTOR, OUTPUT_RING};
use hal_caam::regs::{PAGE_SIZE_4K, jr};
use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamHuk, CaamSource, Config, Error as CaamError, HukOptions, JobStatus};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_core::{DmaBus, Key, Mmio, StaticDma, TrustSource};
use trusted_keys_fuzz::{Input, dma};

const BUS: u64 = 0x8000_0000;
const RING: usize = 4;

/// The sim, then a rewrite of the output ring after every doorbell.
struct HostileRing<'a> {
    sim: CaamSim,
    bus: DmaBus,
    input: Input<'a>,
    /// Per job: whether the entry written over the sim's says success.
    jobs: Vec<bool>,
}

impl Mmio for HostileRing<'_> {
    fn read32(&mut self, offset: usize) -> u32 {
        self.sim.read32(offset)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.sim.write32(offset, value);
        if offset != PAGE_SIZE_4K + jr::IRJAR {
            return;
        }
        if self.input.is_empty() {
            self.jobs.push(true);
            return;
        }
        let flags = self.input.byte();
        let status = self.input.u32();
        let pointer = self.input.u32();
        let own = BUS + DESCRIPTOR as u64;
        self.jobs
            .push(status == 0 && (flags & 1 == 0 || u64::from(pointer) == own));
        for i in 0..RING {
            let entry = BUS + (OUTPUT_RING + i * 8) as u64;
            if flags & 1 != 0 {
                let _ = self.bus.write_u32_le(entry, pointer);
            }
            let _ = self.bus.write_u32_le(entry + 4, status);
        }
    }
}

type Source<'a> = CaamSource<HostileRing<'a>, StaticDma, NoDelay>;

/// Runs `op` and checks it failed if one of its jobs did.
fn checked<'a, T>(
    src: &mut Source<'a>,
    op: impl FnOnce(&mut Source<'a>) -> Result<T, trusted_core::Error>,
) -> Result<T, trusted_core::Error> {
    let before = src.driver_mut().regs_mut().jobs.len();
    let result = op(src);
    let jobs = &src.driver_mut().regs_mut().jobs;
    let failed_job = jobs.get(before..).is_some_and(|j| j.iter().any(|ok| !ok));
    assert!(
        !(failed_job && result.is_ok()),
        "an operation succeeded over a failed job"
    );
    result
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let word = input.u32();
    match JobStatus::decode(word) {
        None => assert_eq!(word, 0),
        Some(s) => {
            assert_eq!(s.raw(), word);
            let _ = format!("{s} {:?}", CaamError::Job(s));
        }
    }

    let region = dma(4096, BUS);
    let bus = region.bus();
    let ring = HostileRing {
        sim: CaamSim::new(bus, SimConfig::secure([0x11; 32])),
        bus,
        input,
        jobs: Vec::new(),
    };
    let mut cfg = Config::new(0);
    cfg.timeout_us = 200;
    let caam = Caam::new(ring, region, NoDelay, cfg).expect("test configuration");
    let mut src = CaamSource::new(caam);
    let key = Key::from_slice(&[0x42; 32]).expect("32 bytes");
    if src.init().is_ok() {
        let sealed = checked(&mut src, |s| s.seal(&key, ""));
        if let Ok(blob) = sealed
            && let Ok(k) = checked(&mut src, |s| s.unseal(blob.as_bytes(), ""))
        {
            assert_eq!(k, key, "an unseal that succeeds gives the sealed key");
        }
    }
    let mut random = [0u8; 48];
    let _ = src.driver_mut().random(&mut random);
    let mut caam = src.into_inner();
    let before = caam.regs_mut().jobs.len();
    let huk = CaamHuk::new(&mut caam, HukOptions::new());
    let failed_job = caam
        .regs_mut()
        .jobs
        .get(before..)
        .is_some_and(|j| j.iter().any(|ok| !ok));
    assert!(!(failed_job && huk.is_ok()), "a HUK from a failed MKVB job");
});
