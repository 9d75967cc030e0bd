//! STM32MP15 BSEC register map, OTP geometry and the SiP SMC numbers: offsets
//! and bits only, shared by the driver and the model.
//!
//! Sources: TF-A `include/drivers/st/bsec2_reg.h`, `drivers/st/bsec/bsec2.c`;
//! OP-TEE `core/drivers/stm32_bsec.c`,
//! `core/arch/arm/plat-stm32mp1/nsec-service/stm32mp1_smc.h`; U-Boot
//! `arch/arm/mach-stm32mp/include/mach/stm32mp1_smc.h`.

/// Physical base address of the BSEC on STM32MP15.
pub const BSEC_BASE: usize = 0x5C00_5000;
/// Size of the register block (the ID registers sit at 0xFF0..0xFFF).
pub const BSEC_SIZE: usize = 0x1000;

/// Number of OTP words (`STM32MP1_OTP_MAX_ID` + 1).
pub const OTP_WORDS: usize = 96;
/// First upper (ECC protected, program-once) word (`STM32MP1_UPPER_OTP_START`).
pub const UPPER_OTP_START: u8 = 32;

/// `BSEC_OTP_CONF`: SAFMEM power and timing.
pub const OTP_CONF: usize = 0x000;
/// `BSEC_OTP_CONF.POWER_UP`: power the fuse array (SAFMEM).
pub const CONF_POWER_UP: u32 = 1 << 0;

/// `BSEC_OTP_CONTROL`: starts a reload, a program, or a permanent lock.
pub const OTP_CONTROL: usize = 0x004;
/// `BSEC_OTP_CONTROL.ADDR` (6:0): word number, or lock-area address.
pub const CONTROL_ADDR_MASK: u32 = 0x7F;
/// `BSEC_OTP_CONTROL` operation "read": reload the shadow from the fuses.
pub const CONTROL_READ: u32 = 0x000;
/// `BSEC_OTP_CONTROL.WRITE`: program WRDATA into the fuses.
pub const CONTROL_WRITE: u32 = 0x100;
/// `BSEC_OTP_CONTROL.LOCK`: with WRITE, program the permanent-lock area.
pub const CONTROL_LOCK: u32 = 0x200;

/// `BSEC_OTP_WRDATA`: the fuse bits a program operation sets.
pub const OTP_WRDATA: usize = 0x008;

/// `BSEC_OTP_STATUS`.
pub const OTP_STATUS: usize = 0x00C;
/// `STATUS.SECURE`: BSEC is in secured mode.
pub const STATUS_SECURE: u32 = 1 << 0;
/// `STATUS.INVALID`: OTP-invalid mode, every access is refused.
pub const STATUS_INVALID: u32 = 1 << 2;
/// `STATUS.BUSY`: a reload, program or lock operation is running.
pub const STATUS_BUSY: u32 = 1 << 3;
/// `STATUS.PROGFAIL`: the last program or lock operation failed.
pub const STATUS_PROGFAIL: u32 = 1 << 4;
/// `STATUS.PWRON`: SAFMEM is powered.
pub const STATUS_PWRON: u32 = 1 << 5;

/// `BSEC_OTP_LOCK`: global sticky locks.
pub const OTP_LOCK: usize = 0x010;
/// `OTP_LOCK.UPPER_OTP_LOCK`.
pub const LOCK_UPPER_OTP: u32 = 1 << 0;
/// `OTP_LOCK.DENREG_LOCK`: debug-enable register lock.
pub const LOCK_DENREG: u32 = 1 << 2;
/// `OTP_LOCK.GPLOCK`: global program lock, every program is ignored.
pub const LOCK_GPLOCK: u32 = 1 << 4;

/// `BSEC_DENABLE`: debug enables.
pub const DENABLE: usize = 0x014;
/// `BSEC_FENABLE`: feature enables.
pub const FENABLE: usize = 0x018;

/// `BSEC_OTP_DISTURBED0..2`: bit `w & 31` of bank `w >> 5` = word read marginal.
pub const OTP_DISTURBED: usize = 0x01C;
/// `BSEC_OTP_ERROR0..2`: ECC / redundancy error on the last read of the word.
pub const OTP_ERROR: usize = 0x034;
/// `BSEC_OTP_WRLOCK0..2` (RO): permanent program locks from the fuse lock area.
pub const OTP_WRLOCK: usize = 0x04C;
/// `BSEC_OTP_SPLOCK0..2`: sticky program locks (write 1 to set, reset clears).
pub const OTP_SPLOCK: usize = 0x064;
/// `BSEC_OTP_SWLOCK0..2`: sticky shadow-write locks.
pub const OTP_SWLOCK: usize = 0x07C;
/// `BSEC_OTP_SRLOCK0..2`: sticky shadow-reload locks.
pub const OTP_SRLOCK: usize = 0x094;

