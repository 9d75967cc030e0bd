//! The job-ring driver: ring setup, enqueue, bounded dequeue, status
//! decoding, and the CAAM operations built on it (RNG4 instantiation,
//! random bytes, blob encapsulation/decapsulation, MKVB, PRIBLOB).
//!
//! Protocol only: which key modifier to use, and whether a non-secure CAAM
//! may seal, is decided in [`crate::source`].
//!
//! One job is in flight at a time (polling, like U-Boot and OP-TEE's
//! early boot path); the ring indices still advance and wrap as on a busy
//! ring. Every operation zeroes the whole DMA region before returning,
//! on success and on error.

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{DmaRegion, Mmio};
use zeroize::Zeroize;

use crate::desc::{self, BlobDirection, Descriptor, KeyModifier, LengthForm, PointerSize};
use crate::error::{Error, JobStatus};
use trusted_core::{debug, trace};
use crate::regs::{blob as blobsz, cmd, csta, ctrl, jr};

/// Most ring entries this driver sets up (its DMA layout reserves this many).
pub const MAX_RING_SIZE: u16 = 16;

/// Where the driver keeps things in the DMA region (byte offsets). Each
/// area starts on a 64-byte boundary so cache maintenance of one never
/// touches another.
pub mod layout {
    use super::MAX_RING_SIZE;
    use crate::regs::cmd::MAX_DESC_WORDS;

    const fn align64(x: usize) -> usize {
        (x + 63) & !63
    }
    /// Input ring: up to 16 entries of 8 bytes.
    pub const INPUT_RING: usize = 0;
    /// Output ring: up to 16 entries of 12 bytes.
    pub const OUTPUT_RING: usize = align64(INPUT_RING + MAX_RING_SIZE as usize * 8);
    /// The job descriptor (64 words).
    pub const DESCRIPTOR: usize = align64(OUTPUT_RING + MAX_RING_SIZE as usize * 12);
    /// A key modifier passed by reference (U-Boot style).
    pub const KEYMOD: usize = align64(DESCRIPTOR + MAX_DESC_WORDS * 4);
    /// Input data (red key or blob).
    pub const INPUT: usize = align64(KEYMOD + 16);
    /// Bytes reserved for input data.
    pub const DATA_LEN: usize = 512;
    /// Output data (blob, red key, random bytes, MKVB).
    pub const OUTPUT: usize = align64(INPUT + DATA_LEN);
    /// Smallest DMA region the driver accepts.
    pub const MIN_LEN: usize = align64(OUTPUT + DATA_LEN);
}

/// Job-ring and timing configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Job ring index (0..=3); its page is at base + (index + 1) × page size.
    pub job_ring: u8,
    /// Page size: [`crate::regs::PAGE_SIZE_4K`] on i.MX6/7/8M,
    /// [`crate::regs::PAGE_SIZE_64K`] on i.MX8QM/QX.
    pub page_size: usize,
    /// Ring entries (1..=[`MAX_RING_SIZE`]); U-Boot uses 4.
    pub ring_size: u16,
    /// Pointer width in descriptors and rings.
    pub pointer_size: PointerSize,
    /// Longest wait for one job or a ring reset, in microseconds.
    pub timeout_us: u32,
    /// Polling interval, in microseconds.
    pub poll_step_us: u32,
}

impl Config {
    /// Job ring `job_ring` on a 4 KiB-page CAAM, 4 entries, 32-bit pointers,
    /// 1 s timeout polled every 10 µs.
    pub const fn new(job_ring: u8) -> Self {
        Self {
            job_ring,
            page_size: crate::regs::PAGE_SIZE_4K,
            ring_size: 4,
            pointer_size: PointerSize::Bits32,
            timeout_us: 1_000_000,
            poll_step_us: 10,
        }
    }
}

/// CAAM mode of operation (CSTA.MOO).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SecurityState {
    /// Non-secure: blobs use the common test key.
    NonSecure,
    /// Secure (HAB closed): blobs use the OTPMK.
    Secure,
    /// Trusted: blobs use the OTPMK.
    Trusted,
    /// Fail: a security violation was detected.
    Fail,
}

