//! Construction checks (issue 14, item 4): every configuration value of
//! the driver and of the model is validated with its own error, and the
//! configurations the audit found accepted (page size 0, 1, 0x100) are
//! refused; a model built anyway from a refused configuration never
//! panics (it used to divide by a zero page size).
mod common;

use common::*;
use hal_caam::jr::layout::MIN_LEN;
use hal_caam::sim::{CaamSim, SimConfig, SimConfigError};
use hal_caam::{Caam, CaamSource, Config, ConfigError, Error as CaamError, PointerSize, regs};
use trusted_core::test_util::{CountingDelay, leaked_dma};
use trusted_core::{Error, Mmio, TrustSource};

fn build(cfg: Config, len: usize, bus: u64) -> Result<(), CaamError> {
    let dma = leaked_dma(len, bus);
    let sim = CaamSim::new(dma.bus(), SimConfig::secure(OTPMK));
    Caam::new(sim, dma, CountingDelay::default(), cfg).map(|_| ())
}

#[test]
fn every_config_value_is_checked_with_its_own_error() {
    let with = |f: &dyn Fn(&mut Config)| {
        let mut c = Config::new(0);
        f(&mut c);
        c
    };
    let cases: Vec<(Config, usize, u64, ConfigError)> = vec![
        (
            with(&|c| c.job_ring = 4),
            DMA_LEN,
            BUS,
            ConfigError::JobRing(4),
        ),
        (
            with(&|c| c.page_size = 0),
            DMA_LEN,
            BUS,
            ConfigError::PageSize(0),
        ),
        (
            with(&|c| c.page_size = 1),
            DMA_LEN,
            BUS,
            ConfigError::PageSize(1),
        ),
        (
            with(&|c| c.page_size = 0x100),
            DMA_LEN,
            BUS,
            ConfigError::PageSize(0x100),
        ),
        (
            with(&|c| c.page_size = 0x2000),
            DMA_LEN,
            BUS,
            ConfigError::PageSize(0x2000),
        ),
        (
            with(&|c| c.page_size = usize::MAX),
            DMA_LEN,
            BUS,
            ConfigError::PageSize(usize::MAX),
        ),
        (
            with(&|c| c.ring_size = 0),
            DMA_LEN,
            BUS,
            ConfigError::RingSize(0),
        ),
        (
            with(&|c| c.ring_size = 17),
            DMA_LEN,
            BUS,
            ConfigError::RingSize(17),
        ),
        (
            with(&|c| c.timeout_us = 0),
            DMA_LEN,
            BUS,
            ConfigError::Timeout,
        ),
        (
            with(&|c| c.poll_step_us = 0),
            DMA_LEN,
            BUS,
            ConfigError::PollStep(0),
        ),
        (
            with(&|c| c.poll_step_us = 2_000_000),
            DMA_LEN,
            BUS,
            ConfigError::PollStep(2_000_000),
        ),
        (
            Config::new(0),
            MIN_LEN - 1,
            BUS,
            ConfigError::DmaTooSmall(MIN_LEN - 1),
        ),
        (
            Config::new(0),
            DMA_LEN,
            BUS + 8,
            ConfigError::DmaAlignment(BUS + 8),
        ),
        (
            Config::new(0),
            DMA_LEN,
            BUS + 32,
            ConfigError::DmaAlignment(BUS + 32),
        ),
        (
            Config::new(0),
            DMA_LEN,
            0xFFFF_F040,
            ConfigError::DmaRange(0xFFFF_F040),
        ),
        (
            Config::new(0),
            DMA_LEN,
            0x1_0000_0000,
            ConfigError::DmaRange(0x1_0000_0000),
        ),
    ];
    let mut seen = Vec::new();
    for (cfg, len, bus, want) in cases {
        let got = build(cfg, len, bus);
        assert_eq!(
            got,
            Err(CaamError::Config(want)),
            "{cfg:?} len {len} at {bus:#x}"
        );
        // Each rule maps to its own message at the core boundary too.
        let kind = Error::from(CaamError::Config(want));
        assert!(matches!(kind, Error::InvalidArgument(_)), "{kind:?}");
        if !seen.contains(&kind) {
            seen.push(kind);
        }
    }
    assert_eq!(seen.len(), 8, "one distinct error per rule: {seen:?}");
    // And what is fine stays fine: both page sizes, every ring and size.
    for page in [regs::PAGE_SIZE_4K, regs::PAGE_SIZE_64K] {
        for ring in 0..=3 {
            for size in [1, 4, 16] {
                let mut c = Config::new(ring);
                c.page_size = page;
                c.ring_size = size;
                assert_eq!(build(c, MIN_LEN, BUS), Ok(()));
            }
        }
    }
    let mut long = Config::new(0);
    long.pointer_size = PointerSize::Bits64;
    assert_eq!(build(long, DMA_LEN, 0x1_0000_0000), Ok(()));
}

#[test]
fn every_sim_config_value_is_checked_with_its_own_error() {
    let dma = leaked_dma(DMA_LEN, BUS);
    type Rule = (fn(&mut SimConfig), SimConfigError);
    let cases: [Rule; 6] = [
        (|c| c.job_ring = 4, SimConfigError::JobRing(4)),
        (|c| c.page_size = 0, SimConfigError::PageSize(0)),
        (|c| c.page_size = 1, SimConfigError::PageSize(1)),
        (|c| c.page_size = 0x100, SimConfigError::PageSize(0x100)),
        (|c| c.rng_handles = 0, SimConfigError::RngHandles(0)),
        (|c| c.rng_handles = 3, SimConfigError::RngHandles(3)),
    ];
    for (set, want) in cases {
        let mut cfg = SimConfig::secure(OTPMK);
        set(&mut cfg);
        assert_eq!(cfg.check(), Err(want));
        assert_eq!(CaamSim::try_new(dma.bus(), cfg.clone()).err(), Some(want));
        // Built anyway: absent hardware, never a division by zero.
        let mut sim = CaamSim::new(dma.bus(), cfg);
        assert_eq!(sim.config_error(), Some(want));
        for offset in [0, 4, 0xFD4, 0x1000, 0x1FD4, 0x10_0000, usize::MAX - 3] {
            assert_eq!(sim.read32(offset), 0);
            sim.write32(offset, 0xFFFF_FFFF);
        }
    }
    assert!(CaamSim::try_new(dma.bus(), SimConfig::secure(OTPMK)).is_ok());
    let mut big = SimConfig::secure(OTPMK);
    big.page_size = regs::PAGE_SIZE_64K;
    big.rng_handles = 1;
    assert!(CaamSim::try_new(dma.bus(), big).is_ok());
}

#[test]
fn a_driver_over_a_refused_model_fails_cleanly() {
    let dma = leaked_dma(DMA_LEN, BUS);
    let bus = dma.bus();
    let mut cfg = SimConfig::secure(OTPMK);
    cfg.page_size = 0;
    let sim = CaamSim::new(bus, cfg);
    let caam = Caam::new(sim, dma, CountingDelay::default(), config()).unwrap();
    let mut source = CaamSource::new(caam);
    // JRINTR reads 0: the flush never reports "halt done".
    assert_eq!(source.init(), Err(Error::Hardware(0)));
    assert_dma_zeroed(&bus);
}

#[test]
fn sim_config_debug_hides_the_master_key_and_seed() {
    let mut cfg = SimConfig::secure([0xAB; 32]);
    cfg.entropy_seed = [0xCD; 32];
    let text = format!("{cfg:?}");
    assert!(!text.contains("171") && !text.contains("205"), "{text}");
    assert!(text.contains("page_size"), "{text}");
}
