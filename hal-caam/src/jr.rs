//! The job-ring driver: ring setup and reset, enqueue, bounded dequeue,
//! status decoding, and the DMA staging and scrubbing every job uses. The
//! operations built on it live beside it: blobs, MKVB and PRIBLOB in
//! [`crate::blob`], RNG4 in [`crate::rng`].
//!
//! Protocol only: which key modifier to use, and whether a non-secure CAAM
//! may seal, is decided in [`crate::source`].
//!
//! One job is in flight at a time (polling, like U-Boot and OP-TEE's
//! early boot path); the ring indices still advance and wrap as on a busy
//! ring. Every operation zeroes the whole DMA region before returning,
//! on success and on error.

use embedded_hal::delay::DelayNs;
use subtle::ConstantTimeEq;
use trusted_core::fih::Verdict;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{DmaRegion, Mmio, debug, trace};
use zeroize::Zeroize;

use crate::desc::{Descriptor, PointerSize};
use crate::error::{ConfigError, Error, JobStatus, Wait};
use crate::regs::{csta, ctrl, jr};

/// Most ring entries this driver sets up (its DMA layout reserves this many).
pub const MAX_RING_SIZE: u16 = 16;

pub mod layout;

/// Every register read of the driver: kept out of line so the `Mmio`
/// implementation's own checks (range, alignment) are in the image once,
/// not inlined at each of the driver's register accesses.
#[inline(never)]
fn read_reg<M: Mmio>(regs: &mut M, offset: usize) -> u32 {
    regs.read32(offset)
}

