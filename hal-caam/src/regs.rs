//! CAAM register offsets, bit fields and descriptor command encodings:
//! constants only, shared by the driver and the sim.
//!
//! Sources: Linux `drivers/crypto/caam/{regs.h,desc.h}`, OP-TEE
//! `core/drivers/crypto/caam/{hal/common/registers,include/caam_desc_defines.h}`,
//! U-Boot `drivers/crypto/fsl/{jr.h,desc.h}`. Offsets are bytes from the CAAM
//! base (controller page) or from a job-ring page.

/// Job-ring page size on i.MX6/7/8M (OP-TEE `CFG_JR_BLOCK_SIZE`).
pub const PAGE_SIZE_4K: usize = 0x1000;
/// Job-ring page size on i.MX8QM/QX/DXL.
pub const PAGE_SIZE_64K: usize = 0x1_0000;

/// Controller page (offsets from the CAAM base).
pub mod ctrl {
    /// Master configuration.
    pub const MCFGR: usize = 0x004;
    /// MCFGR: use pointers wider than 32 bits (LONG_PTR / PS).
    pub const MCFGR_LONG_PTR: u32 = 1 << 16;
    /// Security configuration.
    pub const SCFGR: usize = 0x00C;
    /// SCFGR: private-blob type field (bits can only be set).
    pub const SCFGR_PRIBLOB_MASK: u32 = 0x3;
    /// SCFGR: RNG4 "RDB" enable (U-Boot sets it after instantiation).
    pub const SCFGR_RDBENABLE: u32 = 1 << 10;
    /// Job-ring start (virtualisation only).
    pub const JRSTART: usize = 0x05C;

    /// RNG TRNG miscellaneous control.
    pub const RTMCTL: usize = 0x600;
    /// RTMCTL: program mode.
    pub const RTMCTL_PRGM: u32 = 1 << 16;
    /// RTMCTL: error (write 1 to clear).
    pub const RTMCTL_ERR: u32 = 1 << 12;
    /// RTMCTL: TRNG access mode (discard stale entropy with PRGM).
    pub const RTMCTL_ACC: u32 = 1 << 5;
    /// RTMCTL: sample mode field.
    pub const RTMCTL_SAMP_MODE_MASK: u32 = 0x3;
    /// RTMCTL sample mode: raw entropy and statistical checks.
    pub const RTMCTL_SAMP_MODE_RAW_ES_SC: u32 = 1;
    /// Statistical check miscellaneous (retry count, long-run max).
    pub const RTSCMISC: usize = 0x604;
    /// Poker range.
    pub const RTPKRRNG: usize = 0x608;
    /// Poker max (program mode).
    pub const RTPKRMAX: usize = 0x60C;
    /// Seed control: entropy delay (31:16), sample size (15:0).
    pub const RTSDCTL: usize = 0x610;
    /// RTSDCTL: entropy delay shift.
    pub const RTSDCTL_ENT_DLY_SHIFT: u32 = 16;
    /// RTSDCTL: entropy delay mask (after shifting down).
    pub const RTSDCTL_ENT_DLY_MASK: u32 = 0xFFFF;
    /// Frequency count minimum.
    pub const RTFRQMIN: usize = 0x618;
    /// Frequency count maximum (program mode).
    pub const RTFRQMAX: usize = 0x61C;
    /// Monobit limit, then run-length limits 1..6+ at +4 each.
    pub const RTSCML: usize = 0x620;
    /// RNG4 status.
    pub const RDSTA: usize = 0x6C0;
    /// RDSTA: secure keys valid, non-test (JDKEK/TDKEK/TDSK generated).
    pub const RDSTA_SKVN: u32 = 1 << 30;
    /// RDSTA: state handle 0 instantiated with prediction resistance.
    pub const RDSTA_PR0: u32 = 1 << 4;
    /// RDSTA: state handle 0 instantiated (IF1 is the next bit up).
    pub const RDSTA_IF0: u32 = 1 << 0;

    /// Compile-time parameters, most significant half.
    pub const CTPR_MS: usize = 0xFA8;
    /// CTPR_MS: pointers wider than 32 bits are possible.
    pub const CTPR_MS_PS: u32 = 1 << 17;
    /// CTPR_MS: number of RNG state handles (bits 10:8).
    pub const CTPR_MS_RNG_I_SHIFT: u32 = 8;
    /// CTPR_MS: RNG_I mask (after shifting down).
    pub const CTPR_MS_RNG_I_MASK: u32 = 0x7;
    /// Compile-time parameters, least significant half.
    pub const CTPR_LS: usize = 0xFAC;
    /// CTPR_LS: blob protocol present.
    pub const CTPR_LS_BLOB: u32 = 1 << 1;
    /// CAAM status (also mirrored in every page at +0xFD4).
    pub const CSTA: usize = 0xFD4;
    /// CCB version: era in bits 31:24.
    pub const CCBVID: usize = 0xFE4;
    /// CHA version, least significant: RNG VID in bits 19:16.
    pub const CHAVID_LS: usize = 0xFEC;
    /// CHAVID_LS: RNG version shift.
    pub const CHAVID_LS_RNGVID_SHIFT: u32 = 16;
    /// CHAVID_LS: RNG version mask (after shifting down).
    pub const CHAVID_LS_RNGVID_MASK: u32 = 0xF;
    /// CHA number, most significant: number of job rings in bits 31:28.
    pub const CHANUM_MS: usize = 0xFF0;
}

