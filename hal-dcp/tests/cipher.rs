//! AES known answers through the sim-backed driver and the RustCrypto
//! modes (cmac, ctr, aes-gcm) on top of the hardware cipher.
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
use hal_dcp::sim::{DcpSim, Fault, KeyUsed};
use hal_dcp::{AesKey, Dcp, DcpAes, Error, Wait, regs};
use trusted_core::test_util::{CountingDelay, NoDelay, Section, leaked_dma};

fn aes128() -> &'static Section {
    vector("aes-128")
}

fn all_keys(key: &[u8; 16]) -> Vec<(SimDcp, AesKey<'_>)> {
    let mut slot = ready_dcp([0; 16], [0; 16]);
    assert_eq!(slot.load_key(2, key), Ok(()));
    vec![
        (ready_dcp([0; 16], [0; 16]), AesKey::Payload(key)),
        (slot, AesKey::Slot(2)),
        (ready_dcp(*key, [0; 16]), AesKey::Unique),
        (ready_dcp([0; 16], *key), AesKey::Otp),
    ]
}

#[test]
fn ecb_matches_sp800_38a_for_every_key_source() {
    let key = aes128().array("key");
    for (mut dcp, k) in all_keys(&key) {
        let mut data = aes128().bytes("pt");
        dcp.ecb_encrypt(k, &mut data).unwrap();
        assert_eq!(data, aes128().bytes("ecb_ct"), "{k:?}");
        assert!(dma_is_zero(&dcp));
        dcp.ecb_decrypt(k, &mut data).unwrap();
        assert_eq!(data, aes128().bytes("pt"), "{k:?}");
        assert_eq!(dcp.jobs(), 2, "{k:?}: one packet each way");
        assert!(dma_is_zero(&dcp));
    }
}

#[test]
fn cbc_matches_sp800_38a_for_every_key_source() {
    let key = aes128().array("key");
    for (mut dcp, k) in all_keys(&key) {
        let mut iv = aes128().array("cbc_iv");
        let mut data = aes128().bytes("pt");
        dcp.crypt(k, Mode::Cbc(&mut iv), Direction::Encrypt, &mut data)
            .unwrap();
        assert_eq!(data, aes128().bytes("cbc_ct"), "{k:?}");
        assert_eq!(iv[..], aes128().bytes("cbc_ct")[48..], "IV chains on");
        let mut iv = aes128().array("cbc_iv");
        dcp.crypt(k, Mode::Cbc(&mut iv), Direction::Decrypt, &mut data)
            .unwrap();
        assert_eq!(data, aes128().bytes("pt"), "{k:?}");
        assert!(dma_is_zero(&dcp));
    }
}

#[test]
fn data_larger_than_the_dma_region_is_split_into_packets_and_chains() {
    // 304-byte region: one block per packet.
    let mut dcp = dcp_with(hal_dcp::MIN_DMA_LEN, [0; 16], [0; 16]);
    dcp.init().unwrap();
    let key = aes128().array("key");
    let mut iv = aes128().array("cbc_iv");
    let mut data = aes128().bytes("pt");
    dcp.crypt(
        AesKey::Payload(&key),
        Mode::Cbc(&mut iv),
        Direction::Encrypt,
        &mut data,
    )
    .unwrap();
    assert_eq!(data, aes128().bytes("cbc_ct"));
    assert_eq!(dcp.jobs(), 4);
    assert_eq!(dcp.regs_mut().job_count(), 4);
}

#[test]
fn cbc_split_across_calls_chains_like_one_call() {
    let key = aes128().array("key");
    let mut dcp = ready_dcp([0; 16], [0; 16]);
    let mut iv = aes128().array("cbc_iv");
    let mut data = aes128().bytes("pt");
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
    assert_eq!(data, aes128().bytes("cbc_ct"));
}

#[test]
fn bad_arguments_are_refused_without_a_job() {
    let key = [0u8; 16];
    let mut dcp = dcp([0; 16], [0; 16]);
    assert_eq!(
        dcp.ecb_encrypt(AesKey::Payload(&key), &mut [0; 16]),
        Err(Error::NotReady)
    );
    dcp.init().unwrap();
    assert_eq!(
        dcp.ecb_encrypt(AesKey::Payload(&key), &mut [0; 15]),
        Err(Error::DataLength(15))
    );
    assert_eq!(
        dcp.ecb_encrypt(AesKey::Slot(4), &mut [0; 16]),
        Err(Error::KeySlot(4))
    );
    assert_eq!(dcp.load_key(4, &key), Err(Error::KeySlot(4)));
    assert_eq!(dcp.jobs(), 0);
}

