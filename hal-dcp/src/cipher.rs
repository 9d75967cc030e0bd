//! The DCP as a RustCrypto block cipher (cipher 0.5), so `cmac`, `ctr` and
//! `aes-gcm` run on top of a key that never leaves the chip.
//!
//! The cipher traits cannot fail, so [`DcpAes`] latches the first error: the
//! failing block and every later block come out all zero and run no more
//! jobs, and [`DcpAes::finish`] or [`DcpAes::error`] reports it afterwards.
//! Every block is one DCP job (ECB, one 16-byte packet); the traits give no
//! batch boundary that is safe to widen.

use core::cell::{Cell, RefCell};

use cipher::consts::{U1, U16};
use cipher::{
    Block, BlockCipherDecBackend, BlockCipherDecClosure, BlockCipherDecrypt, BlockCipherEncBackend,
    BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, InOut, ParBlocksSizeUser,
};
use embedded_hal::delay::DelayNs;
use trusted_core::{DmaRegion, Mmio};

use crate::dcp::{AesKey, Dcp};
use crate::error::Error;

/// AES-128 with a DCP-held key (UNIQUE, OTP, a key-RAM slot, or a payload
/// key), as a `BlockCipherEncrypt + BlockCipherDecrypt`.
///
/// Pass `&DcpAes` where a cipher is taken by value (`Cmac::inner_init`,
/// `AesGcm::from`, `kdf_counter_cmac`) and check [`DcpAes::error`] after.
pub struct DcpAes<'d, 'k, M, D, T> {
    dcp: RefCell<&'d mut Dcp<M, D, T>>,
    key: AesKey<'k>,
    error: Cell<Option<Error>>,
}

impl<'d, 'k, M: Mmio, D: DmaRegion, T: DelayNs> DcpAes<'d, 'k, M, D, T> {
    /// A cipher running every block on `dcp` with `key`.
    pub fn new(dcp: &'d mut Dcp<M, D, T>, key: AesKey<'k>) -> Self {
        Self {
            dcp: RefCell::new(dcp),
            key,
            error: Cell::new(None),
        }
    }

    /// The first error a block operation hit, if any.
    pub fn error(&self) -> Option<Error> {
        self.error.get()
    }

    /// Ends the use of the cipher: `Err` with the latched error, if any.
    pub fn finish(self) -> Result<(), Error> {
        match self.error.get() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn block(&self, mut block: InOut<'_, '_, Block<Self>>, direction: Direction) {
        let mut buf: [u8; 16] = (*block.get_in()).into();
        let result = match (self.error.get(), self.dcp.try_borrow_mut()) {
            (Some(e), _) => Err(e),
            (None, Err(_)) => Err(Error::Busy),
            (None, Ok(mut dcp)) => match direction {
                Direction::Encrypt => dcp.ecb_encrypt(self.key, &mut buf),
                Direction::Decrypt => dcp.ecb_decrypt(self.key, &mut buf),
            },
        };
        if let Err(e) = result {
            self.error.set(Some(e));
            buf = [0; 16];
        }
        block.get_out().copy_from_slice(&buf);
        zeroize::Zeroize::zeroize(&mut buf);
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Encrypt,
    Decrypt,
}

impl<M, D, T> BlockSizeUser for DcpAes<'_, '_, M, D, T> {
    type BlockSize = U16;
}

struct Backend<'a, 'd, 'k, M, D, T>(&'a DcpAes<'d, 'k, M, D, T>);

impl<M, D, T> BlockSizeUser for Backend<'_, '_, '_, M, D, T> {
    type BlockSize = U16;
}

impl<M, D, T> ParBlocksSizeUser for Backend<'_, '_, '_, M, D, T> {
    type ParBlocksSize = U1;
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> BlockCipherEncBackend for Backend<'_, '_, '_, M, D, T> {
    fn encrypt_block(&self, block: InOut<'_, '_, Block<Self>>) {
        self.0.block(block, Direction::Encrypt);
    }
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> BlockCipherDecBackend for Backend<'_, '_, '_, M, D, T> {
    fn decrypt_block(&self, block: InOut<'_, '_, Block<Self>>) {
        self.0.block(block, Direction::Decrypt);
    }
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> BlockCipherEncrypt for DcpAes<'_, '_, M, D, T> {
    fn encrypt_with_backend(&self, f: impl BlockCipherEncClosure<BlockSize = U16>) {
        f.call(&Backend(self));
    }
}

impl<M: Mmio, D: DmaRegion, T: DelayNs> BlockCipherDecrypt for DcpAes<'_, '_, M, D, T> {
    fn decrypt_with_backend(&self, f: impl BlockCipherDecClosure<BlockSize = U16>) {
        f.call(&Backend(self));
    }
}
