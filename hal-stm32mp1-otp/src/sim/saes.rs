//! A behavioural model of the SAES of the STM32MP13 (and of the MP2x
//! blocks, [`regs::MP25`] and [`regs::MP21`]), `no_std`, no heap.
//!
//! What it models (RM0456 §50 for the IP, OP-TEE/TF-A/CubeMP13 for the
//! register map):
//!
//! - a per-instance 128-bit DHUK, loaded into the key registers by
//!   `KEYSEL = 001` and readable through no register (the key registers
//!   read as zero, `Debug` prints nothing of it); the non-secure world gets
//!   another DHUK ("Nonsecure SAES uses nonsecure DHUK");
//! - BUSY for a few SR reads after every reset (the RNG fetch) and every
//!   key selection; KEYVALID at the end of a load, KEIF instead when the
//!   DHUK is not available; writes to the configuration fields ignored while
//!   BUSY or while EN stays set; EN writable only with a valid key;
//! - a software key loaded by writing KEYR0..3 (KEYR0..7 with
//!   `CR.KEYSIZE` = 256) in ascending or descending order (KEIF otherwise);
//!   a key selection change erasing the key;
//! - AES-128 and (software key) AES-256 encryption in ECB and CBC (IVR is the chaining value and reads
//!   back the last output block, as for suspend/resume), with the four
//!   DATATYPE swaps; CCF after the fourth DINR write; RDERR (reads zero) for
//!   a DOUTR read without output, WRERR (ignored) for a DINR write while
//!   output is pending; RWEIF/KEIF/CCF/RNGEIF cleared through ICR (clearing
//!   KEIF restarts the key selection);
//! - `IPRST` and the RCC reset returning every register to its reset value
//!   (key, IV, data); the clock gate and the RCC reset line, under which
//!   the block reads zero and ignores writes; the firewall: a non-secure
//!   view ([`SaesSim::non_secure`]) that reads zero unless opened, and an
//!   SAES key loaded in one world raising KEIF when touched from the other.
//!
//! Not modelled (the model computes nothing, so CCF never rises): a
//! 256-bit DHUK, 192-bit keys (MP21), decryption and key preparation (MODE 2/3), CTR/GCM/CCM, wrapped and
//! shared keys, BHK and the test key (KEIF), DMA, interrupts.
//!
//! Faults ([`SaesSim::inject`]): BUSY stuck, a key error, a read error, a
//! write error, a corrupted output block (once, or every block), an RNG
//! error, and one flipped bit of one register read (a glitch).

use super::ReadGlitch;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use trusted_core::Mmio;
use zeroize::{Zeroize, Zeroizing};

use crate::regs::saes::{self as regs, Layout};

/// A fault to inject with [`SaesSim::inject`]; each says whether it fires
/// once or stays until [`SaesSim::clear_faults`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Fault {
    /// Persistent: BUSY never clears after a reset or a key selection.
    BusyStuck,
    /// Once: the next DHUK load fails with KEIF (a transient key error).
    KeyError,
    /// Once: the next DOUTR read is taken as unexpected: RDERR, reads zero.
    ReadError,
    /// Once: the next DINR write is taken as unexpected: WRERR, ignored.
    WriteError,
    /// Once: the next output block comes out with its first bit flipped.
    CorruptOutputOnce,
    /// Persistent: every output block comes out with its first bit flipped
    /// (a stuck data line).
    CorruptOutput,
    /// Persistent: RNGEIF after every reset (the RNG kernel clock is off).
    RngError,
    /// One-shot: one register read returns with a bit flipped (a glitch on
    /// the bus or in the CPU). [`SaesSim::reads`] counts reads, so a test can
    /// sweep every bit of every read an operation does.
    FlipReadBit(ReadGlitch),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Armed {
    busy_stuck: bool,
    key_error: bool,
    read_error: bool,
    write_error: bool,
    corrupt_once: bool,
    corrupt_always: bool,
    rng_error: bool,
}

/// Which world an access comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum World {
    Secure,
    NonSecure,
}