/// `BSEC_JTAG_IN`.
pub const JTAG_IN: usize = 0x0AC;
/// `BSEC_JTAG_OUT`.
pub const JTAG_OUT: usize = 0x0B0;
/// `BSEC_SCRATCH`.
pub const SCRATCH: usize = 0x0B4;

/// `BSEC_OTP_DATA0`: shadow of word 0; word `n` is at `OTP_DATA + 4n`.
pub const OTP_DATA: usize = 0x200;

/// `BSEC_IPHW_CFG`.
pub const IPHW_CFG: usize = 0xFF0;
/// `BSEC_IPVR`: IP version, 7:0.
pub const IPVR: usize = 0xFF4;
/// IP versions TF-A accepts.
pub const IPVR_VERSIONS: [u32; 2] = [0x11, 0x20];
/// `BSEC_IP_ID`.
pub const IP_ID: usize = 0xFF8;
/// `BSEC_IP_ID` value of the STM32MP15 BSEC.
pub const IP_ID_BSEC2: u32 = 0x0010_0032;
/// `BSEC_IP_MAGIC_ID`.
pub const IP_MAGIC_ID: usize = 0xFFC;

/// Byte offset of the shadow register of `word`.
pub const fn otp_data(word: u8) -> usize {
    OTP_DATA + 4 * word as usize
}

/// Byte offset of the 32-word bank register holding `word`, for the bank
/// register family starting at `base` (DISTURBED, ERROR, xLOCK).
pub const fn bank(base: usize, word: u8) -> usize {
    base + 4 * (word as usize >> 5)
}

/// The bit of `word` in its bank register.
pub const fn bank_bit(word: u8) -> u32 {
    1 << (word & 31)
}

/// CONTROL.ADDR and WRDATA of the permanent lock of `word`: two bits per
/// lower word (2:1 redundancy), one bit per upper word (OP-TEE
/// `stm32_bsec_permanent_lock_otp`).
pub const fn permanent_lock_target(word: u8) -> (u32, u32) {
    if word < UPPER_OTP_START {
        ((word / 8) as u32, 0b11 << (2 * (word % 8)))
    } else {
        (
            (UPPER_OTP_START / 8 + (word - UPPER_OTP_START) / 16) as u32,
            1 << (word % 16),
        )
    }
}

/// CFG0, the security configuration word.
pub const CFG0_OTP: u8 = 0;
/// CFG0 "closed device" bit on STM32MP15 (TF-A `CFG0_CLOSED_DEVICE`).
pub const CFG0_CLOSED_DEVICE: u32 = 1 << 6;
/// The three 96-bit device UID words (`uid_otp@34`, `UID_WORD_NB = 3`).
pub const UID_OTP: [u8; 3] = [13, 14, 15];
/// HUK words on the ST boards (OP-TEE DT `huk-otp@f0`).
pub const HUK_OTP_DEFAULT: [u8; 4] = [60, 61, 62, 63];

/// SiP SMC function id `STM32_SMC_BSEC` (SMC32 fast call).
pub const SMC_BSEC: u32 = 0x8200_1003;
/// a1 service: read the shadow.
pub const SMC_READ_SHADOW: u32 = 0x01;
/// a1 service: program a fuse word.
pub const SMC_PROG_OTP: u32 = 0x02;
/// a1 service: write the shadow.
pub const SMC_WRITE_SHADOW: u32 = 0x03;
/// a1 service: read the fuse (reload, read, restore the old shadow).
pub const SMC_READ_OTP: u32 = 0x04;
/// a1 service: permanent program lock (TF-A, OP-TEE >= 3.19; older OP-TEE
/// used 0x05).
pub const SMC_WRLOCK_OTP: u32 = 0x07;
/// a0 on return: success.
pub const SMC_OK: u32 = 0x0000_0000;
/// a0 on return: unknown function (SMCCC `NOT_SUPPORTED`).
pub const SMC_NOT_SUPPORTED: u32 = 0xFFFF_FFFF;
/// a0 on return: the operation failed.
pub const SMC_FAILED: u32 = 0xFFFF_FFFE;
/// a0 on return: invalid parameters, or a word the normal world may not use.
pub const SMC_INVALID_PARAMS: u32 = 0xFFFF_FFFD;

