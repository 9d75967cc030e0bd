//! RNG4 on the job ring: state-handle instantiation with the TRNG set-up
//! OP-TEE does (`caam_rng_instantiation`, `caam_hal_rng_kick`), random
//! bytes from state handle 0, and the CAAM as a `rand_core` RNG.
//!
//! Every operation zeroes the whole DMA region and, on error, its output
//! buffer.

use embedded_hal::delay::DelayNs;
use trusted_core::debug;
use trusted_core::{DmaRegion, Mmio};

use crate::desc;
use crate::error::Error;
use crate::jr::{Caam, layout};
use crate::regs::ctrl;

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

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Fills `out` from RNG4 state handle 0, in chunks of the DMA output
    /// area. `out` is zeroed on error.
    pub fn random(&mut self, out: &mut [u8]) -> Result<(), Error> {
        self.scrubbed_into(out, |caam, out| {
            for chunk in out.chunks_mut(layout::DATA_LEN) {
                caam.expect_output(chunk.len());
                let d = desc::rng_generate(
                    caam.data_addr(layout::OUTPUT),
                    chunk.len() as u16,
                    false,
                    caam.config().pointer_size,
                )?;
                caam.run(&d)?;
                caam.copy_output(chunk)?;
            }
            Ok(())
        })
    }

    /// Instantiates the RNG4 state handles that are not instantiated yet
    /// (OP-TEE `caam_rng_instantiation`), generating the secure keys when
    /// RDSTA.SKVN is clear. Skips everything when an earlier stage did it.
    /// When no handle is instantiated the TRNG is programmed ("kicked")
    /// first, retrying with a longer entropy delay on a CCB RNG hardware
    /// error, as OP-TEE does.
    pub fn rng_instantiate(&mut self) -> Result<RngInit, Error> {
        if !self.is_ready() {
            return Err(Error::NotInitialized);
        }
        let vid = (self.reg_read(ctrl::CHAVID_LS) >> ctrl::CHAVID_LS_RNGVID_SHIFT)
            & ctrl::CHAVID_LS_RNGVID_MASK;
        if vid < RNG4_VID {
            return Ok(RngInit::NotRng4);
        }
        let count = ((self.reg_read(ctrl::CTPR_MS) >> ctrl::CTPR_MS_RNG_I_SHIFT)
            & ctrl::CTPR_MS_RNG_I_MASK)
            .clamp(1, desc::StateHandle::ALL.len() as u32) as usize;
        let rdsta = self.reg_read(ctrl::RDSTA);
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
        let mut d = desc::Descriptor::job(self.config().pointer_size);
        desc::rng_instantiate_into(&mut d, &missing, need_keys)?;
        let mut ent_dly = ENT_DLY_MIN;
        loop {
            if kick {
                self.kick_trng(ent_dly);
            }
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
        let rdsta = self.reg_read(ctrl::RDSTA);
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
        let rtmctl = self.reg_read(ctrl::RTMCTL);
        self.reg_write(ctrl::RTMCTL, rtmctl | ctrl::RTMCTL_PRGM | ctrl::RTMCTL_ACC);
        self.reg_write(
            ctrl::RTSDCTL,
            (ent_dly << ctrl::RTSDCTL_ENT_DLY_SHIFT) | RTSDCTL_SAMP_SIZE,
        );
        self.reg_write(ctrl::RTFRQMIN, ent_dly / 4);
        self.reg_write(ctrl::RTFRQMAX, ent_dly * 16);
        self.reg_write(ctrl::RTSCMISC, RTSCMISC_VALUE);
        self.reg_write(ctrl::RTPKRRNG, RTPKRRNG_VALUE);
        self.reg_write(ctrl::RTPKRMAX, RTPKRMAX_VALUE);
        for (i, limit) in RTSC_LIMITS.iter().enumerate() {
            self.reg_write(ctrl::RTSCML + 4 * i, *limit);
        }
        let rtmctl = self.reg_read(ctrl::RTMCTL);
        let run = (rtmctl & !(ctrl::RTMCTL_PRGM | ctrl::RTMCTL_ACC | ctrl::RTMCTL_SAMP_MODE_MASK))
            | ctrl::RTMCTL_SAMP_MODE_RAW_ES_SC;
        self.reg_write(ctrl::RTMCTL, run);
        self.reg_write(ctrl::RTMCTL, run | ctrl::RTMCTL_ERR);
    }
}

/// The CAAM RNG as a `rand_core` RNG: every call runs a generate job on
/// state handle 0. Instantiate first ([`Caam::rng_instantiate`]).
impl<M: Mmio, D: DmaRegion, T: DelayNs> rand_core::TryRng for Caam<M, D, T> {
    type Error = Error;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.random(dst)
    }
}

/// RNG4 is a NIST SP 800-90A DRBG seeded from the TRNG.
impl<M: Mmio, D: DmaRegion, T: DelayNs> rand_core::TryCryptoRng for Caam<M, D, T> {}
