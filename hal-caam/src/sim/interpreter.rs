//! The sim's descriptor interpreter: fetches a job descriptor by bus
//! address and runs every command the driver emits (header, KEY, LOAD
//! clear-written, local JUMP, SEQ IN/OUT PTR, FIFO LOAD of a message,
//! FIFO STORE of RNG or message data, RNG, AES-ECB and blob OPERATIONs),
//! answering anything else with the DECO or CCB status a CAAM reports.

use zeroize::{Zeroize, Zeroizing};

use crate::regs::{blob as blobsz, cmd, ctrl, status as st};

use super::CaamSim;
use super::crypto::{self, CryptoError, Drbg};

/// What a descriptor has set up so far.
#[derive(Default)]
struct JobState {
    class1_key: Zeroizing<[u8; 32]>,
    class1_key_len: Option<usize>,
    class2_key: Zeroizing<[u8; 32]>,
    class2_key_len: Option<usize>,
    /// OPERATION AES-ECB encrypt has run: a FIFO LOAD of a message
    /// goes through the class-1 AESA.
    aes_ready: bool,
    /// The AESA's output, until a FIFO STORE of message data takes it.
    class1_out: Option<Zeroizing<[u8; 16]>>,
    seq_in: Option<(u64, u32)>,
    seq_out: Option<(u64, u32)>,
    rng_ready: bool,
}

type Status = u32;

fn ccb(index: usize, cha: u32, err: u32) -> Status {
    (st::SSRC_CCB << st::SSRC_SHIFT)
        | (((index as u32) & st::INDEX_MASK) << st::INDEX_SHIFT)
        | (cha << st::CCB_CHAID_SHIFT)
        | err
}

fn deco(index: usize, code: u32) -> Status {
    (st::SSRC_DECO << st::SSRC_SHIFT)
        | (((index as u32) & st::INDEX_MASK) << st::INDEX_SHIFT)
        | code
}

impl CaamSim {
    /// Fetches and interprets one job descriptor; returns its status word.
    pub(super) fn execute(&mut self, address: u64) -> Status {
        self.last_descriptor.clear();
        let Ok(header) = self.bus.read_u32_le(address) else {
            return deco(0, st::DECO_DMA);
        };
        if (header >> cmd::TYPE_SHIFT) != cmd::DESC_HDR
            || header & cmd::HDR_ONE == 0
            || header & cmd::HDR_ZRO != 0
            || header & cmd::HDR_SHARED != 0
            || (header >> cmd::HDR_START_IDX_SHIFT) & cmd::HDR_START_IDX_MASK != 0
        {
            return deco(0, st::DECO_INVALID_COMMAND);
        }
        if header & cmd::HDR_DNR != 0 {
            return deco(0, 0x80);
        }
        let len = (header & cmd::HDR_LEN_MASK) as usize;
        if len == 0 || len > cmd::MAX_DESC_WORDS {
            return deco(0, st::DECO_HEADER_LENGTH);
        }
        for i in 0..len {
            match self.bus.read_u32_le(address + 4 * i as u64) {
                Ok(w) => {
                    let _ = self.last_descriptor.push(w);
                }
                Err(_) => return deco(i, st::DECO_DMA),
            }
        }
        // The words are interpreted where they were fetched to
        // (`last_descriptor`, part of the model's state), and the job's
        // buffers are the model's scratch: nothing big lands on the stack
        // of the driver's register write that runs the job.
        let mut job = JobState::default();
        let mut i = 1;
        let mut status = 0;
        while let Some(word) = self.word(i) {
            if let Err(s) = self.command(&mut i, word, &mut job) {
                status = s;
                break;
            }
        }
        self.scratch.zeroize();
        status
    }

    /// Word `i` of the fetched descriptor.
    fn word(&self, i: usize) -> Option<u32> {
        self.last_descriptor.get(i).copied()
    }

    /// Takes the pointer at word `*i` (1 or 2 words) and advances `i`.
    fn take_ptr(&self, i: &mut usize) -> Option<u64> {
        let lo = self.word(*i)?;
        *i += 1;
        if self.long_ptr() {
            let hi = self.word(*i)?;
            *i += 1;
            Some(u64::from(lo) | (u64::from(hi) << 32))
        } else {
            Some(u64::from(lo))
        }
    }

