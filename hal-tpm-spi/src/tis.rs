//! The FIFO (TIS) protocol of the TCG PC Client Platform TPM Profile,
//! generic over register access ([`TisAccess`]) so SPI ([`crate::SpiTis`])
//! and a memory-mapped TIS ([`crate::MmioTis`]) carry the same state
//! machine.
//!
//! Every wait is a time budget (PTP TIMEOUT_A..D, or the command's duration
//! class as Linux assigns it) spent through `DelayNs` by
//! [`trusted_core::poll_until`], and ends in [`Error::Timeout`] naming the
//! wait. After `tpmGo` the TPM is always put back to
//! commandReady, on success and on every error, so one bad exchange does not
//! wedge the next (the hang wolfTPM issue 295 describes).

use embedded_hal::delay::DelayNs;
use trusted_core::poll::{Budget, poll_until};
use trusted_core::{debug, trace};
use zeroize::Zeroize;

use crate::error::{Error, Result, Wait};
use crate::regs::*;
use crate::spec::{HEADER_LEN, cc, st};
use crate::tpm2::Transport;

/// First sleep between status polls; each next one doubles, up to
/// [`Timeouts::max_poll_step_us`].
const FIRST_POLL_STEP_US: u32 = 10;

/// Byte access to TIS registers of one locality window.
pub trait TisAccess {
    /// Largest `buf` one access may take (64 on SPI).
    const MAX_TRANSFER: usize;

    /// Reads `buf.len()` bytes starting at `offset` (FIFO offsets: all bytes
    /// come from the FIFO).
    fn read(&mut self, locality: u8, offset: u16, buf: &mut [u8]) -> Result<()>;

    /// Writes `data` starting at `offset` (FIFO offsets: all bytes go to the
    /// FIFO).
    fn write(&mut self, locality: u8, offset: u16, data: &[u8]) -> Result<()>;
}

/// Time budgets in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// TIMEOUT_A: locality request, burstCount.
    pub a_us: u32,
    /// TIMEOUT_B: commandReady.
    pub b_us: u32,
    /// TIMEOUT_C: stsValid after writes, dataAvail between response bursts.
    pub c_us: u32,
    /// TIMEOUT_D: short settling.
    pub d_us: u32,
    /// Command durations by Linux's classes: short, medium, long, long-long,
    /// and the default for commands not in Linux's table.
    pub durations_us: [u32; 5],
    /// Longest single sleep between status polls (the first ones are 10 µs
    /// and double up to this).
    pub max_poll_step_us: u32,
}

impl Timeouts {
    /// PTP values and Linux's TPM 2.0 durations (20 ms, 750 ms, 2 s, 300 s,
    /// 120 s).
    pub const PTP: Self = Self {
        a_us: TIMEOUT_A_US,
        b_us: TIMEOUT_B_US,
        c_us: TIMEOUT_C_US,
        d_us: TIMEOUT_D_US,
        durations_us: [20_000, 750_000, 2_000_000, 300_000_000, 120_000_000],
        max_poll_step_us: 1_000,
    };

    /// The budget for the response of `command_code` (Linux
    /// `tpm2_ordinal_duration_index`, reduced to the commands used here).
    pub fn duration_us(&self, command_code: u32) -> u32 {
        let class = match command_code {
            cc::CREATE_PRIMARY | cc::CREATE => 3,
            cc::SELF_TEST | cc::GET_RANDOM => 2,
            cc::STARTUP | cc::PCR_EXTEND | cc::GET_CAPABILITY | cc::PCR_READ => 1,
            _ => 4,
        };
        self.durations_us
            .get(class)
            .copied()
            .unwrap_or(TIMEOUT_B_US)
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self::PTP
    }
}

/// What the TPM reports about itself at [`Tis::init`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TpmInfo {
    /// Vendor ID (DID_VID bits 15:0).
    pub vendor_id: u16,
    /// Device ID (DID_VID bits 31:16).
    pub device_id: u16,
    /// Revision ID.
    pub revision: u8,
    /// TPM_INTF_CAPABILITY.
    pub interface_capability: u32,
}

