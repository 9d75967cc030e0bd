//! TIS/FIFO register map and SPI framing constants (TCG PC Client Platform
//! TPM Profile, FIFO interface; edk2 `TpmPtp.h`, Linux `tpm_tis_core.h`).
//! Offsets are within one 4 KiB locality window. Nothing but numbers here:
//! both the driver and the sim import this file.

/// `TPM_ACCESS` (8 bit).
pub const TPM_ACCESS: u16 = 0x00;
/// `TPM_INT_ENABLE` (32 bit).
pub const TPM_INT_ENABLE: u16 = 0x08;
/// `TPM_INT_STATUS` (32 bit).
pub const TPM_INT_STATUS: u16 = 0x10;
/// `TPM_INTF_CAPABILITY` (32 bit).
pub const TPM_INTF_CAPABILITY: u16 = 0x14;
/// `TPM_STS` (32 bit: status byte, burstCount 16 bit, byte 3).
pub const TPM_STS: u16 = 0x18;
/// burstCount inside `TPM_STS` (bytes 1..3, little endian).
pub const TPM_STS_BURST: u16 = 0x19;
/// `TPM_STS` byte 3 (tpmFamily, resetEstablishment, commandCancel).
pub const TPM_STS_3: u16 = 0x1B;
/// `TPM_DATA_FIFO`: every byte of a transfer starting here is a FIFO byte.
pub const TPM_DATA_FIFO: u16 = 0x24;
/// `TPM_INTERFACE_ID` (32 bit).
pub const TPM_INTERFACE_ID: u16 = 0x30;
/// `TPM_DATA_FIFO` width: each of its four bytes is the FIFO.
pub const TPM_DATA_FIFO_LEN: u16 = 4;
/// `TPM_XDATA_FIFO` window start (0x80..0xBF).
pub const TPM_XDATA_FIFO: u16 = 0x80;
/// `TPM_XDATA_FIFO` window length.
pub const TPM_XDATA_FIFO_LEN: u16 = 0x40;
/// `TPM_DID_VID` (32 bit).
pub const TPM_DID_VID: u16 = 0xF00;
/// `TPM_RID` (8 bit).
pub const TPM_RID: u16 = 0xF04;

/// What a read returns when nothing drives the bus: no TPM, or a
/// register of an inactive locality (PTP: reads as all ones).
pub const FLOATING: u8 = 0xFF;

/// ACCESS: register contents valid.
pub const ACCESS_VALID: u8 = 0x80;
/// ACCESS: this locality is active (read) / relinquish it (write 1).
pub const ACCESS_ACTIVE_LOCALITY: u8 = 0x20;
/// ACCESS: locality was seized.
pub const ACCESS_BEEN_SEIZED: u8 = 0x10;
/// ACCESS: seize (write).
pub const ACCESS_SEIZE: u8 = 0x08;
/// ACCESS: another locality requests use.
pub const ACCESS_PENDING_REQUEST: u8 = 0x04;
/// ACCESS: request use (write 1) / request pending (read).
pub const ACCESS_REQUEST_USE: u8 = 0x02;
/// ACCESS: tpmEstablishment.
pub const ACCESS_ESTABLISHMENT: u8 = 0x01;

/// STS: the other STS bits are valid.
pub const STS_VALID: u8 = 0x80;
/// STS: ready for a command (read) / abort and become ready (write 1).
pub const STS_COMMAND_READY: u8 = 0x40;
/// STS: execute the command in the FIFO (write 1).
pub const STS_GO: u8 = 0x20;
/// STS: response bytes are available.
pub const STS_DATA_AVAIL: u8 = 0x10;
/// STS: the TPM expects more command bytes.
pub const STS_EXPECT: u8 = 0x08;
/// STS: self test done.
pub const STS_SELF_TEST_DONE: u8 = 0x04;
/// STS: resend the response from the start (write 1).
pub const STS_RESPONSE_RETRY: u8 = 0x02;
/// STS bits that must read as zero (Linux `TPM_STS_READ_ZERO`).
pub const STS_READ_ZERO: u8 = 0x23;
/// STS byte 3: tpmFamily field mask (STS bits 27:26).
pub const STS3_FAMILY_MASK: u8 = 0x0C;
/// STS byte 3: tpmFamily = TPM 2.0.
pub const STS3_FAMILY_TPM2: u8 = 0x04;
/// STS byte 3: commandCancel (write 1).
pub const STS3_COMMAND_CANCEL: u8 = 0x01;

/// True for an offset where every byte accessed is a FIFO byte
/// (`TPM_DATA_FIFO` or the `TPM_XDATA_FIFO` window).
pub const fn is_fifo(offset: u16) -> bool {
    (offset >= TPM_DATA_FIFO && offset < TPM_DATA_FIFO + TPM_DATA_FIFO_LEN)
        || (offset >= TPM_XDATA_FIFO && offset < TPM_XDATA_FIFO + TPM_XDATA_FIFO_LEN)
}

/// Size of one locality's register window (memory-mapped TIS: locality L
/// at base + L × 4 KiB; SPI: address bits 15:12).
pub const LOCALITY_WINDOW: usize = 0x1000;

/// SPI header byte 0: read transfer.
pub const SPI_READ: u8 = 0x80;
/// SPI header byte 0: write transfer.
pub const SPI_WRITE: u8 = 0x00;
/// Bit 0 of the byte the TPM drives during the last header byte and each
/// wait state: 1 = ready, the data phase follows.
pub const SPI_FLOW_READY: u8 = 0x01;
/// SPI header byte 0: data-phase length minus one (1..=64 bytes).
pub const SPI_SIZE_MASK: u8 = 0x3F;
/// Largest data phase of one SPI transaction (Linux `MAX_SPI_FRAMESIZE`).
pub const SPI_MAX_FRAME: usize = 64;
/// SPI header length.
pub const SPI_HEADER_LEN: usize = 4;
/// Top address byte of the TPM register space (0xD4_0000).
pub const SPI_ADDR_BASE: u32 = 0x00D4_0000;
/// Number of localities (0..=4).
pub const LOCALITIES: u8 = 5;

/// The 24-bit SPI address of `offset` in `locality`.
pub const fn spi_address(locality: u8, offset: u16) -> u32 {
    SPI_ADDR_BASE | ((locality as u32 & 0x7) << 12) | (offset as u32 & 0xFFF)
}

/// PTP TIMEOUT_A (locality request, burstCount), microseconds.
pub const TIMEOUT_A_US: u32 = 750_000;
/// PTP TIMEOUT_B (commandReady after abort), microseconds.
pub const TIMEOUT_B_US: u32 = 2_000_000;
/// PTP TIMEOUT_C (stsValid after a FIFO write), microseconds.
pub const TIMEOUT_C_US: u32 = 200_000;
/// PTP TIMEOUT_D (short register settling), microseconds.
pub const TIMEOUT_D_US: u32 = 30_000;
