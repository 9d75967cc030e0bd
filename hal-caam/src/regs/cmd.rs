//! Descriptor command encodings (Linux `desc.h`); the typed builder in
//! [`crate::desc`] is the only place that combines them.

/// Command type shift (bits 31:27).
pub const TYPE_SHIFT: u32 = 27;
/// Command type mask (after shifting down).
pub const TYPE_MASK: u32 = 0x1F;
/// KEY command type.
pub const KEY: u32 = 0x00;
/// LOAD command type.
pub const LOAD: u32 = 0x02;
/// FIFO LOAD command type.
pub const FIFO_LOAD: u32 = 0x04;
/// FIFO STORE command type.
pub const FIFO_STORE: u32 = 0x0C;
/// OPERATION command type.
pub const OPERATION: u32 = 0x10;
/// JUMP command type.
pub const JUMP: u32 = 0x14;
/// Job descriptor header command type.
pub const DESC_HDR: u32 = 0x16;
/// SEQ IN PTR command type.
pub const SEQ_IN_PTR: u32 = 0x1E;
/// SEQ OUT PTR command type.
pub const SEQ_OUT_PTR: u32 = 0x1F;

/// Class field shift (bits 26:25) of KEY, LOAD, FIFO STORE and JUMP.
pub const CLASS_SHIFT: u32 = 25;
/// Class field mask (after shifting down).
pub const CLASS_MASK: u32 = 0x3;
/// Immediate data follows the command (KEY, LOAD).
pub const IMMEDIATE: u32 = 1 << 23;

/// Longest descriptor, header included (`MAX_CAAM_DESCSIZE`).
pub const MAX_DESC_WORDS: usize = 64;

/// Header: must-be-one bit.
pub const HDR_ONE: u32 = 1 << 23;
/// Header: do not run.
pub const HDR_DNR: u32 = 1 << 24;
/// Header: must-be-zero bit.
pub const HDR_ZRO: u32 = 1 << 15;
/// Header: shared descriptor pointer follows.
pub const HDR_SHARED: u32 = 1 << 12;
/// Header: start index shift (bits 21:16).
pub const HDR_START_IDX_SHIFT: u32 = 16;
/// Header: start index mask (after shifting down).
pub const HDR_START_IDX_MASK: u32 = 0x3F;
/// Header: descriptor length in words, header included (bits 6:0).
pub const HDR_LEN_MASK: u32 = 0x7F;

/// KEY: scatter/gather.
pub const KEY_SGF: u32 = 1 << 24;
/// KEY: key is encrypted (black).
pub const KEY_ENC: u32 = 1 << 22;
/// KEY: destination shift (bits 17:16).
pub const KEY_DEST_SHIFT: u32 = 16;
/// KEY: destination mask (after shifting down).
pub const KEY_DEST_MASK: u32 = 0x3;
/// KEY destination: class key register.
pub const KEY_DEST_CLASS_REG: u32 = 0;
/// KEY: length mask (bits 9:0).
pub const KEY_LEN_MASK: u32 = 0x3FF;

/// LOAD: destination shift (bits 22:16).
pub const LOAD_DEST_SHIFT: u32 = 16;
/// LOAD: destination mask (after shifting down).
pub const LOAD_DEST_MASK: u32 = 0x7F;
/// LOAD destination (class 0): clear-written register.
pub const LOAD_DEST_CLRW: u32 = 0x08;
/// LOAD: offset shift (bits 15:8).
pub const LOAD_OFFSET_SHIFT: u32 = 8;
/// LOAD: offset mask (after shifting down).
pub const LOAD_OFFSET_MASK: u32 = 0xFF;
/// LOAD: length mask (bits 7:0).
pub const LOAD_LEN_MASK: u32 = 0xFF;
/// Clear-written value that clears the class-1 "done" state.
pub const CLRW_CLR_C1MODE: u32 = 0x1;

/// FIFO LOAD: input type shift (bits 21:16).
pub const FIFOLD_TYPE_SHIFT: u32 = 16;
/// FIFO LOAD: input type mask (after shifting down).
pub const FIFOLD_TYPE_MASK: u32 = 0x3F;
/// FIFO LOAD input type: message data.
pub const FIFOLD_TYPE_MSG: u32 = 0x10;
/// FIFO LOAD action: last data for class 1.
pub const FIFOLD_TYPE_LAST1: u32 = 0x02;
/// FIFO LOAD: length mask (bits 15:0).
pub const FIFOLD_LEN_MASK: u32 = 0xFFFF;

/// FIFO STORE: extended length word follows the pointer.
pub const FIFOST_EXT: u32 = 1 << 22;
/// FIFO STORE: output type shift (bits 21:16).
pub const FIFOST_TYPE_SHIFT: u32 = 16;
/// FIFO STORE: output type mask (after shifting down).
pub const FIFOST_TYPE_MASK: u32 = 0x3F;
/// FIFO STORE output type: RNG data to memory.
pub const FIFOST_TYPE_RNGSTORE: u32 = 0x34;
/// FIFO STORE output type: message data (a class-1 cipher's output).
pub const FIFOST_TYPE_MESSAGE_DATA: u32 = 0x30;
/// FIFO STORE: length mask (bits 15:0).
pub const FIFOST_LEN_MASK: u32 = 0xFFFF;

