//! Typed CAAM job-descriptor builder.
//!
//! Every command is appended through a method named after the Linux
//! `desc_constr.h` helper it mirrors (`append_key_as_imm`, `append_seq_in_ptr`,
//! `append_operation`, ...), so no caller writes a raw command word. The
//! header length is kept up to date after each public append, as Linux's
//! `init_job_desc` + `append_*` do. The job builders of `desc/jobs.rs` use
//! the crate's unchecked `add_*` forms instead: an error is kept in the
//! descriptor (the first one; appends after it do nothing) and the whole
//! job is checked once, with the header length set then.
//!
//! ```
//! use hal_caam::desc::{self, BlobDirection, KeyModifier, LengthForm, PointerSize};
//! // Linux trusted_caam: 10-byte immediate key modifier, 32-byte key.
//! let d = desc::blob(
//!     BlobDirection::Encapsulate,
//!     KeyModifier::Immediate(b"SECURE_KEY"),
//!     0x1000, 32, 0x2000, 80,
//!     LengthForm::Internal,
//!     PointerSize::Bits32,
//! ).unwrap();
//! assert_eq!(d.words()[0], 0xB080_000A);
//! assert_eq!(d.words()[9], 0x870D_0000);
//! ```

use heapless::Vec;
use zeroize::Zeroize;

use crate::regs::cmd;

mod jobs;
pub use jobs::{
    KeyModifier, aes_ecb_encrypt, blob, master_key_verification_blob, rng_generate, rng_instantiate,
};
pub(crate) use jobs::{
    aes_ecb_encrypt_into, blob_into, master_key_verification_blob_into, rng_generate_into,
    rng_instantiate_into,
};

/// Width of DMA addresses in descriptors and ring entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A word: it is read from `Config` and each `Descriptor` on every job,
// and compared and selected on as one (`.text` of the Armv7E-M size
// probe -34 B, of the i.MX8 image -124 B).
#[repr(u32)]
pub enum PointerSize {
    /// 32-bit pointers: one word (every i.MX under OP-TEE and U-Boot).
    Bits32,
    /// 64-bit pointers: two words, low word first (little-endian CAAM).
    Bits64,
}

impl PointerSize {
    /// Descriptor words one pointer takes.
    pub const fn words(self) -> usize {
        match self {
            PointerSize::Bits32 => 1,
            PointerSize::Bits64 => 2,
        }
    }

    /// Bytes of one pointer (one input-ring entry).
    pub const fn bytes(self) -> usize {
        self.words() * 4
    }

    /// Bytes of one output-ring entry: descriptor pointer, then status word.
    pub const fn output_entry_bytes(self) -> usize {
        self.bytes() + 4
    }

    /// Whether `address` fits this pointer width.
    pub const fn fits(self, address: u64) -> bool {
        match self {
            PointerSize::Bits32 => address <= u32::MAX as u64,
            PointerSize::Bits64 => true,
        }
    }
}

/// Why a descriptor could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// A word, as the other payloads at that place in `Error` (`JobRing`,
// `Job`): a move of an `Error` then copies a word there, not a byte.
#[repr(u32)]
pub enum DescError {
    /// More than 64 words (`MAX_CAAM_DESCSIZE`).
    TooLong,
    /// An address above 4 GiB in 32-bit pointer mode.
    AddressRange,
    /// A length that does not fit its command field.
    LengthRange,
}

/// Which CHA class a command addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Class {
    /// Class 1 (AES, RNG).
    Class1,
    /// Class 2 (hashing; blob key modifier).
    Class2,
}

impl Class {
    const fn field(self) -> u32 {
        let class = match self {
            Class::Class1 => 1,
            Class::Class2 => 2,
        };
        class << cmd::CLASS_SHIFT
    }
}

/// How a SEQ IN/OUT PTR carries its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LengthForm {
    /// 16-bit length inside the command (Linux `append_seq_*_ptr_intlen`).
    Internal,
    /// 32-bit length word after the pointer (U-Boot `append_seq_*_ptr`, EXT bit).
    Extended,
}

