//! Blob protocol jobs on the job ring: encapsulation and decapsulation of
//! general-memory blobs (Linux `caam_process_blob`, U-Boot `blob enc/dec`),
//! the master key verification blob (OP-TEE `caam_blob_mkvb_init`) and the
//! SCFGR.PRIBLOB increment that retires it.
//!
//! Protocol only: which key modifier to use, and whether a non-secure CAAM
//! may seal, is decided in [`crate::source`]. Every operation zeroes the
//! whole DMA region and, on error, its output buffer.

use embedded_hal::delay::DelayNs;
use trusted_core::{DmaRegion, Mmio};

use crate::desc::{self, BlobDirection, Descriptor, KeyModifier, LengthForm};
use crate::error::Error;
use crate::jr::{Caam, layout};
use crate::regs::{blob as blobsz, ctrl};

/// How the key modifier of a blob job is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMod<'a> {
    /// Inline, up to 16 bytes, internal sequence lengths: Linux
    /// `caam_process_blob` (`trusted_caam` uses `SECURE_KEY`, 10 bytes).
    Immediate(&'a [u8]),
    /// 16 bytes by reference, extended sequence lengths: U-Boot `blob`.
    ByReference(&'a [u8; 16]),
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Whether the CAAM has the blob protocol (CTPR_LS.BLOB; Linux
    /// `blob_present`).
    pub fn blob_present(&mut self) -> bool {
        self.reg_read(ctrl::CTPR_LS) & ctrl::CTPR_LS_BLOB != 0
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
        if blob.len() < out_len {
            return Err(Error::InvalidArgument("blob buffer too small"));
        }
        self.blob_job(BlobDirection::Encapsulate, keymod, data, blob, out_len)
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
        if data.len() < out_len {
            return Err(Error::InvalidArgument("data buffer too small"));
        }
        self.blob_job(BlobDirection::Decapsulate, keymod, blob, data, out_len)
    }

    /// Runs one blob job from `input` into the first `out_len` bytes of
    /// `out` (which holds at least that many); zeroes `out` on error.
    fn blob_job(
        &mut self,
        direction: BlobDirection,
        keymod: KeyMod<'_>,
        input: &[u8],
        out: &mut [u8],
        out_len: usize,
    ) -> Result<usize, Error> {
        let ptr = self.config().pointer_size;
        self.scrubbed_into(out, |caam, out| {
            caam.stage(layout::INPUT, input)?;
            caam.expect_output(out_len);
            let (modifier, form) = match keymod {
                KeyMod::Immediate(bytes) => (KeyModifier::Immediate(bytes), LengthForm::Internal),
                KeyMod::ByReference(bytes) => {
                    caam.stage(layout::KEYMOD, bytes)?;
                    let address = caam.data_addr(layout::KEYMOD);
                    let len = bytes.len();
                    (KeyModifier::Pointer { address, len }, LengthForm::Extended)
                }
            };
            let mut descriptor = Descriptor::job(ptr);
            desc::blob_into(
                &mut descriptor,
                direction,
                modifier,
                [
                    (caam.data_addr(layout::INPUT), input.len() as u32),
                    (caam.data_addr(layout::OUTPUT), out_len as u32),
                ],
                form,
            )?;
            caam.run(&descriptor)?;
            let out = out.get_mut(..out_len).ok_or(Error::DmaRegion)?;
            caam.copy_output(out)?;
            Ok(out_len)
        })
    }

    /// Reads the 32-byte master key verification blob (OP-TEE
    /// `caam_blob_mkvb_init`). `out` is zeroed on error.
    pub fn master_key_verification_blob(
        &mut self,
        out: &mut [u8; blobsz::MKVB_LEN],
    ) -> Result<(), Error> {
        self.scrubbed_into(out, |caam, out| {
            caam.expect_output(blobsz::MKVB_LEN);
            // Built in place, as in `random`.
            let mut d = Descriptor::job(caam.config().pointer_size);
            desc::master_key_verification_blob_into(&mut d, caam.data_addr(layout::OUTPUT))?;
            caam.run(&d)?;
            caam.copy_output(out)
        })
    }

    /// OP-TEE `caam_hal_ctrl_inc_priblob`: raise SCFGR.PRIBLOB (0 → 1,
    /// 1 or 2 → 3) so later software cannot reproduce the MKVB or private
    /// blobs made so far. At 3 it fails (OP-TEE panics).
    pub fn increment_priblob(&mut self) -> Result<(), Error> {
        let scfgr = self.reg_read(ctrl::SCFGR);
        let next = match scfgr & ctrl::SCFGR_PRIBLOB_MASK {
            0 => 1,
            1 | 2 => 3,
            _ => return Err(Error::PriblobExhausted),
        };
        self.reg_write(ctrl::SCFGR, (scfgr & !ctrl::SCFGR_PRIBLOB_MASK) | next);
        Ok(())
    }
}
