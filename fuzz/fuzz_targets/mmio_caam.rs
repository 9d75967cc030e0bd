//! Register-read corruption in the CAAM (`hal_caam`): every read of the
//! register block goes through a fuzzed XOR plan while the driver runs
//! init (ring set-up, security state, RNG4 instantiation), the RNG, seal,
//! unseal and the MKVB HUK. Whatever the corruption: no panic, no hang,
//! the DMA region wiped after every operation, failed outputs zero, and an
//! unseal that succeeds gives the sealed key.
#![no_main]

use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamHuk, CaamSource, Config, HukOptions};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_core::{Key, StaticDma, TrustSource};
use trusted_keys_fuzz::{Input, ReadPlan, XorMmio, dma, dma_is_zero, pieces};

const BUS: u64 = 0x8000_0000;
const OTPMK: [u8; 32] = [0x11; 32];

type Driver = Caam<XorMmio<CaamSim>, StaticDma, NoDelay>;

fn caam(sim: SimConfig, plan: ReadPlan, timeout_us: u32) -> Driver {
    let region = dma(4096, BUS);
    let sim = CaamSim::new(region.bus(), sim);
    let mut cfg = Config::new(0);
    cfg.timeout_us = timeout_us;
    cfg.poll_step_us = 10;
    Caam::new(XorMmio::new(sim, plan), region, NoDelay, cfg).expect("test configuration")
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let mut control = Input::new(parts.next().unwrap_or_default());
    let plan = ReadPlan::decode(parts.next().unwrap_or_default());
    let flags = control.byte();
    let timeout = 20 + u32::from(control.byte());
    let config = if flags & 1 != 0 {
        SimConfig::non_secure(OTPMK)
    } else {
        SimConfig::secure(OTPMK)
    };
    let key = Key::from_slice(&[0x42; 48]).expect("48 bytes");

    // A blob sealed on a clean CAAM, to unseal under corruption.
    let blob = {
        let mut clean =
            CaamSource::new(caam(SimConfig::secure(OTPMK), ReadPlan::default(), 10_000));
        clean.seal(&key, "").expect("a clean seal")
    };

    let mut src = CaamSource::new(caam(config.clone(), plan.clone(), timeout));
    if flags & 2 != 0 {
        src = src.allow_insecure();
    }
    let _ = src.init();
    assert!(dma_is_zero(src.driver_mut().dma()));
    let mut random = [0xa5u8; 40];
    if src.driver_mut().random(&mut random).is_err() {
        assert!(random.iter().all(|&b| b == 0), "failed random left bytes");
    }
    assert!(dma_is_zero(src.driver_mut().dma()));
    let _ = src.seal(&key, "");
    assert!(dma_is_zero(src.driver_mut().dma()));
    if let Ok(k) = src.unseal(blob.as_bytes(), "") {
        assert_eq!(k, key, "unseal gave another key");
    }
    assert!(dma_is_zero(src.driver_mut().dma()));

    let mut driver = caam(config, plan, timeout);
    let options = if flags & 4 != 0 {
        HukOptions::new().increment_priblob()
    } else {
        HukOptions::new()
    };
    let _ = CaamHuk::new(&mut driver, options);
    assert!(dma_is_zero(driver.dma()));
});
