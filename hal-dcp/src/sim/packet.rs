//! The packet interpreter of the model: what happens when a channel's
//! semaphore is rung (work packets read by bus address, AES-128 ECB/CBC,
//! CHnSTAT and STAT.IRQ, CHAIN). The register side is in the parent module.

use aes::Aes128;
use cipher::{Array, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

use super::{DcpSim, JobRecord, KeyUsed, MAX_CHAIN};
use crate::regs::{self, AES_BLOCK};

impl DcpSim {
    /// Runs channel `n` while its semaphore is non-zero.
    pub(super) fn run_channel(&mut self, n: usize) {
        if self.in_reset() || self.channelctrl & (1 << n) == 0 {
            return;
        }
        for _ in 0..MAX_CHAIN {
            if self.hung.get(n).copied().unwrap_or(true) || self.sema.get(n).is_none_or(|&s| s == 0)
            {
                return;
            }
            let addr = u64::from(self.cmdptr.get(n).copied().unwrap_or(0));
            let mut raw = [0u8; regs::PACKET_SIZE];
            if self.bus.read(addr, &mut raw).is_err() {
                self.finish(n, 0, regs::CH_STAT_ERROR_PACKET);
                return;
            }
            let word = |i: usize| packet_word(&raw, i);
            let ctrl0 = word(regs::PKT_CTRL0);
            let next = word(regs::PKT_NEXT);
            for (i, reg) in self.packet.iter_mut().enumerate() {
                *reg = word(i * 4);
            }
            let mut record = JobRecord {
                channel: n as u8,
                ctrl0,
                ctrl1: word(regs::PKT_CTRL1),
                size: word(regs::PKT_SIZE),
                key: KeyUsed::None,
                status: 0,
                hung: false,
            };
            if core::mem::take(&mut self.faults.hang_next) {
                record.hung = true;
                self.record(record);
                if let Some(h) = self.hung.get_mut(n) {
                    *h = true;
                }
                return;
            }
            let status = match self.faults.fail_next.take() {
                Some(status) => status,
                None => {
                    let (status, key) = self.execute(n, &raw);
                    record.key = key;
                    status
                }
            };
            record.status = status;
            self.record(record);
            let _ = self
                .bus
                .write_u32_le(addr + regs::PKT_STATUS as u64, status);
            let tag = ctrl0 >> regs::C0_TAG_SHIFT;
            if status & regs::CH_STAT_ERROR_MASK != 0 {
                self.finish(n, tag, status);
                return;
            }
            if let Some(s) = self.ch_stat.get_mut(n) {
                *s = tag << regs::CH_STAT_TAG_SHIFT;
            }
            if ctrl0 & regs::C0_DECR_SEMAPHORE != 0
                && let Some(s) = self.sema.get_mut(n)
            {
                *s = s.saturating_sub(1);
            }
            if ctrl0 & regs::C0_INTERRUPT != 0 {
                self.stat |= 1 << n;
            }
            let remaining = self.sema.get(n).copied().unwrap_or(0);
            if ctrl0 & (regs::C0_CHAIN | regs::C0_CHAIN_CONTIGUOUS) != 0 {
                if next == 0 {
                    if remaining > 0 {
                        self.finish(
                            n,
                            tag,
                            regs::ERROR_CODE_NEXT_CHAIN_IS_0 << regs::CH_STAT_ERROR_CODE_SHIFT,
                        );
                    }
                    return;
                }
                if let Some(p) = self.cmdptr.get_mut(n) {
                    *p = next;
                }
            } else {
                if remaining > 0 {
                    self.finish(
                        n,
                        tag,
                        regs::ERROR_CODE_NO_CHAIN << regs::CH_STAT_ERROR_CODE_SHIFT,
                    );
                }
                return;
            }
        }
    }

    /// Ends a packet in error: the channel stops and raises its IRQ.
    fn finish(&mut self, n: usize, tag: u32, status: u32) {
        if let Some(s) = self.ch_stat.get_mut(n) {
            *s = (tag << regs::CH_STAT_TAG_SHIFT) | (status & regs::CH_STAT_ERROR_MASK);
        }
        if let Some(s) = self.sema.get_mut(n) {
            *s = 0;
        }
        self.stat |= 1 << n;
    }

    /// Runs one cipher packet; returns the CHnSTAT error bits (0 = done).
    fn execute(&mut self, n: usize, raw: &[u8; regs::PACKET_SIZE]) -> (u32, KeyUsed) {
        let word = |i: usize| packet_word(raw, i);
        let (ctrl0, ctrl1) = (word(regs::PKT_CTRL0), word(regs::PKT_CTRL1));
        let (src, dst) = (
            u64::from(word(regs::PKT_SRC)),
            u64::from(word(regs::PKT_DST)),
        );
        let size = word(regs::PKT_SIZE) as usize;
        let payload = u64::from(word(regs::PKT_PAYLOAD));
        let invalid = regs::CH_STAT_ERROR_SETUP
            | (regs::ERROR_CODE_INVALID_MODE << regs::CH_STAT_ERROR_CODE_SHIFT);
        let payload_error = regs::CH_STAT_ERROR_PACKET
            | (regs::ERROR_CODE_PAYLOAD_ERROR << regs::CH_STAT_ERROR_CODE_SHIFT);

        let unmodelled = regs::C0_ENABLE_HASH
            | regs::C0_ENABLE_BLIT
            | regs::C0_ENABLE_MEMCOPY
            | regs::C0_OUTPUT_WORDSWAP
            | regs::C0_OUTPUT_BYTESWAP
            | regs::C0_INPUT_WORDSWAP
            | regs::C0_INPUT_BYTESWAP
            | regs::C0_KEY_WORDSWAP
            | regs::C0_KEY_BYTESWAP;
        if ctrl0 & unmodelled != 0 || ctrl0 & regs::C0_ENABLE_CIPHER == 0 {
            return (invalid, KeyUsed::None);
        }
        let mode = (ctrl1 >> regs::C1_CIPHER_MODE_SHIFT) & regs::C1_CIPHER_MODE_MASK;
        if ctrl1 & regs::C1_CIPHER_SELECT_MASK != regs::CIPHER_SELECT_AES128
            || (mode != regs::CIPHER_MODE_ECB && mode != regs::CIPHER_MODE_CBC)
        {
            return (invalid, KeyUsed::None);
        }
        let encrypt = ctrl0 & regs::C0_CIPHER_ENCRYPT != 0;
        if !size.is_multiple_of(AES_BLOCK)
            || (!encrypt && self.capability0 & regs::CAPABILITY0_DISABLE_DECRYPT != 0)
        {
            return (regs::CH_STAT_ERROR_SETUP, KeyUsed::None);
        }

        let mut key = [0u8; AES_BLOCK];
        let mut iv_offset = 0;
        let used = if ctrl0 & regs::C0_PAYLOAD_KEY != 0 {
            if self.bus.read(payload, &mut key).is_err() {
                return (payload_error, KeyUsed::None);
            }
            iv_offset = AES_BLOCK as u64;
            KeyUsed::Payload
        } else if ctrl0 & regs::C0_OTP_KEY != 0 {
            key = self.otp_key;
            KeyUsed::Otp
        } else {
            match ((ctrl1 >> regs::C1_KEY_SELECT_SHIFT) & regs::C1_KEY_SELECT_MASK) as u8 {
                slot @ 0..=3 => {
                    key = self
                        .key_ram
                        .get(usize::from(slot))
                        .copied()
                        .unwrap_or_default();
                    KeyUsed::Slot(slot)
                }
                regs::KEY_SELECT_UNIQUE => {
                    if self.unique_key_disabled() {
                        return (regs::CH_STAT_ERROR_SETUP, KeyUsed::Unique);
                    }
                    key = self.unique_key;
                    KeyUsed::Unique
                }
                regs::KEY_SELECT_OTP => {
                    key = self.otp_key;
                    KeyUsed::Otp
                }
                _ => return (invalid, KeyUsed::None),
            }
        };
        let mut chain = self.cbc_state.get(n).copied().unwrap_or_default();
        let cbc = mode == regs::CIPHER_MODE_CBC;
        if cbc
            && ctrl0 & regs::C0_CIPHER_INIT != 0
            && self.bus.read(payload + iv_offset, &mut chain).is_err()
        {
            key.zeroize();
            return (payload_error, used);
        }
        let aes = Aes128::new(&Array::from(key));
        key.zeroize();
        let mut status = 0;
        for i in 0..size / AES_BLOCK {
            let offset = (i * AES_BLOCK) as u64;
            let mut block = Array::from([0u8; AES_BLOCK]);
            if self.bus.read(src + offset, &mut block).is_err() {
                status = regs::CH_STAT_ERROR_SRC;
                break;
            }
            let input: [u8; AES_BLOCK] = block.into();
            if encrypt {
                if cbc {
                    block.iter_mut().zip(chain).for_each(|(b, c)| *b ^= c);
                }
                aes.encrypt_block(&mut block);
                if cbc {
                    chain = block.into();
                }
            } else {
                aes.decrypt_block(&mut block);
                if cbc {
                    block.iter_mut().zip(chain).for_each(|(b, c)| *b ^= c);
                    chain = input;
                }
            }
            if self.bus.write(dst + offset, &block).is_err() {
                status = regs::CH_STAT_ERROR_DST;
                break;
            }
        }
        if let Some(state) = self.cbc_state.get_mut(n) {
            *state = chain;
        }
        chain.zeroize();
        if status == 0
            && let Some((index, xor)) = self.faults.take_corruption()
            && index < size
        {
            let mut byte = [0u8; 1];
            let at = dst + index as u64;
            if self.bus.read(at, &mut byte).is_ok() {
                byte[0] ^= xor;
                let _ = self.bus.write(at, &byte);
            }
        }
        (status, used)
    }
}

/// The little-endian word at byte offset `i` of a work packet.
fn packet_word(raw: &[u8; regs::PACKET_SIZE], i: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(raw.get(i..i + 4).unwrap_or(&[0; 4]));
    u32::from_le_bytes(w)
}
