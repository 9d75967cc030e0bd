//! PCR policy (TPM 2.0 Part 3 §22 PCR commands, §23 policy commands): PCR
//! selections, PCR_Read / PCR_Extend, policy sessions, PolicyPCR, and the
//! offline PolicyPCR digest ([`policy_pcr_update`]) a sealed object's
//! authPolicy is set to.

use heapless::Vec;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::marshal::Writer;
use crate::spec::{alg, cc, rh, se, st};
use crate::tpm2::{Auth, Digest, Tpm, Transport};

/// Highest PCR index of the selections here (PCRs 0..=23: three select
/// bytes, the PC Client minimum).
const MAX_PCR: u8 = 23;
/// The mask bits of PCRs 0..=[`MAX_PCR`].
const ALL_PCRS: u32 = (1 << (MAX_PCR as u32 + 1)) - 1;

/// The PCR selection of one bank, PCRs 0..=23.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PcrSelection {
    /// PCR bank (hash algorithm).
    pub hash: u16,
    /// Bit n selects PCR n.
    pub mask: u32,
}

impl PcrSelection {
    /// The SHA-256 bank PCRs in `pcrs` (each 0..=23).
    pub fn sha256(pcrs: &[u8]) -> Result<Self> {
        let mut mask = 0u32;
        for &p in pcrs {
            if p > MAX_PCR {
                return Err(Error::InvalidArgument(&"PCR index must be 0..=23"));
            }
            mask |= 1 << p;
        }
        Ok(Self {
            hash: alg::SHA256,
            mask,
        })
    }

    /// TPML_PCR_SELECTION with one entry, sizeofSelect 3.
    pub(crate) fn marshal(&self, w: &mut Writer<'_>) {
        let m = self.mask.to_le_bytes();
        w.u32(1).u16(self.hash).u8(3).bytes(&m[..3]);
    }
}

/// SHA-256 TPM_CC_PolicyPCR update of `old` (TPM 2.0 Part 3 §23.7):
/// `H(old ‖ TPM_CC_PolicyPCR ‖ pcrs ‖ pcrDigest)`.
pub fn policy_pcr_update(old: &[u8; 32], pcrs: &PcrSelection, pcr_digest: &[u8; 32]) -> [u8; 32] {
    let mut sel = [0u8; 10];
    let mut w = Writer::new(&mut sel);
    pcrs.marshal(&mut w);
    let mut h = Sha256::new();
    h.update(old);
    h.update(cc::POLICY_PCR.to_be_bytes());
    h.update(sel);
    h.update(pcr_digest);
    h.finalize().into()
}

impl<T: Transport> Tpm<T> {
    /// TPM2_PCR_Read of the SHA-256 bank: calls `each(pcr, value)` in
    /// ascending PCR order for every PCR in `sel`, with as many commands as
    /// the TPM needs (it may return fewer PCRs than asked).
    pub fn pcr_read(
        &mut self,
        sel: &PcrSelection,
        mut each: impl FnMut(u8, &[u8; 32]),
    ) -> Result<()> {
        if sel.hash != alg::SHA256 {
            return Err(Error::InvalidArgument(
                &"only the SHA-256 PCR bank is implemented",
            ));
        }
        let mut remaining = sel.mask & ALL_PCRS;
        while remaining != 0 {
            let mut w = self.command(st::NO_SESSIONS, cc::PCR_READ);
            PcrSelection {
                hash: sel.hash,
                mask: remaining,
            }
            .marshal(&mut w);
            let written = w.finish();
            let mut p = self.run(written, None, 0, 0)?.params;
            let _counter = p.u32(&"pcrUpdateCounter")?;
            let count = p.u32(&"pcrSelectionOut count")?;
            let mut got = 0u32;
            for _ in 0..count.min(16) {
                let hash = p.u16(&"pcrSelectionOut hash")?;
                let size = p.u8(&"sizeofSelect")?;
                let bits = p.bytes(usize::from(size), &"pcrSelect")?;
                if hash == sel.hash {
                    for (i, b) in bits.iter().take(3).enumerate() {
                        got |= u32::from(*b) << (8 * i);
                    }
                }
            }
            got &= remaining;
            let digests = p.u32(&"pcrValues count")?;
            if got == 0 || digests != got.count_ones() {
                return Err(Error::Parse(&"PCR_Read returned no or mismatched PCRs"));
            }
            for pcr in 0..=MAX_PCR {
                if got & (1 << pcr) != 0 {
                    let d = p.tpm2b(&"pcr value")?;
                    let d: &[u8; 32] = d.try_into().map_err(|_| Error::Parse(&"pcr value size"))?;
                    each(pcr, d);
                }
            }
            remaining &= !got;
        }
        Ok(())
    }

