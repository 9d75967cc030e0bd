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
