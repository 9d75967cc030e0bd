//! The DCP driver: init, key RAM, and AES-128 ECB/CBC jobs as channel-0 work
//! packets in the DMA region. Protocol only; which key seals what is policy
//! and lives in [`crate::source`].
//!
//! Job procedure as OP-TEE `core/drivers/imx/dcp/dcp.c dcp_run` and Linux
//! `drivers/crypto/mxs-dcp.c mxs_dcp_start_dma`: write the packet, clear
//! STAT.IRQ\[0\] and CH0STAT, point CH0CMDPTR at the packet, add 1 to CH0SEMA
//! (the doorbell), poll STAT.IRQ\[0\] with a bounded wait, then check CH0STAT.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{DmaRegion, Mmio, debug, trace, warning};

use crate::error::{Error, Wait};
use crate::regs::{self, AES_BLOCK, CLR, SET};

/// DMA region offset of the work packet.
pub const DMA_PACKET: usize = 0;
/// DMA region offset of the payload (key and/or IV, 32 bytes).
pub const DMA_PAYLOAD: usize = DMA_PACKET + regs::PACKET_SIZE;
/// DMA region offset of the context-switch buffer (208 bytes).
pub const DMA_CONTEXT: usize = DMA_PAYLOAD + 2 * AES_BLOCK;
/// DMA region offset of the data area (source then destination buffers).
pub const DMA_DATA: usize = DMA_CONTEXT + regs::CONTEXT_BUFFER_SIZE;
/// Smallest DMA region the driver accepts: room for one block in and out.
pub const MIN_DMA_LEN: usize = DMA_DATA + 2 * AES_BLOCK;

/// Default bound on one job, in microseconds. OP-TEE allows 100 µs; Linux
/// waits 1 s for the interrupt. 10 ms covers a full DMA region of data.
pub const DEFAULT_TIMEOUT_US: u32 = 10_000;
const POLL_STEP_US: u32 = 10;
const CHANNEL: usize = 0;
/// How long [`Dcp::init`] waits, at most, for STAT.OTP_KEY_READY after the
/// soft reset before going on without it (see [`Dcp::otp_key_ready_seen`]).
pub const OTP_KEY_READY_WAIT_US: u32 = 1_000;

/// Which AES-128 key a job uses.
#[derive(Clone, Copy)]
pub enum AesKey<'k> {
    /// Key-RAM slot 0..=3 (load it with [`Dcp::load_key`]).
    Slot(u8),
    /// The device-unique key (key select 0xFE, control0 OTP_KEY clear), as
    /// OP-TEE's HUK and Linux `trusted_dcp` by default use it.
    Unique,
    /// The OTP ("crypto") key from SNVS (control0 OTP_KEY set, key select
    /// 0xFF), Linux `trusted.dcp_use_otp_key`.
    Otp,
    /// A key carried in the work packet payload (control0 PAYLOAD_KEY).
    Payload(&'k [u8; AES_BLOCK]),
}

impl AesKey<'_> {
    /// True for the keys held in hardware (UNIQUE and OTP).
    pub fn is_hardware(&self) -> bool {
        matches!(self, AesKey::Unique | AesKey::Otp)
    }
}

impl core::fmt::Debug for AesKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AesKey::Slot(n) => write!(f, "Slot({n})"),
            AesKey::Unique => f.write_str("Unique"),
            AesKey::Otp => f.write_str("Otp"),
            AesKey::Payload(_) => f.write_str("Payload(redacted)"),
        }
    }
}

/// Cipher mode of one call.
pub enum Mode<'a> {
    /// Electronic codebook.
    Ecb,
    /// Cipher block chaining; the IV is updated in place so consecutive
    /// calls chain, as Linux's `req->iv` does.
    Cbc(&'a mut [u8; AES_BLOCK]),
}

/// Encrypt or decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// control0 CIPHER_ENCRYPT set.
    Encrypt,
    /// control0 CIPHER_ENCRYPT clear.
    Decrypt,
}

/// The DCP on channel 0, over a register block `M`, a DMA region `D` and a
/// delay `T` for bounded waits.
pub struct Dcp<M, D, T> {
    regs: M,
    dma: D,
    delay: T,
    timeout_us: u32,
    jobs: u32,
    ready: bool,
    otp_key_ready_seen: bool,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> Dcp<M, D, T> {
    /// A driver over the register block `regs` and the DMA region `dma`.
    ///
    /// The region must be at least [`MIN_DMA_LEN`] bytes, start on a 4-byte
    /// bus address and lie below 4 GiB (the DCP has 32-bit pointers).
    pub fn new(regs: M, dma: D, delay: T) -> Result<Self, Error> {
        let bus_address = dma.bus_address();
        let end = bus_address.checked_add(dma.len() as u64);
        if dma.len() < MIN_DMA_LEN {
            return Err(Error::DmaTooSmall { len: dma.len() });
        }
        if !bus_address.is_multiple_of(4) || end.is_none_or(|e| e > 1 << 32) {
            return Err(Error::DmaPlacement { bus_address });
        }
        Ok(Self {
            regs,
            dma,
            delay,
            timeout_us: DEFAULT_TIMEOUT_US,
            jobs: 0,
            ready: false,
            otp_key_ready_seen: false,
        })
    }

    /// The register block, DMA region and delay back.
    pub fn into_inner(self) -> (M, D, T) {
        (self.regs, self.dma, self.delay)
    }

    /// The register block (tests reach the sim's fault hooks through it).
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.regs
    }

