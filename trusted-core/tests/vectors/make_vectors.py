#!/usr/bin/env python3
"""Independent known answers for trusted-core, made with Python `cryptography`.

Run once: `python3 make_vectors.py > vectors.txt` (cryptography 48.0.0 was used).
Nothing here shares code with the Rust implementation: the TA key is
HMAC-SHA256(HUK, LE32(3) || TA UUID in OP-TEE's native layout), the blob is
0x00 || IV(16) || tag(16) || AES-256-GCM(key) as OP-TEE's trusted_keys TA writes it,
and the KDF is NIST SP 800-108 counter mode over AES-CMAC.
"""
import hashlib, hmac, struct
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC
from cryptography.hazmat.primitives.ciphers import algorithms

TA_UUID = bytes.fromhex("e70f4af05d1f9b4babf7619b85b4ce8c")  # f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c, native LE fields

def ta_key(huk):
    return hmac.new(huk, struct.pack("<I", 3) + TA_UUID, hashlib.sha256).digest()

def tee_blob(huk, key, iv):
    ct_tag = AESGCM(ta_key(huk)).encrypt(iv, key, None)
    return b"\x00" + iv + ct_tag[-16:] + ct_tag[:-16]

def cmac(key, msg):
    c = CMAC(algorithms.AES(key)); c.update(msg); return c.finalize()

def kdf(key, label, context, out_len, cw, lw):
    out = b""
    i = 1
    while len(out) < out_len:
        out += cmac(key, i.to_bytes(cw, "big") + label + b"\x00" + context + (out_len * 8).to_bytes(lw, "big"))
        i += 1
    return out[:out_len]

def h(b): return b.hex()

cases = [
    (bytes(16), bytes(range(32)), bytes(range(0xa0, 0xb0))),  # vector F of linux-formats.md 8.2
    (bytes(range(16)), bytes([0x5a]) * 64, bytes([0x11]) * 16),
    (bytes.fromhex("11474a5a5c78ef24224da96237ebbd3d"), bytes(range(128)), bytes(range(16))),
]
print("# written by make_vectors.py (Python cryptography); do not edit")
for n, (huk, key, iv) in enumerate(cases, 1):
    print(f"[tee-{n}]")
    print("huk =", h(huk)); print("key =", h(key)); print("iv =", h(iv)); print("blob =", h(tee_blob(huk, key, iv)))
print("[takey]")
print("huk =", h(bytes(16))); print("ta_key =", h(ta_key(bytes(16))))
k = bytes(range(16))
kdf_cases = [(bytes(16), b"huk", b"opteeosdcp", 16, 1, 1), (k, b"label", b"context", 40, 4, 4)]
for n, (key, label, context, out_len, cw, lw) in enumerate(kdf_cases, 1):
    print(f"[kdf-{n}]")
    print("key =", h(key)); print("label =", h(label)); print("context =", h(context))
    print("counter_bytes =", cw); print("length_bytes =", lw)
    print("out =", h(kdf(key, label, context, out_len, cw, lw)))