/// CSTA fields (read through the job-ring page alias).
pub mod csta {
    /// Mode of operation shift (bits 9:8).
    pub const MOO_SHIFT: u32 = 8;
    /// Mode of operation mask (after shifting down).
    pub const MOO_MASK: u32 = 0x3;
    /// MOO: non-secure (test key in use).
    pub const MOO_NON_SECURE: u32 = 0;
    /// MOO: secure (OTPMK in use).
    pub const MOO_SECURE: u32 = 1;
    /// MOO: trusted (OTPMK in use).
    pub const MOO_TRUSTED: u32 = 2;
    /// MOO: fail (security violation).
    pub const MOO_FAIL: u32 = 3;
    /// Platform endianness: set when the CAAM is little-endian.
    pub const PLEND: u32 = 1 << 10;
}

/// Job-ring page (offsets from the page of ring *n*, at base + (n+1) × page).
pub mod jr {
    /// Input-ring base address, bits 63:32 (i.MX order: high word first).
    pub const IRBAR_HI: usize = 0x000;
    /// Input-ring base address, bits 31:0; writing it latches the address.
    pub const IRBAR_LO: usize = 0x004;
    /// Input-ring size in entries.
    pub const IRSR: usize = 0x00C;
    /// Input-ring slots available.
    pub const IRSAR: usize = 0x014;
    /// Input-ring jobs added (write N after placing N entries).
    pub const IRJAR: usize = 0x01C;
    /// Output-ring base address, bits 63:32.
    pub const ORBAR_HI: usize = 0x020;
    /// Output-ring base address, bits 31:0.
    pub const ORBAR_LO: usize = 0x024;
    /// Output-ring size in entries.
    pub const ORSR: usize = 0x02C;
    /// Output-ring jobs removed (write N after consuming N entries).
    pub const ORJRR: usize = 0x034;
    /// Output-ring slots full.
    pub const ORSFR: usize = 0x03C;
    /// Job-ring output status.
    pub const JRSTAR: usize = 0x044;
    /// Job-ring interrupt status.
    pub const JRINTR: usize = 0x04C;
    /// JRINTR: job completed (write 1 to clear).
    pub const JRINTR_JRI: u32 = 1 << 0;
    /// JRINTR: job-ring error.
    pub const JRINTR_JRE: u32 = 1 << 1;
    /// JRINTR: halt status shift (bits 3:2).
    pub const JRINTR_HALT_SHIFT: u32 = 2;
    /// JRINTR: halt status mask (after shifting down).
    pub const JRINTR_HALT_MASK: u32 = 0x3;
    /// JRINTR halt status: flush in progress.
    pub const JRINTR_HALT_IN_PROGRESS: u32 = 1;
    /// JRINTR halt status: flush complete.
    pub const JRINTR_HALT_DONE: u32 = 2;
    /// JRINTR: error type shift (bits 11:8).
    pub const JRINTR_ERR_TYPE_SHIFT: u32 = 8;
    /// JRINTR: error type mask (after shifting down).
    pub const JRINTR_ERR_TYPE_MASK: u32 = 0xF;
    /// JRINTR error type: bad input-ring address.
    pub const ERR_TYPE_BAD_INPUT_ADDRESS: u32 = 3;
    /// JRINTR error type: invalid output-ring write.
    pub const ERR_TYPE_INVALID_OUTPUT_WRITE: u32 = 6;
    /// JRINTR error type: more jobs removed than completed.
    pub const ERR_TYPE_REMOVE_OVERFLOW: u32 = 8;
    /// JRINTR error type: more jobs added than slots available.
    pub const ERR_TYPE_ADD_OVERFLOW: u32 = 9;
    /// Job-ring configuration, most significant half.
    pub const JRCFGR_MS: usize = 0x050;
    /// Job-ring configuration, least significant half.
    pub const JRCFGR_LS: usize = 0x054;
    /// JRCFGR_LS: interrupt mask (polling drivers keep it set).
    pub const JRCFGR_LS_IMSK: u32 = 1 << 0;
    /// Input-ring read index (byte offset into the ring).
    pub const IRRIR: usize = 0x05C;
    /// Output-ring write index (byte offset into the ring).
    pub const ORWIR: usize = 0x064;
    /// Job-ring command.
    pub const JRCR: usize = 0x06C;
    /// JRCR: reset (first write flushes, second write resets).
    pub const JRCR_RESET: u32 = 1 << 0;
    /// JRCR: park.
    pub const JRCR_PARK: u32 = 1 << 1;
    /// CSTA alias inside the job-ring page.
    pub const CSTA: usize = 0xFD4;
    /// Largest ring size IRSR/ORSR accept.
    pub const RING_SIZE_MAX: u32 = 1023;
}

