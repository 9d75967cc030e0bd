//! A register-level model of the DCP (feature `sim`, `no_std`).
//!
//! [`DcpSim`] implements [`Mmio`]: registers with SET/CLR/TOG aliases, key
//! RAM, CAPABILITY0's sticky bits, and four channels. Adding to a channel's
//! semaphore (the doorbell) runs the work packets at its command pointer
//! right away: the model reads the packet, payload and source through the
//! [`DmaBus`] by bus address, runs AES-128 ECB/CBC, writes the destination,
//! sets CHnSTAT and STAT.IRQ\[n\], and follows `next` when CHAIN is set.
//! It imports only [`crate::regs`], never the driver.
//!
//! Modelling choices where no source says what silicon does:
//! - A packet asking for the UNIQUE key (key select 0xFE, OTP_KEY clear)
//!   after CAPABILITY0.DISABLE_UNIQUE_KEY was set fails with
//!   CHnSTAT.ERROR_SETUP. Real parts may instead return a different key.
//! - DISABLE_UNIQUE_KEY survives a soft reset (CTRL.SFTRST) and is cleared
//!   only by [`DcpSim::power_on_reset`]; otherwise OP-TEE's protection would
//!   be undone by the next driver's init. Key RAM also survives soft reset.
//! - control0 OTP_KEY selects the OTP key whatever KEY_SELECT holds (Linux
//!   commit caa9dbb76ff5 documents this behaviour of the hardware).
//! - Without PAYLOAD_KEY the CBC IV is at payload offset 0; with it, the key
//!   is at 0 and the IV at 16 (Linux mxs-dcp).
//! - Hashing, blit, memcopy and the byte/word swap bits are not modelled: a
//!   packet using them fails with ERROR_SETUP and error code 5.
//! - A packet that fails stops the channel: its semaphore drops to 0 and
//!   STAT.IRQ\[n\] is set so a polling driver sees the error.
//!
//! - STAT.OTP_KEY_READY is a status bit only ([`DcpSim::set_otp_key_ready`]
//!   holds it low): jobs on the UNIQUE and OTP keys run whatever it says.
//!   Neither Linux `mxs-dcp` nor OP-TEE's `dcp.c` ever reads the bit, and
//!   both work on real parts, so no source gives a job a reason to fail on it.
//!
//! The UNIQUE and OTP keys default to all zero, like an unfused part whose
//! HAB is open, so Linux's zero-key test would refuse it. Key material (the
//! fused keys, key RAM, the CBC state) is wiped when the model drops: the
//! model is linked into QEMU firmware.

use core::borrow::Borrow;

use heapless::Vec;
use trusted_core::fih::ReadFlip;
pub use trusted_core::fih::ReadGlitch;
use trusted_core::{DmaBus, Mmio};
use zeroize::Zeroize;

use crate::regs::{self, AES_BLOCK};

mod packet;
pub mod rngb;

pub use rngb::RngbSim;

/// Capacity of the job log (older entries are kept, newer ones counted only).
pub const JOB_LOG_LEN: usize = 64;

/// Which key a packet used (never the key bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyUsed {
    /// No key was resolved (the packet failed first).
    None,
    /// Key from the payload.
    Payload,
    /// Key-RAM slot.
    Slot(u8),
    /// Device-unique key (0xFE).
    Unique,
    /// OTP key.
    Otp,
}

/// One work packet the model ran (or accepted and never finished).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JobRecord {
    /// Channel number.
    pub channel: u8,
    /// Packet control0.
    pub ctrl0: u32,
    /// Packet control1.
    pub ctrl1: u32,
    /// Byte count.
    pub size: u32,
    /// Key the packet resolved to.
    pub key: KeyUsed,
    /// CHnSTAT it ended with (error bits and code; 0 = success).
    pub status: u32,
    /// True when [`Fault::NoCompletion`] swallowed the packet.
    pub hung: bool,
}

