//! Linux `trusted_dcp` blobs (`hal_dcp::source`): any bytes into the header
//! parsers and into `unseal` through the register-level DCP model, under
//! the fused keys of the committed vectors (so the seeds open), with both
//! hardware keys; then seal→unseal round trips of any key.
#![no_main]

use hal_dcp::sim::DcpSim;
use hal_dcp::source::{DCP_BLOB_OVERHEAD, parse_blob, parse_blob_header};
use hal_dcp::{Dcp, DcpSource, SealingKey};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::{NoDelay, ScriptRng};
use trusted_core::{Key, StaticDma, TrustSource};
use trusted_keys_fuzz::{VectorFile, dma, dma_is_zero, vector};

const BUS: u64 = 0x8010_0000;

type SimSource = DcpSource<DcpSim, StaticDma, NoDelay, ScriptRng>;

fn source(device: &str, key: SealingKey, rng: ScriptRng) -> SimSource {
    let keys = vector(VectorFile::Dcp, device);
    let region = dma(1024, BUS);
    let sim = DcpSim::new(region.bus())
        .with_unique_key(keys.array::<16>("unique"))
        .with_otp_key(keys.array::<16>("otp"));
    let dcp = Dcp::new(sim, region, NoDelay).expect("a valid region");
    DcpSource::new(dcp, rng)
        .with_sealing_key(key)
        .allow_insecure()
}

fuzz_target!(|data: &[u8]| {
    let header = parse_blob_header(data);
    let fields = parse_blob(data);
    assert_eq!(header.is_ok(), fields.is_ok());
    if let (Ok(n), Ok(f)) = (header, fields) {
        assert_eq!(n + DCP_BLOB_OVERHEAD, data.len());
        assert_eq!(f.payload.len(), n);
        assert_eq!(f.tag.len(), 16);
    }
    for (device, key) in [
        ("device-zero", SealingKey::Unique),
        ("device-1", SealingKey::Unique),
        ("device-1", SealingKey::Otp),
    ] {
        let mut src = source(device, key, ScriptRng::counting(0));
        let mut out = [0xa5u8; 160];
        match src.unseal_into(data, &mut out) {
            Ok(n) => {
                assert_eq!(Ok(n), header);
                assert_eq!(
                    src.unseal(data, "").expect("unseal agrees").as_bytes(),
                    &out[..n]
                );
            }
            Err(_) => {
                assert!(
                    out.iter().all(|&b| b == 0),
                    "a failed unseal leaves no bytes"
                );
                assert!(src.unseal(data, "").is_err());
            }
        }
        assert!(
            dma_is_zero(src.driver_mut().dma()),
            "the DMA region is wiped after unseal"
        );
    }
    if let Ok(key) = Key::from_slice(data) {
        let mut src = source("device-1", SealingKey::Unique, ScriptRng::new(data));
        let blob = src.seal(&key, "").expect("seal of a valid key");
        assert_eq!(parse_blob_header(blob.as_bytes()), Ok(key.len()));
        assert_eq!(
            src.unseal(blob.as_bytes(), "").expect("own blob opens"),
            key
        );
        assert!(dma_is_zero(src.driver_mut().dma()));
    }
});
