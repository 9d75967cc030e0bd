//! OP-TEE's DCP HUK: value, job count, DISABLE_UNIQUE_KEY, caching, faults,
//! and TEE blobs on top of it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use hal_dcp::sim::KeyUsed;
use hal_dcp::{DcpHuk, regs};
use trusted_core::tee::TeeSealer;
use trusted_core::{Error, Huk, Key, TrustSource};

#[test]
fn huk_of_an_unfused_part_is_vector_b() {
    let mut huk = DcpHuk::new(dcp([0; 16], [0; 16]));
    assert_eq!(*huk.hardware_unique_key().unwrap(), vector16("huk_zero"));
}

#[test]
fn huk_takes_two_dcp_jobs_with_key_0xfe_then_disables_the_unique_key() {
    let mut huk = DcpHuk::new(dcp(vector16("unique_1"), vector16("otp_1")));
    assert_eq!(*huk.hardware_unique_key().unwrap(), vector16("huk_1"));
    let dcp = huk.dcp_mut();
    assert_eq!(dcp.jobs(), 2, "subkey L = E(0) and the single block");
    assert!(dcp.unique_key_disabled());
    let log = dcp.mmio_mut().jobs().to_vec();
    assert_eq!(log.len(), 2);
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
    let mut huk = DcpHuk::new(dcp(vector16("unique_1"), [0; 16]));
    let first = huk.hardware_unique_key().unwrap();
    let second = huk.hardware_unique_key().unwrap();
    assert_eq!(*first, *second);
    assert_eq!(huk.dcp_mut().jobs(), 2);
    // The hardware really refuses 0xFE now.
    let dcp = huk.dcp_mut();
    assert_eq!(
        dcp.ecb_encrypt(hal_dcp::AesKey::Unique, &mut [0; 16]),
        Err(Error::Hardware(regs::CH_STAT_ERROR_SETUP))
    );
}

#[test]
fn a_power_cycle_re_enables_the_unique_key() {
    let mut huk = DcpHuk::new(dcp(vector16("unique_1"), [0; 16]));
    huk.hardware_unique_key().unwrap();
    let mut dcp = huk.into_inner();
    dcp.init().unwrap();
    assert!(dcp.unique_key_disabled(), "soft reset keeps it disabled");
    dcp.mmio_mut().power_on_reset();
    dcp.init().unwrap();
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(*huk.hardware_unique_key().unwrap(), vector16("huk_1"));
}

#[test]
fn error_status_during_huk_is_final_and_disables_the_key_anyway() {
    let mut dcp = dcp(vector16("unique_1"), [0; 16]);
    dcp.init().unwrap();
    dcp.mmio_mut().fail_next_packet(regs::CH_STAT_ERROR_PACKET);
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(
        huk.hardware_unique_key().map(|h| *h),
        Err(Error::Hardware(regs::CH_STAT_ERROR_PACKET))
    );
    assert!(huk.dcp_mut().unique_key_disabled());
    assert_eq!(
        huk.dcp_mut().jobs(),
        1,
        "the latched error stopped the CMAC"
    );
    assert!(dma_is_zero(huk.dcp_mut()));
    assert_eq!(
        huk.hardware_unique_key().map(|h| *h),
        Err(Error::Hardware(regs::CH_STAT_ERROR_PACKET))
    );
    assert_eq!(huk.dcp_mut().jobs(), 1);
}

#[test]
fn huk_job_that_never_completes_times_out() {
    let mut dcp = dcp(vector16("unique_1"), [0; 16]);
    dcp.init().unwrap();
    dcp.mmio_mut().hang_next_packet();
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::Timeout));
    assert!(dma_is_zero(huk.dcp_mut()));
}

#[test]
fn corrupt_output_during_huk_gives_a_different_huk() {
    // Nothing in OP-TEE's derivation can detect it; the TEE blobs sealed
    // with it then fail to open on the next boot.
    let mut dcp = dcp(vector16("unique_1"), [0; 16]);
    dcp.init().unwrap();
    dcp.mmio_mut().corrupt_next_output(0, 1);
    let mut huk = DcpHuk::new(dcp);
    assert_ne!(*huk.hardware_unique_key().unwrap(), vector16("huk_1"));
}

#[test]
fn absent_dcp_is_no_device_and_retryable() {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; 512].into_boxed_slice());
    let dma = trusted_core::StaticDma::new(buffer, BUS, trusted_core::NoCache);
    let regs = trusted_core::RegisterFile::<0x110>::default();
    let dcp = hal_dcp::Dcp::new(regs, dma, hal_dcp::sim::NoDelay).unwrap();
    let mut huk = DcpHuk::new(dcp);
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::NoDevice));
    assert_eq!(huk.hardware_unique_key().map(|h| *h), Err(Error::NoDevice));
}

#[test]
fn tee_blobs_from_the_dcp_huk_match_the_independent_reference() {
    let huk = DcpHuk::new(dcp(vector16("unique_1"), [0; 16]));
    let mut tee = TeeSealer::new(huk, ScriptRng(vec![vector("tee_iv")]));
    let key = Key::from_slice(&(0..32).collect::<Vec<u8>>()).unwrap();
    let blob = tee.seal(&key, "").unwrap();
    assert_eq!(blob.as_bytes(), vector("tee_blob_huk_1").as_slice());
    assert_eq!(tee.unseal(blob.as_bytes(), "").unwrap(), key);
    let (mut huk, _) = tee.into_inner();
    assert_eq!(huk.dcp_mut().jobs(), 2, "one HUK derivation for both");
}