/// What a [`Tis`] poll waits for, and in which register.
#[derive(Clone, Copy)]
enum Until {
    /// ACCESS.tpmRegValidSts, in a byte that is not 0xFF (after reset).
    AccessValid,
    /// ACCESS: the locality is active and valid, no request pending.
    Owned,
    /// STS: every bit of `mask` set; with `burst`, read with burstCount
    /// (3 bytes), which must be neither 0 nor 0xFFFF. stsValid with a
    /// must-be-zero bit set is [`Error::BadStatus`].
    Sts { mask: u8, burst: bool },
}

impl Until {
    /// Whether the register bytes `b` (one, or three for a burst) say so;
    /// `None` for a bad STS (the caller's [`Error::BadStatus`], so no
    /// error is built here). Inlined: `request_locality` keeps only the
    /// `Owned` test, the poll its one copy without a call (smaller, by
    /// measure, than one shared out-of-line copy).
    #[inline(always)]
    fn reached(self, b: [u8; 3]) -> Option<bool> {
        let [v, lo, hi] = b;
        if v == FLOATING {
            return Some(false);
        }
        Some(match self {
            Until::AccessValid => v & ACCESS_VALID != 0,
            Until::Owned => {
                v & (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY)
                    == (ACCESS_VALID | ACCESS_ACTIVE_LOCALITY)
                    && v & ACCESS_REQUEST_USE == 0
            }
            Until::Sts { mask, burst } => {
                if v & STS_VALID != 0 && v & STS_READ_ZERO != 0 {
                    return None;
                }
                let count = u16::from_le_bytes([lo, hi]);
                let burst_ok = !burst || (count != 0 && count != u16::MAX);
                v & mask == mask && burst_ok
            }
        })
    }
}

/// The FIFO interface of one locality over any [`TisAccess`].
pub struct Tis<A, D> {
    regs: A,
    delay: D,
    locality: u8,
    active: bool,
    timeouts: Timeouts,
    /// What [`Tis::init`] read, kept: the IDs do not change.
    info: Option<TpmInfo>,
}

impl<A: TisAccess, D: DelayNs> Tis<A, D> {
    /// Locality 0 with the PTP timeouts.
    pub fn new(regs: A, delay: D) -> Self {
        Self {
            regs,
            delay,
            locality: 0,
            active: false,
            timeouts: Timeouts::PTP,
            info: None,
        }
    }

    /// Uses `locality` (0..=4) instead of 0.
    pub fn with_locality(mut self, locality: u8) -> Result<Self> {
        if locality >= LOCALITIES {
            return Err(Error::InvalidArgument(&"locality must be 0..=4"));
        }
        self.locality = locality;
        self.active = false;
        self.info = None;
        Ok(self)
    }

    /// Uses other time budgets.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The register access and delay back. A locality this `Tis` holds is
    /// released first (it is requested once and kept for the `Tis`'s
    /// lifetime, not per command); a write error there is ignored.
    pub fn into_inner(mut self) -> (A, D) {
        if self.active {
            let _ = self.release_locality();
        }
        (self.regs, self.delay)
    }

    /// The register access, e.g. to inspect a sim.
    pub fn regs_mut(&mut self) -> &mut A {
        &mut self.regs
    }

    // Inlined into its few callers, as `wait_status` and `wait_sts` are:
    // smaller on every target than a shared out-of-line copy (measured
    // with `cargo xtask size`), since each caller's constants fold in.
    #[inline(always)]
    fn read8(&mut self, offset: u16) -> Result<u8> {
        let mut b = [0u8; 1];
        self.regs.read(self.locality, offset, &mut b)?;
        Ok(b[0])
    }

