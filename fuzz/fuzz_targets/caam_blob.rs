//! Linux `trusted_caam` blobs (`hal_caam::source`): any bytes into `unseal`
//! through the register-level CAAM model with the OTPMK of the committed
//! vector (so the seed opens), secure and non-secure; then seal→unseal
//! round trips of any key.
#![no_main]

use hal_caam::sim::{CaamSim, SimConfig};
use hal_caam::{Caam, CaamSource, Config};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::NoDelay;
use trusted_core::{Key, StaticDma, TrustSource};
use trusted_keys_fuzz::{VectorFile, dma, dma_is_zero, vector};

const BUS: u64 = 0x8000_0000;

type SimSource = CaamSource<CaamSim, StaticDma, NoDelay>;

fn source(sim: SimConfig) -> SimSource {
    let region = dma(4096, BUS);
    let sim = CaamSim::new(region.bus(), sim);
    let mut cfg = Config::new(0);
    cfg.timeout_us = 1_000;
    CaamSource::new(Caam::new(sim, region, NoDelay, cfg).expect("test configuration"))
}

fuzz_target!(|data: &[u8]| {
    let otpmk = vector(VectorFile::Caam, "sim-blob").array::<32>("otpmk");
    for sim in [SimConfig::secure(otpmk), SimConfig::non_secure(otpmk)] {
        let mut src = source(sim).allow_insecure();
        let unsealed = src.unseal(data, "");
        if let Ok(key) = &unsealed {
            assert_eq!(key.len() + 48, data.len());
        }
        assert!(
            dma_is_zero(src.driver_mut().dma()),
            "the DMA region is wiped after unseal"
        );
    }
    if let Ok(key) = Key::from_slice(data) {
        let mut src = source(SimConfig::secure(otpmk));
        let blob = src.seal(&key, "").expect("seal of a valid key");
        assert_eq!(blob.len(), key.len() + 48);
        assert_eq!(
            src.unseal(blob.as_bytes(), "").expect("own blob opens"),
            key
        );
        assert!(dma_is_zero(src.driver_mut().dma()));
    }
});
