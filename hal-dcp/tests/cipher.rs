//! AES known answers through the sim-backed driver and the RustCrypto
//! modes (cmac, ctr, aes-gcm) on top of the hardware cipher.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, AesGcm, Nonce};
use cipher::consts::U12;
use cipher::{BlockCipherDecrypt, BlockCipherEncrypt, InnerIvInit, StreamCipher};
use cmac::Cmac;
use common::*;
use ctr::CtrCore;
use digest::{InnerInit, Mac};
use hal_dcp::dcp::{Direction, Mode};
use hal_dcp::{AesKey, DcpAes};
use trusted_core::Error;

fn all_keys(key: &[u8; 16]) -> Vec<(SimDcp, AesKey<'_>)> {
    let mut slot = ready_dcp([0; 16], [0; 16]);
    slot.load_key(2, key).unwrap();
    vec![
        (ready_dcp([0; 16], [0; 16]), AesKey::Payload(key)),
        (slot, AesKey::Slot(2)),
        (ready_dcp(*key, [0; 16]), AesKey::Unique),
        (ready_dcp([0; 16], *key), AesKey::Otp),
    ]
}

#[test]
fn ecb_matches_sp800_38a_for_every_key_source() {
    let key = vector16("aes_key");
    for (mut dcp, k) in all_keys(&key) {
        let mut data = vector("aes_pt");
        dcp.ecb_encrypt(k, &mut data).unwrap();
        assert_eq!(data, vector("aes_ecb_ct"), "{k:?}");
        assert!(dma_is_zero(&dcp));
        dcp.ecb_decrypt(k, &mut data).unwrap();
        assert_eq!(data, vector("aes_pt"), "{k:?}");
        assert_eq!(dcp.jobs(), 2, "{k:?}: one packet each way");
        assert!(dma_is_zero(&dcp));
    }
}

#[test]
fn cbc_matches_sp800_38a_for_every_key_source() {
    let key = vector16("aes_key");
    for (mut dcp, k) in all_keys(&key) {
        let mut iv = vector16("aes_cbc_iv");
        let mut data = vector("aes_pt");
        dcp.crypt(k, Mode::Cbc(&mut iv), Direction::Encrypt, &mut data)
            .unwrap();
        assert_eq!(data, vector("aes_cbc_ct"), "{k:?}");
        assert_eq!(iv[..], vector("aes_cbc_ct")[48..], "IV chains on");
        let mut iv = vector16("aes_cbc_iv");
        dcp.crypt(k, Mode::Cbc(&mut iv), Direction::Decrypt, &mut data)
            .unwrap();
        assert_eq!(data, vector("aes_pt"), "{k:?}");
        assert!(dma_is_zero(&dcp));
    }
}

#[test]
fn data_larger_than_the_dma_region_is_split_into_packets_and_chains() {
    // 304-byte region: one block per packet.
    let mut dcp = dcp_with(hal_dcp::MIN_DMA_LEN, [0; 16], [0; 16]);
    dcp.init().unwrap();
    let key = vector16("aes_key");
    let mut iv = vector16("aes_cbc_iv");
    let mut data = vector("aes_pt");
    dcp.crypt(
        AesKey::Payload(&key),
        Mode::Cbc(&mut iv),
        Direction::Encrypt,
        &mut data,
    )
    .unwrap();
    assert_eq!(data, vector("aes_cbc_ct"));
    assert_eq!(dcp.jobs(), 4);
    assert_eq!(dcp.mmio_mut().job_count(), 4);
}

#[test]
fn cbc_split_across_calls_chains_like_one_call() {
    let key = vector16("aes_key");
    let mut dcp = ready_dcp([0; 16], [0; 16]);
    let mut iv = vector16("aes_cbc_iv");
    let mut data = vector("aes_pt");
    let (a, b) = data.split_at_mut(32);
    dcp.crypt(
        AesKey::Payload(&key),
        Mode::Cbc(&mut iv),
        Direction::Encrypt,
        a,
    )
    .unwrap();
    dcp.crypt(
        AesKey::Payload(&key),
        Mode::Cbc(&mut iv),
        Direction::Encrypt,
        b,
    )
    .unwrap();
    assert_eq!(data, vector("aes_cbc_ct"));
}

