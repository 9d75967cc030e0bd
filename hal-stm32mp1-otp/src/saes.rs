//! The SAES (secure AES coprocessor) of the STM32MP13 and STM32MP2x, and
//! OP-TEE's HUK subkey derivation on it.
//!
//! On these parts OP-TEE does not derive its subkeys from an OTP HUK:
//! `core/drivers/crypto/stm32/stm32_saes.c` replaces `huk_subkey_derive`
//! with an SP 800-108 counter-mode KDF whose PRF is AES-CMAC keyed by the
//! DHUK, a key the SAES derives from a fused root key and never lets
//! software read. [`SaesKdf`] reproduces it byte for byte, so a
//! [`TeeSealer`] over it writes the blobs Linux `trusted.source=tee` reads on
//! that device.
//!
//! Two layers, as in the other drivers of this crate:
//!
//! - [`Stm32Saes`], the protocol: reset, key selection (DHUK, or a 128- or
//!   256-bit software key for the self test and [`Stm32Saes::encrypt_block`]),
//!   KEYVALID, BUSY and CCF waits (each bounded), the error flags (`RDERR`,
//!   `WRERR` in SR; `KEIF`, `RNGEIF` in ISR) as errors, ECB and CBC
//!   encryption, and after every operation an
//!   `IPRST` pulse that wipes the key, IV (the CBC chaining value, i.e. the
//!   last output block) and data registers;
//! - [`SaesKdf`], the policy: OP-TEE's input layout (32- or 64-bit `size_t`),
//!   K(0), the counter loop, a FIPS-197 self test on first use, and every
//!   subkey derived twice and compared before it is handed out.

use dbl::Dbl;
use embedded_hal::delay::DelayNs;
use subtle::ConstantTimeEq;
use trusted_core::huk::{HUK_SUBKEY_MAX_LEN, HukSubkeyUsage};
use trusted_core::one_block::AesEngine;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::tee::TeeSealer;
use trusted_core::{Mmio, SubkeyDerive, trace};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, SaesFault, Wait};
use crate::regs::saes::{self as regs, Layout};

/// Bound of every SAES wait (OP-TEE `SAES_TIMEOUT_US`, 100 ms).
pub const SAES_TIMEOUT_US: u32 = 100_000;
/// Polls start at 1 µs and back off to 100 µs: a block takes ~11 µs at
/// the SAES's 48 MHz (RM0456 Table 483: 528 cycles), a DHUK load about as
/// long.
const SAES_BUDGET: Budget = Budget::backoff(SAES_TIMEOUT_US, 1, 100);

/// An AES block.
pub type Block = [u8; 16];

/// A block as an element of GF(2¹²⁸) for the CMAC subkey doubling.
type GfBlock = aes::cipher::Array<u8, aes::cipher::consts::U16>;

type Result<T> = core::result::Result<T, Error>;

fn fault(f: SaesFault) -> Error {
    Error::Saes(f)
}

/// The chaining mode of a DHUK encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Chaining {
    /// Electronic codebook: each block on its own.
    Ecb,
    /// Cipher block chaining from an all-zero IV.
    Cbc,
}

/// Which key an operation uses.
#[derive(Clone, Copy)]
enum KeySel<'a> {
    /// The DHUK (`KEYSEL = 001`), AES-128.
    Dhuk,
    /// A software key of 16 or 32 bytes (the self test, and
    /// [`Stm32Saes::encrypt_block`]).
    Soft(&'a [u8]),
}

/// The CMAC subkeys K1 = dbl(L), K2 = dbl(K1) with L = AES(DHUK, 0¹²⁸)
/// (RFC 4493 §2.3), kept for the CMACs of one derivation. Zeroed on drop.
pub struct CmacSubkeys {
    k1: Zeroizing<Block>,
    k2: Zeroizing<Block>,
}

/// The SAES, driven through its registers. Secure world only: the SAES
/// answers with the secure DHUK only to secure accesses (RM0456 §50.4.12:
/// "Secure SAES uses secure DHUK. Nonsecure SAES uses nonsecure DHUK"), and
/// OP-TEE's device tree firewalls it to the secure world.
pub struct Stm32Saes<M, D> {
    mmio: M,
    delay: D,
    layout: Layout,
    blocks: u32,
    key_loads: u32,
}

