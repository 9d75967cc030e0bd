//! AES in the CAAM, one block per job: what lets the TEE sealer
//! (`TeeSealer::with_rng_aes`) run its AES-256-GCM on the CAAM that is
//! already its RNG and HUK, instead of linking software AES beside it.

use embedded_hal::delay::DelayNs;
use trusted_core::one_block::AesEngine;
use trusted_core::{DmaRegion, Mmio};
use zeroize::Zeroize;

use crate::desc;
use crate::error::Error;
use crate::jr::{Caam, layout};

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Encrypts `block` in place, AES-ECB under `key` (16, 24 or 32 bytes,
    /// [`Error::InvalidArgument`] otherwise), in one job. The key travels
    /// inline in the descriptor; the whole DMA region is zeroed after the
    /// job, and `block` on error.
    pub fn aes_encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(Error::InvalidArgument("AES key must be 16, 24 or 32 bytes"));
        }
        self.scrubbed_into(block, |caam, out| {
            let mut input = [0u8; 16];
            input.copy_from_slice(out);
            caam.expect_output(16);
            let mut d = desc::Descriptor::job(caam.config().pointer_size);
            let output = caam.data_addr(layout::OUTPUT);
            let ran = desc::aes_ecb_encrypt_into(&mut d, key, &input, output)
                .map_err(Error::from)
                .and_then(|()| caam.run(&d));
            // The key was inline.
            d.wipe();
            input.zeroize();
            ran?;
            caam.copy_output(out)
        })
    }
}

/// The CAAM's AES for `trusted_core`'s one-block modes.
impl<M: Mmio, D: DmaRegion, T: DelayNs> AesEngine for Caam<M, D, T> {
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> trusted_core::Result<()> {
        self.aes_encrypt_block(key, block).map_err(Into::into)
    }
}