/// A fault to inject with [`DcpSim::inject`]. Each is one-shot: it fires
/// on the next packet it applies to, then is gone. Faults of different
/// kinds can be pending at once; injecting a kind again replaces it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// One-shot: the next packet ends with CHnSTAT = `status` (which should
    /// carry error bits) without touching memory.
    ErrorStatus(u32),
    /// One-shot: the next packet is accepted and never completes (no IRQ,
    /// semaphore stays); the channel stays stuck until a soft reset.
    NoCompletion,
    /// One-shot: after the next cipher packet that completes without error,
    /// XOR destination byte `index` (if below the packet's size) with `xor`
    /// (a silent bit error in the engine or on the bus).
    CorruptOutput {
        /// Byte offset in the packet's destination.
        index: usize,
        /// Bits to flip.
        xor: u8,
    },
    /// One-shot: as [`Fault::CorruptOutput`], on the cipher packet after
    /// the next `skip` ones that complete without error (to reach a block
    /// in the middle of a mode, such as a GCM counter block).
    CorruptLaterOutput {
        /// Error-free cipher packets to let through first.
        skip: u32,
        /// Byte offset in the packet's destination.
        index: usize,
        /// Bits to flip.
        xor: u8,
    },
    /// One-shot: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`DcpSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
}

#[derive(Default)]
struct Faults {
    fail_next: Option<u32>,
    hang_next: bool,
    /// Packets to skip, byte offset, bits to flip.
    corrupt_next: Option<(u32, usize, u8)>,
}

impl Faults {
    /// The corruption armed for this error-free cipher packet, if it is
    /// the one; otherwise one fewer packet to skip.
    fn take_corruption(&mut self) -> Option<(usize, u8)> {
        match self.corrupt_next.take()? {
            (0, index, xor) => Some((index, xor)),
            (skip, index, xor) => {
                self.corrupt_next = Some((skip.saturating_sub(1), index, xor));
                None
            }
        }
    }
}

/// The DCP model. Construct it over the [`DmaBus`] of the region the driver
/// uses (`StaticDma::bus()`).
pub struct DcpSim {
    bus: DmaBus,
    ctrl: u32,
    stat: u32,
    channelctrl: u32,
    capability0: u32,
    context: u32,
    key_slot: usize,
    key_subword: usize,
    key_ram: [[u8; AES_BLOCK]; regs::KEY_SLOTS as usize],
    cmdptr: [u32; regs::CHANNELS],
    sema: [u32; regs::CHANNELS],
    ch_stat: [u32; regs::CHANNELS],
    ch_opts: [u32; regs::CHANNELS],
    cbc_state: [[u8; AES_BLOCK]; regs::CHANNELS],
    hung: [bool; regs::CHANNELS],
    packet: [u32; 7],
    unique_key: [u8; AES_BLOCK],
    otp_key: [u8; AES_BLOCK],
    otp_key_ready: bool,
    faults: Faults,
    flip: ReadFlip,
    log: Vec<JobRecord, JOB_LOG_LEN>,
    job_count: u32,
}

impl Drop for DcpSim {
    fn drop(&mut self) {
        self.unique_key.zeroize();
        self.otp_key.zeroize();
        self.key_ram.zeroize();
        self.cbc_state.zeroize();
    }
}

const RESET_MASK: u32 = regs::CTRL_SFTRST | regs::CTRL_CLKGATE;
const STICKY_CAPS: u32 = regs::CAPABILITY0_DISABLE_UNIQUE_KEY | regs::CAPABILITY0_DISABLE_DECRYPT;
const CAPABILITY0_RO: u32 =
    (regs::CHANNELS as u32) << regs::CAPABILITY0_NUM_CHANNELS_SHIFT | regs::KEY_SLOTS as u32;
/// CAPABILITY1: SHA1, CRC32, SHA256 hashes; AES-128 cipher.
const CAPABILITY1_VALUE: u32 = 0x0007_0000 | regs::CAPABILITY1_AES128;
const VERSION_VALUE: u32 = 0x0201_0000;
/// Longest packet chain followed per doorbell, so a ring never hangs the host.
const MAX_CHAIN: usize = 256;

impl DcpSim {
    /// A freshly powered DCP (CTRL.SFTRST and CLKGATE set) with all-zero
    /// UNIQUE and OTP keys, over the DMA region behind `bus`.
    pub fn new(bus: DmaBus) -> Self {
        Self {
            bus,
            ctrl: RESET_MASK,
            stat: 0,
            channelctrl: 0,
            capability0: 0,
            context: 0,
            key_slot: 0,
            key_subword: 0,
            key_ram: [[0; AES_BLOCK]; regs::KEY_SLOTS as usize],
            cmdptr: [0; regs::CHANNELS],
            sema: [0; regs::CHANNELS],
            ch_stat: [0; regs::CHANNELS],
            ch_opts: [0; regs::CHANNELS],
            cbc_state: [[0; AES_BLOCK]; regs::CHANNELS],
            hung: [false; regs::CHANNELS],
            packet: [0; 7],
            unique_key: [0; AES_BLOCK],
            otp_key: [0; AES_BLOCK],
            otp_key_ready: true,
            faults: Faults::default(),
            flip: ReadFlip::default(),
            log: Vec::new(),
            job_count: 0,
        }
    }

