//! DCP register map: offsets and bits only, shared by the driver and the sim.
//!
//! Names follow the i.MX6ULL reference manual as mirrored in OP-TEE
//! (`core/arch/arm/plat-imx/registers/imx6-dcp.h`) and Linux
//! (`drivers/crypto/mxs-dcp.c`).

/// Offset of the SET alias of a register: writing 1s sets those bits.
pub const SET: usize = 0x4;
/// Offset of the CLR alias of a register: writing 1s clears those bits.
pub const CLR: usize = 0x8;
/// Offset of the TOG alias of a register: writing 1s toggles those bits.
pub const TOG: usize = 0xC;

/// Size of the register block (up to and including VERSION).
pub const BLOCK_SIZE: usize = 0x434;

/// Control register (SET/CLR/TOG aliases).
pub const CTRL: usize = 0x000;
/// CTRL: soft reset; reloads the OTP key from SNVS.
pub const CTRL_SFTRST: u32 = 1 << 31;
/// CTRL: gate the block clock.
pub const CTRL_CLKGATE: u32 = 1 << 30;
/// CTRL (RO): the crypto (AES) engine is present.
pub const CTRL_PRESENT_CRYPTO: u32 = 1 << 29;
/// CTRL (RO): the hash engine is present.
pub const CTRL_PRESENT_SHA: u32 = 1 << 28;
/// CTRL: gather residual writes.
pub const CTRL_GATHER_RESIDUAL_WRITES: u32 = 1 << 23;
/// CTRL: cache channel context.
pub const CTRL_ENABLE_CONTEXT_CACHING: u32 = 1 << 22;
/// CTRL: save and restore channel context in the CONTEXT buffer.
pub const CTRL_ENABLE_CONTEXT_SWITCHING: u32 = 1 << 21;
/// CTRL: per-channel interrupt enables, bit n = channel n.
pub const CTRL_CHANNEL_INTERRUPT_ENABLE_MASK: u32 = 0xFF;

/// Status register (SET/CLR/TOG aliases).
pub const STAT: usize = 0x010;
/// STAT: the OTP key has been loaded from SNVS and can be used.
pub const STAT_OTP_KEY_READY: u32 = 1 << 28;
/// STAT: per-channel completion flags, bit n = channel n (clear via CLR).
pub const STAT_IRQ_MASK: u32 = 0xF;

/// Channel control register (SET/CLR/TOG aliases).
pub const CHANNELCTRL: usize = 0x020;
/// CHANNELCTRL: enable bits, bit n = channel n.
pub const CHANNELCTRL_ENABLE_CHANNEL_MASK: u32 = 0xFF;

/// Capability register 0.
pub const CAPABILITY0: usize = 0x030;
/// CAPABILITY0: sticky; once set, key select 0xFE (UNIQUE) is refused.
pub const CAPABILITY0_DISABLE_UNIQUE_KEY: u32 = 1 << 29;
/// CAPABILITY0: sticky; once set, decryption is refused.
pub const CAPABILITY0_DISABLE_DECRYPT: u32 = 1 << 31;
/// CAPABILITY0: number of channels, bits 11:8.
pub const CAPABILITY0_NUM_CHANNELS_SHIFT: u32 = 8;
/// CAPABILITY0: number of key-RAM slots, bits 7:0.
pub const CAPABILITY0_NUM_KEYS_MASK: u32 = 0xFF;

/// Capability register 1 (RO).
pub const CAPABILITY1: usize = 0x040;
/// CAPABILITY1: AES-128 is supported (cipher bit 0).
pub const CAPABILITY1_AES128: u32 = 1 << 0;

/// Bus address of the context-switch buffer.
pub const CONTEXT: usize = 0x050;
/// Size of the context-switch buffer OP-TEE allocates.
pub const CONTEXT_BUFFER_SIZE: usize = 208;

