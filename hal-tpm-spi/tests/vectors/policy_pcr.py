#!/usr/bin/env python3
# Known-answer vector for TPM2_PolicyPCR (TPM 2.0 Part 3 §23.7), computed
# independently of the Rust code with hashlib:
#   policy = SHA256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA256(PCR values))
# for the SHA-256 bank, PCR 16 at reset (32 zero bytes).
# Run: python3 policy_pcr.py > policy_pcr16_zero.hex
import hashlib, struct

sel = struct.pack(">IHB", 1, 0x000B, 3) + bytes([0x00, 0x00, 0x01])  # PCR 16
pcr_digest = hashlib.sha256(bytes(32)).digest()
policy = hashlib.sha256(bytes(32) + struct.pack(">I", 0x17F) + sel + pcr_digest).hexdigest()
print(policy)