/// An RNG4 state handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum StateHandle {
    /// State handle 0 (used for generation).
    Sh0,
    /// State handle 1.
    Sh1,
}

impl StateHandle {
    /// Both handles, in instantiation order.
    pub const ALL: [StateHandle; 2] = [StateHandle::Sh0, StateHandle::Sh1];

    /// The handle number (0 or 1).
    pub const fn index(self) -> u32 {
        match self {
            StateHandle::Sh0 => 0,
            StateHandle::Sh1 => 1,
        }
    }
}

/// RNG4 algorithm state of a class-1 RNG OPERATION.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RngState {
    /// Generate random data (AS = update).
    Generate,
    /// Instantiate a state handle (AS = init).
    Instantiate,
    /// Reseed (AS = finalize).
    Reseed,
    /// Uninstantiate (AS = init-final).
    Uninstantiate,
}

/// Blob protocol direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BlobDirection {
    /// Red data in, blob out.
    Encapsulate,
    /// Blob in, red data out.
    Decapsulate,
}

/// Blob PROTINFO format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BlobFormat {
    /// Red data in general memory (PROTINFO 0), as Linux and U-Boot use.
    Normal,
    /// Master key verification blob (OP-TEE HUK).
    MasterKeyVerification,
}

/// An OPERATION command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// Class-1 RNG operation on one state handle.
    Rng {
        /// State handle.
        handle: StateHandle,
        /// Generate, instantiate, reseed or uninstantiate.
        state: RngState,
        /// Prediction resistance.
        prediction_resistance: bool,
        /// Generate the secure keys (JDKEK, TDKEK, TDSK): AAI SK.
        secure_keys: bool,
    },
    /// Class-1 AES, ECB, encrypt, initialize and finalize in one job
    /// (`OP_ALG_ALGSEL_AES | OP_ALG_AAI_ECB | OP_ALG_AS_INITFINAL |
    /// OP_ALG_ENCRYPT`).
    AesEcbEncrypt,
    /// Blob protocol.
    Blob {
        /// Encapsulate or decapsulate.
        direction: BlobDirection,
        /// Blob format.
        format: BlobFormat,
    },
}

impl Operation {
    /// The OPERATION command word.
    pub const fn word(self) -> u32 {
        let base = cmd::OPERATION << cmd::TYPE_SHIFT;
        match self {
            Operation::Rng {
                handle,
                state,
                prediction_resistance,
                secure_keys,
            } => {
                let as_field = match state {
                    RngState::Generate => cmd::OP_ALG_AS_UPDATE,
                    RngState::Instantiate => cmd::OP_ALG_AS_INIT,
                    RngState::Reseed => cmd::OP_ALG_AS_FINALIZE,
                    RngState::Uninstantiate => cmd::OP_ALG_AS_INITFINAL,
                };
                let mut aai = handle.index();
                if secure_keys {
                    aai |= cmd::OP_ALG_AAI_RNG4_SK;
                }
                let pr = if prediction_resistance {
                    cmd::OP_ALG_PR_ON
                } else {
                    0
                };
                base | (cmd::OP_TYPE_CLASS1_ALG << cmd::OP_TYPE_SHIFT)
                    | (cmd::OP_ALG_ALGSEL_RNG << cmd::OP_ALG_ALGSEL_SHIFT)
                    | (aai << cmd::OP_ALG_AAI_SHIFT)
                    | (as_field << cmd::OP_ALG_AS_SHIFT)
                    | pr
            }
            Operation::AesEcbEncrypt => {
                base | (cmd::OP_TYPE_CLASS1_ALG << cmd::OP_TYPE_SHIFT)
                    | (cmd::OP_ALG_ALGSEL_AES << cmd::OP_ALG_ALGSEL_SHIFT)
                    | (cmd::OP_ALG_AAI_ECB << cmd::OP_ALG_AAI_SHIFT)
                    | (cmd::OP_ALG_AS_INITFINAL << cmd::OP_ALG_AS_SHIFT)
                    | cmd::OP_ALG_ENCRYPT
            }
            Operation::Blob { direction, format } => {
                let op_type = match direction {
                    BlobDirection::Encapsulate => cmd::OP_TYPE_ENCAP_PROTOCOL,
                    BlobDirection::Decapsulate => cmd::OP_TYPE_DECAP_PROTOCOL,
                };
                let fmt = match format {
                    BlobFormat::Normal => cmd::BLOB_FMT_NORMAL,
                    BlobFormat::MasterKeyVerification => cmd::BLOB_FMT_MASTER_VERIFY,
                };
                base | (op_type << cmd::OP_TYPE_SHIFT)
                    | (cmd::OP_PCLID_BLOB << cmd::OP_PCLID_SHIFT)
                    | fmt
            }
        }
    }
}