/// The SAES model. As [`Mmio`] it is the secure-world view.
pub struct SaesSim {
    layout: Layout,
    dhuk: Zeroizing<[u8; 16]>,
    dhuk_ns: Zeroizing<[u8; 16]>,
    dhuk_available: bool,
    clock: bool,
    reset_held: bool,
    firewall_open: bool,
    faults: Armed,
    flip: trusted_core::fih::ReadFlip,
    busy_polls: u32,
    key_polls: u32,
    // Registers and internal state (all returned to reset by `ip_reset`).
    cr: u32,
    ier: u32,
    susp: [u32; 8],
    ccf: bool,
    rweif: bool,
    keif: bool,
    rngeif: bool,
    rderr: bool,
    wrerr: bool,
    busy_left: u32,
    pending_load: Option<World>,
    /// The key registers' key: 16 bytes (DHUK or a 128-bit software key)
    /// or 32 (a 256-bit software key), `key_len` of them.
    key: Zeroizing<[u8; 32]>,
    key_len: usize,
    keyvalid: bool,
    key_world: World,
    key_words: [u32; 8],
    key_order: KeyOrder,
    chain: Zeroizing<[u8; 16]>,
    din: Zeroizing<[u32; 4]>,
    din_count: usize,
    dout: Zeroizing<[u32; 4]>,
    dout_next: usize,
    // Statistics.
    blocks: u32,
    key_loads: u32,
}

/// Progress of a software key written word by word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyOrder {
    None,
    Ascending(usize),
    Descending(usize),
}

impl core::fmt::Debug for SaesSim {
    /// Configuration and flags only: never the DHUK, the key or data.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SaesSim")
            .field("cr", &self.cr)
            .field("keyvalid", &self.keyvalid)
            .field("clock", &self.clock)
            .field("reset_held", &self.reset_held)
            .field("blocks", &self.blocks)
            .field("key_loads", &self.key_loads)
            .finish_non_exhaustive()
    }
}

impl SaesSim {
    /// An STM32MP13 SAES whose secure DHUK is `dhuk`, clocked, out of
    /// reset, firewalled to the secure world. Takes the DHUK by value or by
    /// reference (`&dhuk` leaves no by-value copy behind).
    pub fn new(dhuk: impl core::borrow::Borrow<[u8; 16]>) -> Self {
        let mut stored = Zeroizing::new([0u8; 16]);
        stored.copy_from_slice(dhuk.borrow());
        let dhuk = stored;
        // The non-secure DHUK: another key from the same root, unrelated
        // to the secure one for anybody without the root.
        let mut dhuk_ns = Zeroizing::new(*b"non-secure DHUK.");
        aes128(&dhuk, &mut dhuk_ns);
        let mut sim = Self {
            layout: regs::MP13,
            dhuk,
            dhuk_ns,
            dhuk_available: true,
            clock: true,
            reset_held: false,
            firewall_open: false,
            faults: Armed::default(),
            flip: trusted_core::fih::ReadFlip::default(),
            busy_polls: 2,
            key_polls: 2,
            cr: 0,
            ier: 0,
            susp: [0; 8],
            ccf: false,
            rweif: false,
            keif: false,
            rngeif: false,
            rderr: false,
            wrerr: false,
            busy_left: 0,
            pending_load: None,
            key: Zeroizing::new([0; 32]),
            key_len: 0,
            keyvalid: false,
            key_world: World::Secure,
            key_words: [0; 8],
            key_order: KeyOrder::None,
            chain: Zeroizing::new([0; 16]),
            din: Zeroizing::new([0; 4]),
            din_count: 0,
            dout: Zeroizing::new([0; 4]),
            dout_next: 4,
            blocks: 0,
            key_loads: 0,
        };
        sim.power_on_reset();
        sim
    }

    /// The same SAES with the register block `layout` ([`regs::MP25`],
    /// [`regs::MP21`]).
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// The same SAES with BUSY for `polls` SR reads after a reset and
    /// `key_polls` after a key selection (default 2 and 2).
    pub fn with_busy_polls(mut self, polls: u32, key_polls: u32) -> Self {
        self.busy_polls = polls;
        self.key_polls = key_polls;
        self
    }

    /// Arms `fault` (see [`Fault`] for once or persistent).
    pub fn inject(&mut self, fault: Fault) {
        let armed = &mut self.faults;
        match fault {
            Fault::BusyStuck => armed.busy_stuck = true,
            Fault::KeyError => armed.key_error = true,
            Fault::ReadError => armed.read_error = true,
            Fault::WriteError => armed.write_error = true,
            Fault::CorruptOutputOnce => armed.corrupt_once = true,
            Fault::CorruptOutput => armed.corrupt_always = true,
            Fault::RngError => armed.rng_error = true,
            Fault::FlipReadBit(glitch) => self.flip.arm(glitch),
        }
    }