    /// The DMA region (tests check it is zero after every job).
    pub fn dma(&self) -> &D {
        &self.dma
    }

    /// Bound on one job in microseconds.
    pub fn set_timeout_us(&mut self, timeout_us: u32) {
        self.timeout_us = timeout_us;
    }

    /// Work packets run since this driver was made.
    pub fn jobs(&self) -> u32 {
        self.jobs
    }

    /// True after a successful [`Dcp::init`] and until a timeout resets the block.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Whether the last [`Dcp::init`] saw STAT.OTP_KEY_READY within
    /// [`OTP_KEY_READY_WAIT_US`]. Informational only: jobs on the hardware
    /// keys run either way, as in Linux `mxs-dcp` and OP-TEE, which never
    /// read the bit.
    pub fn otp_key_ready_seen(&self) -> bool {
        self.otp_key_ready_seen
    }

    /// Probes, soft-resets and configures the block (OP-TEE `dcp_init`).
    ///
    /// The soft reset makes the DCP reload its OTP key from SNVS. Returns
    /// [`Error::NoDevice`] when CTRL does not report the crypto engine.
    pub fn init(&mut self) -> Result<(), Error> {
        self.ready = false;
        let ctrl = self.regs.read32(regs::CTRL);
        if ctrl & regs::CTRL_PRESENT_CRYPTO == 0 {
            debug!("dcp: CTRL {=u32:#x}: no crypto engine", ctrl);
            return Err(Error::NoDevice { ctrl });
        }
        let reset = regs::CTRL_SFTRST | regs::CTRL_CLKGATE;
        self.regs.write32(regs::CTRL + SET, reset);
        self.regs.write32(regs::CTRL + CLR, reset);
        let block = &mut self.regs;
        poll_until(
            &mut self.delay,
            Budget::fixed(self.timeout_us, POLL_STEP_US),
            Error::Timeout(Wait::Reset),
            || Ok(block.read32(regs::CTRL) & reset == 0),
        )?;
        let capability1 = self.regs.read32(regs::CAPABILITY1);
        if capability1 & regs::CAPABILITY1_AES128 == 0 {
            return Err(Error::NoAes128 { capability1 });
        }
        self.regs.write32(
            regs::CTRL + SET,
            regs::CTRL_GATHER_RESIDUAL_WRITES | regs::CTRL_ENABLE_CONTEXT_SWITCHING,
        );
        // Only channel 0 is used; the others stay off.
        self.regs.write32(regs::CHANNELCTRL, 1 << CHANNEL);
        self.regs.write32(regs::STAT + CLR, 0xFFFF_FFFF);
        self.dma.zero().map_err(Error::Dma)?;
        self.regs
            .write32(regs::CONTEXT, self.bus(DMA_CONTEXT) as u32);
        self.otp_key_ready_seen = self.wait_otp_key_ready();
        self.ready = true;
        trace!("dcp: initialised");
        Ok(())
    }

    /// Loads `key` into key-RAM slot 0..=3, word order and byte order as
    /// OP-TEE `dcp_store_key` (subword 0 first, each word big-endian).
    pub fn load_key(&mut self, slot: u8, key: &[u8; AES_BLOCK]) -> Result<(), Error> {
        if slot >= regs::KEY_SLOTS {
            return Err(Error::KeySlot(slot));
        }
        self.regs
            .write32(regs::KEY, u32::from(slot) << regs::KEY_INDEX_SHIFT);
        let mut w = [0u8; 4];
        for word in key.chunks_exact(4) {
            w.copy_from_slice(word);
            self.regs.write32(regs::KEYDATA, u32::from_be_bytes(w));
        }
        zeroize::Zeroize::zeroize(&mut w);
        Ok(())
    }

    /// Sets the sticky CAPABILITY0.DISABLE_UNIQUE_KEY bit, as OP-TEE does
    /// after deriving its HUK (`dcp_disable_unique_key`, a read-modify-write
    /// of CAPABILITY0). Later jobs with key 0xFE fail until a power cycle.
    pub fn disable_unique_key(&mut self) {
        let cap = self.regs.read32(regs::CAPABILITY0);
        self.regs.write32(
            regs::CAPABILITY0,
            cap | regs::CAPABILITY0_DISABLE_UNIQUE_KEY,
        );
    }