/// A job descriptor of at most 64 words, header first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Descriptor {
    words: Vec<u32, { cmd::MAX_DESC_WORDS }>,
    ptr: PointerSize,
    /// The first error of the appends since the last [`Self::finish`]; once
    /// set, appends do nothing. The driver builds a whole job this way and
    /// checks once, instead of one `Result` per command.
    fault: Option<DescError>,
}

type Built<'a> = Result<&'a mut Descriptor, DescError>;

impl Descriptor {
    /// A job descriptor holding only its header (Linux `init_job_desc(desc, 0)`).
    pub fn job(ptr: PointerSize) -> Self {
        let mut words = Vec::new();
        // Cannot fail: capacity is 64.
        let _ = words.push((cmd::DESC_HDR << cmd::TYPE_SHIFT) | cmd::HDR_ONE | 1);
        Self {
            words,
            ptr,
            fault: None,
        }
    }

    /// The words, header first, in CPU order.
    pub fn words(&self) -> &[u32] {
        &self.words
    }

    /// Length in words, header included.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Never true: a descriptor always has its header.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Pointer width this descriptor was built for.
    pub fn pointer_size(&self) -> PointerSize {
        self.ptr
    }

    /// Whether the descriptor is as a check left it: no error pending and
    /// the header's length equal to the words (an unchecked `add_*` since
    /// the last [`Self::finish`] breaks either), so a job never runs a
    /// half-built descriptor.
    pub(crate) fn is_complete(&self) -> bool {
        let header_len = self.words.first().map(|h| h & cmd::HDR_LEN_MASK);
        self.fault.is_none() && header_len == Some(self.words.len() as u32)
    }

    /// Zeroes every word (a descriptor that carried a key inline), header
    /// included, so it can no longer run.
    pub(crate) fn wipe(&mut self) {
        self.words.as_mut_slice().zeroize();
    }

    /// Records `error` unless an earlier one is pending.
    fn fail(&mut self, error: DescError) {
        if self.fault.is_none() {
            self.fault = Some(error);
        }
    }

    /// Ends a run of appends: the header gets the length, and the first
    /// error of the run, if any, is returned (and cleared, so the words
    /// appended before it stay usable, as they were with one check per
    /// command).
    pub(crate) fn finish(&mut self) -> Built<'_> {
        let len = self.words.len() as u32;
        if let Some(header) = self.words.first_mut() {
            *header = (*header & !cmd::HDR_LEN_MASK) | (len & cmd::HDR_LEN_MASK);
        }
        match self.fault.take() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    fn push(&mut self, word: u32) -> &mut Self {
        if self.fault.is_none() && self.words.push(word).is_err() {
            self.fault = Some(DescError::TooLong);
        }
        self
    }

    /// `append_ptr`: one or two words, low word first (little-endian CAAM).
    fn push_ptr(&mut self, address: u64) -> &mut Self {
        if !self.ptr.fits(address) {
            self.fail(DescError::AddressRange);
        }
        self.push(address as u32);
        if self.ptr == PointerSize::Bits64 {
            self.push((address >> 32) as u32);
        }
        self
    }

    /// `append_data`: bytes in memory order, zero-padded to a whole word.
    fn push_bytes(&mut self, data: &[u8]) -> &mut Self {
        for chunk in data.chunks(4) {
            let mut word = [0u8; 4];
            word.iter_mut().zip(chunk).for_each(|(w, b)| *w = *b);
            // Descriptor words are stored little-endian, so the bytes land in
            // memory in the order Linux's memcpy puts them.
            self.push(u32::from_le_bytes(word));
        }
        self
    }