impl SecurityState {
    /// Whether blobs are bound to the device master key (OTPMK).
    pub fn uses_device_key(self) -> bool {
        matches!(self, SecurityState::Secure | SecurityState::Trusted)
    }
}

/// How the key modifier of a blob job is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMod<'a> {
    /// Inline, up to 16 bytes, internal sequence lengths: Linux
    /// `caam_process_blob` (`trusted_caam` uses `SECURE_KEY`, 10 bytes).
    Immediate(&'a [u8]),
    /// 16 bytes by reference, extended sequence lengths: U-Boot `blob`.
    ByReference(&'a [u8; 16]),
}

/// What [`Caam::rng_instantiate`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RngInit {
    /// The RNG is older than RNG4 and needs no instantiation.
    NotRng4,
    /// Every state handle was already instantiated (by an earlier boot stage).
    AlreadyInstantiated,
    /// This many state handles were instantiated now.
    Instantiated(u8),
}

/// OP-TEE's TRNG entropy delay range (`caam_hal_rng_kick`).
const ENT_DLY_MIN: u32 = 3200;
const ENT_DLY_MAX: u32 = 12800;
const ENT_DLY_STEP: u32 = 200;
/// Sample size and statistical-check limits OP-TEE programs.
const RTSDCTL_SAMP_SIZE: u32 = 512;
const RTSCMISC_VALUE: u32 = (2 << 16) | 32;
const RTPKRRNG_VALUE: u32 = 570;
const RTPKRMAX_VALUE: u32 = 1600;
const RTSC_LIMITS: [u32; 7] = [
    (122 << 16) | 317,
    (80 << 16) | 107,
    (57 << 16) | 62,
    (39 << 16) | 39,
    (27 << 16) | 26,
    (19 << 16) | 18,
    (18 << 16) | 17,
];
/// RNG4 is the first RNG version with state handles.
const RNG4_VID: u32 = 4;