#[test]
fn hardware_cipher_blocks_match_software_aes() {
    let key = aes128().array("key");
    let mut dcp = ready_dcp(key, [0; 16]);
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let first: [u8; 16] = aes128().bytes("pt")[..16].try_into().unwrap();
    let mut block = cipher::Array::from(first);
    aes.encrypt_block(&mut block);
    assert_eq!(block[..], aes128().bytes("ecb_ct")[..16]);
    aes.decrypt_block(&mut block);
    assert_eq!(block[..], aes128().bytes("pt")[..16]);
    aes.finish().unwrap();
}

#[test]
fn cmac_over_the_hardware_cipher_matches_rfc4493() {
    let key = aes128().array("key");
    for i in 1..=4 {
        let mut dcp = ready_dcp(key, [0; 16]);
        let aes = DcpAes::new(&mut dcp, AesKey::Unique);
        let mut mac = <Cmac<&DcpAes<_, _, _>> as InnerInit>::inner_init(&aes);
        mac.update(&vector(&format!("cmac-{i}")).bytes("msg"));
        let tag = mac.finalize().into_bytes();
        assert!(aes.error().is_none());
        assert_eq!(
            tag[..],
            vector(&format!("cmac-{i}")).bytes("tag"),
            "example {i}"
        );
        aes.finish().unwrap();
        // Subkey L = E(0), one job per full message block, the last block.
        let blocks = vector(&format!("cmac-{i}"))
            .bytes("msg")
            .len()
            .div_ceil(16)
            .max(1);
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
    dcp.regs_mut()
        .inject(Fault::ErrorStatus(regs::CH_STAT_ERROR_SRC));
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let mut blocks = [cipher::Array::from([0xAAu8; 16]); 3];
    aes.encrypt_blocks(&mut blocks);
    assert!(blocks.iter().all(|b| b.iter().all(|&x| x == 0)));
    assert_eq!(
        aes.error(),
        Some(Error::ChannelStatus(regs::CH_STAT_ERROR_SRC))
    );
    assert!(aes.finish().is_err());
    // The latched error stopped further jobs.
    assert_eq!(dcp.jobs(), 1);
    assert!(dma_is_zero(&dcp));
}

#[test]
fn cipher_latches_a_timeout_and_the_block_is_reset() {
    let mut dcp = ready_dcp([1; 16], [0; 16]);
    dcp.regs_mut().inject(Fault::NoCompletion);
    let aes = DcpAes::new(&mut dcp, AesKey::Unique);
    let mut block = cipher::Array::from([0xAAu8; 16]);
    aes.encrypt_block(&mut block);
    assert_eq!(block[..], [0; 16]);
    assert_eq!(aes.finish(), Err(Error::Timeout(Wait::Channel)));
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
    let key = aes128().array("key");
    let mut dcp = ready_dcp(key, [0; 16]);
    dcp.regs_mut().inject(Fault::CorruptOutput {
        index: 3,
        xor: 0x10,
    });
    let mut data = aes128().bytes("pt")[..16].to_vec();
    dcp.ecb_encrypt(AesKey::Unique, &mut data).unwrap();
    let mut expect = aes128().bytes("ecb_ct")[..16].to_vec();
    expect[3] ^= 0x10;
    assert_eq!(data, expect);
    let log = dcp.regs_mut().jobs().to_vec();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].key, KeyUsed::Unique);
}

/// Item 6 of issue 14: Linux `mxs-dcp` and OP-TEE never read
/// STAT.OTP_KEY_READY, so a part that never sets it must work here too:
/// init waits for it as a bounded best effort (and says what it saw), and
/// jobs on the hardware keys run without waiting.
#[test]
fn otp_key_never_ready_is_a_bounded_best_effort_that_fails_nothing() {
    let dma = leaked_dma(1024, BUS);
    let mut sim = DcpSim::new(dma.bus()).with_otp_key([3; 16]);
    sim.set_otp_key_ready(false);
    let mut dcp = Dcp::new(sim, dma, CountingDelay::default()).unwrap();
    assert_eq!(dcp.init(), Ok(()));
    assert!(!dcp.otp_key_ready_seen());
    let mut data = [0u8; 16];
    assert_eq!(dcp.ecb_encrypt(AesKey::Otp, &mut data), Ok(()));
    assert_eq!(dcp.ecb_encrypt(AesKey::Unique, &mut [0; 16]), Ok(()));
    assert_eq!(dcp.jobs(), 2);
    let (_, _, delay) = dcp.into_inner();
    // One bounded wait in init (plus one poll step), none per job.
    let bound = u64::from(hal_dcp::dcp::OTP_KEY_READY_WAIT_US + 10) * 1000;
    assert!(
        delay.waited_ns >= u64::from(hal_dcp::dcp::OTP_KEY_READY_WAIT_US) * 1000
            && delay.waited_ns <= bound,
        "{}",
        delay.waited_ns
    );
    // The same part with the bit set: seen at once, no wait at all.
    let mut ready = ready_dcp([1; 16], [0; 16]);
    assert!(ready.otp_key_ready_seen());
    assert_eq!(ready.ecb_encrypt(AesKey::Otp, &mut [0; 16]), Ok(()));
}

