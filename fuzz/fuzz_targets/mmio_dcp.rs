//! Register-read corruption in the DCP and the RNGB (`hal_dcp`): every
//! read of the register block goes through a fuzzed XOR plan while the
//! driver runs init (with the zero-key self test), seal, unseal, the
//! OP-TEE HUK, and the RNGB's init and fill. Whatever the corruption:
//! no panic, no hang, the DMA region wiped after every operation, failed
//! outputs zero, an unseal that succeeds gives the sealed key, and a part
//! whose hardware key is the all-zero test key never passes init (the
//! self test's data travels by DMA, not through a register).
#![no_main]

use hal_dcp::sim::DcpSim;
use hal_dcp::sim::rngb::RngbSim;
use hal_dcp::{Dcp, DcpHuk, DcpSource, Rngb, SealingKey};
use libfuzzer_sys::fuzz_target;
use trusted_core::test_util::{NoDelay, ScriptRng};
use trusted_core::{Huk, Key, StaticDma, TrustSource};
use trusted_keys_fuzz::{Input, ReadPlan, VectorFile, XorMmio, dma, dma_is_zero, pieces, vector};

const BUS: u64 = 0x8010_0000;

type Source = DcpSource<XorMmio<DcpSim>, StaticDma, NoDelay, ScriptRng>;

fn dcp(device: &str, plan: ReadPlan, timeout_us: u32) -> Dcp<XorMmio<DcpSim>, StaticDma, NoDelay> {
    let keys = vector(VectorFile::Dcp, device);
    let region = dma(1024, BUS);
    let sim = DcpSim::new(region.bus())
        .with_unique_key(keys.array::<16>("unique"))
        .with_otp_key(keys.array::<16>("otp"));
    let mut dcp = Dcp::new(XorMmio::new(sim, plan), region, NoDelay).expect("a valid region");
    dcp.set_timeout_us(timeout_us);
    dcp
}

fuzz_target!(|data: &[u8]| {
    let mut parts = pieces(data);
    let mut control = Input::new(parts.next().unwrap_or_default());
    let plan = ReadPlan::decode(parts.next().unwrap_or_default());
    let flags = control.byte();
    let timeout = 50 + u32::from(control.byte());
    let zero_part = flags & 1 != 0;
    let device = if zero_part { "device-zero" } else { "device-1" };
    let sealing = if flags & 2 != 0 {
        SealingKey::Otp
    } else {
        SealingKey::Unique
    };
    let key = Key::from_slice(&[0x42; 48]).expect("48 bytes");

    // A blob sealed on a clean device, to unseal under corruption.
    let blob = {
        let mut clean: Source = DcpSource::new(
            dcp("device-1", ReadPlan::default(), 10_000),
            ScriptRng::counting(9),
        )
        .with_sealing_key(sealing);
        clean.seal(&key, "").expect("a clean seal")
    };

    let mut src: Source =
        DcpSource::new(dcp(device, plan.clone(), timeout), ScriptRng::counting(1))
            .with_sealing_key(sealing);
    let init = src.init();
    assert!(
        !(zero_part && init.is_ok()),
        "a zero-key DCP passed the self test under register corruption"
    );
    assert!(dma_is_zero(src.driver_mut().dma()));
    let sealed = src.seal(&key, "");
    assert!(!(zero_part && sealed.is_ok()), "sealed under the zero key");
    assert!(dma_is_zero(src.driver_mut().dma()));
    let mut out = [0xa5u8; 64];
    match src.unseal_into(blob.as_bytes(), &mut out) {
        Ok(n) => {
            assert!(!zero_part);
            assert_eq!(&out[..n], key.as_bytes(), "unseal gave another key");
        }
        Err(_) => assert!(out.iter().all(|&b| b == 0), "failed unseal left bytes"),
    }
    assert!(dma_is_zero(src.driver_mut().dma()));

    let mut huk = DcpHuk::new(dcp(device, plan.clone(), timeout));
    let first = huk.hardware_unique_key();
    let second = huk.hardware_unique_key();
    if let (Ok(a), Ok(b)) = (&first, &second) {
        assert_eq!(a, b, "the cached HUK changed");
        assert_eq!(
            &a[..],
            &vector(VectorFile::Dcp, device).bytes("huk")[..],
            "a wrong HUK"
        );
    }
    assert!(dma_is_zero(huk.driver_mut().dma()));

    let mut rngb = Rngb::new(XorMmio::new(RngbSim::new(), plan), NoDelay);
    rngb.set_timeout_us(timeout);
    let _ = rngb.init();
    let mut random = [0xa5u8; 40];
    if rngb.fill(&mut random).is_err() {
        assert!(random.iter().all(|&b| b == 0), "failed fill left bytes");
    }
});