/// Every register write of the driver, out of line as [`read_reg`].
#[inline(never)]
fn write_reg<M: Mmio>(regs: &mut M, offset: usize, value: u32) {
    regs.write32(offset, value)
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
// A word: compared as one in the security-state check.
#[repr(u32)]
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

/// The CAAM job-ring driver over a register block `M` (the whole CAAM:
/// controller page and job-ring pages), a DMA region `D` and a delay `T`.
pub struct Caam<M, D, T> {
    regs: M,
    dma: D,
    delay: T,
    cfg: Config,
    jr_base: usize,
    /// Next input-ring slot to fill.
    head: u16,
    /// Next output-ring slot to read.
    tail: u16,
    ready: bool,
    /// [`Caam::aes_encrypt_block`]'s known-answer test has passed.
    pub(crate) aes_tested: bool,
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Wraps the hardware; nothing is touched until [`Caam::init`].
    ///
    /// Every configuration value is checked here, each with its own
    /// [`ConfigError`]: the job ring (0..=3), the page size (4 KiB or
    /// 64 KiB), the ring size (1..=[`MAX_RING_SIZE`]), the timeout (above
    /// 0) and poll step (1..=timeout), and the DMA region (at least
    /// [`layout::MIN_LEN`] bytes, 64-byte aligned, inside the pointer range).
    pub fn new(regs: M, dma: D, delay: T, cfg: Config) -> Result<Self, Error> {
        let bad = |e| Err(Error::Config(e));
        if cfg.job_ring > 3 {
            return bad(ConfigError::JobRing(cfg.job_ring));
        }
        if cfg.page_size != crate::regs::PAGE_SIZE_4K && cfg.page_size != crate::regs::PAGE_SIZE_64K
        {
            return bad(ConfigError::PageSize(cfg.page_size));
        }
        if cfg.ring_size == 0 || cfg.ring_size > MAX_RING_SIZE {
            return bad(ConfigError::RingSize(cfg.ring_size));
        }
        if cfg.timeout_us == 0 {
            return bad(ConfigError::Timeout);
        }
        if cfg.poll_step_us == 0 || cfg.poll_step_us > cfg.timeout_us {
            return bad(ConfigError::PollStep(cfg.poll_step_us));
        }
        let bus_address = dma.bus_address();
        if dma.len() < layout::MIN_LEN {
            return bad(ConfigError::DmaTooSmall(dma.len()));
        }
        if !bus_address.is_multiple_of(64) {
            return bad(ConfigError::DmaAlignment(bus_address));
        }
        let end = (dma.len() as u64)
            .checked_sub(1)
            .and_then(|last| bus_address.checked_add(last));
        if !end.is_some_and(|end| cfg.pointer_size.fits(end)) {
            return bad(ConfigError::DmaRange(bus_address));
        }
        let jr_base = (usize::from(cfg.job_ring) + 1)
            .checked_mul(cfg.page_size)
            .ok_or(Error::Config(ConfigError::PageSize(cfg.page_size)))?;
        Ok(Self {
            regs,
            dma,
            delay,
            cfg,
            jr_base,
            head: 0,
            tail: 0,
            ready: false,
            aes_tested: false,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The register block, the DMA region and the delay back.
    pub fn into_inner(self) -> (M, D, T) {
        (self.regs, self.dma, self.delay)
    }

    /// The DMA region (for inspection; the driver zeroes it after each job).
    pub fn dma(&self) -> &D {
        &self.dma
    }

    /// The register block, e.g. a sim to read its state.
    pub fn regs(&self) -> &M {
        &self.regs
    }

    /// The register block, e.g. a sim to arm a fault hook on.
    pub fn regs_mut(&mut self) -> &mut M {
        &mut self.regs
    }

    /// Whether [`Caam::init`] has set up the job ring.
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    fn jr_read(&mut self, off: usize) -> u32 {
        read_reg(&mut self.regs, self.jr_base + off)
    }

    fn jr_write(&mut self, off: usize, value: u32) {
        write_reg(&mut self.regs, self.jr_base + off, value)
    }

    /// The register at `offset` from the CAAM base (controller page).
    pub(crate) fn reg_read(&mut self, offset: usize) -> u32 {
        read_reg(&mut self.regs, offset)
    }

    /// Writes the register at `offset` from the CAAM base.
    pub(crate) fn reg_write(&mut self, offset: usize, value: u32) {
        write_reg(&mut self.regs, offset, value)
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

    /// Resets the job ring (flush, then reset), programs both rings in the
    /// DMA region and the pointer size. Polling mode: interrupts stay masked.
    pub fn init(&mut self) -> Result<(), Error> {
        self.ready = false;
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
        self.ready = true;
        debug!("caam: job ring {} ready, {} entries", self.cfg.job_ring, n);
        Ok(())
    }

    fn set_pointer_size(&mut self) -> Result<(), Error> {
        let mcfgr = self.reg_read(ctrl::MCFGR);
        let want_long = self.cfg.pointer_size == PointerSize::Bits64;
        if want_long && self.reg_read(ctrl::CTPR_MS) & ctrl::CTPR_MS_PS == 0 {
            return Err(Error::Unsupported(
                "this CAAM has no 64-bit pointer support (CTPR_MS.PS clear)",
            ));
        }
        let is_long = mcfgr & ctrl::MCFGR_LONG_PTR != 0;
        if want_long != is_long {
            self.reg_write(ctrl::MCFGR, mcfgr ^ ctrl::MCFGR_LONG_PTR);
        }
        Ok(())
    }

    /// Linux `caam_reset_hw_jr`: flush, wait for HALT = done, reset, wait
    /// for RESET to clear.
    fn reset_ring(&mut self) -> Result<(), Error> {
        self.jr_write(jr::JRCFGR_LS, jr::JRCFGR_LS_IMSK);
        self.jr_write(jr::JRCR, jr::JRCR_RESET);
        self.wait(Wait::RingFlush)?;
        let halt = (self.jr_read(jr::JRINTR) >> jr::JRINTR_HALT_SHIFT) & jr::JRINTR_HALT_MASK;
        if halt != jr::JRINTR_HALT_DONE {
            return Err(Error::JobRing(self.jr_read(jr::JRINTR)));
        }
        self.jr_write(jr::JRCR, jr::JRCR_RESET);
        self.wait(Wait::RingReset)?;
        // Acknowledge the halt and any stale interrupt.
        let jrintr = self.jr_read(jr::JRINTR);
        self.jr_write(jr::JRINTR, jrintr);
        Ok(())
    }

    /// The one bounded wait of the driver (one `poll_until` in the
    /// image, not one per condition): until `what` is over, or
    /// [`Error::Timeout`] with `what`.
    ///
    /// - [`Wait::RingFlush`]: JRINTR.HALT leaves "flush in progress";
    /// - [`Wait::RingReset`]: JRCR.RESET clears;
    /// - [`Wait::Job`]: ORSFR reports an entry; JRINTR.JRE ends the wait
    ///   with [`Error::JobRing`], more full slots than the ring has with
    ///   [`Error::OutputRingOverflow`].
    fn wait(&mut self, what: Wait) -> Result<(), Error> {
        let jr_base = self.jr_base;
        let ring = u32::from(self.cfg.ring_size);
        let budget = Budget::fixed(self.cfg.timeout_us, self.cfg.poll_step_us);
        let (regs, delay) = (&mut self.regs, &mut self.delay);
        poll_until(delay, budget, Error::Timeout(what), || match what {
            Wait::RingFlush => {
                let halt = (read_reg(regs, jr_base + jr::JRINTR) >> jr::JRINTR_HALT_SHIFT)
                    & jr::JRINTR_HALT_MASK;
                Ok(halt != jr::JRINTR_HALT_IN_PROGRESS)
            }
            Wait::RingReset => Ok(read_reg(regs, jr_base + jr::JRCR) & jr::JRCR_RESET == 0),
            Wait::Job => {
                let jrintr = read_reg(regs, jr_base + jr::JRINTR);
                if jrintr & jr::JRINTR_JRE != 0 {
                    return Err(Error::JobRing(jrintr));
                }
                let full = read_reg(regs, jr_base + jr::ORSFR);
                if full > ring {
                    return Err(Error::OutputRingOverflow);
                }
                Ok(full > 0)
            }
        })
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
        if !self.ready {
            return Err(Error::NotInitialized);
        }
        if descriptor.pointer_size() != self.cfg.pointer_size {
            return Err(Error::InvalidArgument("descriptor pointer size"));
        }
        if !descriptor.is_complete() {
            return Err(Error::InvalidArgument(
                "descriptor with an unchecked append",
            ));
        }
        let result = self.enqueue_and_wait(descriptor);
        if matches!(
            result,
            Err(Error::Timeout(_) | Error::JobRing(_) | Error::OutputRingOverflow)
        ) {
            // The hardware may still own the ring: flush and start over.
            let _ = self.init();
        }
        result
    }

    fn enqueue_and_wait(&mut self, descriptor: &Descriptor) -> Result<(), Error> {
        let ptr = self.cfg.pointer_size;
        let n = self.cfg.ring_size;
        // `new` refused a ring size of 0; checked again so the ring index
        // arithmetic below has no division-by-zero panic path.
        if n == 0 {
            return Err(Error::Config(ConfigError::RingSize(n)));
        }
        // Word by word into the DMA region, little-endian as the CAAM
        // fetches it (what `Descriptor::write_le` gives), with no staging
        // copy on the stack.
        let len = descriptor.len() * 4;
        for (i, word) in descriptor.words().iter().enumerate() {
            self.dma
                .write(layout::DESCRIPTOR + 4 * i, &word.to_le_bytes())
                .map_err(|_| Error::DmaRegion)?;
        }
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

        self.wait(Wait::Job)?;

        let entry_len = ptr.output_entry_bytes();
        let out_entry = layout::OUTPUT_RING + usize::from(self.tail) * entry_len;
        self.dma.invalidate(out_entry, entry_len);
        // The whole entry in one read: the descriptor pointer (one or two
        // words, low first), then the status word.
        let mut entry = [0u8; 12];
        let bytes = entry.get_mut(..entry_len).ok_or(Error::DmaRegion)?;
        self.dma
            .read(out_entry, bytes)
            .map_err(|_| Error::DmaRegion)?;
        let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3] = entry;
        let (lo, second, third) = (
            u32::from_le_bytes([a0, a1, a2, a3]),
            u32::from_le_bytes([b0, b1, b2, b3]),
            u32::from_le_bytes([c0, c1, c2, c3]),
        );
        let (done, status) = match ptr {
            PointerSize::Bits32 => (u64::from(lo), second),
            PointerSize::Bits64 => (u64::from(lo) | (u64::from(second) << 32), third),
        };
        // The status word decides whether a job's output (a decapsulated
        // key, after the CAAM's own ICV check) is used: it is read twice
        // (with the entry, then on its own) and both reads must be zero,
        // compared in constant time into a `Verdict` (`trusted_core::fih`),
        // so one corrupted read or one skipped comparison is a failure,
        // not a success.
        let again = self.read_u32(out_entry + ptr.bytes())?;
        self.tail = (self.tail + 1) % n;
        self.jr_write(jr::ORJRR, 1);
        self.jr_write(jr::JRINTR, jr::JRINTR_JRI);
        if done != desc_addr {
            return Err(Error::UnexpectedCompletion);
        }
        let succeeded = Verdict::from_choice(status.ct_eq(&0) & again.ct_eq(&0));
        if succeeded.is_success() {
            return Ok(());
        }
        let raw = if status != 0 { status } else { again };
        debug!("caam: job status {=u32:#x}", raw);
        Err(Error::Job(
            JobStatus::decode(raw).unwrap_or(JobStatus::Unknown { raw }),
        ))
    }

    /// Runs `f`, then zeroes the whole DMA region whatever `f` returned.
    pub(crate) fn scrubbed<R>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let result = f(self);
        // `f`'s error first, then the wipe's; `result` is returned as it
        // is, not taken apart and rebuilt (a copy of each half).
        if self.dma.zero().is_err() && result.is_ok() {
            return Err(Error::DmaRegion);
        }
        result
    }

    /// [`Self::scrubbed`] for a job that fills `out`: `out` is zeroed too
    /// when `f` fails.
    pub(crate) fn scrubbed_into<R>(
        &mut self,
        out: &mut [u8],
        f: impl FnOnce(&mut Self, &mut [u8]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let result = self.scrubbed(|caam| f(caam, &mut *out));
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    /// Bus address of `offset` in the DMA region (a [`layout`] area).
    pub(crate) fn data_addr(&self, offset: usize) -> u64 {
        self.dma.bus_address() + offset as u64
    }

    /// Copies `bytes` to `offset` in the DMA region and cleans it, so the
    /// CAAM reads what the CPU wrote.
    pub(crate) fn stage(&mut self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        self.dma
            .write(offset, bytes)
            .map_err(|_| Error::DmaRegion)?;
        self.dma.clean(offset, bytes.len());
        Ok(())
    }

    /// Cleans and invalidates `len` bytes of the output area before a job,
    /// so no dirty line lands on the result (OP-TEE's order).
    pub(crate) fn expect_output(&mut self, len: usize) {
        self.dma.clean(layout::OUTPUT, len);
        self.dma.invalidate(layout::OUTPUT, len);
    }

    /// Invalidates the output area and copies the job's result into `out`.
    pub(crate) fn copy_output(&mut self, out: &mut [u8]) -> Result<(), Error> {
        self.dma.invalidate(layout::OUTPUT, out.len());
        self.dma
            .read(layout::OUTPUT, out)
            .map_err(|_| Error::DmaRegion)
    }
}
