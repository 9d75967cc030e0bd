#!/usr/bin/python3
# Checks linux-6.12-tpm.txt independently of the Rust code: for each
# [linux-*] section, the `key` (what trustctl unsealed from the
# Linux-written `blob`) decrypts `ciphertext` (what the kernel's dm-crypt
# wrote with `aes-xts-plain64 :32:trusted:kmk`, sector n's tweak = n as a
# 64-bit little-endian integer) to [dm-crypt] plaintext. So the key is the
# kernel's own, and tests/linux_blob.rs can assert that our unseal of the
# blob gives exactly it.
# Run: python3 linux-check.py   (needs python3-cryptography)
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SECTOR = 512


def sections(path):
    out, cur = {}, None
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            cur = out.setdefault(line.strip("[]"), {})
        else:
            k, v = (s.strip() for s in line.split("=", 1))
            cur[k] = v
    return out


def decrypt(key, data):
    out = b""
    for n in range(len(data) // SECTOR):
        tweak = struct.pack("<Q", n) + bytes(8)
        d = Cipher(algorithms.AES(key), modes.XTS(tweak)).decryptor()
        out += d.update(data[n * SECTOR : (n + 1) * SECTOR]) + d.finalize()
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    v = sections(os.path.join(here, "linux-6.12-tpm.txt"))
    plain = bytes.fromhex(v["dm-crypt"]["plaintext"])
    passed = failed = 0
    for name, s in sorted(v.items()):
        if not name.startswith("linux-"):
            continue
        cipher = bytes.fromhex(s["ciphertext"])
        ok = cipher != plain and decrypt(bytes.fromhex(s["key"]), cipher) == plain
        print(f"{name}: {'ok' if ok else 'FAIL'}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