impl<M: Mmio, D: DelayNs> Stm32Saes<M, D> {
    /// A driver over the SAES register block `mmio` laid out as `layout`
    /// ([`regs::MP13`] for the STM32MP13 at [`regs::SAES_BASE_MP13`],
    /// [`regs::MP25`] for the MP23/MP25, [`regs::MP21`] for the MP21),
    /// waiting with `delay`. The SAES needs its bus clock and the RNG's
    /// kernel clock (it fetches masking randomness from RNG1), both out of
    /// reset.
    pub fn new(mmio: M, delay: D, layout: Layout) -> Self {
        Self {
            mmio,
            delay,
            layout,
            blocks: 0,
            key_loads: 0,
        }
    }

    /// The register block and delay back.
    pub fn into_inner(self) -> (M, D) {
        (self.mmio, self.delay)
    }

    /// The register block, for what the driver does not wrap or for a test
    /// that looks behind the driver.
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.mmio
    }

    /// The register layout in use.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// AES blocks this driver pushed through the SAES so far.
    pub fn blocks(&self) -> u32 {
        self.blocks
    }

    /// Key loads (DHUK or software key selections) so far; each one is a
    /// reset, a key selection and a KEYVALID wait.
    pub fn key_loads(&self) -> u32 {
        self.key_loads
    }

    /// True when [`Stm32Saes::probe`] passes: the SAES answers, finishes
    /// its initialisation and reports no key or RNG error. Leaves the SAES
    /// reset.
    pub fn is_ready(&mut self) -> bool {
        self.probe().is_ok()
    }

    /// Resets the SAES, waits for its initialisation (BUSY) and checks that
    /// `SAES_CR` keeps a configuration written to it (EN left clear): an
    /// SAES without clock, held in reset, or behind a firewall closed to
    /// this world reads as zero. Leaves the SAES reset.
    pub fn probe(&mut self) -> Result<()> {
        self.wipe();
        let result = self
            .wait(Wait::SaesBusy, |l, sr, _| sr & l.sr_busy == 0)
            .and_then(|()| self.configure(regs::CR_DATATYPE_BYTE | regs::CR_CHMOD_CBC));
        self.wipe();
        result
    }

    /// Writes `cr` (EN clear) and reads it back: a block that does not keep
    /// it is not answering.
    fn configure(&mut self, cr: u32) -> Result<()> {
        self.mmio.write32(regs::CR, cr);
        if self.mmio.read32(regs::CR) == cr {
            Ok(())
        } else {
            Err(fault(SaesFault::NotResponding))
        }
    }

    /// FIPS-197 appendix C.1 with a software key: proves the data path
    /// (DINR, the AES core, DOUTR, the byte swapping) before a DHUK output
    /// is trusted. A stuck data bit would otherwise give a wrong but stable
    /// subkey, and blobs sealed with it would be lost.
    pub fn self_test(&mut self) -> Result<()> {
        self.known_answer(&regs::FIPS197_KEY, &regs::FIPS197_CIPHERTEXT)
    }

    /// FIPS-197 appendix C.3: the same proof for the 256-bit software-key
    /// path (KEYR4..7, `CR.KEYSIZE`), before the SAES runs the TEE sealer's
    /// AES-256 (`SaesKdf` as an `AesEngine` runs it once).
    pub fn self_test_aes256(&mut self) -> Result<()> {
        self.known_answer(&regs::FIPS197_KEY_256, &regs::FIPS197_CIPHERTEXT_256)
    }

    fn known_answer(&mut self, key: &[u8], expected: &Block) -> Result<()> {
        let mut out = regs::FIPS197_PLAINTEXT;
        self.encrypt_block(key, &mut out)?;
        if bool::from(out.ct_eq(expected)) {
            Ok(())
        } else {
            Err(fault(SaesFault::SelfTestFailed))
        }
    }

    /// Encrypts `data` (whole blocks) in place with AES-128 under the DHUK,
    /// in ECB, or in CBC from an all-zero IV. On error `data` is zeroed.
    pub fn dhuk_encrypt(&mut self, chaining: Chaining, data: &mut [u8]) -> Result<()> {
        let result = self.dhuk_encrypt_inner(chaining, data);
        self.wipe();
        if result.is_err() {
            data.zeroize();
        }
        result
    }

    fn dhuk_encrypt_inner(&mut self, chaining: Chaining, data: &mut [u8]) -> Result<()> {
        if data.is_empty() || !data.len().is_multiple_of(16) {
            return Err(fault(SaesFault::BadLength));
        }
        self.session(KeySel::Dhuk, chaining)?;
        let mut input = Zeroizing::new([0u8; 16]);
        for chunk in data.chunks_exact_mut(16) {
            input.copy_from_slice(chunk);
            let out: &mut Block = chunk.try_into().map_err(|_| fault(SaesFault::BadLength))?;
            self.block(&input, out)?;
        }
        Ok(())
    }

    /// Encrypts `block` in place, AES-ECB under the software `key` (16 or
    /// 32 bytes; [`SaesFault::BadLength`] otherwise): what lets the TEE
    /// sealer run its AES-256-GCM here (`TeeSealer::with_kdf_aes`) instead
    /// of linking software AES. The key registers are wiped after the
    /// block (`IPRST`), and `block` is zeroed on error.
    pub fn encrypt_block(&mut self, key: &[u8], block: &mut Block) -> Result<()> {
        let input = Zeroizing::new(*block);
        let result = if matches!(key.len(), 16 | 32) {
            self.session(KeySel::Soft(key), Chaining::Ecb)
                .and_then(|()| self.block(&input, block))
        } else {
            Err(fault(SaesFault::BadLength))
        };
        self.wipe();
        if result.is_err() {
            block.zeroize();
        }
        result
    }

    /// The CMAC subkeys of the DHUK: one ECB block of zeros, as OP-TEE's
    /// `stm32_saes_cmac_prf_128` computes L.
    pub fn dhuk_cmac_subkeys(&mut self) -> Result<CmacSubkeys> {
        let mut l = Zeroizing::new([0u8; 16]);
        self.dhuk_encrypt(Chaining::Ecb, l.as_mut_slice())?;
        let k1 = Zeroizing::new(<[u8; 16]>::from(GfBlock::from(*l).dbl()));
        let k2 = Zeroizing::new(<[u8; 16]>::from(GfBlock::from(*k1).dbl()));
        Ok(CmacSubkeys { k1, k2 })
    }

    /// AES-CMAC under the DHUK of the concatenation of `parts` (RFC 4493),
    /// with subkeys from [`Stm32Saes::dhuk_cmac_subkeys`]: one CBC pass from
    /// a zero IV over every block, the last one XORed with K1 (whole) or
    /// padded and XORed with K2. OP-TEE gets the same value with a second
    /// CBC session for the last block (a CBC step from a zero IV is one AES
    /// of the block it was given). On error `out` is zeroed.
    pub fn dhuk_cmac_with(
        &mut self,
        keys: &CmacSubkeys,
        parts: &[&[u8]],
        out: &mut Block,
    ) -> Result<()> {
        let result = self.cmac_inner(keys, parts, out);
        self.wipe();
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    /// AES-CMAC under the DHUK of `message` (subkeys computed for this one
    /// call).
    pub fn dhuk_cmac(&mut self, message: &[u8], out: &mut Block) -> Result<()> {
        let keys = self.dhuk_cmac_subkeys();
        match keys {
            Ok(keys) => self.dhuk_cmac_with(&keys, &[message], out),
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }

    fn cmac_inner(&mut self, keys: &CmacSubkeys, parts: &[&[u8]], out: &mut Block) -> Result<()> {
        self.session(KeySel::Dhuk, Chaining::Cbc)?;
        let mut block = Zeroizing::new([0u8; 16]);
        // Intermediate chaining values come out of DOUTR too; they are
        // CBC-MAC state and are dropped (zeroed) here.
        let mut chained = Zeroizing::new([0u8; 16]);
        let mut fill = 0usize;
        for &byte in parts.iter().flat_map(|part| part.iter()) {
            // A full block goes to the SAES only once more data follows: the
            // last block (full or not) is finished with K1 or K2 below.
            if fill == 16 {
                self.block(&block, &mut chained)?;
                block.zeroize();
                fill = 0;
            }
            if let Some(slot) = block.get_mut(fill) {
                *slot = byte;
            }
            fill += 1;
        }
        let subkey = if fill == 16 {
            &keys.k1
        } else {
            if let Some(pad) = block.get_mut(fill) {
                *pad = 0x80;
            }
            &keys.k2
        };
        block
            .iter_mut()
            .zip(subkey.iter())
            .for_each(|(b, k)| *b ^= k);
        self.block(&block, out)
    }

    /// Resets the SAES with an `IPRST` pulse: every register but the DPA
    /// configuration returns to its reset value, which erases the key
    /// registers, the IV/chaining value and the data output (RM0456
    /// §50.7.1, `IPRST`). Done after every operation and on every error.
    pub fn wipe(&mut self) {
        self.mmio.write32(regs::CR, regs::CR_IPRST);
        self.mmio.write32(regs::CR, 0);
    }

    /// Reads SR and ISR once; any error flag is its error.
    fn check_flags(&mut self) -> Result<()> {
        let sr = self.mmio.read32(regs::SR);
        let isr = self.mmio.read32(regs::ISR);
        flags(&self.layout, sr, isr)
    }

    /// Polls SR and ISR until `done`, within [`SAES_TIMEOUT_US`]; an error
    /// flag seen while waiting ends the wait with its error.
    fn wait(&mut self, which: Wait, done: impl Fn(&Layout, u32, u32) -> bool) -> Result<()> {
        let Self {
            mmio,
            delay,
            layout,
            ..
        } = self;
        poll_until(delay, SAES_BUDGET, Error::Timeout(which), || {
            let sr = mmio.read32(regs::SR);
            let isr = mmio.read32(regs::ISR);
            flags(layout, sr, isr).map(|()| done(layout, sr, isr))
        })
    }

    /// One key load, as OP-TEE's `saes_start` + `restore_context` +
    /// `saes_prepare_key`: reset, BUSY clear, CR (key, 128-bit, chaining,
    /// encryption, byte swapping), the key, KEYVALID, a zero IV for CBC,
    /// EN.
    fn session(&mut self, key: KeySel<'_>, chaining: Chaining) -> Result<()> {
        self.key_loads = self.key_loads.saturating_add(1);
        self.wipe();
        self.wait(Wait::SaesBusy, |l, sr, _| sr & l.sr_busy == 0)?;
        let keysel = match key {
            KeySel::Dhuk => regs::CR_KEYSEL_DHUK,
            KeySel::Soft(_) => regs::CR_KEYSEL_SOFT,
        };
        let chmod = match chaining {
            Chaining::Ecb => regs::CR_CHMOD_ECB,
            Chaining::Cbc => regs::CR_CHMOD_CBC,
        };
        // KEYSIZE = 0 (AES-128) and MODE = encryption are all-zero fields.
        let keysize = match key {
            KeySel::Soft(key) if key.len() == 32 => regs::CR_KEYSIZE_256,
            _ => 0,
        };
        let cr = keysel | keysize | chmod | regs::CR_MODE_ENCRYPT | regs::CR_DATATYPE_BYTE;
        self.configure(cr)?;
        trace!("saes: key load, cr {}", cr);
        if let KeySel::Soft(key) = key {
            // KEYR0 holds KEY[31:0] (the key's last four bytes, big-endian);
            // written in ascending order as RM0456 §50.4.12 requires, KEYR0..3
            // then KEYR4..7 for a 256-bit key (OP-TEE `saes_write_key`).
            for (i, word) in key.rchunks_exact(4).enumerate() {
                let value = word
                    .try_into()
                    .map(u32::from_be_bytes)
                    .map_err(|_| fault(SaesFault::BadLength))?;
                let reg = match i {
                    0..4 => self.layout.keyr0 + 4 * i,
                    _ => self.layout.keyr4 + 4 * (i - 4),
                };
                self.mmio.write32(reg, value);
            }
        }
        self.wait(Wait::SaesKeyValid, |l, sr, _| sr & l.sr_keyvalid != 0)?;
        if chaining == Chaining::Cbc {
            for i in 0..4 {
                self.mmio.write32(self.layout.ivr0 + 4 * i, 0);
            }
        }
        self.mmio.write32(regs::CR, cr | regs::CR_EN);
        self.check_flags()
    }

    /// One block through the enabled SAES: four DINR writes (with byte
    /// swapping, a word is the little-endian image of four block bytes),
    /// CCF, four DOUTR reads, CCF cleared, then the flags checked again so
    /// a read error is never taken for data.
    fn block(&mut self, input: &Block, out: &mut Block) -> Result<()> {
        for word in input.chunks_exact(4) {
            let value = word
                .try_into()
                .map(u32::from_le_bytes)
                .map_err(|_| fault(SaesFault::BadLength))?;
            self.mmio.write32(regs::DINR, value);
        }
        self.wait(Wait::SaesComputation, |l, _, isr| isr & l.i_ccf != 0)?;
        for word in out.chunks_exact_mut(4) {
            word.copy_from_slice(&self.mmio.read32(regs::DOUTR).to_le_bytes());
        }
        self.mmio.write32(regs::ICR, self.layout.i_ccf);
        self.blocks = self.blocks.saturating_add(1);
        self.check_flags()
    }
}

/// The error an SR/ISR pair reports, if any: a key error first (nothing
/// else is valid without a key), then the RNG, then read and write errors.
fn flags(layout: &Layout, sr: u32, isr: u32) -> Result<()> {
    let f = if isr & layout.i_keif != 0 {
        SaesFault::KeyError
    } else if isr & layout.i_rngeif != 0 {
        SaesFault::RngError
    } else if sr & layout.sr_rderr != 0 {
        SaesFault::ReadError
    } else if sr & layout.sr_wrerr != 0 || isr & layout.i_rweif != 0 {
        SaesFault::WriteError
    } else {
        return Ok(());
    };
    Err(fault(f))
}

/// The width of `size_t` in the OP-TEE core that derives the subkeys: its
/// `huk_subkey_derive` stores the subkey bit length big-endian in a
/// `size_t`, so the KDF input differs between 32- and 64-bit builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SizeT {
    /// 4 bytes: an arm32 OP-TEE (STM32MP13, Cortex-A7).
    Bytes4,
    /// 8 bytes: an arm64 OP-TEE (STM32MP2x, Cortex-A35); the big-endian
    /// 32-bit value in the first four bytes, then four zero bytes.
    Bytes8,
}