#[test]
fn bad_arguments_are_refused_without_a_job() {
    let key = [0u8; 16];
    let mut dcp = dcp([0; 16], [0; 16]);
    assert!(matches!(
        dcp.ecb_encrypt(AesKey::Payload(&key), &mut [0; 16]),
        Err(Error::InvalidArgument(_))
    ));
    dcp.init().unwrap();
    assert!(matches!(
        dcp.ecb_encrypt(AesKey::Payload(&key), &mut [0; 15]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        dcp.ecb_encrypt(AesKey::Slot(4), &mut [0; 16]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(dcp.load_key(4, &key).is_err());
    assert_eq!(dcp.jobs(), 0);
}

#[test]
fn hardware_cipher_blocks_match_software_aes() {
    let key = vector16("aes_key");
    let mut dcp = ready_dcp(key, [0; 16]);
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let first: [u8; 16] = vector("aes_pt")[..16].try_into().unwrap();
    let mut block = cipher::Array::from(first);
    aes.encrypt_block(&mut block);
    assert_eq!(block[..], vector("aes_ecb_ct")[..16]);
    aes.decrypt_block(&mut block);
    assert_eq!(block[..], vector("aes_pt")[..16]);
    aes.finish().unwrap();
}

#[test]
fn cmac_over_the_hardware_cipher_matches_rfc4493() {
    let key = vector16("aes_key");
    for i in 1..=4 {
        let mut dcp = ready_dcp(key, [0; 16]);
        let aes = DcpAes::new(&mut dcp, AesKey::Unique);
        let mut mac = <Cmac<&DcpAes<_, _, _>> as InnerInit>::inner_init(&aes);
        mac.update(&vector(&format!("cmac_msg{i}")));
        let tag = mac.finalize().into_bytes();
        assert!(aes.error().is_none());
        assert_eq!(tag[..], vector(&format!("cmac_tag{i}")), "example {i}");
        aes.finish().unwrap();
        // Subkey L = E(0), one job per full message block, the last block.
        let blocks = vector(&format!("cmac_msg{i}")).len().div_ceil(16).max(1);
        assert_eq!(dcp.jobs() as usize, 1 + blocks, "example {i}");
    }
}

#[test]
fn ctr_and_gcm_on_the_hardware_cipher_match_software() {
    let key = [0x5au8; 16];
    let mut dcp = ready_dcp([0; 16], [0; 16]);
    dcp.load_key(0, &key).unwrap();
    let msg: Vec<u8> = (0..77u8).collect();

    let aes = DcpAes::new(&mut dcp, AesKey::Slot(0));
    let mut hw = msg.clone();
    ctr::Ctr128BE::from_core(CtrCore::inner_iv_init(&aes, &[7u8; 16].into()))
        .apply_keystream(&mut hw);
    let mut sw = msg.clone();
    ctr::Ctr128BE::from_core(CtrCore::inner_iv_init(
        aes::Aes128::new(&key.into()),
        &[7u8; 16].into(),
    ))
    .apply_keystream(&mut sw);
    assert_eq!(hw, sw);

    let nonce = Nonce::<U12>::from([9u8; 12]);
    let mut hw = msg.clone();
    let hw_tag = AesGcm::<_, U12>::from(&aes)
        .encrypt_inout_detached(&nonce, b"aad", hw.as_mut_slice().into())
        .unwrap();
    let mut sw = msg.clone();
    let sw_tag = Aes128Gcm::new(&key.into())
        .encrypt_inout_detached(&nonce, b"aad", sw.as_mut_slice().into())
        .unwrap();
    assert_eq!((hw, hw_tag), (sw, sw_tag));
    aes.finish().unwrap();
}

#[test]
fn cipher_latches_an_error_status_and_outputs_zero() {
    let mut dcp = ready_dcp([1; 16], [0; 16]);
    dcp.mmio_mut()
        .fail_next_packet(hal_dcp::regs::CH_STAT_ERROR_SRC);
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let mut blocks = [cipher::Array::from([0xAAu8; 16]); 3];
    aes.encrypt_blocks(&mut blocks);
    assert!(blocks.iter().all(|b| b.iter().all(|&x| x == 0)));
    assert_eq!(
        aes.error(),
        Some(Error::Hardware(hal_dcp::regs::CH_STAT_ERROR_SRC))
    );
    assert!(aes.finish().is_err());
    // The latched error stopped further jobs.
    assert_eq!(dcp.jobs(), 1);
    assert!(dma_is_zero(&dcp));
}

#[test]
fn cipher_latches_a_timeout_and_the_block_is_reset() {
    let mut dcp = ready_dcp([1; 16], [0; 16]);
    dcp.mmio_mut().hang_next_packet();
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let mut block = cipher::Array::from([0xAAu8; 16]);
    aes.encrypt_block(&mut block);
    assert_eq!(block[..], [0; 16]);
    assert_eq!(aes.finish(), Err(Error::Timeout));
    assert!(!dcp.is_ready());
    assert!(dma_is_zero(&dcp));
    // A fresh init recovers the block.
    dcp.init().unwrap();
    dcp.ecb_encrypt(AesKey::Unique, &mut [0; 16]).unwrap();
}

#[test]
fn corrupt_output_is_passed_through_by_the_engine_layer() {
    // The DCP has no integrity check of its own: a flipped output bit is
    // only caught by the layer above (GCM tag, blob check).
    let key = vector16("aes_key");
    let mut dcp = ready_dcp(key, [0; 16]);
    dcp.mmio_mut().corrupt_next_output(3, 0x10);
    let mut data = vector("aes_pt")[..16].to_vec();
    dcp.ecb_encrypt(AesKey::Unique, &mut data).unwrap();
    let mut expect = vector("aes_ecb_ct")[..16].to_vec();
    expect[3] ^= 0x10;
    assert_eq!(data, expect);
    let log = dcp.mmio_mut().jobs().to_vec();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].key, hal_dcp::sim::KeyUsed::Unique);
}

#[test]
fn otp_key_not_ready_times_out_before_any_job() {
    let mut dcp = ready_dcp([1; 16], [0; 16]);
    dcp.mmio_mut().set_otp_key_ready(false);
    assert_eq!(
        dcp.ecb_encrypt(AesKey::Otp, &mut [0; 16]),
        Err(Error::Timeout)
    );
    assert_eq!(dcp.jobs(), 0);
}

#[test]
fn reading_the_dma_region_size_is_enforced() {
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; 64].into_boxed_slice());
    let dma = trusted_core::StaticDma::new(buffer, BUS, trusted_core::NoCache);
    let sim = hal_dcp::sim::DcpSim::new(dma.bus());
    assert!(hal_dcp::Dcp::new(sim, dma, hal_dcp::sim::NoDelay).is_err());
    let buffer: &'static mut [u8] = Box::leak(vec![0u8; 512].into_boxed_slice());
    let dma = trusted_core::StaticDma::new(buffer, 0xFFFF_FF00, trusted_core::NoCache);
    let sim = hal_dcp::sim::DcpSim::new(dma.bus());
    assert!(hal_dcp::Dcp::new(sim, dma, hal_dcp::sim::NoDelay).is_err());
}