    /// Secure-world register reads since construction (what
    /// `Fault::FlipReadBit` counts).
    pub fn reads(&self) -> u32 {
        self.flip.reads()
    }

    /// Disarms every injected fault (chip state such as the clock, the
    /// reset line or the DHUK availability stays).
    pub fn clear_faults(&mut self) {
        self.faults = Armed::default();
        self.flip.disarm();
    }

    /// Gates the SAES bus clock (RCC `SAESEN`): off, the block reads zero
    /// and ignores writes; its registers keep their values.
    pub fn set_clock(&mut self, on: bool) {
        self.clock = on;
    }

    /// Holds the SAES in reset (RCC `SAESRST`), or releases it; releasing
    /// resets every register and starts the initialisation (BUSY).
    pub fn hold_reset(&mut self, held: bool) {
        if self.reset_held && !held {
            self.reset_held = false;
            self.power_on_reset();
        } else {
            self.reset_held = held;
            if held {
                self.ip_reset();
            }
        }
    }

    /// Opens the firewall (ETZPC/RIF) to the non-secure world, or closes it
    /// (the default, as OP-TEE's device tree configures the SAES).
    pub fn open_firewall(&mut self, open: bool) {
        self.firewall_open = open;
    }

    /// Makes the DHUK available or not (a part whose root key is not
    /// functional: every DHUK selection ends in KEIF).
    pub fn set_dhuk_available(&mut self, available: bool) {
        self.dhuk_available = available;
    }

    /// A reset from the RCC: every register to its reset value, then the
    /// initialisation (BUSY while the RNG is read).
    pub fn power_on_reset(&mut self) {
        self.ip_reset();
        self.start_init();
    }

