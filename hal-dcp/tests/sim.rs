//! The DCP model's own register behaviour, driven through `Mmio` by hand.
use hal_dcp::regs::{self, CLR, SET, TOG};
use hal_dcp::sim::DcpSim;
use trusted_core::test_util::leaked_dma;
use trusted_core::{DmaRegion, Mmio, StaticDma};

const BUS: u64 = 0x4000_0000;

fn sim() -> (DcpSim, StaticDma) {
    let dma = leaked_dma(512, BUS);
    (DcpSim::new(dma.bus()), dma)
}

fn out_of_reset(sim: &mut DcpSim) {
    sim.write32(regs::CTRL + CLR, regs::CTRL_SFTRST | regs::CTRL_CLKGATE);
    sim.write32(regs::CHANNELCTRL, 1);
}

/// A model out of reset with channel 0 enabled.
fn running() -> (DcpSim, StaticDma) {
    let (mut sim, dma) = sim();
    out_of_reset(&mut sim);
    (sim, dma)
}

/// Points channel 0 at the packet at the start of the region and adds
/// `count` to its semaphore (the doorbell).
fn ring(sim: &mut DcpSim, count: u32) {
    sim.write32(regs::ch_cmdptr(0), BUS as u32);
    sim.write32(regs::ch_sema(0), count);
}

/// An ECB packet with payload key 0 over one block at 0x100 -> 0x110.
fn packet(dma: &mut StaticDma, ctrl0: u32, next: u32) {
    let words = [
        next,
        ctrl0 | regs::C0_ENABLE_CIPHER | regs::C0_PAYLOAD_KEY | regs::C0_CIPHER_ENCRYPT,
        0,
        BUS as u32 + 0x100,
        BUS as u32 + 0x110,
        16,
        BUS as u32 + 0x80,
        0,
    ];
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(dma.write(0, &bytes), Ok(()));
}

#[test]
fn powers_up_in_reset_and_reports_its_engines() {
    let (mut sim, _dma) = sim();
    let ctrl = sim.read32(regs::CTRL);
    assert_eq!(
        ctrl & (regs::CTRL_SFTRST | regs::CTRL_CLKGATE),
        regs::CTRL_SFTRST | regs::CTRL_CLKGATE
    );
    assert_ne!(ctrl & regs::CTRL_PRESENT_CRYPTO, 0);
    assert_ne!(sim.read32(regs::CAPABILITY1) & regs::CAPABILITY1_AES128, 0);
    assert_ne!(sim.read32(regs::STAT) & regs::STAT_OTP_KEY_READY, 0);
}

#[test]
fn set_clr_tog_aliases_work_and_writes_in_reset_are_ignored() {
    let (mut sim, _dma) = sim();
    sim.write32(regs::CHANNELCTRL, 0xF);
    assert_eq!(sim.read32(regs::CHANNELCTRL), 0, "ignored while in reset");
    out_of_reset(&mut sim);
    sim.write32(regs::CTRL + SET, regs::CTRL_GATHER_RESIDUAL_WRITES | 0x3);
    sim.write32(regs::CTRL + CLR, 0x1);
    sim.write32(regs::CTRL + TOG, 0x6);
    assert_eq!(
        sim.read32(regs::CTRL) & 0x00FF_FFFF,
        regs::CTRL_GATHER_RESIDUAL_WRITES | 0x4
    );
    sim.write32(regs::CHANNELCTRL + SET, 0x6);
    sim.write32(regs::CHANNELCTRL + TOG, 0x3);
    assert_eq!(sim.read32(regs::CHANNELCTRL), 0x4);
    sim.write32(regs::ch_stat(1) + SET, 0x30);
    sim.write32(regs::ch_stat(1) + CLR, 0x10);
    assert_eq!(sim.read32(regs::ch_stat(1)), 0x20);
}