    /// Sets the device-unique key (key select 0xFE). Takes the key by
    /// value or by reference (`&key` leaves no by-value copy behind).
    pub fn with_unique_key(mut self, key: impl Borrow<[u8; AES_BLOCK]>) -> Self {
        self.unique_key.copy_from_slice(key.borrow());
        self
    }

    /// Sets the OTP key (key select 0xFF or control0 OTP_KEY), by value or
    /// by reference.
    pub fn with_otp_key(mut self, key: impl Borrow<[u8; AES_BLOCK]>) -> Self {
        self.otp_key.copy_from_slice(key.borrow());
        self
    }

    /// Sets STAT.OTP_KEY_READY (true after construction). It is only the
    /// status bit: jobs on the hardware keys run either way (module docs).
    pub fn set_otp_key_ready(&mut self, ready: bool) {
        self.otp_key_ready = ready;
    }

    /// A power cycle: everything back to reset, including the sticky
    /// CAPABILITY0 bits and key RAM; the fused keys stay.
    pub fn power_on_reset(&mut self) {
        self.soft_reset();
        self.capability0 = 0;
        self.key_ram.zeroize();
        self.clear_faults();
    }

    /// Arms `fault` (see [`Fault`] for when each fires).
    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::ErrorStatus(status) => self.faults.fail_next = Some(status),
            Fault::NoCompletion => self.faults.hang_next = true,
            Fault::CorruptOutput { index, xor } => {
                self.faults.corrupt_next = Some((0, index, xor));
            }
            Fault::CorruptLaterOutput { skip, index, xor } => {
                self.faults.corrupt_next = Some((skip, index, xor));
            }
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
        }
    }

    /// Disarms every pending fault.
    pub fn clear_faults(&mut self) {
        self.faults = Faults::default();
        self.flip.disarm();
    }

    /// Register reads since construction (what [`Fault::FlipReadBit`]
    /// counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// Packets accepted since construction (including hung and failed ones).
    pub fn job_count(&self) -> u32 {
        self.job_count
    }

    /// The first [`JOB_LOG_LEN`] packets, oldest first.
    pub fn jobs(&self) -> &[JobRecord] {
        &self.log
    }

    /// Forgets the job log and count.
    pub fn clear_job_log(&mut self) {
        self.log.clear();
        self.job_count = 0;
    }

    /// True when CAPABILITY0.DISABLE_UNIQUE_KEY is set.
    pub fn unique_key_disabled(&self) -> bool {
        self.capability0 & regs::CAPABILITY0_DISABLE_UNIQUE_KEY != 0
    }

    fn in_reset(&self) -> bool {
        self.ctrl & RESET_MASK != 0
    }

    fn soft_reset(&mut self) {
        self.ctrl = RESET_MASK;
        self.stat = 0;
        self.channelctrl = 0;
        self.context = 0;
        self.cmdptr = [0; regs::CHANNELS];
        self.sema = [0; regs::CHANNELS];
        self.ch_stat = [0; regs::CHANNELS];
        self.ch_opts = [0; regs::CHANNELS];
        self.cbc_state.zeroize();
        self.hung = [false; regs::CHANNELS];
        self.packet = [0; 7];
    }

    fn record(&mut self, record: JobRecord) {
        self.job_count = self.job_count.wrapping_add(1);
        let _ = self.log.push(record);
    }

    fn alias(old: u32, offset: usize, value: u32) -> u32 {
        match offset & 0xF {
            regs::SET => old | value,
            regs::CLR => old & !value,
            regs::TOG => old ^ value,
            _ => value,
        }
    }
}

impl Mmio for DcpSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = self.register(offset);
        self.flip.apply(offset, value)
    }

    fn write32(&mut self, offset: usize, value: u32) {
        self.write_register(offset, value)
    }
}