// ---------------------------------------------------------------------------
// RNG: the STM32MP15 true random number generator (RNG1, a separate block)
// ---------------------------------------------------------------------------

/// STM32MP15 RNG register map (DT compatible `st,stm32-rng`): offsets and
/// bits only, shared by [`crate::rng`] and the model.
///
/// Sources: Linux `drivers/char/hw_random/stm32-rng.c`, U-Boot
/// `drivers/rng/stm32_rng.c` (`RNG_CR`, `RNG_SR`, `RNG_DR`,
/// `RNG_NB_RECOVER_TRIES`), OP-TEE `core/drivers/stm32_rng.c`
/// (`RNG_FIFO_BYTE_DEPTH`), the STM32 HAL (`RNG_CED_DISABLE = RNG_CR_CED`),
/// U-Boot's `stm32mp151.dtsi` (`rng1: rng@54003000`) and
/// `drivers/clk/stm32/clk-stm32mp1.c` (RNG1_K is AHB5ENSETR bit 6). The
/// STM32MP13 `CONDRST` conditional reset is not on the STM32MP15
/// (`has_cond_reset = false` for `st,stm32-rng` in Linux and U-Boot).
pub mod rng {
    /// Physical base of RNG1 on STM32MP15.
    pub const RNG1_BASE: usize = 0x5400_3000;
    /// Size of the register block (DT `reg`).
    pub const BLOCK_SIZE: usize = 0x400;

    /// `RNG_CR`: control.
    pub const CR: usize = 0x00;
    /// `RNG_CR_RNGEN`: the generator runs.
    pub const CR_RNGEN: u32 = 1 << 2;
    /// `RNG_CR_IE`: interrupt enable (this driver polls).
    pub const CR_IE: u32 = 1 << 3;
    /// `RNG_CR_CED`: 1 **disables** clock error detection (STM32 HAL
    /// `RNG_CED_DISABLE`); only taken while RNGEN is 0.
    pub const CR_CED: u32 = 1 << 5;

    /// `RNG_SR`: status; CEIS and SEIS are cleared by writing 0
    /// (writing 1 leaves them), the rest is read-only.
    pub const SR: usize = 0x04;
    /// `RNG_SR_DRDY`: a random word is ready in DR.
    pub const SR_DRDY: u32 = 1 << 0;
    /// `RNG_SR_CECS`: clock error current status (the RNG clock is too slow now).
    pub const SR_CECS: u32 = 1 << 1;
    /// `RNG_SR_SECS`: seed error current status (the noise source is faulty now).
    pub const SR_SECS: u32 = 1 << 2;
    /// `RNG_SR_CEIS`: clock error interrupt status (sticky).
    pub const SR_CEIS: u32 = 1 << 5;
    /// `RNG_SR_SEIS`: seed error interrupt status (sticky).
    pub const SR_SEIS: u32 = 1 << 6;

    /// `RNG_DR`: one 32-bit random word per read; 0 is an error status
    /// (Linux and U-Boot `stm32_rng_read`: "late seed error").
    pub const DR: usize = 0x08;

    /// Words DR can be read after DRDY rose (OP-TEE `RNG_FIFO_BYTE_DEPTH`
    /// 16 bytes; U-Boot: "up to four consecutive times").
    pub const FIFO_WORDS: usize = 4;
    /// DR words read and discarded to clean the pipeline after a seed
    /// error (Linux/U-Boot `stm32_rng_conceal_seed_error_sw_reset`).
    pub const CONCEAL_READS: usize = 12;
    /// Concealments tried per word before a seed error is final (Linux and
    /// U-Boot `RNG_NB_RECOVER_TRIES`).
    pub const RECOVER_TRIES: u8 = 3;
}

/// The SAES (secure AES coprocessor) of the STM32MP13, MP23 and MP25, and
/// the re-laid-out block of the STM32MP21: offsets and bits only, shared by
/// the driver ([`crate::saes`]) and the model (`sim::saes`).
///
/// Sources: OP-TEE `core/drivers/crypto/stm32/stm32_saes.c` (MP13, upstream);
/// ST's OP-TEE for MP2x, `stm32_saes_regs.h` (MP13/MP23/MP25) and
/// `stm32mp21_saes_regs.h` (MP21); TF-A `drivers/st/crypto/stm32_saes.c`
/// and `fdts/stm32mp1{3,21,23}xc.dtsi`; STM32CubeMP13 `stm32mp135fxx_ca7.h`;
/// RM0456 §50 (the same SAES IP on the STM32U5) for the behaviour.
pub mod saes {
    /// SAES base on the STM32MP13 (`saes@54005000`, C/F parts only).
    pub const SAES_BASE_MP13: usize = 0x5400_5000;
    /// SAES base on the STM32MP23 and MP25 (`saes@42050000`).
    pub const SAES_BASE_MP25: usize = 0x4205_0000;
    /// SAES base on the STM32MP21 (`saes@42030c00`).
    pub const SAES_BASE_MP21: usize = 0x4203_0C00;
    /// Size of the register block (DT `reg = <… 0x400>`).
    pub const SAES_SIZE: usize = 0x400;