#[test]
fn doorbell_runs_the_packet_and_raises_the_irq() {
    let (mut sim, mut dma) = running();
    packet(
        &mut dma,
        regs::C0_DECR_SEMAPHORE | regs::C0_INTERRUPT | (0x5A << 24),
        0,
    );
    ring(&mut sim, 1);
    assert_eq!(sim.read32(regs::STAT) & 1, 1);
    assert_eq!(sim.read32(regs::ch_stat(0)), 0x5A << 24, "tag, no error");
    assert_eq!(sim.read32(regs::ch_sema(0)) >> 16, 0);
    assert_eq!(sim.read32(regs::PACKET0 + 0x50), 16, "PACKET5 = size");
    let mut out = [0u8; 16];
    dma.read(0x110, &mut out).unwrap();
    assert_eq!(out[..4], [0x66, 0xe9, 0x4b, 0xd4], "AES-128(0, 0)");
    assert_eq!(sim.job_count(), 1);
}

#[test]
fn disabled_channel_never_runs() {
    let (mut sim, mut dma) = running();
    sim.write32(regs::CHANNELCTRL, 0);
    packet(&mut dma, regs::C0_DECR_SEMAPHORE | regs::C0_INTERRUPT, 0);
    ring(&mut sim, 1);
    assert_eq!(sim.read32(regs::STAT) & 1, 0);
    assert_eq!(sim.job_count(), 0);
    // Enabling the channel lets the pending semaphore run.
    sim.write32(regs::CHANNELCTRL, 1);
    assert_eq!(sim.read32(regs::STAT) & 1, 1);
}

#[test]
fn chain_errors_use_the_documented_codes() {
    let (mut sim, mut dma) = running();
    // Semaphore 2 but no CHAIN: error code 2.
    packet(&mut dma, regs::C0_DECR_SEMAPHORE | regs::C0_INTERRUPT, 0);
    ring(&mut sim, 2);
    assert_eq!((sim.read32(regs::ch_stat(0)) >> 16) & 0xFF, 2);
    // CHAIN with next = 0 and work left: error code 1.
    packet(&mut dma, regs::C0_DECR_SEMAPHORE | regs::C0_CHAIN, 0);
    ring(&mut sim, 2);
    assert_eq!((sim.read32(regs::ch_stat(0)) >> 16) & 0xFF, 1);
    // A packet outside the DMA region: packet error.
    sim.write32(regs::ch_cmdptr(0), 0x1000);
    sim.write32(regs::ch_sema(0), 1);
    assert_ne!(sim.read32(regs::ch_stat(0)) & regs::CH_STAT_ERROR_PACKET, 0);
}

#[test]
fn unmodelled_operations_fail_with_invalid_mode() {
    let (mut sim, mut dma) = running();
    packet(&mut dma, regs::C0_DECR_SEMAPHORE | regs::C0_ENABLE_HASH, 0);
    ring(&mut sim, 1);
    let stat = sim.read32(regs::ch_stat(0));
    assert_ne!(stat & regs::CH_STAT_ERROR_SETUP, 0);
    assert_eq!((stat >> 16) & 0xFF, regs::ERROR_CODE_INVALID_MODE);
}

#[test]
fn capability0_sticky_bits_survive_soft_reset_but_not_power_on() {
    let (mut sim, _dma) = running();
    sim.write32(regs::CAPABILITY0, regs::CAPABILITY0_DISABLE_UNIQUE_KEY);
    sim.write32(regs::CAPABILITY0, 0);
    assert!(sim.unique_key_disabled(), "set-only");
    sim.write32(regs::CTRL + SET, regs::CTRL_SFTRST);
    out_of_reset(&mut sim);
    assert!(sim.unique_key_disabled());
    sim.power_on_reset();
    assert!(!sim.unique_key_disabled());
}

#[test]
fn disable_decrypt_refuses_decryption() {
    let (mut sim, mut dma) = running();
    sim.write32(regs::CAPABILITY0, regs::CAPABILITY0_DISABLE_DECRYPT);
    let mut raw = [0u8; 32];
    dma.read(0, &mut raw).unwrap();
    packet(&mut dma, regs::C0_DECR_SEMAPHORE, 0);
    // Clear CIPHER_ENCRYPT in control0.
    let mut c0 = [0u8; 4];
    dma.read(4, &mut c0).unwrap();
    let c0 = u32::from_le_bytes(c0) & !regs::C0_CIPHER_ENCRYPT;
    dma.write(4, &c0.to_le_bytes()).unwrap();
    ring(&mut sim, 1);
    assert_ne!(sim.read32(regs::ch_stat(0)) & regs::CH_STAT_ERROR_SETUP, 0);
}