impl DcpSim {
    fn register(&mut self, offset: usize) -> u32 {
        let base = offset & !0xF;
        match base {
            regs::CTRL => self.ctrl | regs::CTRL_PRESENT_CRYPTO | regs::CTRL_PRESENT_SHA,
            regs::STAT => {
                let ready = if self.otp_key_ready {
                    regs::STAT_OTP_KEY_READY
                } else {
                    0
                };
                self.stat | ready
            }
            regs::CHANNELCTRL => self.channelctrl,
            regs::CAPABILITY0 => self.capability0 | CAPABILITY0_RO,
            regs::CAPABILITY1 => CAPABILITY1_VALUE,
            regs::CONTEXT => self.context,
            regs::KEY => {
                ((self.key_slot as u32) << regs::KEY_INDEX_SHIFT) | self.key_subword as u32
            }
            regs::VERSION => VERSION_VALUE,
            b if (regs::PACKET0..regs::PACKET0 + 0x70).contains(&b) => self
                .packet
                .get((b - regs::PACKET0) / 0x10)
                .copied()
                .unwrap_or(0),
            b if (regs::ch_cmdptr(0)..regs::ch_cmdptr(regs::CHANNELS)).contains(&b) => {
                let n = (b - regs::ch_cmdptr(0)) / 0x40;
                let get = |a: &[u32; regs::CHANNELS]| a.get(n).copied().unwrap_or(0);
                match b - regs::ch_cmdptr(n) {
                    0x00 => get(&self.cmdptr),
                    0x10 => get(&self.sema) << regs::SEMA_VALUE_SHIFT,
                    0x20 => get(&self.ch_stat),
                    0x30 => get(&self.ch_opts),
                    _ => 0,
                }
            }
            _ => 0,
        }
    }

    fn write_register(&mut self, offset: usize, value: u32) {
        let base = offset & !0xF;
        if base == regs::CTRL {
            let old = self.ctrl;
            let new = Self::alias(old, offset, value)
                & !(regs::CTRL_PRESENT_CRYPTO | regs::CTRL_PRESENT_SHA);
            if new & regs::CTRL_SFTRST != 0 && old & regs::CTRL_SFTRST == 0 {
                // Entering soft reset resets the block and gates its clock.
                self.soft_reset();
            } else {
                self.ctrl = new;
            }
            return;
        }
        if self.in_reset() {
            // Clock gated or held in reset: the block ignores the write.
            return;
        }
        match base {
            regs::STAT => {
                let irq = Self::alias(self.stat, offset, value) & regs::STAT_IRQ_MASK;
                self.stat = (self.stat & !regs::STAT_IRQ_MASK) | irq;
            }
            regs::CHANNELCTRL => {
                self.channelctrl = Self::alias(self.channelctrl, offset, value) & 0x1_FFFF;
                (0..regs::CHANNELS).for_each(|n| self.run_channel(n));
            }
            regs::CAPABILITY0 => self.capability0 |= value & STICKY_CAPS,
            regs::CONTEXT => self.context = value,
            regs::KEY => {
                self.key_slot = ((value >> regs::KEY_INDEX_SHIFT) & 0x3) as usize;
                self.key_subword = (value & regs::KEY_SUBWORD_MASK) as usize;
            }
            regs::KEYDATA => {
                let at = self.key_subword * 4;
                if let Some(bytes) = self
                    .key_ram
                    .get_mut(self.key_slot)
                    .and_then(|k| k.get_mut(at..at + 4))
                {
                    bytes.copy_from_slice(&value.to_be_bytes());
                }
                self.key_subword = (self.key_subword + 1) & 0x3;
            }
            b if (regs::ch_cmdptr(0)..regs::ch_cmdptr(regs::CHANNELS)).contains(&b) => {
                let n = (b - regs::ch_cmdptr(0)) / 0x40;
                match b - regs::ch_cmdptr(n) {
                    0x00 => {
                        if let Some(p) = self.cmdptr.get_mut(n) {
                            *p = value;
                        }
                    }
                    0x10 => {
                        if let Some(s) = self.sema.get_mut(n) {
                            *s = (*s + (value & regs::SEMA_INCREMENT_MASK)).min(0xFF);
                        }
                        self.run_channel(n);
                    }
                    0x20 => {
                        if let Some(s) = self.ch_stat.get_mut(n) {
                            *s = Self::alias(*s, offset, value);
                        }
                    }
                    0x30 => {
                        if let Some(s) = self.ch_opts.get_mut(n) {
                            *s = Self::alias(*s, offset, value) & 0xFFFF;
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
}