/// OP-TEE's `huk_subkey_derive` on the SAES (`stm32_saes.c`), as a
/// [`SubkeyDerive`] provider for [`TeeSealer`]:
///
/// ```text
/// input  = const_data ‖ 00 (both only if const_data is given)
///          ‖ LE32(usage) ‖ BE32(8·len) [‖ 00000000 on 64-bit]
/// K(0)   = CMAC(DHUK, input)
/// K(i)   = CMAC(DHUK, BE32(i) ‖ input ‖ K(0)),  i = 1, 2, …
/// subkey = (K(1) ‖ K(2) ‖ …)[..len]
/// ```
///
/// Lengths 1..=32 ([`HUK_SUBKEY_MAX_LEN`]) are accepted, as OP-TEE's
/// `huk_subkey_derive` contract says (its SAES override does not check,
/// its callers do). The first derivation runs [`Stm32Saes::self_test`];
/// every subkey is derived twice and the two compared in constant time, so
/// a glitch gives [`SaesFault::Unstable`] instead of a wrong key. Per
/// 32-byte TA key on an MP13 that is 2 × (1 ECB block for L + 2 + 3 + 3 CBC
/// blocks) = 18 AES blocks in 8 key loads.
pub struct SaesKdf<M, D> {
    saes: Stm32Saes<M, D>,
    size_t: SizeT,
    self_tested: bool,
    aes256_tested: bool,
}