    /// `SAES_CR`: control.
    pub const CR: usize = 0x000;
    /// `SAES_SR`: status.
    pub const SR: usize = 0x004;
    /// `SAES_DINR`: data input, four writes per 128-bit block.
    pub const DINR: usize = 0x008;
    /// `SAES_DOUTR`: data output, four reads per 128-bit block.
    pub const DOUTR: usize = 0x00C;
    /// `SAES_IER`: interrupt enable.
    pub const IER: usize = 0x300;
    /// `SAES_ISR`: interrupt status (CCF and the error flags).
    pub const ISR: usize = 0x304;
    /// `SAES_ICR`: interrupt clear (write 1 to clear the ISR bit).
    pub const ICR: usize = 0x308;

    /// `CR.EN`: enable; writable only once KEYVALID is set.
    pub const CR_EN: u32 = 1 << 0;
    /// `CR.DATATYPE` (2:1).
    pub const CR_DATATYPE_MASK: u32 = 0b11 << 1;
    /// `CR.DATATYPE` = no swapping.
    pub const CR_DATATYPE_NONE: u32 = 0 << 1;
    /// `CR.DATATYPE` = half-word swapping.
    pub const CR_DATATYPE_HALF_WORD: u32 = 1 << 1;
    /// `CR.DATATYPE` = byte swapping: DINR/DOUTR words are the memory image
    /// of the block on a little-endian CPU (what OP-TEE uses).
    pub const CR_DATATYPE_BYTE: u32 = 2 << 1;
    /// `CR.DATATYPE` = bit swapping.
    pub const CR_DATATYPE_BIT: u32 = 3 << 1;
    /// `CR.MODE` (4:3).
    pub const CR_MODE_MASK: u32 = 0b11 << 3;
    /// `CR.MODE` = mode 1, encryption.
    pub const CR_MODE_ENCRYPT: u32 = 0 << 3;
    /// `CR.MODE` = mode 2, key derivation (decryption key preparation).
    pub const CR_MODE_KEYPREP: u32 = 1 << 3;
    /// `CR.MODE` = mode 3, decryption.
    pub const CR_MODE_DECRYPT: u32 = 2 << 3;
    /// `CR.CHMOD` = ECB (all chaining bits zero).
    pub const CR_CHMOD_ECB: u32 = 0;
    /// `CR.CHMOD` = CBC (value 1 at bit 5, on every block).
    pub const CR_CHMOD_CBC: u32 = 1 << 5;
    /// `CR.KEYPROT`: key protection against other security contexts.
    pub const CR_KEYPROT: u32 = 1 << 19;
    /// `CR.KEYSIZE` = 256-bit key (KEYR0..7): bit 18 on the MP13 and MP25
    /// (a one-bit field) and on the MP21 (field 18:17 = `0b10`), OP-TEE's
    /// `_SAES_CR_KEYSIZE` / `_SAES_CR_KEYSIZE_256`.
    pub const CR_KEYSIZE_256: u32 = 1 << 18;
    /// `CR.KEYSEL` (30:28): key source.
    pub const CR_KEYSEL_MASK: u32 = 0b111 << 28;
    /// `CR.KEYSEL` = software key in `SAES_KEYRx`.
    pub const CR_KEYSEL_SOFT: u32 = 0 << 28;
    /// `CR.KEYSEL` = DHUK, the derived hardware unique key (not readable).
    pub const CR_KEYSEL_DHUK: u32 = 1 << 28;
    /// `CR.KEYSEL` = BHK, the boot hardware key in TAMP backup registers.
    pub const CR_KEYSEL_BHK: u32 = 2 << 28;
    /// `CR.KEYSEL` = DHUK XOR BHK.
    pub const CR_KEYSEL_DHUK_XOR_BHK: u32 = 4 << 28;
    /// `CR.KEYSEL` = test key (256-bit constant `A5…A5`).
    pub const CR_KEYSEL_TEST: u32 = 7 << 28;
    /// `CR.IPRST`: software reset of every register but IPRST itself; the
    /// key, IV and data registers lose their contents.
    pub const CR_IPRST: u32 = 1 << 31;