    // Inlined, as `read8`.
    #[inline(always)]
    fn read32(&mut self, offset: u16) -> Result<u32> {
        let mut b = [0u8; 4];
        self.regs.read(self.locality, offset, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn write8(&mut self, offset: u16, v: u8) -> Result<()> {
        self.regs.write(self.locality, offset, &[v])
    }

    /// Polls the register `until` names for at most `budget_us` until
    /// its bytes say so: the first sleep is 10 µs, each next one doubles
    /// up to [`Timeouts::max_poll_step_us`]. `last` gets the bytes of every
    /// read (the last ones are what the caller looks at). One function for
    /// every wait, so the polling loop is linked once.
    fn poll(&mut self, until: Until, budget_us: u32, what: Wait, last: &mut [u8; 3]) -> Result<()> {
        let Self {
            regs,
            delay,
            locality,
            timeouts,
            ..
        } = self;
        let (offset, burst) = match until {
            Until::Sts { burst, .. } => (TPM_STS, burst),
            Until::AccessValid | Until::Owned => (TPM_ACCESS, false),
        };
        let budget = Budget::backoff(
            budget_us,
            FIRST_POLL_STEP_US,
            timeouts.max_poll_step_us.max(FIRST_POLL_STEP_US),
        );
        let waited = poll_until(delay, budget, Error::Timeout(what), || {
            let read = if burst { &mut last[..] } else { &mut last[..1] };
            regs.read(*locality, offset, read)?;
            until.reached(*last).ok_or(Error::BadStatus(last[0]))
        });
        if waited.is_err_and(|e| e == Error::Timeout(what)) {
            debug!("tpm tis: wait ran out");
        }
        waited
    }

    /// Probes the chip: waits for a valid ACCESS register (TIMEOUT_A; a bus
    /// that reads 0xFF all along is [`Error::NoDevice`]), claims the
    /// locality, checks that STS says TPM 2.0 and reads the IDs. Once that
    /// succeeded, later calls return what it read without a bus access.
    pub fn init(&mut self) -> Result<TpmInfo> {
        if let Some(info) = self.info.filter(|_| self.active) {
            return Ok(info);
        }
        let mut last = [FLOATING; 3];
        let valid = self.poll(
            Until::AccessValid,
            self.timeouts.a_us,
            Wait::AccessValid,
            &mut last,
        );
        match valid {
            Err(Error::Timeout(_)) if last[0] == FLOATING => return Err(Error::NoDevice),
            other => other?,
        }
        tri!(self.request_locality());
        let sts3 = tri!(self.read8(TPM_STS_3));
        if sts3 == FLOATING || sts3 & STS3_FAMILY_MASK != STS3_FAMILY_TPM2 {
            return Err(Error::NotTpm2);
        }
        let did_vid = tri!(self.read32(TPM_DID_VID));
        let revision = tri!(self.read8(TPM_RID));
        let interface_capability = tri!(self.read32(TPM_INTF_CAPABILITY));
        let info = TpmInfo {
            vendor_id: did_vid as u16,
            device_id: (did_vid >> 16) as u16,
            revision,
            interface_capability,
        };
        self.info = Some(info);
        Ok(info)
    }

    /// Requests the locality and waits (TIMEOUT_A) until it is active.
    pub fn request_locality(&mut self) -> Result<()> {
        if Until::Owned.reached([self.read8(TPM_ACCESS)?, 0, 0]) == Some(true) {
            self.active = true;
            return Ok(());
        }
        self.write8(TPM_ACCESS, ACCESS_REQUEST_USE)?;
        self.poll(
            Until::Owned,
            self.timeouts.a_us,
            Wait::Locality,
            &mut [0; 3],
        )?;
        self.active = true;
        Ok(())
    }

    /// Gives the locality up (ACCESS = activeLocality).
    pub fn release_locality(&mut self) -> Result<()> {
        self.active = false;
        self.write8(TPM_ACCESS, ACCESS_ACTIVE_LOCALITY)
    }

    /// Polls the status byte until `mask` is set (TIMEOUT_x `budget_us`);
    /// one-byte reads, for waits that need no burstCount. Inlined (see
    /// `read8`).
    #[inline(always)]
    fn wait_status(&mut self, mask: u8, budget_us: u32, what: Wait) -> Result<u8> {
        self.wait_sts(mask, false, budget_us, what)
            .map(|(sts, _)| sts)
    }

    /// Polls STS until `mask` is set (and, with `burst`, burstCount is not
    /// zero), for at most `budget_us`. With `burst` each poll reads status
    /// and burstCount in one 3-byte access, so the FIFO transfer that
    /// follows needs no second read; returns both. Inlined (see `read8`).
    #[inline(always)]
    fn wait_sts(
        &mut self,
        mask: u8,
        burst: bool,
        budget_us: u32,
        what: Wait,
    ) -> Result<(u8, usize)> {
        let mut b = [0u8; 3];
        self.poll(Until::Sts { mask, burst }, budget_us, what, &mut b)?;
        let [sts, lo, hi] = b;
        Ok((sts, usize::from(u16::from_le_bytes([lo, hi]))))
    }

    /// Status and burstCount, waiting (TIMEOUT_A) for a non-zero
    /// burstCount and, with `valid`, stsValid (a TPM that is just Ready
    /// need not set stsValid: QEMU's tpm-tis does not).
    fn burst(&mut self, valid: bool) -> Result<(u8, usize)> {
        let mask = if valid { STS_VALID } else { 0 };
        self.wait_sts(mask, true, self.timeouts.a_us, Wait::BurstCount)
    }

    /// Aborts whatever the TPM is doing and waits (TIMEOUT_B) for
    /// commandReady.
    pub fn abort(&mut self) -> Result<()> {
        tri!(self.write8(TPM_STS, STS_COMMAND_READY));
        self.wait_status(STS_COMMAND_READY, self.timeouts.b_us, Wait::CommandReady)
            .map(|_| ())
    }

    /// Writes `cmd` to the FIFO and sets tpmGo (PTP §5.5.2.2; Linux
    /// `tpm_tis_send_data`), spending as few bus bytes as the protocol
    /// allows: one 3-byte STS read gives commandReady and burstCount; the
    /// FIFO is then written in frames of up to min(burstCount, 64) bytes,
    /// reading STS again only when the burst is used up (then Expect must
    /// still be set); one status read after the last byte checks Expect is
    /// clear.
    fn send(&mut self, cmd: &[u8]) -> Result<()> {
        if cmd.len() < HEADER_LEN {
            return Err(Error::InvalidArgument(&"command shorter than its header"));
        }
        let mut b = [0u8; 3];
        tri!(self.regs.read(self.locality, TPM_STS, &mut b));
        let [sts, lo, hi] = b;
        if sts == FLOATING || sts & STS_VALID != 0 && sts & STS_READ_ZERO != 0 {
            return Err(Error::BadStatus(sts));
        }
        let mut burst = match u16::from_le_bytes([lo, hi]) {
            u16::MAX => 0,
            count => usize::from(count),
        };
        if sts & STS_COMMAND_READY == 0 {
            // Not idle-and-ready (first command, or after an error):
            // abort, then the burst wait below reads burstCount afresh.
            tri!(self.abort());
            burst = 0;
        }
        let mut rest = cmd;
        while !rest.is_empty() {
            if burst == 0 {
                // Mid-command the TPM must still expect bytes (Linux checks
                // Expect, once stsValid, after every burst).
                let started = rest.len() < cmd.len();
                let (sts, count) = tri!(self.burst(started));
                if started && sts & STS_EXPECT == 0 {
                    return Err(Error::Expect);
                }
                burst = count;
            }
            let n = burst.min(rest.len()).min(A::MAX_TRANSFER);
            let (chunk, tail) = rest.split_at(n);
            tri!(self.regs.write(self.locality, TPM_DATA_FIFO, chunk));
            rest = tail;
            burst -= n;
        }
        let sts = tri!(self.wait_status(STS_VALID, self.timeouts.c_us, Wait::StsValid));
        if sts & STS_EXPECT != 0 {
            return Err(Error::Expect);
        }
        self.write8(TPM_STS, STS_GO)
    }

    /// Reads the response (PTP §5.5.2.3; Linux `tpm_tis_recv`): waits for
    /// dataAvail within the command's duration, then reads the FIFO in
    /// frames of up to min(burstCount, 64) bytes, the first one before the
    /// size is known (burstCount never exceeds what is there), reading STS
    /// again only when a burst is used up (dataAvail must announce it, or
    /// the response is shorter than its size field); one status read at
    /// the end checks dataAvail is clear.
    fn recv(&mut self, command_code: u32, rsp: &mut [u8]) -> Result<usize> {
        let budget = self.timeouts.duration_us(command_code);
        let (_, mut burst) =
            self.wait_sts(STS_VALID | STS_DATA_AVAIL, true, budget, Wait::DataAvail)?;
        let mut done = 0;
        let mut size: Option<usize> = None;
        loop {
            if size.is_none() && done >= HEADER_LEN {
                let (tag, claimed) = match rsp.get(..HEADER_LEN) {
                    Some(&[t0, t1, s0, s1, s2, s3, ..]) => (
                        u16::from_be_bytes([t0, t1]),
                        u32::from_be_bytes([s0, s1, s2, s3]) as usize,
                    ),
                    _ => return Err(Error::ResponseHeader),
                };
                if !matches!(tag, st::NO_SESSIONS | st::SESSIONS | st::RSP_COMMAND)
                    || claimed < HEADER_LEN
                {
                    return Err(Error::ResponseHeader);
                }
                if claimed > rsp.len() {
                    return Err(Error::ResponseTooLarge);
                }
                if done > claimed {
                    return Err(Error::ResponseTrailing);
                }
                size = Some(claimed);
            }
            let end = size.unwrap_or(rsp.len());
            if done >= end {
                break;
            }
            if burst == 0 {
                burst = match self.wait_sts(
                    STS_VALID | STS_DATA_AVAIL,
                    true,
                    self.timeouts.c_us,
                    Wait::DataAvail,
                ) {
                    Err(Error::Timeout(_)) => return Err(Error::ResponseShort),
                    other => other?.1,
                };
            }
            let n = burst.min(end - done).min(A::MAX_TRANSFER);
            let chunk = rsp.get_mut(done..done + n).ok_or(Error::BufferTooSmall)?;
            self.regs.read(self.locality, TPM_DATA_FIFO, chunk)?;
            done += n;
            burst -= n;
        }
        let sts = self.wait_status(STS_VALID, self.timeouts.c_us, Wait::StsValid)?;
        if sts & STS_DATA_AVAIL != 0 {
            return Err(Error::ResponseTrailing);
        }
        Ok(done)
    }

    /// Sends `cmd` and reads the response into `rsp`; returns its length.
    /// On error `rsp` is zeroed and the TPM is put back to commandReady.
    pub fn transmit(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize> {
        if !self.active {
            tri!(self.request_locality());
        }
        let command_code = match cmd.get(6..10) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => return Err(Error::InvalidArgument(&"command shorter than its header")),
        };
        trace!("tpm tis: command {=u32:#x}", command_code);
        let result = match self.send(cmd) {
            Ok(()) => {
                let received = self.recv(command_code, rsp);
                // Back to idle; Linux does this after every response.
                let ready = self.write8(TPM_STS, STS_COMMAND_READY);
                received.and_then(|n| ready.map(|_| n))
            }
            Err(e) => {
                // Abort a half-sent command; the first error is the one to report.
                let _ = self.write8(TPM_STS, STS_COMMAND_READY);
                Err(e)
            }
        };
        if result.is_err() {
            rsp.zeroize();
        }
        result
    }
}

impl<A: TisAccess, D: DelayNs> Transport for Tis<A, D> {
    fn probe(&mut self) -> Result<()> {
        self.init().map(|_| ())
    }

    fn transact(&mut self, cmd: &[u8], rsp: &mut [u8]) -> Result<usize> {
        self.transmit(cmd, rsp)
    }
}
