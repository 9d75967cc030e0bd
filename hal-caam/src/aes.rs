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

/// FIPS-197 appendix C.3: AES-256 under the key 00..1f.
const KAT_KEY: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];
/// Its plaintext.
const KAT_PLAINTEXT: [u8; 16] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
];
/// Its ciphertext.
const KAT_CIPHERTEXT: [u8; 16] = [
    0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89,
];

impl<M: Mmio, D: DmaRegion, T: DelayNs> Caam<M, D, T> {
    /// Encrypts `block` in place, AES-ECB under `key` (16, 24 or 32 bytes,
    /// [`Error::InvalidArgument`] otherwise), in one job. The key travels
    /// inline in the descriptor; the whole DMA region is zeroed after the
    /// job, and `block` on error.
    ///
    /// The first call of a driver runs FIPS-197 C.3 first (one more job):
    /// a descriptor the CAAM reads otherwise than this driver means would
    /// give wrong blocks with a good status, and TEE blobs Linux could not
    /// open; it is [`Error::AesSelfTest`] instead.
    pub fn aes_encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(Error::InvalidArgument("AES key must be 16, 24 or 32 bytes"));
        }
        if !self.aes_tested {
            let mut answer = KAT_PLAINTEXT;
            let tested = self.aes_job(&KAT_KEY, &mut answer).and_then(|()| {
                if answer == KAT_CIPHERTEXT {
                    Ok(())
                } else {
                    Err(Error::AesSelfTest)
                }
            });
            if let Err(e) = tested {
                block.zeroize();
                return Err(e);
            }
            self.aes_tested = true;
        }
        self.aes_job(key, block)
    }

    /// One AES-ECB job (the key's length already checked).
    fn aes_job(&mut self, key: &[u8], block: &mut [u8; 16]) -> Result<(), Error> {
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
