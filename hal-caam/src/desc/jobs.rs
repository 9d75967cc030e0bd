//! The job descriptors of Linux, U-Boot and OP-TEE, built with the typed
//! builder: blob encap/decap, the MKVB, RNG4 instantiation and generation.

use super::{
    BlobDirection, BlobFormat, Class, DescError, Descriptor, LengthForm, Operation, PointerSize,
    RngState, StateHandle,
};
use crate::regs::{blob as blobsz, cmd};

/// How the key modifier reaches the class-2 key register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyModifier<'a> {
    /// Inline in the descriptor (Linux: `SECURE_KEY`, 10 bytes). At most 16.
    Immediate(&'a [u8]),
    /// By bus address (U-Boot `blob`: 16 bytes in memory).
    Pointer {
        /// Bus address of the key modifier.
        address: u64,
        /// Its length (16 for U-Boot).
        len: usize,
    },
}

/// The blob job of Linux `caam_process_blob` (immediate key modifier,
/// internal lengths) or of U-Boot `inline_cnstr_jobdesc_blob_encap/decap`
/// (key modifier by pointer, extended lengths): KEY, SEQ IN PTR,
/// SEQ OUT PTR, OPERATION.
#[allow(clippy::too_many_arguments)]
pub fn blob(
    direction: BlobDirection,
    keymod: KeyModifier<'_>,
    input: u64,
    input_len: u32,
    output: u64,
    output_len: u32,
    form: LengthForm,
    ptr: PointerSize,
) -> Result<Descriptor, DescError> {
    let mut d = Descriptor::job(ptr);
    let seq = [(input, input_len), (output, output_len)];
    blob_into(&mut d, direction, keymod, seq, form)?;
    Ok(d)
}

/// [`blob`] appended to `d` (a fresh job descriptor), so the driver builds
/// the descriptor where it uses it instead of moving it out of a `Result`;
/// `seq` is the input's and the output's (address, length).
pub(crate) fn blob_into(
    d: &mut Descriptor,
    direction: BlobDirection,
    keymod: KeyModifier<'_>,
    seq: [(u64, u32); 2],
    form: LengthForm,
) -> Result<(), DescError> {
    let [(input, input_len), (output, output_len)] = seq;
    match keymod {
        KeyModifier::Immediate(bytes) => {
            if bytes.len() > blobsz::KEYMOD_MAX {
                return Err(DescError::LengthRange);
            }
            d.add_key_immediate(Class::Class2, bytes);
        }
        KeyModifier::Pointer { address, len } => {
            if len > blobsz::KEYMOD_MAX {
                return Err(DescError::LengthRange);
            }
            d.add_key_pointer(Class::Class2, address, len);
        }
    }
    d.add_seq_in_ptr(input, input_len, form)
        .add_seq_out_ptr(output, output_len, form)
        .add_operation(Operation::Blob {
            direction,
            format: BlobFormat::Normal,
        })
        .finish()?;
    Ok(())
}

/// OP-TEE `caam_blob_mkvb_init`: SEQ OUT PTR (32 bytes), OPERATION encap MKVB.
pub fn master_key_verification_blob(
    output: u64,
    ptr: PointerSize,
) -> Result<Descriptor, DescError> {
    let mut d = Descriptor::job(ptr);
    master_key_verification_blob_into(&mut d, output)?;
    Ok(d)
}

/// [`master_key_verification_blob`] appended to `d` (a fresh job
/// descriptor), as [`blob_into`].
pub(crate) fn master_key_verification_blob_into(
    d: &mut Descriptor,
    output: u64,
) -> Result<(), DescError> {
    d.add_seq_out_ptr(output, blobsz::MKVB_LEN as u32, LengthForm::Internal)
        .add_operation(Operation::Blob {
            direction: BlobDirection::Encapsulate,
            format: BlobFormat::MasterKeyVerification,
        })
        .finish()?;
    Ok(())
}