    /// SHA-256 of the selected PCR values in ascending order: the pcrDigest
    /// PolicyPCR binds to.
    pub fn pcr_digest(&mut self, sel: &PcrSelection) -> Result<[u8; 32]> {
        let mut h = Sha256::new();
        let mut last: Option<u8> = None;
        let mut ordered = true;
        self.pcr_read(sel, |pcr, v| {
            ordered &= last.is_none_or(|l| l < pcr);
            last = Some(pcr);
            h.update(v);
        })?;
        if !ordered {
            return Err(Error::Parse(&"PCR_Read out of order"));
        }
        Ok(h.finalize().into())
    }

    /// TPM2_PCR_Extend of one SHA-256 bank PCR (password auth, empty).
    pub fn pcr_extend(&mut self, pcr: u8, digest: &[u8; 32]) -> Result<()> {
        if pcr > MAX_PCR {
            return Err(Error::InvalidArgument(&"PCR index must be 0..=23"));
        }
        let mut w = self.begin(cc::PCR_EXTEND, u32::from(pcr), &mut Auth::Password(&[]), 0);
        w.u32(1).u16(alg::SHA256).bytes(digest);
        let written = w.finish();
        self.run(written, None, 0, 0).map(|_| ())
    }

    /// TPM2_StartAuthSession of an unsalted, unbound SHA-256 policy (or
    /// trial) session without parameter encryption. The caller nonce only
    /// has to be fresh (no HMAC is computed), so it is a counter, not random.
    pub fn start_policy_session(&mut self, trial: bool) -> Result<u32> {
        let nonce = self.next_nonce();
        let mut w = self.command(st::NO_SESSIONS, cc::START_AUTH_SESSION);
        w.u32(rh::NULL) // tpmKey: unsalted
            .u32(rh::NULL) // bind: unbound
            .tpm2b(&nonce)
            .u16(0) // encryptedSalt
            .u8(if trial { se::TRIAL } else { se::POLICY })
            .u16(alg::NULL) // symmetric: no parameter encryption
            .u16(alg::SHA256);
        let written = w.finish();
        let mut resp = self.run(written, None, 0, 1)?;
        let _nonce_tpm = resp.params.tpm2b(&"nonceTPM")?;
        resp.handles.u32(&"sessionHandle")
    }

    /// TPM2_PolicyPCR with an empty pcrDigest (the TPM uses the current
    /// values) or a given one.
    pub fn policy_pcr(
        &mut self,
        session: u32,
        pcr_digest: &[u8],
        sel: &PcrSelection,
    ) -> Result<()> {
        let mut w = self.command(st::NO_SESSIONS, cc::POLICY_PCR);
        w.u32(session).tpm2b(pcr_digest);
        sel.marshal(&mut w);
        let written = w.finish();
        self.run(written, None, 0, 0).map(|_| ())
    }

    /// TPM2_PolicyGetDigest.
    pub fn policy_get_digest(&mut self, session: u32) -> Result<Digest> {
        let mut w = self.command(st::NO_SESSIONS, cc::POLICY_GET_DIGEST);
        w.u32(session);
        let written = w.finish();
        let mut p = self.run(written, None, 0, 0)?.params;
        Vec::from_slice(p.tpm2b(&"policyDigest")?).map_err(|_| Error::Parse(&"policyDigest size"))
    }

    /// The SHA-256 PolicyPCR digest for the current values of `sel`,
    /// computed offline from TPM2_PCR_Read (no session needed).
    pub fn pcr_policy_digest(&mut self, sel: &PcrSelection) -> Result<[u8; 32]> {
        let pcrs = self.pcr_digest(sel)?;
        Ok(policy_pcr_update(&[0; 32], sel, &pcrs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trusted_core::test_util::{section, vectors};

    #[test]
    fn policy_pcr_update_matches_the_python_vector() {
        let all = vectors(include_str!("../tests/vectors/policy_pcr.txt"));
        let kat = section(&all, "policy-pcr16-zero");
        let sel = PcrSelection::sha256(&[16]).unwrap();
        let mut marshalled = [0u8; 10];
        sel.marshal(&mut Writer::new(&mut marshalled));
        assert_eq!(marshalled.to_vec(), kat.bytes("pcr_selection"));
        let pcr_digest: [u8; 32] = Sha256::digest([0u8; 32]).into();
        assert_eq!(pcr_digest, kat.array::<32>("pcr_digest"));
        assert_eq!(
            policy_pcr_update(&[0; 32], &sel, &pcr_digest),
            kat.array::<32>("policy")
        );
    }
}
