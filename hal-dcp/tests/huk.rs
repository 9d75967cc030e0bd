//! OP-TEE's DCP HUK: value, job count, DISABLE_UNIQUE_KEY, caching, faults,
//! and TEE blobs on top of it.
mod common;

use common::*;
use hal_dcp::sim::{Fault, KeyUsed};
use hal_dcp::{AesKey, DcpHuk, regs};
use trusted_core::tee::TeeSealer;
use trusted_core::test_util::{NoDelay, ScriptRng, leaked_dma};
use trusted_core::{Error, Huk, Key, TrustSource};

fn huk_1() -> [u8; 16] {
    vector("device-1").array("huk")
}

/// The UNIQUE key of `[device-1]`, an all-zero OTP key.
fn unique_1() -> SimDcp {
    dcp(vector("device-1").array("unique"), [0; 16])
}

#[test]
fn huk_of_an_unfused_part_is_vector_b() {
    let mut huk = DcpHuk::new(device("device-zero"));
    assert_eq!(
        *huk.hardware_unique_key().unwrap(),
        vector("device-zero").array::<16>("huk")
    );
}

#[test]
fn huk_derives_twice_in_four_dcp_jobs_with_key_0xfe_then_disables_the_unique_key() {
    let mut huk = DcpHuk::new(device("device-1"));
    assert_eq!(*huk.hardware_unique_key().unwrap(), huk_1());
    let dcp = huk.driver_mut();
    assert_eq!(dcp.jobs(), 4, "twice: subkey L = E(0) and the single block");
    assert!(dcp.unique_key_disabled());
    let log = dcp.regs_mut().jobs().to_vec();
    assert_eq!(log.len(), 4);
    for job in &log {
        assert_eq!(job.key, KeyUsed::Unique);
        assert_eq!(job.ctrl0 & regs::C0_OTP_KEY, 0, "OP-TEE clears OTP_KEY");
        assert_eq!((job.ctrl1 >> 8) & 0xFF, 0xFE);
        assert_ne!(job.ctrl0 & regs::C0_CIPHER_ENCRYPT, 0);
        assert_eq!(job.size, 16);
    }
    assert!(dma_is_zero(dcp));
}

#[test]
fn huk_is_cached_after_the_unique_key_is_gone() {
    let mut huk = DcpHuk::new(unique_1());
    let first = huk.hardware_unique_key().unwrap();
    let second = huk.hardware_unique_key().unwrap();
    assert_eq!(*first, *second);
    assert_eq!(huk.driver_mut().jobs(), 4);
    // The hardware really refuses 0xFE now.
    let dcp = huk.driver_mut();
    assert_eq!(
        dcp.ecb_encrypt(AesKey::Unique, &mut [0; 16]),
        Err(hal_dcp::Error::ChannelStatus(regs::CH_STAT_ERROR_SETUP))
    );
}

#[test]
fn a_power_cycle_re_enables_the_unique_key() {
    let mut huk = DcpHuk::new(unique_1());
    huk.hardware_unique_key().unwrap();
    let mut dcp = huk.into_inner();
    dcp.init().unwrap();
    assert!(dcp.unique_key_disabled(), "soft reset keeps it disabled");
    dcp.regs_mut().power_on_reset();
    dcp.init().unwrap();
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(*huk.hardware_unique_key().unwrap(), huk_1());
}

#[test]
fn error_status_during_huk_is_final_and_disables_the_key_anyway() {
    let mut dcp = unique_1();
    dcp.init().unwrap();
    dcp.regs_mut()
        .inject(Fault::ErrorStatus(regs::CH_STAT_ERROR_PACKET));
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(
        huk.hardware_unique_key().map(|h| *h),
        Err(Error::Hardware(regs::CH_STAT_ERROR_PACKET))
    );
    assert!(huk.driver_mut().unique_key_disabled());
    assert_eq!(
        huk.driver_mut().jobs(),
        1,
        "the latched error stopped the CMAC"
    );
    assert!(dma_is_zero(huk.driver_mut()));
    assert_eq!(
        huk.hardware_unique_key().map(|h| *h),
        Err(Error::Hardware(regs::CH_STAT_ERROR_PACKET))
    );
    assert_eq!(huk.driver_mut().jobs(), 1);
}

#[test]
fn huk_job_that_never_completes_times_out() {
    let mut dcp = unique_1();
    dcp.init().unwrap();
    dcp.regs_mut().inject(Fault::NoCompletion);
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::Timeout));
    assert!(dma_is_zero(huk.driver_mut()));
}

#[test]
fn corrupt_output_during_huk_is_caught_by_the_second_derivation() {
    // OP-TEE's single derivation cannot detect it (TEE blobs sealed with
    // the wrong HUK would then fail to open on the next boot); deriving
    // twice does, for every bit of the first job's output.
    for bit in 0..128 {
        let mut dcp = unique_1();
        dcp.init().unwrap();
        dcp.regs_mut().inject(Fault::CorruptOutput {
            index: bit / 8,
            xor: 1 << (bit % 8),
        });
        let mut huk = DcpHuk::new(dcp);
        assert_eq!(
            huk.hardware_unique_key().map(|h| *h),
            Err(Error::Malformed(
                "DCP HUK derivation gave two different results (glitch or corrupted job)"
            )),
            "bit {bit}"
        );
        assert!(huk.driver_mut().unique_key_disabled());
        assert!(dma_is_zero(huk.driver_mut()));
    }
}

#[test]
fn absent_dcp_is_no_device_and_retryable() {
    let dma = leaked_dma(512, BUS);
    let regs = trusted_core::RegisterFile::<0x110>::default();
    let dcp = hal_dcp::Dcp::new(regs, dma, NoDelay).unwrap();
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::NoDevice));
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::NoDevice));
}

#[test]
fn tee_blobs_from_the_dcp_huk_match_the_independent_reference() {
    let v = vector("tee-huk-1");
    let huk = DcpHuk::new(unique_1());
    let mut tee = TeeSealer::new(huk, ScriptRng::new(&v.bytes("iv")));
    let key = Key::from_slice(&v.bytes("key")).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    assert_eq!(blob.as_bytes(), v.bytes("blob").as_slice());
    assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
    let (mut huk, rng) = tee.into_inner();
    assert_eq!(rng.remaining(), 0, "the IV came from the script");
    assert_eq!(
        huk.driver_mut().jobs(),
        4,
        "one (doubled) HUK derivation for both"
    );
}