    /// A KEY command word into the class key register (`len` bytes,
    /// `flags` e.g. IMMEDIATE).
    fn key_command(&mut self, class: Class, len: usize, flags: u32) -> &mut Self {
        match u32::try_from(len).ok().filter(|&l| l <= cmd::KEY_LEN_MASK) {
            Some(len) => self.push(
                (cmd::KEY << cmd::TYPE_SHIFT)
                    | class.field()
                    | flags
                    | (cmd::KEY_DEST_CLASS_REG << cmd::KEY_DEST_SHIFT)
                    | len,
            ),
            None => {
                self.fail(DescError::LengthRange);
                self
            }
        }
    }

    /// [`Self::key_immediate`] without its check (see [`Self::finish`]).
    pub(crate) fn add_key_immediate(&mut self, class: Class, key: &[u8]) -> &mut Self {
        self.key_command(class, key.len(), cmd::IMMEDIATE)
            .push_bytes(key)
    }

    /// [`Self::key_pointer`] without its check.
    pub(crate) fn add_key_pointer(&mut self, class: Class, address: u64, len: usize) -> &mut Self {
        self.key_command(class, len, 0).push_ptr(address)
    }

    /// [`Self::load_clear_written`] without its check.
    pub(crate) fn add_load_clear_written(&mut self, value: u32) -> &mut Self {
        self.push(
            (cmd::LOAD << cmd::TYPE_SHIFT)
                | cmd::IMMEDIATE
                | (cmd::LOAD_DEST_CLRW << cmd::LOAD_DEST_SHIFT)
                | 4,
        )
        .push(value)
    }

    /// [`Self::jump_wait_done`] without its check.
    pub(crate) fn add_jump_wait_done(&mut self, class: Class) -> &mut Self {
        self.push(
            (cmd::JUMP << cmd::TYPE_SHIFT)
                | class.field()
                | (cmd::JUMP_TYPE_LOCAL << cmd::JUMP_TYPE_SHIFT)
                | 1,
        )
    }

    fn seq_ptr(&mut self, kind: u32, address: u64, len: u32, form: LengthForm) -> &mut Self {
        match form {
            LengthForm::Internal => {
                if len > cmd::SQ_LEN_MASK {
                    self.fail(DescError::LengthRange);
                }
                self.push((kind << cmd::TYPE_SHIFT) | len).push_ptr(address)
            }
            LengthForm::Extended => self
                .push((kind << cmd::TYPE_SHIFT) | cmd::SQ_EXT)
                .push_ptr(address)
                .push(len),
        }
    }

    /// [`Self::seq_in_ptr`] without its check.
    pub(crate) fn add_seq_in_ptr(&mut self, address: u64, len: u32, form: LengthForm) -> &mut Self {
        self.seq_ptr(cmd::SEQ_IN_PTR, address, len, form)
    }

    /// [`Self::seq_out_ptr`] without its check.
    pub(crate) fn add_seq_out_ptr(
        &mut self,
        address: u64,
        len: u32,
        form: LengthForm,
    ) -> &mut Self {
        self.seq_ptr(cmd::SEQ_OUT_PTR, address, len, form)
    }

    /// `append_fifo_store(desc, address, len, fifo_type)`: `len` bytes of
    /// output of type `fifo_type` (`cmd::FIFOST_TYPE_*`: RNG data, a
    /// class-1 cipher's message data) to memory. [`Self::fifo_store_rng`]
    /// without its check.
    #[inline(always)]
    pub(crate) fn add_fifo_store(&mut self, fifo_type: u32, address: u64, len: u16) -> &mut Self {
        self.push(
            (cmd::FIFO_STORE << cmd::TYPE_SHIFT)
                | (fifo_type << cmd::FIFOST_TYPE_SHIFT)
                | u32::from(len),
        )
        .push_ptr(address)
    }