/// OPERATION: type shift (bits 26:24).
pub const OP_TYPE_SHIFT: u32 = 24;
/// OPERATION: type mask (after shifting down).
pub const OP_TYPE_MASK: u32 = 0x7;
/// OPERATION type: class-1 algorithm.
pub const OP_TYPE_CLASS1_ALG: u32 = 2;
/// OPERATION type: decapsulation protocol.
pub const OP_TYPE_DECAP_PROTOCOL: u32 = 6;
/// OPERATION type: encapsulation protocol.
pub const OP_TYPE_ENCAP_PROTOCOL: u32 = 7;
/// OPERATION protocol: protocol id shift (bits 23:16).
pub const OP_PCLID_SHIFT: u32 = 16;
/// OPERATION protocol: protocol id mask (after shifting down).
pub const OP_PCLID_MASK: u32 = 0xFF;
/// Protocol id: blob.
pub const OP_PCLID_BLOB: u32 = 0x0D;
/// OPERATION protocol: PROTINFO mask (bits 15:0).
pub const OP_PROTINFO_MASK: u32 = 0xFFFF;
/// Blob PROTINFO: format field (bits 1:0).
pub const BLOB_FMT_MASK: u32 = 0x3;
/// Blob format: normal.
pub const BLOB_FMT_NORMAL: u32 = 0;
/// Blob format: master key verification.
pub const BLOB_FMT_MASTER_VERIFY: u32 = 2;
/// Blob format: test.
pub const BLOB_FMT_TEST: u32 = 3;
/// OPERATION algorithm: ALGSEL shift (bits 23:16).
pub const OP_ALG_ALGSEL_SHIFT: u32 = 16;
/// OPERATION algorithm: ALGSEL mask (after shifting down).
pub const OP_ALG_ALGSEL_MASK: u32 = 0xFF;
/// ALGSEL: AES.
pub const OP_ALG_ALGSEL_AES: u32 = 0x10;
/// ALGSEL: RNG.
pub const OP_ALG_ALGSEL_RNG: u32 = 0x50;
/// OPERATION algorithm: AAI shift (bits 12:4).
pub const OP_ALG_AAI_SHIFT: u32 = 4;
/// OPERATION algorithm: AAI mask (after shifting down).
pub const OP_ALG_AAI_MASK: u32 = 0x1FF;
/// AES AAI: electronic codebook.
pub const OP_ALG_AAI_ECB: u32 = 0x20;
/// RNG AAI: state handle field (bits 1:0 of AAI).
pub const OP_ALG_AAI_RNG4_SH_MASK: u32 = 0x3;
/// RNG AAI: generate secure keys (JDKEK, TDKEK, TDSK).
pub const OP_ALG_AAI_RNG4_SK: u32 = 0x100;
/// OPERATION algorithm: algorithm state shift (bits 3:2).
pub const OP_ALG_AS_SHIFT: u32 = 2;
/// OPERATION algorithm: algorithm state mask (after shifting down).
pub const OP_ALG_AS_MASK: u32 = 0x3;
/// Algorithm state: update / RNG generate.
pub const OP_ALG_AS_UPDATE: u32 = 0;
/// Algorithm state: initialize / RNG instantiate.
pub const OP_ALG_AS_INIT: u32 = 1;
/// Algorithm state: finalize / RNG reseed.
pub const OP_ALG_AS_FINALIZE: u32 = 2;
/// Algorithm state: init-final / RNG uninstantiate.
pub const OP_ALG_AS_INITFINAL: u32 = 3;
/// OPERATION algorithm: prediction resistance (RNG) / ICV check.
pub const OP_ALG_PR_ON: u32 = 1 << 1;
/// OPERATION algorithm: encrypt.
pub const OP_ALG_ENCRYPT: u32 = 1 << 0;

/// JUMP: type shift (bits 23:22).
pub const JUMP_TYPE_SHIFT: u32 = 22;
/// JUMP: type mask (after shifting down).
pub const JUMP_TYPE_MASK: u32 = 0x3;
/// JUMP type: local (relative).
pub const JUMP_TYPE_LOCAL: u32 = 0;
/// JUMP: test type and condition bits (bits 17:8); 0 = always.
pub const JUMP_COND_MASK: u32 = 0x3FF << 8;
/// JUMP: JSL bit.
pub const JUMP_JSL: u32 = 1 << 24;
/// JUMP: local offset mask (bits 7:0).
pub const JUMP_OFFSET_MASK: u32 = 0xFF;

/// SEQ IN/OUT PTR: scatter/gather.
pub const SQ_SGF: u32 = 1 << 24;
/// SEQ IN PTR: release buffers / inline / ... (bits 26:25, 23, 21:20):
/// every option this driver never uses.
pub const SQIN_UNUSED_OPTIONS: u32 = (1 << 26) | (1 << 25) | (1 << 23) | (3 << 20);
/// SEQ OUT PTR: options this driver never uses (PRE, RTO).
pub const SQOUT_UNUSED_OPTIONS: u32 = (1 << 23) | (1 << 21);
/// SEQ IN/OUT PTR: extended length word follows the pointer.
pub const SQ_EXT: u32 = 1 << 22;
/// SEQ IN/OUT PTR: internal length mask (bits 15:0).
pub const SQ_LEN_MASK: u32 = 0xFFFF;