    /// True when CAPABILITY0.DISABLE_UNIQUE_KEY is set.
    pub fn unique_key_disabled(&mut self) -> bool {
        self.regs.read32(regs::CAPABILITY0) & regs::CAPABILITY0_DISABLE_UNIQUE_KEY != 0
    }

    /// AES-128-ECB encrypts `data` in place (a multiple of 16 bytes).
    pub fn ecb_encrypt(&mut self, key: AesKey<'_>, data: &mut [u8]) -> Result<(), Error> {
        self.crypt(key, Mode::Ecb, Direction::Encrypt, data)
    }

    /// AES-128-ECB decrypts `data` in place.
    pub fn ecb_decrypt(&mut self, key: AesKey<'_>, data: &mut [u8]) -> Result<(), Error> {
        self.crypt(key, Mode::Ecb, Direction::Decrypt, data)
    }

    /// AES-128 on `data` in place, split into as many packets as the DMA
    /// region needs. The DMA region is zeroed afterwards, also on error; on a
    /// timeout the block is soft-reset first so it stops writing to memory.
    pub fn crypt(
        &mut self,
        key: AesKey<'_>,
        mut mode: Mode<'_>,
        direction: Direction,
        data: &mut [u8],
    ) -> Result<(), Error> {
        if !self.ready {
            return Err(Error::NotReady);
        }
        if !data.len().is_multiple_of(AES_BLOCK) {
            return Err(Error::DataLength(data.len()));
        }
        let (mut ctrl0, key_select) = match key {
            AesKey::Slot(n) if n < regs::KEY_SLOTS => (0, n),
            AesKey::Slot(n) => return Err(Error::KeySlot(n)),
            // Linux (after commit caa9dbb76ff5) and OP-TEE select UNIQUE by
            // key select alone: with OTP_KEY set the DCP uses the OTP key.
            AesKey::Unique => (0, regs::KEY_SELECT_UNIQUE),
            AesKey::Otp => (regs::C0_OTP_KEY, regs::KEY_SELECT_OTP),
            AesKey::Payload(_) => (regs::C0_PAYLOAD_KEY, 0),
        };
        ctrl0 |= regs::C0_ENABLE_CIPHER | regs::C0_DECR_SEMAPHORE | regs::C0_INTERRUPT;
        if direction == Direction::Encrypt {
            ctrl0 |= regs::C0_CIPHER_ENCRYPT;
        }
        let mut ctrl1 =
            (u32::from(key_select) << regs::C1_KEY_SELECT_SHIFT) | regs::CIPHER_SELECT_AES128;
        if matches!(mode, Mode::Cbc(_)) {
            ctrl1 |= regs::CIPHER_MODE_CBC << regs::C1_CIPHER_MODE_SHIFT;
            ctrl0 |= regs::C0_CIPHER_INIT;
        }

        // `new` refused regions without room for one block each way; the
        // check here keeps a zero chunk an error, not a panic in `chunks_mut`.
        let chunk = self.max_chunk();
        if chunk == 0 {
            return Err(Error::DmaTooSmall {
                len: self.dma.len(),
            });
        }
        let mut result = Ok(());
        for part in data.chunks_mut(chunk) {
            result = self.run_part(ctrl0, ctrl1, key, &mut mode, direction, part);
            if result.is_err() {
                break;
            }
        }
        if matches!(result, Err(Error::Timeout(_))) {
            warning!("dcp: job timed out; soft-resetting the block");
            // Stop the DMA master before the memory it may still write is
            // wiped and handed back.
            self.regs
                .write32(regs::CTRL + SET, regs::CTRL_SFTRST | regs::CTRL_CLKGATE);
            self.ready = false;
        }
        let wiped = self.dma.zero().map_err(Error::Dma);
        result.and(wiped)
    }

