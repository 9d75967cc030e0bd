#!/usr/bin/env python3
"""Independent model of the hal-caam sim's stated blob crypto (src/sim/crypto.rs),
written from the derivation text, not from the Rust code. Run once:

    python3 sim_blob_kat.py > sim_blob_kat.txt

Needs the `cryptography` package. Prints the project's one vector format
(`# comment`, `[section]`, `key = hex`) that tests/vectors.rs reads with
trusted_core::test_util::vectors.
"""
import struct
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM


def kdf(key, label, context, out_len):
    """SP 800-108 counter mode, AES-CMAC PRF, 32-bit counter and length."""
    out = b""
    i = 1
    while len(out) < out_len:
        c = cmac.CMAC(algorithms.AES(key))
        c.update(struct.pack(">I", i) + label + b"\x00" + context + struct.pack(">I", out_len * 8))
        out += c.finalize()
        i += 1
    return out[:out_len]


otpmk = bytes([0x11] * 32)
priblob = 0
fmt_normal = 0
keymod = b"SECURE_KEY"
key = bytes(range(32))
bk = bytes(range(0xA0, 0xC0))

bkek = kdf(otpmk, b"CAAM BKEK", bytes([priblob, fmt_normal]) + keymod, 32)
enc = Cipher(algorithms.AES(bkek), modes.ECB()).encryptor()
wrapped = enc.update(bk) + enc.finalize()
ct_tag = AESCCM(bk, tag_length=16).encrypt(bytes(13), key, None)
blob = wrapped + ct_tag
mkvb = kdf(otpmk, b"CAAM MKVB", bytes([priblob]), 32)
mkvb_priblob1 = kdf(otpmk, b"CAAM MKVB", bytes([1]), 32)

print("# written by sim_blob_kat.py (Python cryptography); do not edit")
print("# the sim's stated blob crypto (src/sim/crypto.rs), not silicon vectors")
print("[sim-blob]")
print("otpmk = " + otpmk.hex())
print("key = " + key.hex())
print("blob_key = " + bk.hex())
print("blob = " + blob.hex())
print("mkvb = " + mkvb.hex())
print("mkvb_priblob1 = " + mkvb_priblob1.hex())