/// A TEE sealer (OP-TEE trusted_keys TA blobs, Linux `trusted.source=tee`)
/// keyed by the SAES DHUK KDF.
pub type SaesTee<M, D, R> = TeeSealer<SaesKdf<M, D>, R>;

impl<M: Mmio, D: DelayNs> SaesKdf<M, D> {
    /// The KDF of an OP-TEE core whose `size_t` is `size_t` wide.
    pub fn new(saes: Stm32Saes<M, D>, size_t: SizeT) -> Self {
        Self {
            saes,
            size_t,
            self_tested: false,
            aes256_tested: false,
        }
    }

    /// The STM32MP13 KDF (arm32 OP-TEE, 4-byte `size_t`).
    pub fn stm32mp13(saes: Stm32Saes<M, D>) -> Self {
        Self::new(saes, SizeT::Bytes4)
    }

    /// The STM32MP2x KDF (arm64 OP-TEE, 8-byte `size_t`). Upstream OP-TEE
    /// does not enable the SAES on MP2x; ST's OP-TEE does.
    pub fn stm32mp2(saes: Stm32Saes<M, D>) -> Self {
        Self::new(saes, SizeT::Bytes8)
    }

    /// The `size_t` width in use.
    pub fn size_t(&self) -> SizeT {
        self.size_t
    }