/// Key-RAM index register: slot in bits 5:4, subword in bits 1:0.
pub const KEY: usize = 0x060;
/// KEY: shift of the slot index.
pub const KEY_INDEX_SHIFT: u32 = 4;
/// KEY: mask of the subword.
pub const KEY_SUBWORD_MASK: u32 = 0x3;
/// Key-RAM data: four writes load the slot chosen in KEY (auto-increment).
pub const KEYDATA: usize = 0x070;
/// Number of key-RAM slots.
pub const KEY_SLOTS: u8 = 4;

/// Read-only copy of the packet in progress, word `n` (0..=6) at
/// `PACKET0 + 0x10 * n`.
pub const PACKET0: usize = 0x080;

/// Channel `n` command pointer: bus address of the first work packet.
pub const fn ch_cmdptr(n: usize) -> usize {
    0x100 + n * 0x40
}
/// Channel `n` semaphore: writes add bits 7:0, reads give the value in 23:16.
pub const fn ch_sema(n: usize) -> usize {
    0x110 + n * 0x40
}
/// Channel `n` status (SET/CLR/TOG aliases).
pub const fn ch_stat(n: usize) -> usize {
    0x120 + n * 0x40
}
/// Channel `n` options (recovery timer).
pub const fn ch_opts(n: usize) -> usize {
    0x130 + n * 0x40
}
/// Number of channels.
pub const CHANNELS: usize = 4;

/// CHnSEMA: increment field on write.
pub const SEMA_INCREMENT_MASK: u32 = 0xFF;
/// CHnSEMA: value field on read.
pub const SEMA_VALUE_SHIFT: u32 = 16;

/// CHnSTAT: tag of the last packet, bits 31:24.
pub const CH_STAT_TAG_SHIFT: u32 = 24;
/// CHnSTAT: error code, bits 23:16.
pub const CH_STAT_ERROR_CODE_SHIFT: u32 = 16;
/// CHnSTAT error code: next-packet pointer is 0 with CHAIN set.
pub const ERROR_CODE_NEXT_CHAIN_IS_0: u32 = 0x01;
/// CHnSTAT error code: semaphore non-zero but CHAIN clear.
pub const ERROR_CODE_NO_CHAIN: u32 = 0x02;
/// CHnSTAT error code: context buffer read/write error.
pub const ERROR_CODE_CONTEXT_ERROR: u32 = 0x03;
/// CHnSTAT error code: payload read/write error.
pub const ERROR_CODE_PAYLOAD_ERROR: u32 = 0x04;
/// CHnSTAT error code: invalid mode.
pub const ERROR_CODE_INVALID_MODE: u32 = 0x05;
/// CHnSTAT: page fault.
pub const CH_STAT_ERROR_PAGEFAULT: u32 = 1 << 6;
/// CHnSTAT: destination buffer error.
pub const CH_STAT_ERROR_DST: u32 = 1 << 5;
/// CHnSTAT: source buffer error.
pub const CH_STAT_ERROR_SRC: u32 = 1 << 4;
/// CHnSTAT: packet read error.
pub const CH_STAT_ERROR_PACKET: u32 = 1 << 3;
/// CHnSTAT: invalid packet setup.
pub const CH_STAT_ERROR_SETUP: u32 = 1 << 2;
/// CHnSTAT: hash check mismatch.
pub const CH_STAT_HASH_MISMATCH: u32 = 1 << 1;
/// CHnSTAT: everything a driver must treat as failure (OP-TEE's mask).
pub const CH_STAT_ERROR_MASK: u32 = 0x00FF_FFFF;

/// Version register (RO).
pub const VERSION: usize = 0x430;