/// Job status word (second field of an output-ring entry).
pub mod status {
    /// Status source shift (bits 31:28).
    pub const SSRC_SHIFT: u32 = 28;
    /// Status source: none (the whole word is 0 on success).
    pub const SSRC_NONE: u32 = 0;
    /// Status source: CCB (a CHA reported an error).
    pub const SSRC_CCB: u32 = 2;
    /// Status source: JUMP HALT USER (bits 7:0 are the user status).
    pub const SSRC_JUMP_HALT_USER: u32 = 3;
    /// Status source: DECO.
    pub const SSRC_DECO: u32 = 4;
    /// Status source: job ring.
    pub const SSRC_JR: u32 = 6;
    /// Status source: JUMP HALT with condition codes.
    pub const SSRC_JUMP_HALT_CC: u32 = 7;
    /// Index refers to a jump target.
    pub const JUMP: u32 = 1 << 27;
    /// Descriptor index shift (bits 15:8).
    pub const INDEX_SHIFT: u32 = 8;
    /// Descriptor index mask (after shifting down).
    pub const INDEX_MASK: u32 = 0xFF;
    /// DECO/JR error code or user status mask (bits 7:0).
    pub const CODE_MASK: u32 = 0xFF;
    /// CCB: CHA id shift (bits 7:4).
    pub const CCB_CHAID_SHIFT: u32 = 4;
    /// CCB: CHA id / error id mask (after shifting down).
    pub const CCB_NIBBLE_MASK: u32 = 0xF;

    /// CCB CHA id: AES.
    pub const CHAID_AES: u32 = 1;
    /// CCB CHA id: RNG.
    pub const CHAID_RNG: u32 = 5;
    /// CCB error id: mode error.
    pub const ERRID_MODE: u32 = 1;
    /// CCB error id: data size error.
    pub const ERRID_DATA_SIZE: u32 = 2;
    /// CCB error id: key size error.
    pub const ERRID_KEY_SIZE: u32 = 3;
    /// CCB error id: ICV check failed (the blob MAC did not verify).
    pub const ERRID_ICV_CHECK: u32 = 0xA;
    /// CCB error id: hardware error (RNG: entropy too low).
    pub const ERRID_HARDWARE: u32 = 0xB;
    /// CCB RNG error id: instantiate (handle already instantiated).
    pub const RNG_ERRID_INSTANTIATE: u32 = 3;
    /// CCB RNG error id: state handle not instantiated.
    pub const RNG_ERRID_NOT_INSTANTIATED: u32 = 4;
    /// CCB RNG error id: secure key generation (keys already valid).
    pub const RNG_ERRID_SECURE_KEY: u32 = 9;

    /// DECO error: descriptor command invalid.
    pub const DECO_INVALID_COMMAND: u32 = 0x04;
    /// DECO error: KEY command.
    pub const DECO_KEY: u32 = 0x06;
    /// DECO error: LOAD command.
    pub const DECO_LOAD: u32 = 0x07;
    /// DECO error: OPERATION command.
    pub const DECO_OPERATION: u32 = 0x09;
    /// DECO error: FIFO LOAD command.
    pub const DECO_FIFO_LOAD: u32 = 0x0A;
    /// DECO error: FIFO STORE command.
    pub const DECO_FIFO_STORE: u32 = 0x0B;
    /// DECO error: JUMP command.
    pub const DECO_JUMP: u32 = 0x0D;
    /// DECO error: SEQ IN/OUT PTR command.
    pub const DECO_SEQ: u32 = 0x10;
    /// DECO error: descriptor header length.
    pub const DECO_HEADER_LENGTH: u32 = 0x13;
    /// DECO error: DMA (bus) error.
    pub const DECO_DMA: u32 = 0x16;
    /// DECO error: undefined protocol.
    pub const DECO_UNDEFINED_PROTOCOL: u32 = 0x81;
    /// DECO error: sequence overflow (more data than the sequence holds).
    pub const DECO_SEQ_OVERFLOW: u32 = 0x85;
}

pub mod cmd;

/// Blob sizes (Linux `include/soc/fsl/caam-blob.h`).
pub mod blob {
    /// Encrypted blob key at the front of every blob.
    pub const BLOB_KEY_LEN: usize = 32;
    /// MAC at the end of every blob.
    pub const MAC_LEN: usize = 16;
    /// `CAAM_BLOB_OVERHEAD`: blob key + MAC.
    pub const OVERHEAD: usize = BLOB_KEY_LEN + MAC_LEN;
    /// `CAAM_BLOB_KEYMOD_LENGTH`: longest key modifier for general-memory blobs.
    pub const KEYMOD_MAX: usize = 16;
    /// Master key verification blob length (OP-TEE `MKVB_SIZE`).
    pub const MKVB_LEN: usize = 32;
}
