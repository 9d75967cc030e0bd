//! Reading slots: aligned windows through the staging buffer, the commit
//! mark, and the verification of header and blob by CRC.

use embedded_storage::nor_flash::NorFlash;

use super::error::{Fault, flash_error};
use super::format::{
    COMMIT_MARK, CRC32, FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_HEADER_LEN, MIN_HEADER_LEN,
    OFF_BLOB_LEN, OFF_CRC, OFF_HEADER_LEN, OFF_SEQ, OFF_SOURCE, OFF_VERSION, SourceName, array,
    encode_header,
};
use super::slot::{commit_len, round_up};
use super::{BlobStore, STAGE, Slot, SlotInfo, SlotState, StoreError};
use crate::key::{MAX_BLOB_SIZE, SealedBlob};

impl<F: NorFlash> BlobStore<F> {
    /// Reads `len` bytes at `addr` (anywhere, any length) in aligned
    /// `READ_SIZE` windows through the staging buffer, handing each piece to
    /// `f` in order. `f` is a `dyn`: one copy of the loop serves every
    /// reader (each closure type would otherwise get its own).
    pub(super) fn visit(
        &mut self,
        addr: u32,
        len: usize,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<(), Fault> {
        let start = addr as usize;
        let window = STAGE - STAGE % F::READ_SIZE;
        let mut stage = [0u8; STAGE];
        let mut pos = start - start % F::READ_SIZE;
        let mut done = 0;
        while done < len {
            let skip = start + done - pos;
            let want = len - done;
            let win_len = round_up(skip + want, F::READ_SIZE).min(window);
            let buf = stage.get_mut(..win_len).ok_or(Fault::Staging)?;
            self.flash.read(pos as u32, buf).map_err(flash_error)?;
            let piece = buf.get(skip..).unwrap_or(&[]);
            let piece = piece.get(..want.min(piece.len())).ok_or(Fault::Staging)?;
            if piece.is_empty() {
                return Err(Fault::Staging);
            }
            f(piece);
            done += piece.len();
            pos += win_len;
        }
        Ok(())
    }

    /// Fills `out` from `addr`.
    pub(super) fn read_into(&mut self, addr: u32, out: &mut [u8]) -> Result<(), Fault> {
        let mut done = 0;
        let mut overrun = false;
        self.visit(addr, out.len(), &mut |piece| {
            match out.get_mut(done..done + piece.len()) {
                Some(dst) => dst.copy_from_slice(piece),
                None => overrun = true,
            }
            done += piece.len();
        })?;
        if overrun { Err(Fault::Staging) } else { Ok(()) }
    }

    pub(super) fn commit_state(&mut self, slot: Slot) -> Result<Commit, Fault> {
        let mut marked = true;
        let mut exact = true;
        let mut erased = true;
        let mut i = 0;
        let at = self.base(slot);
        self.visit(at, commit_len(F::WRITE_SIZE), &mut |bytes| {
            for b in bytes {
                // The mark repeated (the index is in bounds, so the `get`
                // folds away).
                let m = COMMIT_MARK.get(i % COMMIT_MARK.len()).copied().unwrap_or(0);
                i += 1;
                // Programming only clears bits: a mark cut short has all
                // of the mark's one bits and some of its zero bits.
                marked &= b & m == m;
                exact &= *b == m;
                erased &= *b == 0xff;
            }
        })?;
        Ok(match (exact, marked && !erased, erased) {
            (true, _, _) => Commit::Exact,
            (false, true, _) => Commit::Partial,
            (false, false, true) => Commit::Erased,
            (false, false, false) => Commit::Garbage,
        })
    }

    /// Classifies `slot` into `state`, verifying header and blob by CRC
    /// (streamed from flash, any format version). Written in place: a
    /// `SlotState` returned in a `Result` is copied out twice.
    pub(super) fn inspect(&mut self, slot: Slot, state: &mut SlotState) -> Result<(), Fault> {
        *state = self.classify(slot)?;
        Ok(())
    }

    #[inline(always)]
    fn classify(&mut self, slot: Slot) -> Result<SlotState, Fault> {
        let commit = self.commit_state(slot)?;
        let at = self.base(slot) + commit_len(F::WRITE_SIZE) as u32;
        let mut header = [0u8; HEADER_LEN];
        self.read_into(at, &mut header)?;
        match commit {
            Commit::Exact | Commit::Partial => {}
            Commit::Erased if header.iter().all(|b| *b == 0xff) => return Ok(SlotState::Erased),
            Commit::Erased | Commit::Garbage => return Ok(SlotState::Uncommitted),
        }
        if header.get(..4) != Some(&MAGIC[..]) {
            return Ok(SlotState::Corrupt("bad magic"));
        }
        let version = u16::from_le_bytes(array(&header, OFF_VERSION));
        let header_len = usize::from(u16::from_le_bytes(array(&header, OFF_HEADER_LEN)));
        let seq = u32::from_le_bytes(array(&header, OFF_SEQ));
        let blob_len = u32::from_le_bytes(array(&header, OFF_BLOB_LEN)) as usize;
        let room = self.layout.slot_size as usize - commit_len(F::WRITE_SIZE);
        let fits = (MIN_HEADER_LEN..=MAX_HEADER_LEN).contains(&header_len)
            && header_len.is_multiple_of(4)
            && blob_len <= room.saturating_sub(header_len);
        if version == 0 || !fits || (version == FORMAT_VERSION && header_len != HEADER_LEN) {
            return Ok(SlotState::Corrupt("header fields out of range"));
        }
        // CRC over everything but the header's last four bytes, from flash.
        let crc_at = header_len - 4;
        let mut stored = [0u8; 4];
        self.read_into(at + crc_at as u32, &mut stored)?;
        let mut digest = CRC32.digest();
        let mut covered = 0;
        self.visit(at, header_len + blob_len, &mut |bytes| {
            for b in bytes {
                if !(crc_at..header_len).contains(&covered) {
                    digest.update(core::slice::from_ref(b));
                }
                covered += 1;
            }
        })?;
        if digest.finalize() != u32::from_le_bytes(stored) {
            return Ok(SlotState::Corrupt("CRC mismatch"));
        }
        if version > FORMAT_VERSION {
            return Ok(SlotState::Future { version, seq });
        }
        if blob_len == 0 || blob_len > MAX_BLOB_SIZE {
            return Ok(SlotState::Corrupt("blob length out of range"));
        }
        Ok(SlotState::Valid(SlotInfo {
            seq,
            blob_len,
            source: SourceName(array(&header, OFF_SOURCE)),
            crc: u32::from_le_bytes(stored),
        }))
    }

    /// Reads header and blob of `slot` into RAM and checks them against
    /// `info` and the CRC again (a second read: weak bits that verified once
    /// need not verify twice). [`StoreError::NotStaged`] when they differ.
    pub(super) fn load(&mut self, slot: Slot, info: &SlotInfo) -> Result<SealedBlob, StoreError> {
        let at = self.base(slot) + commit_len(F::WRITE_SIZE) as u32;
        let mut header = [0u8; HEADER_LEN];
        self.read_into(at, &mut header)?;
        let mut blob =
            SealedBlob::zeroed(info.blob_len).map_err(|_| StoreError::BlobLength(info.blob_len))?;
        self.read_into(at + HEADER_LEN as u32, blob.as_mut_bytes())?;
        // The expected header carries the CRC of the RAM copy: equal headers
        // mean the stored CRC verifies over exactly these bytes.
        let expected = encode_header(info.seq, blob.as_bytes(), info.source);
        if header != expected || u32::from_le_bytes(array(&header, OFF_CRC)) != info.crc {
            return Err(StoreError::NotStaged);
        }
        Ok(blob)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Commit {
    /// The mark exactly.
    Exact,
    /// The mark's one bits and some of its zero bits: a commit cut short.
    Partial,
    /// All ones.
    Erased,
    /// Anything else (an erase cut short, foreign data).
    Garbage,
}