/// Work packet size in bytes (8 words).
pub const PACKET_SIZE: usize = 32;
/// Packet word 0: next packet.
pub const PKT_NEXT: usize = 0;
/// Packet word 1: control0.
pub const PKT_CTRL0: usize = 4;
/// Packet word 2: control1.
pub const PKT_CTRL1: usize = 8;
/// Packet word 3: source buffer.
pub const PKT_SRC: usize = 12;
/// Packet word 4: destination buffer.
pub const PKT_DST: usize = 16;
/// Packet word 5: byte count.
pub const PKT_SIZE: usize = 20;
/// Packet word 6: payload (key and/or IV).
pub const PKT_PAYLOAD: usize = 24;
/// Packet word 7: status written back by the DCP.
pub const PKT_STATUS: usize = 28;

/// control0: tag copied into CHnSTAT, bits 31:24.
pub const C0_TAG_SHIFT: u32 = 24;
/// control0: output word swap.
pub const C0_OUTPUT_WORDSWAP: u32 = 1 << 23;
/// control0: output byte swap.
pub const C0_OUTPUT_BYTESWAP: u32 = 1 << 22;
/// control0: input word swap.
pub const C0_INPUT_WORDSWAP: u32 = 1 << 21;
/// control0: input byte swap.
pub const C0_INPUT_BYTESWAP: u32 = 1 << 20;
/// control0: key word swap.
pub const C0_KEY_WORDSWAP: u32 = 1 << 19;
/// control0: key byte swap.
pub const C0_KEY_BYTESWAP: u32 = 1 << 18;
/// control0: test semaphore and raise IRQ.
pub const C0_TEST_SEMA_IRQ: u32 = 1 << 17;
/// control0: constant fill (blit).
pub const C0_CONSTANT_FILL: u32 = 1 << 16;
/// control0: hash the output instead of the input.
pub const C0_HASH_OUTPUT: u32 = 1 << 15;
/// control0: compare the hash with the payload.
pub const C0_CHECK_HASH: u32 = 1 << 14;
/// control0: last hash packet.
pub const C0_HASH_TERM: u32 = 1 << 13;
/// control0: first hash packet.
pub const C0_HASH_INIT: u32 = 1 << 12;
/// control0: the key is the first 16 payload bytes.
pub const C0_PAYLOAD_KEY: u32 = 1 << 11;
/// control0: use the OTP ("crypto") key. The hardware then uses the OTP key
/// whatever KEY_SELECT says (Linux commit caa9dbb76ff5, 2025).
pub const C0_OTP_KEY: u32 = 1 << 10;
/// control0: load the IV from the payload (CBC).
pub const C0_CIPHER_INIT: u32 = 1 << 9;
/// control0: 1 encrypt, 0 decrypt.
pub const C0_CIPHER_ENCRYPT: u32 = 1 << 8;
/// control0: blit operation.
pub const C0_ENABLE_BLIT: u32 = 1 << 7;
/// control0: hash engine.
pub const C0_ENABLE_HASH: u32 = 1 << 6;
/// control0: cipher engine.
pub const C0_ENABLE_CIPHER: u32 = 1 << 5;
/// control0: memory copy.
pub const C0_ENABLE_MEMCOPY: u32 = 1 << 4;
/// control0: chain to the next packet without waiting for the semaphore.
pub const C0_CHAIN_CONTIGUOUS: u32 = 1 << 3;
/// control0: chain to the next packet.
pub const C0_CHAIN: u32 = 1 << 2;
/// control0: decrement the channel semaphore when the packet completes.
pub const C0_DECR_SEMAPHORE: u32 = 1 << 1;
/// control0: set STAT.IRQ\[n\] when the packet completes.
pub const C0_INTERRUPT: u32 = 1 << 0;