    /// The non-secure world's view through the firewall.
    pub fn non_secure(&mut self) -> NonSecureSaes<'_> {
        NonSecureSaes(self)
    }

    /// AES blocks computed so far.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Key loads started so far (DHUK selections and software keys).
    pub fn key_loads(&self) -> u32 {
        self.key_loads
    }

    /// Whether a whole key sits in the key registers now.
    pub fn key_loaded(&self) -> bool {
        self.keyvalid
    }

    fn alive(&self) -> bool {
        self.clock && !self.reset_held
    }

    /// `IPRST` (or the RCC reset): every register to its reset value.
    fn ip_reset(&mut self) {
        self.cr = 0;
        self.ier = 0;
        self.susp = [0; 8];
        self.ccf = false;
        self.rweif = false;
        self.keif = false;
        self.rngeif = false;
        self.rderr = false;
        self.wrerr = false;
        self.busy_left = 0;
        self.pending_load = None;
        self.erase_key();
        self.chain.zeroize();
        self.din.zeroize();
        self.din_count = 0;
        self.dout.zeroize();
        self.dout_next = 4;
    }

    fn start_init(&mut self) {
        self.busy_left = self.busy_left.max(self.busy_polls);
        if self.faults.rng_error {
            self.rngeif = true;
        }
    }

    fn erase_key(&mut self) {
        self.key.zeroize();
        self.key_len = 0;
        self.key_words.zeroize();
        self.keyvalid = false;
        self.key_order = KeyOrder::None;
    }

    fn busy(&self) -> bool {
        self.busy_left > 0 || self.faults.busy_stuck
    }

    fn keysel(&self) -> u32 {
        self.cr & regs::CR_KEYSEL_MASK
    }

    /// One SR read: time passes for BUSY.
    fn tick(&mut self) {
        if self.faults.busy_stuck {
            return;
        }
        if self.busy_left > 0 {
            self.busy_left -= 1;
            if self.busy_left == 0
                && let Some(world) = self.pending_load.take()
            {
                self.finish_load(world);
            }
        }
    }

    fn start_load(&mut self, world: World) {
        self.key_loads = self.key_loads.saturating_add(1);
        self.erase_key();
        self.pending_load = Some(world);
        self.busy_left = self.key_polls.max(1);
    }

    fn finish_load(&mut self, world: World) {
        let usable = self.keysel() == regs::CR_KEYSEL_DHUK
            && self.dhuk_available
            && !core::mem::take(&mut self.faults.key_error);
        if usable {
            let dhuk = match world {
                World::Secure => &self.dhuk,
                World::NonSecure => &self.dhuk_ns,
            };
            if let Some(key) = self.key.get_mut(..16) {
                key.copy_from_slice(dhuk.as_slice());
            }
            self.key_len = 16;
            self.keyvalid = true;
            self.key_world = world;
        } else {
            // BHK, test key, a missing DHUK: "hardware secret key loading
            // error", BUSY and KEYVALID cleared, KEIF set.
            self.keif = true;
        }
    }

    /// RM0456 §50.4.15 key protection: a key selected by KEYSEL (or
    /// protected by KEYPROT) touched from the other world is erased, KEIF.
    fn check_world(&mut self, world: World) {
        let protected = self.keysel() != 0 || self.cr & regs::CR_KEYPROT != 0;
        if self.keyvalid && protected && world != self.key_world {
            self.erase_key();
            self.keif = true;
        }
    }

    fn read(&mut self, offset: usize, world: World) -> u32 {
        if !self.alive() {
            return 0;
        }
        self.check_world(world);
        let l = self.layout;
        match offset {
            regs::CR => self.cr,
            regs::SR => {
                self.tick();
                let mut sr = 0;
                sr |= if self.ccf { l.sr_ccf } else { 0 };
                sr |= if self.rderr { l.sr_rderr } else { 0 };
                sr |= if self.wrerr { l.sr_wrerr } else { 0 };
                sr |= if self.busy() { l.sr_busy } else { 0 };
                sr |= if self.keyvalid { l.sr_keyvalid } else { 0 };
                sr
            }
            regs::ISR => {
                let mut isr = 0;
                isr |= if self.ccf { l.i_ccf } else { 0 };
                isr |= if self.rweif { l.i_rweif } else { 0 };
                isr |= if self.keif { l.i_keif } else { 0 };
                isr |= if self.rngeif { l.i_rngeif } else { 0 };
                isr
            }
            regs::IER => self.ier,
            regs::DOUTR => self.read_dout(),
            o if (l.ivr0..l.ivr0 + 16).contains(&o) => {
                // IVR0 is IV[31:0], the chaining value's last four bytes.
                let i = 3 - (o - l.ivr0) / 4;
                word_be(&self.chain, i)
            }
            o if l == regs::MP13 && (0x40..0x60).contains(&o) => {
                self.susp.get((o - 0x40) / 4).copied().unwrap_or(0)
            }
            // Key registers are write-only; everything else reads zero.
            _ => 0,
        }
    }

    fn read_dout(&mut self) -> u32 {
        if self.dout_next >= 4 || core::mem::take(&mut self.faults.read_error) {
            self.rderr = true;
            self.rweif = true;
            return 0;
        }
        let word = self.dout.get(self.dout_next).copied().unwrap_or(0);
        self.dout_next += 1;
        if self.dout_next == 4 {
            self.dout.zeroize();
        }
        word
    }

    fn write(&mut self, offset: usize, value: u32, world: World) {
        if !self.alive() {
            return;
        }
        self.check_world(world);
        let l = self.layout;
        match offset {
            regs::CR => self.write_cr(value, world),
            regs::IER => self.ier = value & 0xF,
            regs::ICR => self.write_icr(value, world),
            regs::DINR => self.write_din(value),
            o if (l.keyr0..l.keyr0 + 16).contains(&o) => self.write_key((o - l.keyr0) / 4, value),
            o if (l.keyr4..l.keyr4 + 16).contains(&o) => {
                self.write_key(4 + (o - l.keyr4) / 4, value)
            }
            // IV writes have no effect while the SAES is enabled.
            o if (l.ivr0..l.ivr0 + 16).contains(&o) && self.cr & regs::CR_EN == 0 => {
                let i = 3 - (o - l.ivr0) / 4;
                if let Some(bytes) = self.chain.get_mut(4 * i..4 * i + 4) {
                    bytes.copy_from_slice(&value.to_be_bytes());
                }
            }
            o if l == regs::MP13 && (0x40..0x60).contains(&o) => {
                if let Some(s) = self.susp.get_mut((o - 0x40) / 4) {
                    *s = value;
                }
            }
            _ => {}
        }
    }

    fn write_cr(&mut self, value: u32, world: World) {
        if value & regs::CR_IPRST != 0 {
            self.ip_reset();
            self.cr = regs::CR_IPRST;
            return;
        }
        // Leaving reset takes the configuration of the same write (OP-TEE's
        // `restore_context` writes its whole CR over a set IPRST), then
        // starts the initialisation (RNG fetch).
        let leaving_reset = self.cr & regs::CR_IPRST != 0;
        if leaving_reset {
            self.cr = 0;
        }
        let config = !regs::CR_EN;
        let frozen = !leaving_reset
            && (self.busy() || (self.cr & regs::CR_EN != 0 && value & regs::CR_EN != 0));
        let old_keysel = self.keysel();
        if !frozen {
            self.cr = (self.cr & !config) | (value & config);
        }
        let keysel = self.keysel();
        if !frozen && keysel != old_keysel {
            self.erase_key();
            if keysel != regs::CR_KEYSEL_SOFT {
                self.start_load(world);
            }
        } else if !frozen && keysel != 0 && !self.keyvalid && self.pending_load.is_none() {
            // Writing the same non-zero KEYSEL again reloads only when no
            // key is valid.
            self.start_load(world);
        }
        if leaving_reset {
            self.start_init();
        }
        if value & regs::CR_EN == 0 {
            self.cr &= !regs::CR_EN;
            self.din_count = 0;
        } else if self.keyvalid && !self.busy() {
            self.cr |= regs::CR_EN;
        }
    }

    fn write_icr(&mut self, value: u32, world: World) {
        let l = self.layout;
        if value & l.i_ccf != 0 {
            self.ccf = false;
        }
        if value & l.i_rweif != 0 {
            self.rweif = false;
            self.rderr = false;
            self.wrerr = false;
        }
        if value & l.i_rngeif != 0 {
            self.rngeif = false;
        }
        if value & l.i_keif != 0 && self.keif {
            self.keif = false;
            // "Clearing the KEIF flag automatically restarts the key
            // selection process."
            if self.keysel() != 0 {
                self.start_load(world);
            }
        }
    }

    fn write_key(&mut self, index: usize, value: u32) {
        if self.keysel() != regs::CR_KEYSEL_SOFT || self.cr & regs::CR_EN != 0 {
            return;
        }
        // KEYR4..7 take part only in a 256-bit key.
        let words = if self.cr & self.layout.cr_keysize_mask == regs::CR_KEYSIZE_256 {
            8
        } else {
            4
        };
        if index >= words {
            return;
        }
        let next = match self.key_order {
            KeyOrder::None if index == 0 => KeyOrder::Ascending(1),
            KeyOrder::None if index == words - 1 => KeyOrder::Descending(1),
            KeyOrder::Ascending(n) if index == n => KeyOrder::Ascending(n + 1),
            KeyOrder::Descending(n) if index + n == words - 1 => KeyOrder::Descending(n + 1),
            _ => {
                // "Key writing sequence error".
                self.erase_key();
                self.keif = true;
                return;
            }
        };
        if let Some(w) = self.key_words.get_mut(index) {
            *w = value;
        }
        self.key_order = next;
        if matches!(next, KeyOrder::Ascending(n) | KeyOrder::Descending(n) if n == words) {
            self.key_loads = self.key_loads.saturating_add(1);
            // KEYR0 holds KEY[31:0]: the last four key bytes.
            let len = 4 * words;
            for (i, word) in self.key_words.iter().take(words).enumerate() {
                let at = len - 4 - 4 * i;
                if let Some(bytes) = self.key.get_mut(at..at + 4) {
                    bytes.copy_from_slice(&word.to_be_bytes());
                }
            }
            self.key_words.zeroize();
            self.key_len = len;
            self.keyvalid = true;
            self.key_order = KeyOrder::None;
        }
    }

    fn write_din(&mut self, value: u32) {
        if self.cr & regs::CR_EN == 0 {
            return;
        }
        if self.dout_next < 4 || core::mem::take(&mut self.faults.write_error) {
            self.wrerr = true;
            self.rweif = true;
            return;
        }
        if let Some(slot) = self.din.get_mut(self.din_count) {
            *slot = value;
        }
        self.din_count += 1;
        if self.din_count == 4 {
            self.din_count = 0;
            self.compute();
        }
    }

    /// One block, once the fourth input word is in.
    fn compute(&mut self) {
        let l = self.layout;
        let keysize = self.cr & l.cr_keysize_mask;
        let supported = self.keyvalid
            && matches!(
                (keysize, self.key_len),
                (0, 16) | (regs::CR_KEYSIZE_256, 32)
            )
            && self.cr & regs::CR_MODE_MASK == regs::CR_MODE_ENCRYPT
            && matches!(
                self.cr & l.cr_chmod_mask,
                regs::CR_CHMOD_ECB | regs::CR_CHMOD_CBC
            );
        if !supported {
            return;
        }
        let datatype = self.cr & regs::CR_DATATYPE_MASK;
        let mut block = Zeroizing::new([0u8; 16]);
        for (bytes, &word) in block.chunks_exact_mut(4).zip(self.din.iter()) {
            bytes.copy_from_slice(&unswap(datatype, word));
        }
        self.din.zeroize();
        let cbc = self.cr & l.cr_chmod_mask == regs::CR_CHMOD_CBC;
        if cbc {
            block
                .iter_mut()
                .zip(self.chain.iter())
                .for_each(|(b, c)| *b ^= c);
        }
        aes(self.key.get(..self.key_len).unwrap_or(&[]), &mut block);
        if cbc {
            self.chain.copy_from_slice(&*block);
        }
        self.blocks = self.blocks.saturating_add(1);
        let corrupt = self.faults.corrupt_always || core::mem::take(&mut self.faults.corrupt_once);
        if corrupt && let Some(first) = block.first_mut() {
            *first ^= 0x80;
        }
        for (slot, bytes) in self.dout.iter_mut().zip(block.chunks_exact(4)) {
            *slot = swap(datatype, bytes);
        }
        self.dout_next = 0;
        self.ccf = true;
    }
}

