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
/// Sample size OP-TEE programs.
const RTSDCTL_SAMP_SIZE: u32 = 512;
/// The TRNG registers OP-TEE programs with fixed values, in its order:
/// statistical-check miscellany, poker range and max, then the monobit and
/// run-length limits. One table walked by one loop, not ten call sites.
const TRNG_FIXED: [(u16, u32); 10] = [
    (ctrl::RTSCMISC as u16, (2 << 16) | 32),
    (ctrl::RTPKRRNG as u16, 570),
    (ctrl::RTPKRMAX as u16, 1600),
    (ctrl::RTSCML as u16, (122 << 16) | 317),
    (ctrl::RTSCML as u16 + 4, (80 << 16) | 107),
    (ctrl::RTSCML as u16 + 8, (57 << 16) | 62),
    (ctrl::RTSCML as u16 + 12, (39 << 16) | 39),
    (ctrl::RTSCML as u16 + 16, (27 << 16) | 26),
    (ctrl::RTSCML as u16 + 20, (19 << 16) | 18),
    (ctrl::RTSCML as u16 + 24, (18 << 16) | 17),
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
                // Built in place: a `Descriptor` returned in a `Result` is
                // moved (copied) out of it.
                let mut d = desc::Descriptor::job(caam.config().pointer_size);
                desc::rng_generate_into(
                    &mut d,
                    caam.data_addr(layout::OUTPUT),
                    chunk.len() as u16,
                    false,
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
            .clamp(1, desc::StateHandle::ALL.len() as u32);
        // The handles as RDSTA.IFn bits: the ones this CAAM has, and the
        // ones of those not instantiated yet (a mask, not a list).
        let present = (ctrl::RDSTA_IF0 << count) - ctrl::RDSTA_IF0;
        let rdsta = self.reg_read(ctrl::RDSTA);
        let missing = present & !rdsta;
        let need_keys = rdsta & ctrl::RDSTA_SKVN == 0;
        if missing == 0 && !need_keys {
            return Ok(RngInit::AlreadyInstantiated);
        }
        let kick = missing == present;
        let mut d = desc::Descriptor::job(self.config().pointer_size);
        let handles = desc::StateHandle::ALL
            .into_iter()
            .filter(|h| missing & (ctrl::RDSTA_IF0 << h.index()) != 0);
        desc::rng_instantiate_into(&mut d, handles, need_keys)?;
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
        if self.reg_read(ctrl::RDSTA) & missing != missing {
            return Err(Error::Unsupported(
                "RNG state handle still not instantiated after a successful job",
            ));
        }
        Ok(RngInit::Instantiated(missing.count_ones() as u8))
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
        for &(offset, value) in TRNG_FIXED.iter() {
            self.reg_write(usize::from(offset), value);
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