    fn command(&mut self, i: &mut usize, word: u32, job: &mut JobState) -> Result<(), Status> {
        let idx = *i;
        *i += 1;
        let class = (word >> cmd::CLASS_SHIFT) & cmd::CLASS_MASK;
        match word >> cmd::TYPE_SHIFT {
            cmd::KEY => {
                let len = (word & cmd::KEY_LEN_MASK) as usize;
                let dest = (word >> cmd::KEY_DEST_SHIFT) & cmd::KEY_DEST_MASK;
                let (slot, slot_len) = match class {
                    1 => (&mut job.class1_key, &mut job.class1_key_len),
                    2 => (&mut job.class2_key, &mut job.class2_key_len),
                    _ => return Err(deco(idx, st::DECO_KEY)),
                };
                if dest != cmd::KEY_DEST_CLASS_REG
                    || word & (cmd::KEY_SGF | cmd::KEY_ENC) != 0
                    || len > slot.len()
                {
                    return Err(deco(idx, st::DECO_KEY));
                }
                let key = slot.get_mut(..len).ok_or(deco(idx, st::DECO_KEY))?;
                if word & cmd::IMMEDIATE != 0 {
                    let n = len.div_ceil(4);
                    let data = self
                        .last_descriptor
                        .get(*i..*i + n)
                        .ok_or(deco(idx, st::DECO_KEY))?;
                    for (chunk, w) in key.chunks_mut(4).zip(data) {
                        let bytes = w.to_le_bytes();
                        chunk
                            .iter_mut()
                            .zip(bytes.iter())
                            .for_each(|(k, b)| *k = *b);
                    }
                    *i += n;
                } else {
                    let addr = self.take_ptr(i).ok_or(deco(idx, st::DECO_KEY))?;
                    self.bus
                        .read(addr, key)
                        .map_err(|_| deco(idx, st::DECO_DMA))?;
                }
                *slot_len = Some(len);
                Ok(())
            }
            cmd::LOAD => {
                let dest = (word >> cmd::LOAD_DEST_SHIFT) & cmd::LOAD_DEST_MASK;
                if class != 0
                    || word & cmd::IMMEDIATE == 0
                    || dest != cmd::LOAD_DEST_CLRW
                    || word & cmd::LOAD_LEN_MASK != 4
                    || (word >> cmd::LOAD_OFFSET_SHIFT) & cmd::LOAD_OFFSET_MASK != 0
                {
                    return Err(deco(idx, st::DECO_LOAD));
                }
                self.word(*i).ok_or(deco(idx, st::DECO_LOAD))?;
                *i += 1;
                Ok(())
            }
            cmd::JUMP => {
                let offset = (word & cmd::JUMP_OFFSET_MASK) as usize;
                let jump_type = (word >> cmd::JUMP_TYPE_SHIFT) & cmd::JUMP_TYPE_MASK;
                if jump_type != cmd::JUMP_TYPE_LOCAL
                    || word & (cmd::JUMP_COND_MASK | cmd::JUMP_JSL) != 0
                    || offset == 0
                    || idx + offset > self.last_descriptor.len()
                {
                    return Err(deco(idx, st::DECO_JUMP));
                }
                // Jobs run to completion synchronously: "wait until class 1
                // is done" is always already true.
                *i = idx + offset;
                Ok(())
            }
            kind @ (cmd::SEQ_IN_PTR | cmd::SEQ_OUT_PTR) => {
                let unused = if kind == cmd::SEQ_IN_PTR {
                    cmd::SQIN_UNUSED_OPTIONS | cmd::SQ_SGF
                } else {
                    cmd::SQOUT_UNUSED_OPTIONS | cmd::SQ_SGF
                };
                if word & unused != 0 {
                    return Err(deco(idx, st::DECO_SEQ));
                }
                let addr = self.take_ptr(i).ok_or(deco(idx, st::DECO_SEQ))?;
                let len = if word & cmd::SQ_EXT != 0 {
                    let l = self.word(*i).ok_or(deco(idx, st::DECO_SEQ))?;
                    *i += 1;
                    l
                } else {
                    word & cmd::SQ_LEN_MASK
                };
                if kind == cmd::SEQ_IN_PTR {
                    job.seq_in = Some((addr, len));
                } else {
                    job.seq_out = Some((addr, len));
                }
                Ok(())
            }
            cmd::FIFO_LOAD => self.fifo_load_message(idx, i, word, job),
            cmd::FIFO_STORE
                if (word >> cmd::FIFOST_TYPE_SHIFT) & cmd::FIFOST_TYPE_MASK
                    == cmd::FIFOST_TYPE_MESSAGE_DATA =>
            {
                let out = job.class1_out.take();
                let addr = self.take_ptr(i).ok_or(deco(idx, st::DECO_FIFO_STORE))?;
                match out {
                    Some(out)
                        if word & cmd::FIFOST_LEN_MASK == 16 && word & cmd::FIFOST_EXT == 0 =>
                    {
                        self.bus
                            .write(addr, out.as_ref())
                            .map_err(|_| deco(idx, st::DECO_DMA))
                    }
                    _ => Err(deco(idx, st::DECO_FIFO_STORE)),
                }
            }
            cmd::FIFO_STORE => {
                let fifo_type = (word >> cmd::FIFOST_TYPE_SHIFT) & cmd::FIFOST_TYPE_MASK;
                if fifo_type != cmd::FIFOST_TYPE_RNGSTORE
                    || word & cmd::FIFOST_EXT != 0
                    || !job.rng_ready
                {
                    return Err(deco(idx, st::DECO_FIFO_STORE));
                }
                let addr = self.take_ptr(i).ok_or(deco(idx, st::DECO_FIFO_STORE))?;
                let len = (word & cmd::FIFOST_LEN_MASK) as usize;
                let mut done = 0;
                while done < len {
                    let n = (len - done).min(self.scratch.len());
                    let chunk = self
                        .scratch
                        .get_mut(..n)
                        .ok_or(deco(idx, st::DECO_FIFO_STORE))?;
                    self.drbg
                        .first_mut()
                        .and_then(Option::as_mut)
                        .ok_or(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED))?
                        .generate(chunk);
                    self.bus
                        .write(addr + done as u64, chunk)
                        .map_err(|_| deco(idx, st::DECO_DMA))?;
                    done += n;
                }
                Ok(())
            }
            cmd::OPERATION => self.operation(idx, word, job),
            _ => Err(deco(idx, st::DECO_INVALID_COMMAND)),
        }
    }

    fn operation(&mut self, idx: usize, word: u32, job: &mut JobState) -> Result<(), Status> {
        let op_type = (word >> cmd::OP_TYPE_SHIFT) & cmd::OP_TYPE_MASK;
        match op_type {
            cmd::OP_TYPE_CLASS1_ALG
                if (word >> cmd::OP_ALG_ALGSEL_SHIFT) & cmd::OP_ALG_ALGSEL_MASK
                    == cmd::OP_ALG_ALGSEL_AES =>
            {
                let aai = (word >> cmd::OP_ALG_AAI_SHIFT) & cmd::OP_ALG_AAI_MASK;
                let state = (word >> cmd::OP_ALG_AS_SHIFT) & cmd::OP_ALG_AS_MASK;
                // Only what the driver asks for: one-shot ECB encryption.
                if aai != cmd::OP_ALG_AAI_ECB
                    || state != cmd::OP_ALG_AS_INITFINAL
                    || word & cmd::OP_ALG_ENCRYPT == 0
                {
                    return Err(ccb(idx, st::CHAID_AES, st::ERRID_MODE));
                }
                if !matches!(job.class1_key_len, Some(16 | 24 | 32)) {
                    return Err(ccb(idx, st::CHAID_AES, st::ERRID_KEY_SIZE));
                }
                job.aes_ready = true;
                Ok(())
            }
            cmd::OP_TYPE_CLASS1_ALG => self.rng_operation(idx, word, job),
            cmd::OP_TYPE_ENCAP_PROTOCOL | cmd::OP_TYPE_DECAP_PROTOCOL => {
                if (word >> cmd::OP_PCLID_SHIFT) & cmd::OP_PCLID_MASK != cmd::OP_PCLID_BLOB {
                    return Err(deco(idx, st::DECO_UNDEFINED_PROTOCOL));
                }
                let protinfo = word & cmd::OP_PROTINFO_MASK;
                let encap = op_type == cmd::OP_TYPE_ENCAP_PROTOCOL;
                match protinfo {
                    cmd::BLOB_FMT_NORMAL => self.blob(idx, encap, job),
                    cmd::BLOB_FMT_MASTER_VERIFY if encap => self.mkvb(idx, job),
                    _ => Err(deco(idx, st::DECO_OPERATION)),
                }
            }
            _ => Err(deco(idx, st::DECO_OPERATION)),
        }
    }

    /// FIFO LOAD of one inline message block into the class-1 AESA (the
    /// only FIFO LOAD the driver emits), encrypted at once.
    fn fifo_load_message(
        &mut self,
        idx: usize,
        i: &mut usize,
        word: u32,
        job: &mut JobState,
    ) -> Result<(), Status> {
        let class = (word >> cmd::CLASS_SHIFT) & cmd::CLASS_MASK;
        let fifo_type = (word >> cmd::FIFOLD_TYPE_SHIFT) & cmd::FIFOLD_TYPE_MASK;
        let len = (word & cmd::FIFOLD_LEN_MASK) as usize;
        if class != 1
            || word & cmd::IMMEDIATE == 0
            || fifo_type != cmd::FIFOLD_TYPE_MSG | cmd::FIFOLD_TYPE_LAST1
            || !job.aes_ready
        {
            return Err(deco(idx, st::DECO_FIFO_LOAD));
        }
        let n = len.div_ceil(4);
        let data = self
            .last_descriptor
            .get(*i..*i + n)
            .ok_or(deco(idx, st::DECO_FIFO_LOAD))?;
        *i += n;
        if len != 16 {
            return Err(ccb(idx, st::CHAID_AES, st::ERRID_DATA_SIZE));
        }
        let mut block = Zeroizing::new([0u8; 16]);
        for (chunk, w) in block.chunks_mut(4).zip(data) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        let key_len = job.class1_key_len.unwrap_or(0);
        let key = job.class1_key.get(..key_len).unwrap_or(&[]);
        if !crypto::aes_ecb_block(key, &mut block) {
            return Err(ccb(idx, st::CHAID_AES, st::ERRID_KEY_SIZE));
        }
        if self.corrupt_aes
            && let Some(first) = block.first_mut()
        {
            *first ^= 0x80;
        }
        job.class1_out = Some(block);
        Ok(())
    }

    fn trng_ready(&self) -> bool {
        let rtmctl = self.ctrl.get(ctrl::RTMCTL / 4).copied().unwrap_or(0);
        let sdctl = self.ctrl.get(ctrl::RTSDCTL / 4).copied().unwrap_or(0);
        let ent_dly = (sdctl >> ctrl::RTSDCTL_ENT_DLY_SHIFT) & ctrl::RTSDCTL_ENT_DLY_MASK;
        rtmctl & ctrl::RTMCTL_PRGM == 0 && ent_dly >= self.cfg.min_entropy_delay
    }

    fn rng_operation(&mut self, idx: usize, word: u32, job: &mut JobState) -> Result<(), Status> {
        if (word >> cmd::OP_ALG_ALGSEL_SHIFT) & cmd::OP_ALG_ALGSEL_MASK != cmd::OP_ALG_ALGSEL_RNG {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let aai = (word >> cmd::OP_ALG_AAI_SHIFT) & cmd::OP_ALG_AAI_MASK;
        if aai & !(cmd::OP_ALG_AAI_RNG4_SK | cmd::OP_ALG_AAI_RNG4_SH_MASK) != 0
            || word & cmd::OP_ALG_ENCRYPT != 0
        {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let handle = (aai & cmd::OP_ALG_AAI_RNG4_SH_MASK) as usize;
        if handle >= usize::from(self.cfg.rng_handles).min(2) {
            return Err(deco(idx, st::DECO_OPERATION));
        }
        let secure_keys = aai & cmd::OP_ALG_AAI_RNG4_SK != 0;
        let pr = word & cmd::OP_ALG_PR_ON != 0;
        let if_bit = ctrl::RDSTA_IF0 << handle;
        let pr_bit = ctrl::RDSTA_PR0 << handle;
        let instantiated = self.rdsta & if_bit != 0;
        let not_inst = ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED);
        match (word >> cmd::OP_ALG_AS_SHIFT) & cmd::OP_ALG_AS_MASK {
            cmd::OP_ALG_AS_INIT => {
                if instantiated {
                    return Err(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_INSTANTIATE));
                }
                if !self.trng_ready() {
                    return Err(ccb(idx, st::CHAID_RNG, st::ERRID_HARDWARE));
                }
                let slot = self.drbg.get_mut(handle).ok_or(not_inst)?;
                *slot = Some(Drbg::instantiate(&self.cfg.entropy_seed, handle as u8));
                self.rdsta |= if_bit | if pr { pr_bit } else { 0 };
                Ok(())
            }
            cmd::OP_ALG_AS_UPDATE => {
                if !instantiated {
                    return Err(not_inst);
                }
                if secure_keys {
                    if self.rdsta & ctrl::RDSTA_SKVN != 0 {
                        return Err(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_SECURE_KEY));
                    }
                    self.rdsta |= ctrl::RDSTA_SKVN;
                } else {
                    job.rng_ready = handle == 0;
                }
                Ok(())
            }
            cmd::OP_ALG_AS_FINALIZE => {
                if instantiated {
                    Ok(())
                } else {
                    Err(not_inst)
                }
            }
            _ => {
                if !instantiated {
                    return Err(not_inst);
                }
                if let Some(slot) = self.drbg.get_mut(handle) {
                    *slot = None;
                }
                self.rdsta &= !(if_bit | pr_bit);
                Ok(())
            }
        }
    }

    fn blob(&mut self, idx: usize, encap: bool, job: &mut JobState) -> Result<(), Status> {
        let key_len = job
            .class2_key_len
            .filter(|&l| l <= blobsz::KEYMOD_MAX)
            .ok_or(ccb(idx, st::CHAID_AES, st::ERRID_KEY_SIZE))?;
        let keymod = job.class2_key.get(..key_len).unwrap_or(&[]);
        let (Some((in_addr, in_len)), Some((out_addr, out_len))) = (job.seq_in, job.seq_out) else {
            return Err(deco(idx, st::DECO_SEQ));
        };
        let (in_len, out_len) = (in_len as usize, out_len as usize);
        let size_err = ccb(idx, st::CHAID_AES, st::ERRID_DATA_SIZE);
        let (data_len, blob_len) = if encap {
            (in_len, out_len)
        } else {
            (out_len, in_len)
        };
        if data_len == 0 || data_len > crypto::MAX_DATA || blob_len != data_len + blobsz::OVERHEAD {
            return Err(size_err);
        }
        let bkek = crypto::bkek(
            self.master_key(),
            self.priblob(),
            cmd::BLOB_FMT_NORMAL as u8,
            keymod,
        );
        // One scratch buffer holds the blob: encapsulation reads the data
        // into its body and fills in the blob key and MAC around it;
        // decapsulation reads the blob and opens the body in place.
        let blob = self.scratch.get_mut(..blob_len).ok_or(size_err)?;
        let body = blobsz::BLOB_KEY_LEN..blobsz::BLOB_KEY_LEN + data_len;
        let input = if encap {
            blob.get_mut(body.clone()).ok_or(size_err)?
        } else {
            &mut *blob
        };
        self.bus
            .read(in_addr, input)
            .map_err(|_| deco(idx, st::DECO_DMA))?;
        if encap {
            let mut bk = Zeroizing::new([0u8; blobsz::BLOB_KEY_LEN]);
            self.drbg
                .first_mut()
                .and_then(Option::as_mut)
                .ok_or(ccb(idx, st::CHAID_RNG, st::RNG_ERRID_NOT_INSTANTIATED))?
                .generate(bk.as_mut());
            crypto::encapsulate(&bkek, &bk, blob).map_err(|_| size_err)?;
        } else {
            crypto::decapsulate(&bkek, blob).map_err(|e| match e {
                CryptoError::Icv => ccb(idx, st::CHAID_AES, st::ERRID_ICV_CHECK),
                CryptoError::Length => size_err,
            })?;
        }
        let output = if encap {
            &*blob
        } else {
            blob.get(body).ok_or(size_err)?
        };
        self.bus
            .write(out_addr, output)
            .map_err(|_| deco(idx, st::DECO_DMA))
    }

    fn mkvb(&mut self, idx: usize, job: &mut JobState) -> Result<(), Status> {
        let Some((out_addr, out_len)) = job.seq_out else {
            return Err(deco(idx, st::DECO_SEQ));
        };
        if out_len as usize != blobsz::MKVB_LEN || job.seq_in.is_some() {
            return Err(ccb(idx, st::CHAID_AES, st::ERRID_DATA_SIZE));
        }
        let mkvb = crypto::mkvb(self.master_key(), self.priblob());
        self.bus
            .write(out_addr, mkvb.as_ref())
            .map_err(|_| deco(idx, st::DECO_DMA))
    }
}