/// One AES-128 encryption of `block` in place.
fn aes128(key: &[u8; 16], block: &mut [u8; 16]) {
    Aes128::new(key.into()).encrypt_block(block.into());
}

/// One AES-128 or AES-256 encryption of `block` in place, by key length.
fn aes(key: &[u8], block: &mut [u8; 16]) {
    match key.len() {
        32 => {
            let _ = Aes256::new_from_slice(key).map(|c| c.encrypt_block(block.into()));
        }
        _ => {
            let _ = Aes128::new_from_slice(key).map(|c| c.encrypt_block(block.into()));
        }
    }
}

/// Bytes `4i..4i+4` of `block` as a big-endian word.
fn word_be(block: &[u8; 16], i: usize) -> u32 {
    block
        .get(4 * i..4 * i + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// The four block bytes a DINR word carries under `datatype` (no swap: the
/// word's most significant byte first).
fn unswap(datatype: u32, word: u32) -> [u8; 4] {
    match datatype {
        regs::CR_DATATYPE_HALF_WORD => word.rotate_left(16).to_be_bytes(),
        regs::CR_DATATYPE_BYTE => word.swap_bytes().to_be_bytes(),
        regs::CR_DATATYPE_BIT => word.reverse_bits().to_be_bytes(),
        _ => word.to_be_bytes(),
    }
}

/// The DOUTR word carrying four block bytes under `datatype`.
fn swap(datatype: u32, bytes: &[u8]) -> u32 {
    let word = bytes.try_into().map(u32::from_be_bytes).unwrap_or(0);
    match datatype {
        regs::CR_DATATYPE_HALF_WORD => word.rotate_left(16),
        regs::CR_DATATYPE_BYTE => word.swap_bytes(),
        regs::CR_DATATYPE_BIT => word.reverse_bits(),
        _ => word,
    }
}

impl Mmio for SaesSim {
    fn read32(&mut self, offset: usize) -> u32 {
        let value = self.read(offset, World::Secure);
        self.flip.apply(offset, value)
    }
    fn write32(&mut self, offset: usize, value: u32) {
        self.write(offset, value, World::Secure)
    }
}

/// The SAES as the non-secure world sees it: through a closed firewall it
/// reads zero and ignores writes; through an open one it is the SAES with
/// the non-secure DHUK.
pub struct NonSecureSaes<'a>(&'a mut SaesSim);

impl Mmio for NonSecureSaes<'_> {
    fn read32(&mut self, offset: usize) -> u32 {
        if self.0.firewall_open {
            self.0.read(offset, World::NonSecure)
        } else {
            0
        }
    }
    fn write32(&mut self, offset: usize, value: u32) {
        if self.0.firewall_open {
            self.0.write(offset, value, World::NonSecure)
        }
    }
}