#[test]
fn reading_the_dma_region_size_is_enforced() {
    let dma = leaked_dma(64, BUS);
    let sim = DcpSim::new(dma.bus());
    assert_eq!(
        Dcp::new(sim, dma, NoDelay).err(),
        Some(Error::DmaTooSmall { len: 64 })
    );
    let dma = leaked_dma(512, 0xFFFF_FF00);
    let sim = DcpSim::new(dma.bus());
    assert_eq!(
        Dcp::new(sim, dma, NoDelay).err(),
        Some(Error::DmaPlacement {
            bus_address: 0xFFFF_FF00
        })
    );
}

#[test]
fn driver_errors_keep_the_core_error_they_were_before() {
    use trusted_core::Error as E;
    let cases = [
        (Error::NoDevice { ctrl: 0 }, E::NoDevice),
        (
            Error::NoAes128 { capability1: 0 },
            E::Unsupported("this DCP has no AES-128 engine"),
        ),
        (Error::Timeout(Wait::Reset), E::Timeout),
        (Error::Timeout(Wait::Channel), E::Timeout),
        (Error::ChannelStatus(0x20), E::Hardware(0x20)),
        (
            Error::DmaTooSmall { len: 1 },
            E::InvalidArgument("DCP DMA region is too small"),
        ),
        (
            Error::DmaPlacement { bus_address: 1 },
            E::InvalidArgument("DCP DMA region must be 4-byte aligned and below 4 GiB"),
        ),
        (Error::Dma(E::BufferTooSmall), E::BufferTooSmall),
        (
            Error::KeySlot(4),
            E::InvalidArgument("DCP key slot must be 0..=3"),
        ),
        (
            Error::DataLength(15),
            E::InvalidArgument("DCP AES data must be a multiple of 16 bytes"),
        ),
        (Error::NotReady, E::InvalidArgument("DCP used before init")),
        (Error::Busy, E::Busy),
    ];
    for (driver, core) in cases {
        assert_eq!(trusted_core::DriverError::kind(&driver), core, "{driver}");
        assert_eq!(E::from(driver), core, "{driver:?}");
    }
}

#[test]
fn init_names_the_wait_or_the_missing_engine() {
    use trusted_core::RegisterFile;
    let with_ctrl = |ctrl: u32| {
        let mut block = RegisterFile::<0x110>::default();
        block.words[regs::CTRL / 4] = ctrl;
        Dcp::new(block, leaked_dma(512, BUS), NoDelay).unwrap()
    };
    // CTRL keeps SFTRST whatever is written to its aliases: a block stuck
    // in reset.
    let mut dcp = with_ctrl(regs::CTRL_PRESENT_CRYPTO | regs::CTRL_SFTRST);
    assert_eq!(dcp.init(), Err(Error::Timeout(Wait::Reset)));
    assert!(!dcp.is_ready());
    // Out of reset, but CAPABILITY1 lists no AES-128.
    let mut dcp = with_ctrl(regs::CTRL_PRESENT_CRYPTO);
    assert_eq!(dcp.init(), Err(Error::NoAes128 { capability1: 0 }));
    assert!(!dcp.is_ready());
    // No crypto engine at all.
    let mut dcp = with_ctrl(regs::CTRL_PRESENT_SHA);
    assert_eq!(
        dcp.init(),
        Err(Error::NoDevice {
            ctrl: regs::CTRL_PRESENT_SHA
        })
    );
}

#[test]
fn cleared_faults_do_not_fire() {
    let mut dcp = ready_dcp(aes128().array("key"), [0; 16]);
    let sim = dcp.regs_mut();
    sim.inject(Fault::ErrorStatus(regs::CH_STAT_ERROR_SRC));
    sim.inject(Fault::NoCompletion);
    sim.inject(Fault::CorruptOutput { index: 0, xor: 1 });
    sim.clear_faults();
    let mut data = aes128().bytes("pt")[..16].to_vec();
    dcp.ecb_encrypt(AesKey::Unique, &mut data).unwrap();
    assert_eq!(data, aes128().bytes("ecb_ct")[..16]);
    assert_eq!(dcp.regs_mut().jobs()[0].status, 0);
}