    /// One packet over `part` (at most [`Self::max_chunk`] bytes).
    fn run_part(
        &mut self,
        ctrl0: u32,
        ctrl1: u32,
        key: AesKey<'_>,
        mode: &mut Mode<'_>,
        direction: Direction,
        part: &mut [u8],
    ) -> Result<(), Error> {
        let n = part.len();
        let src = DMA_DATA;
        let dst = DMA_DATA + self.max_chunk();
        // Payload: the key first when it travels in the packet, then the IV;
        // with a hardware or key-RAM key the IV sits at offset 0 (Linux
        // mxs-dcp maps `aes_key + 16` as payload for referenced keys).
        let mut iv_offset = 0;
        if let AesKey::Payload(k) = key {
            self.dma
                .write(DMA_PAYLOAD, k.as_slice())
                .map_err(Error::Dma)?;
            iv_offset = AES_BLOCK;
        }
        let mut next_iv = [0u8; AES_BLOCK];
        if let Mode::Cbc(iv) = mode {
            self.dma
                .write(DMA_PAYLOAD + iv_offset, iv.as_slice())
                .map_err(Error::Dma)?;
            if direction == Direction::Decrypt {
                // The next IV is the last ciphertext block of this input.
                next_iv.copy_from_slice(part.get(n - AES_BLOCK..).unwrap_or(&[0; AES_BLOCK]));
            }
        }
        self.dma.write(src, part).map_err(Error::Dma)?;
        let mut packet = [0u8; regs::PACKET_SIZE];
        let words = [
            0,
            ctrl0,
            ctrl1,
            self.bus(src) as u32,
            self.bus(dst) as u32,
            n as u32,
            // Always a valid (zeroed) payload, as Linux and OP-TEE give one
            // even for ECB with a hardware key.
            self.bus(DMA_PAYLOAD) as u32,
            0,
        ];
        for (bytes, word) in packet.chunks_exact_mut(4).zip(words) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        self.dma.write(DMA_PACKET, &packet).map_err(Error::Dma)?;
        self.dma
            .clean(DMA_PACKET, regs::PACKET_SIZE + 2 * AES_BLOCK);
        self.dma.clean(src, n);
        self.dma.invalidate(dst, n);

        self.run_packet()?;

        self.dma.invalidate(dst, n);
        self.dma.read(dst, part).map_err(Error::Dma)?;
        if let Mode::Cbc(iv) = mode {
            if direction == Direction::Encrypt {
                next_iv.copy_from_slice(part.get(n - AES_BLOCK..).unwrap_or(&[0; AES_BLOCK]));
            }
            iv.copy_from_slice(&next_iv);
        }
        Ok(())
    }

    /// Rings channel 0 for the packet at [`DMA_PACKET`] and waits for it.
    fn run_packet(&mut self) -> Result<(), Error> {
        let bit = 1u32 << CHANNEL;
        self.regs.write32(regs::STAT + CLR, bit);
        self.regs.write32(regs::ch_stat(CHANNEL) + CLR, 0xFFFF_FFFF);
        self.regs
            .write32(regs::ch_cmdptr(CHANNEL), self.bus(DMA_PACKET) as u32);
        self.jobs = self.jobs.wrapping_add(1);
        self.regs.write32(regs::ch_sema(CHANNEL), 1);
        self.wait_stat(bit, Wait::Channel)?;
        let status = self.regs.read32(regs::ch_stat(CHANNEL));
        self.regs.write32(regs::STAT + CLR, bit);
        if status & regs::CH_STAT_ERROR_MASK != 0 {
            debug!("dcp: CH0STAT {=u32:#x}", status);
            return Err(Error::ChannelStatus(status));
        }
        Ok(())
    }

    /// A bounded best effort: the soft reset reloads the OTP key from SNVS
    /// and STAT.OTP_KEY_READY says when that is done (NXP's MCUXpresso
    /// `DCP_AES_SetKey` checks it), but Linux `mxs-dcp` and OP-TEE's
    /// `dcp.c` never read it, so a part that does not set it works there.
    /// This waits at most [`OTP_KEY_READY_WAIT_US`] once per init, reports
    /// what it saw, and never fails init or a job.
    fn wait_otp_key_ready(&mut self) -> bool {
        let block = &mut self.regs;
        let seen = poll_until(
            &mut self.delay,
            Budget::fixed(OTP_KEY_READY_WAIT_US, POLL_STEP_US),
            (),
            || Ok(block.read32(regs::STAT) & regs::STAT_OTP_KEY_READY != 0),
        )
        .is_ok();
        if !seen {
            warning!("dcp: STAT.OTP_KEY_READY not set after reset; going on (as Linux, OP-TEE)");
        }
        seen
    }

    /// Polls until any of `bits` is set in STAT, bounded by the timeout.
    fn wait_stat(&mut self, bits: u32, wait: Wait) -> Result<(), Error> {
        let block = &mut self.regs;
        poll_until(
            &mut self.delay,
            Budget::fixed(self.timeout_us, POLL_STEP_US),
            Error::Timeout(wait),
            || Ok(block.read32(regs::STAT) & bits != 0),
        )
    }

    /// Largest data size of one packet: half the data area, whole blocks.
    fn max_chunk(&self) -> usize {
        (self.dma.len().saturating_sub(DMA_DATA) / 2) & !(AES_BLOCK - 1)
    }

    fn bus(&self, offset: usize) -> u64 {
        self.dma.bus_address().wrapping_add(offset as u64)
    }
}