/// OP-TEE `prepare_inst_desc`: for each handle in `handles`, instantiate
/// with prediction resistance, wait for class 1, clear the done state; then
/// generate the secure keys when `secure_keys` (RDSTA.SKVN was clear).
pub fn rng_instantiate(
    handles: &[StateHandle],
    secure_keys: bool,
    ptr: PointerSize,
) -> Result<Descriptor, DescError> {
    let mut d = Descriptor::job(ptr);
    rng_instantiate_into(&mut d, handles.iter().copied(), secure_keys)?;
    Ok(d)
}

/// [`rng_instantiate`] appended to `d` (a fresh job descriptor), as
/// [`blob_into`]; the handles come from an iterator so the driver can pass
/// the RDSTA bits it read without collecting them in a list.
pub(crate) fn rng_instantiate_into(
    d: &mut Descriptor,
    handles: impl IntoIterator<Item = StateHandle>,
    secure_keys: bool,
) -> Result<(), DescError> {
    for handle in handles {
        d.add_operation(Operation::Rng {
            handle,
            state: RngState::Instantiate,
            prediction_resistance: true,
            secure_keys: false,
        })
        .add_jump_wait_done(Class::Class1)
        .add_load_clear_written(cmd::CLRW_CLR_C1MODE);
    }
    if secure_keys {
        d.add_operation(Operation::Rng {
            handle: StateHandle::Sh0,
            state: RngState::Generate,
            prediction_resistance: false,
            secure_keys: true,
        });
    }
    d.finish()?;
    Ok(())
}

/// OP-TEE `do_rng_read` / U-Boot `inline_cnstr_jobdesc_rng`: generate on SH0,
/// FIFO STORE `len` random bytes to `output`.
pub fn rng_generate(
    output: u64,
    len: u16,
    prediction_resistance: bool,
    ptr: PointerSize,
) -> Result<Descriptor, DescError> {
    let mut d = Descriptor::job(ptr);
    rng_generate_into(&mut d, output, len, prediction_resistance)?;
    Ok(d)
}

/// [`rng_generate`] appended to `d` (a fresh job descriptor), as
/// [`blob_into`].
pub(crate) fn rng_generate_into(
    d: &mut Descriptor,
    output: u64,
    len: u16,
    prediction_resistance: bool,
) -> Result<(), DescError> {
    d.add_operation(Operation::Rng {
        handle: StateHandle::Sh0,
        state: RngState::Generate,
        prediction_resistance,
        secure_keys: false,
    })
    .add_fifo_store(cmd::FIFOST_TYPE_RNGSTORE, output, len)
    .finish()?;
    Ok(())
}

/// One AES block, ECB, encrypted under `key` (16, 24 or 32 bytes, inline):
/// KEY (class 1), OPERATION AES-ECB encrypt, FIFO LOAD of `block` (inline,
/// last), FIFO STORE of the 16-byte result to `output`. The descriptor
/// Linux's `caam` skcipher builds, with immediate data instead of
/// sequences.
pub fn aes_ecb_encrypt(
    key: &[u8],
    block: &[u8; 16],
    output: u64,
    ptr: PointerSize,
) -> Result<Descriptor, DescError> {
    let mut d = Descriptor::job(ptr);
    aes_ecb_encrypt_into(&mut d, key, block, output)?;
    Ok(d)
}

/// [`aes_ecb_encrypt`] appended to `d` (a fresh job descriptor), so the
/// driver builds it where it runs and wipes it there: a descriptor moved
/// out of a `Result` could leave a copy of the inline key on the stack.
/// On error `d` is wiped here.
pub(crate) fn aes_ecb_encrypt_into(
    d: &mut Descriptor,
    key: &[u8],
    block: &[u8; 16],
    output: u64,
) -> Result<(), DescError> {
    if !matches!(key.len(), 16 | 24 | 32) {
        return Err(DescError::LengthRange);
    }
    let built = d
        .add_key_immediate(Class::Class1, key)
        .add_operation(Operation::AesEcbEncrypt)
        .add_fifo_load_message(block)
        .add_fifo_store(cmd::FIFOST_TYPE_MESSAGE_DATA, output, 16)
        .finish()
        .map(|_| ());
    if built.is_err() {
        d.wipe();
    }
    built
}
