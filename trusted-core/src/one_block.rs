//! A block cipher that offers its modes one block at a time, for code size.
//!
//! RustCrypto's software AES (`aes` 0.9) has two back ends in one: a
//! single-block bitsliced path on 16-bit words and a batch path that
//! encrypts several blocks at once on the native word. A mode such as GCM's
//! counter mode asks for batches, so firmware links both S-box
//! instantiations, both key-schedule broadcasts and a counter-mode core
//! unrolled for the batch width: on thumbv7em about 5 KB more than the
//! single-block path alone. [`OneBlock`] hands the mode a back end whose
//! batch is one block, so only the single-block path is linked.
//!
//! The ciphertexts are the same (it is the same cipher); what it costs is
//! speed on long messages, which does not matter for a 32..128-byte key and
//! a few blocks of GCM per boot. A hardware cipher (`hal_dcp::DcpAes`)
//! already works a block at a time and needs no wrapper.

use aes_gcm::aead::array::typenum::U1;
use cipher::{
    Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockSizeUser, InOut,
    Key, KeyInit, KeySizeUser, ParBlocksSizeUser,
};

/// `C`, encrypting one block per call of its back end (see the module
/// docs). Dropping it drops `C`, so a cipher that wipes its round keys on
/// drop (`aes` with feature `zeroize`) still does.
///
/// ```
/// use aes_gcm::aead::{AeadInOut, KeyInit};
/// use aes_gcm::{AesGcm, Nonce};
/// use trusted_core::one_block::OneBlock;
///
/// type Small = AesGcm<OneBlock<aes::Aes128>, aes_gcm::aead::consts::U12>;
/// let key = [7u8; 16];
/// let mut small = *b"same bytes as ever, smaller code";
/// let mut usual = small;
/// let nonce = Nonce::from([1u8; 12]);
/// let t1 = Small::new(&key.into()).encrypt_inout_detached(&nonce, b"", small.as_mut_slice().into());
/// let t2 = aes_gcm::Aes128Gcm::new(&key.into())
///     .encrypt_inout_detached(&nonce, b"", usual.as_mut_slice().into());
/// assert_eq!((small, t1.unwrap()), (usual, t2.unwrap()));
/// ```
#[derive(Clone)]
pub struct OneBlock<C>(C);

impl<C> OneBlock<C> {
    /// Wraps `cipher`.
    pub fn new(cipher: C) -> Self {
        Self(cipher)
    }
}

impl<C: KeySizeUser> KeySizeUser for OneBlock<C> {
    type KeySize = C::KeySize;
}

impl<C: KeyInit> KeyInit for OneBlock<C> {
    fn new(key: &Key<Self>) -> Self {
        Self(C::new(key))
    }
}

impl<C: BlockSizeUser> BlockSizeUser for OneBlock<C> {
    type BlockSize = C::BlockSize;
}

impl<C: BlockCipherEncrypt> BlockCipherEncrypt for OneBlock<C> {
    fn encrypt_with_backend(&self, f: impl BlockCipherEncClosure<BlockSize = Self::BlockSize>) {
        f.call(&Backend(&self.0));
    }
}

impl<C: zeroize::ZeroizeOnDrop> zeroize::ZeroizeOnDrop for OneBlock<C> {}

/// The back end: batches of one block, each through `C`'s single-block
/// call.
struct Backend<'a, C>(&'a C);

impl<C: BlockSizeUser> BlockSizeUser for Backend<'_, C> {
    type BlockSize = C::BlockSize;
}

impl<C: BlockSizeUser> ParBlocksSizeUser for Backend<'_, C> {
    type ParBlocksSize = U1;
}

impl<C: BlockCipherEncrypt> BlockCipherEncBackend for Backend<'_, C> {
    fn encrypt_block(&self, block: InOut<'_, '_, Block<Self>>) {
        self.0.encrypt_block_inout(block);
    }
}

#[cfg(test)]
mod tests {
    use aes_gcm::aead::array::typenum::{U12, U16};
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{AesGcm, Nonce};
    use cipher::BlockCipherEncrypt;

    use super::OneBlock;

    /// Same tags and ciphertexts as the batched cipher for every length
    /// from empty to past the longest key (partial blocks included), and
    /// each opens the other's output.
    fn same_as_batched<C: BlockCipherEncrypt<BlockSize = cipher::consts::U16> + KeyInit>(
        key: &[u8],
    ) {
        let one = AesGcm::<OneBlock<C>, U12>::new_from_slice(key).unwrap();
        let batched = AesGcm::<C, U12>::new_from_slice(key).unwrap();
        let nonce = Nonce::<U12>::from([0x5a; 12]);
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

    #[test]
    fn one_block_gcm_matches_batched_aes128_and_aes256() {
        same_as_batched::<aes::Aes128>(&[0x11; 16]);
        same_as_batched::<aes::Aes256>(&[0x22; 32]);
    }

    #[test]
    fn one_block_gcm_with_16_byte_iv_matches_batched() {
        let key = [0x33; 32];
        let one = AesGcm::<OneBlock<aes::Aes256>, U16>::new_from_slice(&key).unwrap();
        let batched = AesGcm::<aes::Aes256, U16>::new_from_slice(&key).unwrap();
        let nonce = Nonce::<U16>::from([7; 16]);
        let (mut a, mut b) = ([0xa5u8; 64], [0xa5u8; 64]);
        let ta = one.encrypt_inout_detached(&nonce, &[], a.as_mut_slice().into());
        let tb = batched.encrypt_inout_detached(&nonce, &[], b.as_mut_slice().into());
        assert_eq!((a, ta.unwrap()), (b, tb.unwrap()));
    }
}