    /// The SAES driver this KDF wraps.
    pub fn driver_mut(&mut self) -> &mut Stm32Saes<M, D> {
        &mut self.saes
    }

    /// The SAES driver back.
    pub fn into_inner(self) -> Stm32Saes<M, D> {
        self.saes
    }

    /// One derivation into `out` (1..=32 bytes), exactly as OP-TEE.
    fn derive_once(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        let keys = self.saes.dhuk_cmac_subkeys()?;
        // `out.len()` is at most 32, so the bit count fits easily.
        let bits = u32::try_from(out.len().saturating_mul(8)).unwrap_or(u32::MAX);
        let usage = (usage as u32).to_le_bytes();
        let bitlen = bits.to_be_bytes();
        let size_t_tail: &[u8] = match self.size_t {
            SizeT::Bytes4 => &[],
            SizeT::Bytes8 => &[0; 4],
        };
        // OP-TEE adds const_data and the separator only for a non-NULL
        // const_data; every caller passes NULL with length 0.
        let separator: &[u8] = if const_data.is_empty() { &[] } else { &[0] };
        let mut k0 = Zeroizing::new([0u8; 16]);
        self.saes.dhuk_cmac_with(
            &keys,
            &[const_data, separator, &usage, &bitlen, size_t_tail],
            &mut k0,
        )?;
        let mut k = Zeroizing::new([0u8; 16]);
        for (i, chunk) in (1u32..).zip(out.chunks_mut(16)) {
            let counter = i.to_be_bytes();
            self.saes.dhuk_cmac_with(
                &keys,
                &[
                    &counter,
                    const_data,
                    separator,
                    &usage,
                    &bitlen,
                    size_t_tail,
                    k0.as_slice(),
                ],
                &mut k,
            )?;
            chunk.copy_from_slice(k.get(..chunk.len()).unwrap_or(&[]));
        }
        Ok(())
    }