    /// What differs between the SAES blocks of the parts: register offsets
    /// and flag positions. Every field is a byte offset or a bit mask.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    pub struct Layout {
        /// `SAES_KEYR0` (KEY\[31:0\]); KEYR1..3 follow.
        pub keyr0: usize,
        /// `SAES_KEYR4` (KEY\[159:128\], 256-bit keys); KEYR5..7 follow.
        pub keyr4: usize,
        /// `SAES_IVR0` (IV\[31:0\]); IVR1..3 follow.
        pub ivr0: usize,
        /// `CR.CHMOD` field.
        pub cr_chmod_mask: u32,
        /// `CR.KEYSIZE` field (0 = 128-bit in both blocks).
        pub cr_keysize_mask: u32,
        /// `SR.CCF`, or 0 where SR has none (MP21: ISR only).
        pub sr_ccf: u32,
        /// `SR.RDERR`: unexpected DOUTR read (read as zero).
        pub sr_rderr: u32,
        /// `SR.WRERR`: unexpected DINR write (ignored).
        pub sr_wrerr: u32,
        /// `SR.BUSY`: initialisation, RNG fetch or key load running.
        pub sr_busy: u32,
        /// `SR.KEYVALID`: the key registers hold a whole key.
        pub sr_keyvalid: u32,
        /// `ISR/ICR.CCF`: computation complete.
        pub i_ccf: u32,
        /// `ISR/ICR.RWEIF`: RDERR or WRERR happened.
        pub i_rweif: u32,
        /// `ISR/ICR.KEIF`: a key failed to load, or was used from another
        /// security context.
        pub i_keif: u32,
        /// `ISR/ICR.RNGEIF`: the masking random numbers could not be fetched.
        pub i_rngeif: u32,
    }

    /// The STM32MP13 block (OP-TEE `stm32_saes.c`, CubeMP13 CMSIS header).
    pub const MP13: Layout = Layout {
        keyr0: 0x010,
        keyr4: 0x030,
        ivr0: 0x020,
        cr_chmod_mask: (1 << 16) | (0b11 << 5),
        cr_keysize_mask: 1 << 18,
        sr_ccf: 1 << 0,
        sr_rderr: 1 << 1,
        sr_wrerr: 1 << 2,
        sr_busy: 1 << 3,
        sr_keyvalid: 1 << 7,
        i_ccf: 1 << 0,
        i_rweif: 1 << 1,
        i_keif: 1 << 2,
        i_rngeif: 1 << 3,
    };

    /// The STM32MP23/MP25 block: the MP13 one (ST's OP-TEE uses
    /// `stm32_saes_regs.h` for every part but the MP21).
    pub const MP25: Layout = MP13;

    /// The STM32MP21 block (ST's OP-TEE `stm32mp21_saes_regs.h`): key
    /// registers at 0x20, IV at 0x40, no CCF in SR, flags moved.
    pub const MP21: Layout = Layout {
        keyr0: 0x020,
        keyr4: 0x030,
        ivr0: 0x040,
        cr_chmod_mask: 0b1111 << 5,
        cr_keysize_mask: 0b11 << 17,
        sr_ccf: 0,
        sr_busy: 1 << 4,
        sr_rderr: 1 << 5,
        sr_wrerr: 1 << 6,
        sr_keyvalid: 1 << 7,
        i_ccf: 1 << 2,
        i_rweif: 1 << 3,
        i_keif: 1 << 4,
        i_rngeif: 1 << 5,
    };

    /// FIPS-197 appendix C.1 AES-128 key: the driver's known-answer self
    /// test with a software key.
    pub const FIPS197_KEY: [u8; 16] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
        0x0f,
    ];
    /// FIPS-197 appendix C.1 plaintext.
    pub const FIPS197_PLAINTEXT: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee,
        0xff,
    ];
    /// FIPS-197 appendix C.1 ciphertext.
    pub const FIPS197_CIPHERTEXT: [u8; 16] = [
        0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5,
        0x5a,
    ];
    /// FIPS-197 appendix C.3 AES-256 key (00..1f): the self test of the
    /// 256-bit software-key path before the SAES runs the TEE sealer's AES.
    pub const FIPS197_KEY_256: [u8; 32] = [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
        0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
        0x1e, 0x1f,
    ];
    /// FIPS-197 appendix C.3 ciphertext (of [`FIPS197_PLAINTEXT`]).
    pub const FIPS197_CIPHERTEXT_256: [u8; 16] = [
        0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf, 0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60,
        0x89,
    ];
}