/// The CAAM job-ring driver over a register block `M` (the whole CAAM:
/// controller page and job-ring pages), a DMA region `D` and a delay `T`.
pub struct Caam<M, D, T> {
    mmio: M,
    dma: D,
    delay: T,
    cfg: Config,
    jr_base: usize,
    /// Next input-ring slot to fill.
    head: u16,
    /// Next output-ring slot to read.
    tail: u16,
    initialized: bool,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Wraps the hardware; nothing is touched until [`Caam::init`].
    pub fn new(mmio: M, dma: D, delay: T, cfg: Config) -> Result<Self, Error> {
        if cfg.job_ring > 3 {
            return Err(Error::InvalidArgument("job ring index must be 0..=3"));
        }
        if cfg.ring_size == 0 || cfg.ring_size > MAX_RING_SIZE {
            return Err(Error::InvalidArgument("ring size must be 1..=16"));
        }
        if dma.len() < layout::MIN_LEN {
            return Err(Error::DmaRegion);
        }
        let end = dma
            .bus_address()
            .checked_add(dma.len() as u64 - 1)
            .ok_or(Error::DmaRegion)?;
        if !cfg.pointer_size.fits(end) {
            return Err(Error::DmaRegion);
        }
        let jr_base = (usize::from(cfg.job_ring) + 1)
            .checked_mul(cfg.page_size)
            .ok_or(Error::InvalidArgument("page size"))?;
        Ok(Self {
            mmio,
            dma,
            delay,
            cfg,
            jr_base,
            head: 0,
            tail: 0,
            initialized: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The parts back.
    pub fn release(self) -> (M, D, T) {
        (self.mmio, self.dma, self.delay)
    }

    /// The DMA region (for inspection; the driver zeroes it after each job).
    pub fn dma(&self) -> &D {
        &self.dma
    }

    /// The register block, e.g. a sim to arm a fault hook on.
    pub fn mmio(&mut self) -> &mut M {
        &mut self.mmio
    }

    /// Whether [`Caam::init`] has set up the job ring.
    pub fn is_initialized(&self) -> bool {
        self.initialized
    }

    fn jr_read(&mut self, off: usize) -> u32 {
        self.mmio.read32(self.jr_base + off)
    }

    fn jr_write(&mut self, off: usize, value: u32) {
        self.mmio.write32(self.jr_base + off, value)
    }

    /// CSTA.MOO, read through the job-ring page alias so it works where the
    /// controller page belongs to another world.
    pub fn security_state(&mut self) -> SecurityState {
        match (self.jr_read(jr::CSTA) >> csta::MOO_SHIFT) & csta::MOO_MASK {
            csta::MOO_SECURE => SecurityState::Secure,
            csta::MOO_TRUSTED => SecurityState::Trusted,
            csta::MOO_FAIL => SecurityState::Fail,
            _ => SecurityState::NonSecure,
        }
    }

    /// Whether the CAAM has the blob protocol (CTPR_LS.BLOB; Linux
    /// `blob_present`).
    pub fn blob_present(&mut self) -> bool {
        self.mmio.read32(ctrl::CTPR_LS) & ctrl::CTPR_LS_BLOB != 0
    }

    /// Resets the job ring (flush, then reset), programs both rings in the
    /// DMA region and the pointer size. Polling mode: interrupts stay masked.
    pub fn init(&mut self) -> Result<(), Error> {
        self.initialized = false;
        self.set_pointer_size()?;
        self.reset_ring()?;
        self.dma.zero().map_err(|_| Error::DmaRegion)?;
        let base = self.dma.bus_address();
        let input = base + layout::INPUT_RING as u64;
        let output = base + layout::OUTPUT_RING as u64;
        let n = u32::from(self.cfg.ring_size);
        // i.MX order: high word first; the write of the low word latches.
        self.jr_write(jr::IRBAR_HI, (input >> 32) as u32);
        self.jr_write(jr::IRBAR_LO, input as u32);
        self.jr_write(jr::IRSR, n);
        self.jr_write(jr::ORBAR_HI, (output >> 32) as u32);
        self.jr_write(jr::ORBAR_LO, output as u32);
        self.jr_write(jr::ORSR, n);
        self.jr_write(jr::JRCFGR_LS, jr::JRCFGR_LS_IMSK);
        self.head = 0;
        self.tail = 0;
        self.initialized = true;
        debug!("caam: job ring {} ready, {} entries", self.cfg.job_ring, n);
        Ok(())
    }

    fn set_pointer_size(&mut self) -> Result<(), Error> {
        let mcfgr = self.mmio.read32(ctrl::MCFGR);
        let want_long = self.cfg.pointer_size == PointerSize::Bits64;
        if want_long && self.mmio.read32(ctrl::CTPR_MS) & ctrl::CTPR_MS_PS == 0 {
            return Err(Error::Unsupported(
                "this CAAM has no 64-bit pointer support (CTPR_MS.PS clear)",
            ));
        }
        let is_long = mcfgr & ctrl::MCFGR_LONG_PTR != 0;
        if want_long != is_long {
            self.mmio.write32(ctrl::MCFGR, mcfgr ^ ctrl::MCFGR_LONG_PTR);
        }
        Ok(())
    }

    /// Linux `caam_reset_hw_jr`: flush, wait for HALT = done, reset, wait
    /// for RESET to clear.
    fn reset_ring(&mut self) -> Result<(), Error> {
        let jr_base = self.jr_base;
        self.jr_write(jr::JRCFGR_LS, jr::JRCFGR_LS_IMSK);
        self.jr_write(jr::JRCR, jr::JRCR_RESET);
        let budget = Budget::fixed(self.cfg.timeout_us, self.cfg.poll_step_us);
        let (mmio, delay) = (&mut self.mmio, &mut self.delay);
        poll_until(delay, budget, Error::Timeout, || {
            let halt =
                (mmio.read32(jr_base + jr::JRINTR) >> jr::JRINTR_HALT_SHIFT) & jr::JRINTR_HALT_MASK;
            Ok(halt != jr::JRINTR_HALT_IN_PROGRESS)
        })?;
        let halt = (self.jr_read(jr::JRINTR) >> jr::JRINTR_HALT_SHIFT) & jr::JRINTR_HALT_MASK;
        if halt != jr::JRINTR_HALT_DONE {
            return Err(Error::JobRing(self.jr_read(jr::JRINTR)));
        }
        self.jr_write(jr::JRCR, jr::JRCR_RESET);
        let budget = Budget::fixed(self.cfg.timeout_us, self.cfg.poll_step_us);
        let (mmio, delay) = (&mut self.mmio, &mut self.delay);
        poll_until(delay, budget, Error::Timeout, || {
            Ok(mmio.read32(jr_base + jr::JRCR) & jr::JRCR_RESET == 0)
        })?;
        // Acknowledge the halt and any stale interrupt.
        let jrintr = self.jr_read(jr::JRINTR);
        self.jr_write(jr::JRINTR, jrintr);
        Ok(())
    }

    fn write_ptr(&mut self, offset: usize, address: u64) -> Result<(), Error> {
        let lo = (address as u32).to_le_bytes();
        self.dma.write(offset, &lo).map_err(|_| Error::DmaRegion)?;
        if self.cfg.pointer_size == PointerSize::Bits64 {
            let hi = ((address >> 32) as u32).to_le_bytes();
            self.dma
                .write(offset + 4, &hi)
                .map_err(|_| Error::DmaRegion)?;
        }
        Ok(())
    }

    fn read_u32(&self, offset: usize) -> Result<u32, Error> {
        let mut word = [0u8; 4];
        self.dma
            .read(offset, &mut word)
            .map_err(|_| Error::DmaRegion)?;
        Ok(u32::from_le_bytes(word))
    }

    /// Runs one descriptor to completion: write it to the DMA region, put
    /// its address in the input ring, ring IRJAR, poll ORSFR (bounded),
    /// read and retire the output entry, decode the status. After a timeout
    /// or ring error the ring is reset so the next job starts clean.
    pub fn run(&mut self, descriptor: &Descriptor) -> Result<(), Error> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        if descriptor.pointer_size() != self.cfg.pointer_size {
            return Err(Error::InvalidArgument("descriptor pointer size"));
        }
        let result = self.enqueue_and_wait(descriptor);
        if matches!(
            result,
            Err(Error::Timeout | Error::JobRing(_) | Error::OutputRingOverflow)
        ) {
            // The hardware may still own the ring: flush and start over.
            let _ = self.init();
        }
        result
    }

    fn enqueue_and_wait(&mut self, descriptor: &Descriptor) -> Result<(), Error> {
        let ptr = self.cfg.pointer_size;
        let n = self.cfg.ring_size;
        let mut bytes = [0u8; cmd::MAX_DESC_WORDS * 4];
        let len = descriptor.write_le(&mut bytes)?;
        let desc_bytes = bytes.get(..len).ok_or(Error::DmaRegion)?;
        self.dma
            .write(layout::DESCRIPTOR, desc_bytes)
            .map_err(|_| Error::DmaRegion)?;
        bytes.zeroize();
        self.dma.clean(layout::DESCRIPTOR, len);

        if self.jr_read(jr::IRSAR) == 0 {
            return Err(Error::RingFull);
        }
        let desc_addr = self.dma.bus_address() + layout::DESCRIPTOR as u64;
        let entry = layout::INPUT_RING + usize::from(self.head) * ptr.bytes();
        self.write_ptr(entry, desc_addr)?;
        self.dma.clean(entry, ptr.bytes());
        self.head = (self.head + 1) % n;
        trace!("caam: enqueue {=usize} words", len / 4);
        self.jr_write(jr::IRJAR, 1);

        let jr_base = self.jr_base;
        let ring = u32::from(n);
        let budget = Budget::fixed(self.cfg.timeout_us, self.cfg.poll_step_us);
        let (mmio, delay) = (&mut self.mmio, &mut self.delay);
        poll_until(delay, budget, Error::Timeout, || {
            let jrintr = mmio.read32(jr_base + jr::JRINTR);
            if jrintr & jr::JRINTR_JRE != 0 {
                return Err(Error::JobRing(jrintr));
            }
            let full = mmio.read32(jr_base + jr::ORSFR);
            if full > ring {
                return Err(Error::OutputRingOverflow);
            }
            Ok(full > 0)
        })?;

        let out_entry = layout::OUTPUT_RING + usize::from(self.tail) * ptr.output_entry_bytes();
        self.dma.invalidate(out_entry, ptr.output_entry_bytes());
        let mut done = u64::from(self.read_u32(out_entry)?);
        if ptr == PointerSize::Bits64 {
            done |= u64::from(self.read_u32(out_entry + 4)?) << 32;
        }
        let status = self.read_u32(out_entry + ptr.bytes())?;
        self.tail = (self.tail + 1) % n;
        self.jr_write(jr::ORJRR, 1);
        self.jr_write(jr::JRINTR, jr::JRINTR_JRI);
        if done != desc_addr {
            return Err(Error::UnexpectedCompletion);
        }
        match JobStatus::decode(status) {
            None => Ok(()),
            Some(s) => {
                debug!("caam: job status {=u32:#x}", status);
                Err(Error::Job(s))
            }
        }
    }

    /// Runs `f`, then zeroes the whole DMA region whatever `f` returned.
    fn scrubbed<R>(&mut self, f: impl FnOnce(&mut Self) -> Result<R, Error>) -> Result<R, Error> {
        let result = f(self);
        let wiped = self.dma.zero().map_err(|_| Error::DmaRegion);
        let value = result?;
        wiped?;
        Ok(value)
    }

    fn data_addr(&self, offset: usize) -> u64 {
        self.dma.bus_address() + offset as u64
    }

    /// Encapsulates `data` into `blob` (`data.len() + 48` bytes) under the
    /// key modifier; returns the blob length. `blob` is zeroed on error.
    pub fn encapsulate(
        &mut self,
        keymod: KeyMod<'_>,
        data: &[u8],
        blob: &mut [u8],
    ) -> Result<usize, Error> {
        let out_len = data.len() + blobsz::OVERHEAD;
        if data.is_empty() || out_len > layout::DATA_LEN {
            return Err(Error::InvalidArgument("blob data length"));
        }
        let out = blob
            .get_mut(..out_len)
            .ok_or(Error::InvalidArgument("blob buffer too small"))?;
        let result = self.scrubbed(|caam| {
            caam.blob_job(BlobDirection::Encapsulate, keymod, data, out_len)?;
            caam.copy_output(out)
        });
        if result.is_err() {
            blob.zeroize();
        }
        result.map(|_| out_len)
    }

    /// Decapsulates `blob` into `data` (`blob.len() - 48` bytes); returns the
    /// data length. `data` is zeroed on error (U-Boot does the same).
    pub fn decapsulate(
        &mut self,
        keymod: KeyMod<'_>,
        blob: &[u8],
        data: &mut [u8],
    ) -> Result<usize, Error> {
        let out_len = blob
            .len()
            .checked_sub(blobsz::OVERHEAD)
            .filter(|&n| n > 0)
            .ok_or(Error::InvalidArgument("blob shorter than its overhead"))?;
        if blob.len() > layout::DATA_LEN {
            return Err(Error::InvalidArgument("blob length"));
        }
        let out = data
            .get_mut(..out_len)
            .ok_or(Error::InvalidArgument("data buffer too small"))?;
        let result = self.scrubbed(|caam| {
            caam.blob_job(BlobDirection::Decapsulate, keymod, blob, out_len)?;
            caam.copy_output(out)
        });
        if result.is_err() {
            data.zeroize();
        }
        result.map(|_| out_len)
    }

    fn copy_output(&mut self, out: &mut [u8]) -> Result<(), Error> {
        self.dma.invalidate(layout::OUTPUT, out.len());
        self.dma
            .read(layout::OUTPUT, out)
            .map_err(|_| Error::DmaRegion)
    }

    fn blob_job(
        &mut self,
        direction: BlobDirection,
        keymod: KeyMod<'_>,
        input: &[u8],
        out_len: usize,
    ) -> Result<(), Error> {
        let ptr = self.cfg.pointer_size;
        self.dma
            .write(layout::INPUT, input)
            .map_err(|_| Error::DmaRegion)?;
        self.dma.clean(layout::INPUT, input.len());
        // Clean + invalidate the output so no dirty line lands on the result.
        self.dma.clean(layout::OUTPUT, out_len);
        self.dma.invalidate(layout::OUTPUT, out_len);
        let (modifier, form) = match keymod {
            KeyMod::Immediate(bytes) => (KeyModifier::Immediate(bytes), LengthForm::Internal),
            KeyMod::ByReference(bytes) => {
                self.dma
                    .write(layout::KEYMOD, bytes)
                    .map_err(|_| Error::DmaRegion)?;
                self.dma.clean(layout::KEYMOD, bytes.len());
                (
                    KeyModifier::Pointer {
                        address: self.data_addr(layout::KEYMOD),
                        len: bytes.len(),
                    },
                    LengthForm::Extended,
                )
            }
        };
        let descriptor = desc::blob(
            direction,
            modifier,
            self.data_addr(layout::INPUT),
            input.len() as u32,
            self.data_addr(layout::OUTPUT),
            out_len as u32,
            form,
            ptr,
        )?;
        self.run(&descriptor)
    }

    /// Reads the 32-byte master key verification blob (OP-TEE
    /// `caam_blob_mkvb_init`). `out` is zeroed on error.
    pub fn master_key_verification_blob(
        &mut self,
        out: &mut [u8; blobsz::MKVB_LEN],
    ) -> Result<(), Error> {
        let result = self.scrubbed(|caam| {
            caam.dma.clean(layout::OUTPUT, blobsz::MKVB_LEN);
            caam.dma.invalidate(layout::OUTPUT, blobsz::MKVB_LEN);
            let d = desc::master_key_verification_blob(
                caam.data_addr(layout::OUTPUT),
                caam.cfg.pointer_size,
            )?;
            caam.run(&d)?;
            caam.copy_output(out)
        });
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    /// OP-TEE `caam_hal_ctrl_inc_priblob`: raise SCFGR.PRIBLOB (0 → 1,
    /// 1 or 2 → 3) so later software cannot reproduce the MKVB or private
    /// blobs made so far. At 3 it fails (OP-TEE panics).
    pub fn increment_priblob(&mut self) -> Result<(), Error> {
        let scfgr = self.mmio.read32(ctrl::SCFGR);
        let next = match scfgr & ctrl::SCFGR_PRIBLOB_MASK {
            0 => 1,
            1 | 2 => 3,
            _ => return Err(Error::PriblobExhausted),
        };
        self.mmio
            .write32(ctrl::SCFGR, (scfgr & !ctrl::SCFGR_PRIBLOB_MASK) | next);
        Ok(())
    }

    /// Fills `out` from RNG4 state handle 0, in chunks of the DMA output
    /// area. `out` is zeroed on error.
    pub fn random(&mut self, out: &mut [u8]) -> Result<(), Error> {
        let result = self.scrubbed(|caam| {
            for chunk in out.chunks_mut(layout::DATA_LEN) {
                caam.dma.clean(layout::OUTPUT, chunk.len());
                caam.dma.invalidate(layout::OUTPUT, chunk.len());
                let d = desc::rng_generate(
                    caam.data_addr(layout::OUTPUT),
                    chunk.len() as u16,
                    false,
                    caam.cfg.pointer_size,
                )?;
                caam.run(&d)?;
                caam.copy_output(chunk)?;
            }
            Ok(())
        });
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    /// Instantiates the RNG4 state handles that are not instantiated yet
    /// (OP-TEE `caam_rng_instantiation`), generating the secure keys when
    /// RDSTA.SKVN is clear. Skips everything when an earlier stage did it.
    /// When no handle is instantiated the TRNG is programmed ("kicked")
    /// first, retrying with a longer entropy delay on a CCB RNG hardware
    /// error, as OP-TEE does.
    pub fn rng_instantiate(&mut self) -> Result<RngInit, Error> {
        if !self.initialized {
            return Err(Error::NotInitialized);
        }
        let vid = (self.mmio.read32(ctrl::CHAVID_LS) >> ctrl::CHAVID_LS_RNGVID_SHIFT)
            & ctrl::CHAVID_LS_RNGVID_MASK;
        if vid < RNG4_VID {
            return Ok(RngInit::NotRng4);
        }
        let count = ((self.mmio.read32(ctrl::CTPR_MS) >> ctrl::CTPR_MS_RNG_I_SHIFT)
            & ctrl::CTPR_MS_RNG_I_MASK)
            .clamp(1, desc::StateHandle::ALL.len() as u32) as usize;
        let rdsta = self.mmio.read32(ctrl::RDSTA);
        let mut missing: heapless::Vec<desc::StateHandle, 2> = heapless::Vec::new();
        for handle in desc::StateHandle::ALL.iter().take(count) {
            if rdsta & (ctrl::RDSTA_IF0 << handle.index()) == 0 {
                let _ = missing.push(*handle);
            }
        }
        let need_keys = rdsta & ctrl::RDSTA_SKVN == 0;
        if missing.is_empty() && !need_keys {
            return Ok(RngInit::AlreadyInstantiated);
        }
        let kick = missing.len() == count;
        let mut ent_dly = ENT_DLY_MIN;
        loop {
            if kick {
                self.kick_trng(ent_dly);
            }
            let d = desc::rng_instantiate(&missing, need_keys, self.cfg.pointer_size)?;
            match self.scrubbed(|caam| caam.run(&d)) {
                Ok(()) => break,
                Err(Error::Job(s))
                    if kick
                        && s.is_rng_hardware_error()
                        && ent_dly + ENT_DLY_STEP <= ENT_DLY_MAX =>
                {
                    ent_dly += ENT_DLY_STEP;
                    debug!("caam: RNG entropy too low, entropy delay {=u32}", ent_dly);
                }
                Err(e) => return Err(e),
            }
        }
        let rdsta = self.mmio.read32(ctrl::RDSTA);
        if missing
            .iter()
            .any(|h| rdsta & (ctrl::RDSTA_IF0 << h.index()) == 0)
        {
            return Err(Error::Unsupported(
                "RNG state handle still not instantiated after a successful job",
            ));
        }
        Ok(RngInit::Instantiated(missing.len() as u8))
    }

    /// OP-TEE `caam_hal_rng_kick`: program mode, entropy delay, frequency
    /// and statistical limits, then run mode with raw sampling.
    fn kick_trng(&mut self, ent_dly: u32) {
        let m = &mut self.mmio;
        let rtmctl = m.read32(ctrl::RTMCTL);
        m.write32(ctrl::RTMCTL, rtmctl | ctrl::RTMCTL_PRGM | ctrl::RTMCTL_ACC);
        m.write32(
            ctrl::RTSDCTL,
            (ent_dly << ctrl::RTSDCTL_ENT_DLY_SHIFT) | RTSDCTL_SAMP_SIZE,
        );
        m.write32(ctrl::RTFRQMIN, ent_dly / 4);
        m.write32(ctrl::RTFRQMAX, ent_dly * 16);
        m.write32(ctrl::RTSCMISC, RTSCMISC_VALUE);
        m.write32(ctrl::RTPKRRNG, RTPKRRNG_VALUE);
        m.write32(ctrl::RTPKRMAX, RTPKRMAX_VALUE);
        for (i, limit) in RTSC_LIMITS.iter().enumerate() {
            m.write32(ctrl::RTSCML + 4 * i, *limit);
        }
        let rtmctl = m.read32(ctrl::RTMCTL);
        let run = (rtmctl & !(ctrl::RTMCTL_PRGM | ctrl::RTMCTL_ACC | ctrl::RTMCTL_SAMP_MODE_MASK))
            | ctrl::RTMCTL_SAMP_MODE_RAW_ES_SC;
        m.write32(ctrl::RTMCTL, run);
        m.write32(ctrl::RTMCTL, run | ctrl::RTMCTL_ERR);
    }
}

/// The CAAM RNG as a `rand_core` RNG: every call runs a generate job on
/// state handle 0. Instantiate first ([`Caam::rng_instantiate`]).
impl<M: Mmio, D: DmaRegion, T: DelayNs> rand_core::TryRng for Caam<M, D, T> {
    type Error = trusted_core::Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.random(dst).map_err(Into::into)
    }
}

/// RNG4 is a NIST SP 800-90A DRBG seeded from the TRNG.
impl<M: Mmio, D: DmaRegion, T: DelayNs> rand_core::TryCryptoRng for Caam<M, D, T> {}