    /// `append_fifo_load_as_imm(desc, data, len, FIFOLD_CLASS_CLASS1 |
    /// FIFOLD_TYPE_MSG | FIFOLD_TYPE_LAST1)`: the message for a class-1
    /// cipher, inline.
    pub(crate) fn add_fifo_load_message(&mut self, data: &[u8]) -> &mut Self {
        match u32::try_from(data.len())
            .ok()
            .filter(|&l| l <= cmd::FIFOLD_LEN_MASK)
        {
            Some(len) => self
                .push(
                    (cmd::FIFO_LOAD << cmd::TYPE_SHIFT)
                        | Class::Class1.field()
                        | cmd::IMMEDIATE
                        | ((cmd::FIFOLD_TYPE_MSG | cmd::FIFOLD_TYPE_LAST1)
                            << cmd::FIFOLD_TYPE_SHIFT)
                        | len,
                )
                .push_bytes(data),
            None => {
                self.fail(DescError::LengthRange);
                self
            }
        }
    }

    /// [`Self::operation`] without its check.
    pub(crate) fn add_operation(&mut self, op: Operation) -> &mut Self {
        self.push(op.word())
    }

    /// `append_key_as_imm(desc, key, len, len, class | KEY_DEST_CLASS_REG)`.
    pub fn key_immediate(&mut self, class: Class, key: &[u8]) -> Built<'_> {
        self.add_key_immediate(class, key).finish()
    }

    /// `append_key(desc, address, len, class)`: key loaded by reference.
    pub fn key_pointer(&mut self, class: Class, address: u64, len: usize) -> Built<'_> {
        self.add_key_pointer(class, address, len).finish()
    }

    /// `append_load_imm_u32(desc, value, LDST_CLASS_IND_CCB | LDST_SRCDST_WORD_CLRW)`:
    /// writes the clear-written register.
    pub fn load_clear_written(&mut self, value: u32) -> Built<'_> {
        self.add_load_clear_written(value).finish()
    }

    /// `append_jump(desc, JUMP_CLASS_CLASS1 | 1)`: a local jump to the next
    /// command that first waits until `class` is done.
    pub fn jump_wait_done(&mut self, class: Class) -> Built<'_> {
        self.add_jump_wait_done(class).finish()
    }

    /// `append_seq_in_ptr_intlen` (internal) or `append_seq_in_ptr` with EXT.
    pub fn seq_in_ptr(&mut self, address: u64, len: u32, form: LengthForm) -> Built<'_> {
        self.add_seq_in_ptr(address, len, form).finish()
    }

    /// `append_seq_out_ptr_intlen` (internal) or `append_seq_out_ptr` with EXT.
    pub fn seq_out_ptr(&mut self, address: u64, len: u32, form: LengthForm) -> Built<'_> {
        self.add_seq_out_ptr(address, len, form).finish()
    }

    /// `append_fifo_store(desc, address, len, FIFOST_TYPE_RNGSTORE)`.
    pub fn fifo_store_rng(&mut self, address: u64, len: u16) -> Built<'_> {
        self.add_fifo_store(cmd::FIFOST_TYPE_RNGSTORE, address, len)
            .finish()
    }

    /// `append_operation(desc, op)`.
    pub fn operation(&mut self, op: Operation) -> Built<'_> {
        self.add_operation(op).finish()
    }

    /// The descriptor as the CAAM fetches it: little-endian words.
    pub fn write_le(&self, out: &mut [u8]) -> Result<usize, DescError> {
        let n = self.words.len() * 4;
        let out = out.get_mut(..n).ok_or(DescError::TooLong)?;
        for (chunk, word) in out.chunks_exact_mut(4).zip(self.words.iter()) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_checked_descriptor_is_complete() {
        let mut d = Descriptor::job(PointerSize::Bits32);
        assert!(d.is_complete());
        d.add_key_immediate(Class::Class1, &[1; 16]);
        assert!(!d.is_complete(), "header length is stale before finish");
        assert!(d.finish().is_ok());
        assert!(d.is_complete());
        for _ in 0..cmd::MAX_DESC_WORDS {
            d.add_load_clear_written(0);
        }
        assert!(!d.is_complete(), "an error is pending");
        assert_eq!(d.finish().err(), Some(DescError::TooLong));
        assert!(d.is_complete(), "the words before the error stay usable");
    }
}
