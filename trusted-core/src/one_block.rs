//! A block cipher that offers its modes one block at a time, through one
//! `dyn` call, for code size.
//!
//! RustCrypto's software AES (`aes` 0.9) has two back ends in one: a
//! single-block bitsliced path on 16-bit words and a batch path that
//! encrypts several blocks at once on the native word. A mode such as GCM's
//! counter mode asks for batches, so firmware links both S-box
//! instantiations, both key-schedule broadcasts and a counter-mode core
//! unrolled for the batch width: on thumbv7em about 5 KB more than the
//! single-block path alone. [`DynBlock`] hands the mode a back end whose
//! batch is one block, so only the single-block path is linked.
//!
//! It also hides the cipher's type behind a `dyn` reference, so the modes
//! (CTR, GCM) are instantiated once for every cipher of a firmware: the
//! i.MX6ULL image, with the DCP's AES-128 for its blobs and software
//! AES-256 for the TEE sealer, links one CTR core instead of two.
//!
//! The ciphertexts are the same (it is the same cipher); what it costs is
//! speed on long messages, which does not matter for a 32..128-byte key and
//! a few blocks of GCM per boot, and an indirect call per block.

use core::cell::Cell;

use aes_gcm::aead::array::typenum::{U1, U16};
use cipher::{
    BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, InOut,
    ParBlocksSizeUser,
};
use zeroize::{Zeroize, Zeroizing};

/// A 16-byte block, as the cipher traits hand it over.
pub type Block16 = cipher::Array<u8, U16>;

/// One block encrypted through a `dyn` call: what [`DynBlock`] needs of a
/// cipher. Every `BlockCipherEncrypt` with 16-byte blocks has it.
pub trait EncryptBlock {
    /// Encrypts `block`'s input into its output.
    fn encrypt_one(&self, block: InOut<'_, '_, Block16>);
}

impl<C: BlockCipherEncrypt<BlockSize = U16>> EncryptBlock for C {
    fn encrypt_one(&self, block: InOut<'_, '_, Block16>) {
        self.encrypt_block_inout(block);
    }
}

/// A borrowed 16-byte block cipher of any type, encrypting one block per
/// call through its vtable (see the module docs). It holds no key of its
/// own: the cipher it borrows keeps (and wipes) that.
///
/// ```
/// use aes_gcm::aead::{AeadInOut, KeyInit};
/// use aes_gcm::{AesGcm, Nonce};
/// use trusted_core::one_block::DynBlock;
///
/// type AnyGcm<'a> = AesGcm<DynBlock<'a>, aes_gcm::aead::consts::U12>;
/// let aes = aes::Aes128::new(&[7u8; 16].into());
/// let mut any = *b"same bytes as ever, smaller code";
/// let mut usual = any;
/// let nonce = Nonce::from([1u8; 12]);
/// let t1 = AnyGcm::from(DynBlock::new(&aes))
///     .encrypt_inout_detached(&nonce, b"", any.as_mut_slice().into());
/// let t2 = aes_gcm::Aes128Gcm::new(&[7u8; 16].into())
///     .encrypt_inout_detached(&nonce, b"", usual.as_mut_slice().into());
/// assert_eq!((any, t1.unwrap()), (usual, t2.unwrap()));
/// ```
#[derive(Clone, Copy)]
pub struct DynBlock<'a>(&'a dyn EncryptBlock);

impl<'a> DynBlock<'a> {
    /// Borrows `cipher`.
    pub fn new(cipher: &'a dyn EncryptBlock) -> Self {
        Self(cipher)
    }
}

impl BlockSizeUser for DynBlock<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncrypt for DynBlock<'_> {
    fn encrypt_with_backend(&self, f: impl BlockCipherEncClosure<BlockSize = U16>) {
        f.call(&Backend(self.0));
    }
}

/// [`DynBlock`]'s back end: batches of one block, each a `dyn` call.
struct Backend<'a>(&'a dyn EncryptBlock);

impl BlockSizeUser for Backend<'_> {
    type BlockSize = U16;
}

impl ParBlocksSizeUser for Backend<'_> {
    type ParBlocksSize = U1;
}

impl BlockCipherEncBackend for Backend<'_> {
    fn encrypt_block(&self, block: InOut<'_, '_, Block16>) {
        self.0.encrypt_one(block);
    }
}

/// AES in a hardware engine, one block per call: what lets a mode built on
/// [`DynBlock`] (the TEE sealer's GCM) run on a crypto engine the firmware
/// already drives (the CAAM) instead of linking software AES beside it.
pub trait AesEngine {
    /// Encrypts `block` in place (ECB, one block) under `key` (16, 24 or
    /// 32 bytes). On error `block` holds nothing of a result.
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> crate::Result<()>;
}

impl<E: AesEngine + ?Sized> AesEngine for &mut E {
    fn encrypt_block(&mut self, key: &[u8], block: &mut [u8; 16]) -> crate::Result<()> {
        (**self).encrypt_block(key, block)
    }
}