/// control1: key select, bits 15:8.
pub const C1_KEY_SELECT_SHIFT: u32 = 8;
/// control1: key select mask (after shifting down).
pub const C1_KEY_SELECT_MASK: u32 = 0xFF;
/// Key select: the device-unique key (Linux `DCP_PAES_KEY_UNIQUE`).
pub const KEY_SELECT_UNIQUE: u8 = 0xFE;
/// Key select: the OTP key (Linux `DCP_PAES_KEY_OTP`).
pub const KEY_SELECT_OTP: u8 = 0xFF;
/// control1: cipher mode, bits 7:4.
pub const C1_CIPHER_MODE_SHIFT: u32 = 4;
/// control1: cipher mode mask (after shifting down).
pub const C1_CIPHER_MODE_MASK: u32 = 0xF;
/// Cipher mode ECB.
pub const CIPHER_MODE_ECB: u32 = 0;
/// Cipher mode CBC.
pub const CIPHER_MODE_CBC: u32 = 1;
/// control1: cipher select, bits 3:0.
pub const C1_CIPHER_SELECT_MASK: u32 = 0xF;
/// Cipher select AES-128.
pub const CIPHER_SELECT_AES128: u32 = 0;

/// AES block and key size.
pub const AES_BLOCK: usize = 16;

// ---------------------------------------------------------------------------
// RNGB: the i.MX6ULL true random number generator (a separate block)
// ---------------------------------------------------------------------------

/// RNGB register map (i.MX6ULL/6SL/6SLL, i.MX25; DT compatible
/// `fsl,imx6ull-rngb`, `fsl,imx25-rngb`): offsets and bits only, shared by
/// [`crate::rngb`] and the model.
///
/// Offsets and the bits Linux uses are those of
/// `drivers/char/hw_random/imx-rngc.c` (`RNGC_*`), the same as U-Boot's
/// `drivers/crypto/fsl/dcp_rng.c` and OP-TEE's `core/drivers/imx_rngb.c`.
/// The other bits (software reset, FIFO underflow mode, SR busy/level/size
/// and pass/fail fields, the ESR bits) are the RNGB reference-manual layout
/// as NuttX's `arch/arm/src/kinetis/hardware/kinetis_rngb.h` (same IP) and
/// TamaGo's `soc/nxp/rngb/rngb.go` (IMX6ULLRM §44.5.2) give them.
pub mod rngb {
    /// Physical base of the RNGB on i.MX6ULL (DT `rng@2284000`).
    pub const BASE_IMX6ULL: usize = 0x0228_4000;
    /// Bytes of the register block the driver touches (up to FIFO).
    pub const BLOCK_SIZE: usize = 0x18;

    /// `RNGC_VER_ID` (RO): type in 31:28, major 15:8, minor 7:0.
    pub const VER_ID: usize = 0x00;
    /// VER_ID: shift of the generator type (Linux `RNG_TYPE`, 31:28).
    pub const VER_ID_TYPE_SHIFT: u32 = 28;
    /// VER_ID type: RNGB (Linux `RNGC_TYPE_RNGB`).
    pub const TYPE_RNGB: u32 = 0x1;
    /// VER_ID type: RNGC (Linux `RNGC_TYPE_RNGC`), same programming model.
    pub const TYPE_RNGC: u32 = 0x2;

    /// `RNGC_COMMAND`: self-clearing command bits.
    pub const COMMAND: usize = 0x04;
    /// COMMAND: run the self test (`RNGC_CMD_SELF_TEST`).
    pub const CMD_SELF_TEST: u32 = 1 << 0;
    /// COMMAND: generate a seed (`RNGC_CMD_SEED`).
    pub const CMD_SEED: u32 = 1 << 1;
    /// COMMAND: clear the done interrupt (`RNGC_CMD_CLR_INT`); only when
    /// there is no error (Linux `imx_rngc_irq_mask_clear`).
    pub const CMD_CLR_INT: u32 = 1 << 4;
    /// COMMAND: clear the error register and the interrupt (`RNGC_CMD_CLR_ERR`).
    pub const CMD_CLR_ERR: u32 = 1 << 5;
    /// COMMAND: software reset (`RNG_CMD_SR`, TamaGo `Init`).
    pub const CMD_SW_RST: u32 = 1 << 6;

