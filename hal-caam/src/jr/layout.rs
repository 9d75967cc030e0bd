//! Where the driver keeps things in the DMA region (byte offsets). Each
//! area starts on a 64-byte boundary so cache maintenance of one never
//! touches another.

use super::MAX_RING_SIZE;
use crate::regs::cmd::MAX_DESC_WORDS;

const fn align64(x: usize) -> usize {
    (x + 63) & !63
}

/// Input ring: up to 16 entries of 8 bytes.
pub const INPUT_RING: usize = 0;
/// Output ring: up to 16 entries of 12 bytes.
pub const OUTPUT_RING: usize = align64(INPUT_RING + MAX_RING_SIZE as usize * 8);
/// The job descriptor (64 words).
pub const DESCRIPTOR: usize = align64(OUTPUT_RING + MAX_RING_SIZE as usize * 12);
/// A key modifier passed by reference (U-Boot style).
pub const KEYMOD: usize = align64(DESCRIPTOR + MAX_DESC_WORDS * 4);
/// Input data (red key or blob).
pub const INPUT: usize = align64(KEYMOD + 16);
/// Bytes reserved for input data.
pub const DATA_LEN: usize = 512;
/// Output data (blob, red key, random bytes, MKVB).
pub const OUTPUT: usize = align64(INPUT + DATA_LEN);
/// Smallest DMA region the driver accepts.
pub const MIN_LEN: usize = align64(OUTPUT + DATA_LEN);