/// An [`AesEngine`] keyed with a copy of `key` (zeroed on drop), as an
/// [`EncryptBlock`] for [`DynBlock`]. The block traits cannot fail, so the
/// first engine error is kept (see [`EngineBlock::finish`]), its block and
/// every later one come out as zeros, and the engine is not asked again:
/// one timeout, not one per block.
pub struct EngineBlock<'a, E> {
    engine: Cell<Option<&'a mut E>>,
    key: Zeroizing<[u8; 32]>,
    key_len: usize,
    failed: Cell<Option<crate::Error>>,
}

impl<'a, E: AesEngine> EngineBlock<'a, E> {
    /// Borrows `engine` for the blocks to come, under a copy of `key` (16,
    /// 24 or 32 bytes; [`Error::KeyLength`](crate::Error::KeyLength)
    /// otherwise).
    pub fn new(engine: &'a mut E, key: &[u8]) -> crate::Result<Self> {
        let mut copy = Zeroizing::new([0u8; 32]);
        match copy.get_mut(..key.len()) {
            Some(head) if matches!(key.len(), 16 | 24 | 32) => head.copy_from_slice(key),
            _ => return Err(crate::Error::KeyLength),
        }
        Ok(Self {
            engine: Cell::new(Some(engine)),
            key: copy,
            key_len: key.len(),
            failed: Cell::new(None),
        })
    }

    /// The first engine error, if any block failed. Whatever the mode
    /// computed from this cipher is then wrong and must be discarded.
    pub fn finish(&self) -> crate::Result<()> {
        match self.failed.get() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<E: AesEngine> EncryptBlock for EngineBlock<'_, E> {
    fn encrypt_one(&self, mut block: InOut<'_, '_, Block16>) {
        let mut data: [u8; 16] = (*block.get_in()).into();
        // Taken out while in use and put back after: `&self` gives no
        // `&mut` otherwise, and a `RefCell` would add a panic path.
        let result = match self.engine.take() {
            Some(engine) => {
                let key = self.key.get(..self.key_len).unwrap_or(&[]);
                let result = engine.encrypt_block(key, &mut data);
                if result.is_ok() {
                    self.engine.set(Some(engine));
                }
                result
            }
            // An earlier block failed: the engine was not put back.
            None => Err(crate::Error::Unsupported("AES engine after a failed block")),
        };
        if let Err(e) = result {
            data.zeroize();
            if self.failed.get().is_none() {
                self.failed.set(Some(e));
            }
        }
        block.get_out().copy_from_slice(&data);
        data.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::array::typenum::{U12, U16};
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{AesGcm, Nonce};
    use cipher::BlockCipherEncrypt;
    use cipher::array::ArraySize;

    use super::DynBlock;

    /// Same tags and ciphertexts as the batched cipher for every length
    /// from empty to past the longest key (partial blocks included), and
    /// each opens the other's output.
    fn same_as_batched<C, N>(key: &[u8])
    where
        C: BlockCipherEncrypt<BlockSize = U16> + KeyInit,
        N: ArraySize,
    {
        let cipher = C::new_from_slice(key).unwrap();
        let one = AesGcm::<DynBlock<'_>, N>::from(DynBlock::new(&cipher));
        let batched = AesGcm::<C, N>::new_from_slice(key).unwrap();
        let nonce = Nonce::<N>::from_fn(|i| 0x5a ^ i as u8);
        for len in 0..=140usize {
            let msg: [u8; 140] = core::array::from_fn(|i| i as u8 ^ len as u8);
            let mut a = msg;
            let mut b = msg;
            let ta = one
                .encrypt_inout_detached(&nonce, b"aad", a[..len].as_mut().into())
                .unwrap();
            let tb = batched
                .encrypt_inout_detached(&nonce, b"aad", b[..len].as_mut().into())
                .unwrap();
            assert_eq!((a, ta), (b, tb), "length {len}");
            batched
                .decrypt_inout_detached(&nonce, b"aad", a[..len].as_mut().into(), &ta)
                .unwrap();
            one.decrypt_inout_detached(&nonce, b"aad", b[..len].as_mut().into(), &tb)
                .unwrap();
            assert_eq!((a, b), (msg, msg), "length {len}");
        }
    }

    /// Both ciphers, with both IV lengths the blob formats use (12: DCP,
    /// 16: TEE).
    #[test]
    fn dyn_block_gcm_matches_batched_aes128_and_aes256() {
        same_as_batched::<aes::Aes128, U12>(&[0x11; 16]);
        same_as_batched::<aes::Aes128, U16>(&[0x11; 16]);
        same_as_batched::<aes::Aes256, U12>(&[0x22; 32]);
        same_as_batched::<aes::Aes256, U16>(&[0x22; 32]);
    }
}