    /// `RNGC_CONTROL`.
    pub const CONTROL: usize = 0x08;
    /// CONTROL: FIFO underflow response mode, 1:0 (0: read zeros and set
    /// ESR.FUFE; 2: bus error; 3: interrupt and zeros).
    pub const CTRL_FUFMOD_MASK: u32 = 0x3;
    /// CONTROL: reseed automatically (`RNGC_CTRL_AUTO_SEED`).
    pub const CTRL_AUTO_SEED: u32 = 1 << 4;
    /// CONTROL: mask the done interrupt (`RNGC_CTRL_MASK_DONE`).
    pub const CTRL_MASK_DONE: u32 = 1 << 5;
    /// CONTROL: mask the error interrupt (`RNGC_CTRL_MASK_ERROR`).
    pub const CTRL_MASK_ERROR: u32 = 1 << 6;

    /// `RNGC_STATUS` (RO).
    pub const STATUS: usize = 0x0C;
    /// STATUS: a self test or seed generation is running.
    pub const STATUS_BUSY: u32 = 1 << 1;
    /// STATUS: sleep mode.
    pub const STATUS_SLEEP: u32 = 1 << 2;
    /// STATUS: a reseed is needed.
    pub const STATUS_RESEED: u32 = 1 << 3;
    /// STATUS: the self test finished (`RNGC_STATUS_ST_DONE`).
    pub const STATUS_ST_DONE: u32 = 1 << 4;
    /// STATUS: the seed is done (`RNGC_STATUS_SEED_DONE`).
    pub const STATUS_SEED_DONE: u32 = 1 << 5;
    /// STATUS: a new seed is done (automatic reseed).
    pub const STATUS_NEW_SEED_DONE: u32 = 1 << 6;
    /// STATUS: shift of the FIFO level, 11:8 (`RNGC_STATUS_FIFO_LEVEL_MASK`).
    pub const STATUS_FIFO_LEVEL_SHIFT: u32 = 8;
    /// STATUS: shift of the FIFO size, 15:12.
    pub const STATUS_FIFO_SIZE_SHIFT: u32 = 12;
    /// STATUS: mask of the level and size fields after shifting.
    pub const STATUS_FIFO_FIELD_MASK: u32 = 0xF;
    /// STATUS: an error is flagged in ERROR (`RNGC_STATUS_ERROR`).
    pub const STATUS_ERROR: u32 = 1 << 16;
    /// STATUS: shift of the self-test pass/fail field, 23:21 (bit 23 TRNG,
    /// 22 PRNG, 21 reseed; 1 = failed).
    pub const STATUS_ST_PF_SHIFT: u32 = 21;
    /// STATUS: shift of the statistical-test pass/fail field, 31:24 (bit
    /// 24 monobit ... bit 31 long run; 1 = failed).
    pub const STATUS_STAT_PF_SHIFT: u32 = 24;

    /// `RNGC_ERROR` (ESR, RO): cleared by [`CMD_CLR_ERR`].
    pub const ERROR: usize = 0x10;
    /// ESR: LFSR error.
    pub const ESR_LFSR: u32 = 1 << 0;
    /// ESR: oscillator error (the entropy source is dead).
    pub const ESR_OSC: u32 = 1 << 1;
    /// ESR: self-test error.
    pub const ESR_SELF_TEST: u32 = 1 << 2;
    /// ESR: statistical test error (`RNGC_ERROR_STATUS_STAT_ERR`); Linux
    /// and OP-TEE seed again when this is the only error.
    pub const ESR_STAT: u32 = 1 << 3;
    /// ESR: FIFO underflow (a read of the empty FIFO).
    pub const ESR_FIFO_UNDERFLOW: u32 = 1 << 4;

    /// `RNGC_FIFO` (RO): one 32-bit random word per read.
    pub const FIFO: usize = 0x14;
}