    fn derive_checked(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> Result<()> {
        if !self.self_tested {
            self.saes.self_test()?;
            self.self_tested = true;
        }
        self.derive_once(usage, const_data, out)?;
        let mut again = Zeroizing::new([0u8; HUK_SUBKEY_MAX_LEN]);
        let again = again
            .get_mut(..out.len())
            .ok_or_else(|| fault(SaesFault::BadLength))?;
        self.derive_once(usage, const_data, again)?;
        // Decided twice, as a `Verdict` (`trusted_core::fih`): one skipped
        // comparison cannot release a subkey the two runs disagree on.
        trusted_core::fih::ct_eq(again, out).ok_or(fault(SaesFault::Unstable))
    }
}

/// The SAES under the KDF, so the TEE sealer's AES runs there too
/// (`TeeSealer::with_kdf_aes`), after a one-time AES-256 known-answer test
/// ([`Stm32Saes::self_test_aes256`]).
impl<M: Mmio, D: DelayNs> AesEngine for SaesKdf<M, D> {
    fn encrypt_block(&mut self, key: &[u8], block: &mut Block) -> trusted_core::Result<()> {
        if !self.aes256_tested {
            if let Err(e) = self.saes.self_test_aes256() {
                block.zeroize();
                return Err(e.into());
            }
            self.aes256_tested = true;
        }
        self.saes.encrypt_block(key, block).map_err(Into::into)
    }
}

impl<M: Mmio, D: DelayNs> SubkeyDerive for SaesKdf<M, D> {
    fn derive_subkey(
        &mut self,
        usage: HukSubkeyUsage,
        const_data: &[u8],
        out: &mut [u8],
    ) -> trusted_core::Result<()> {
        out.zeroize();
        if !(1..=HUK_SUBKEY_MAX_LEN).contains(&out.len()) {
            return Err(trusted_core::Error::InvalidArgument(
                "subkey length must be 1..=32",
            ));
        }
        let result = self.derive_checked(usage, const_data, out);
        if result.is_err() {
            out.zeroize();
            self.saes.wipe();
        }
        Ok(result?)
    }
}
