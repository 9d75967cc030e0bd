#!/usr/bin/python3
# Host-side crypto of `cargo xtask interop`, independent of the Rust code
# under test (Debian's python3-cryptography and hashlib):
#
#   host.py xts encrypt|decrypt KEYHEX IN OUT
#       dm-crypt's aes-xts-plain64 over whole 512-byte sectors starting at
#       sector 0: the tweak of sector n is n as a 64-bit little-endian
#       integer padded with zeros to 16 bytes (plain64); a 32-byte key is
#       AES-128-XTS (data key = first half, tweak key = second half).
#   host.py policy-pcr PCR
#       TPM2_PolicyPCR digest (TPM 2.0 Part 3 §23.7) over the SHA-256 bank
#       for one PCR at its reset value (32 zero bytes), as lowercase hex:
#       SHA256(0^32 || TPM_CC_PolicyPCR || TPML_PCR_SELECTION || SHA256(PCR)).
import hashlib
import struct
import sys

SECTOR = 512


def xts(direction, key_hex, src, dst):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex(key_hex)
    data = open(src, "rb").read()
    if len(data) % SECTOR:
        sys.exit(f"host.py: {src} is not whole {SECTOR}-byte sectors")
    out = bytearray()
    for n in range(len(data) // SECTOR):
        tweak = struct.pack("<Q", n) + bytes(8)
        c = Cipher(algorithms.AES(key), modes.XTS(tweak))
        op = c.encryptor() if direction == "encrypt" else c.decryptor()
        out += op.update(data[n * SECTOR : (n + 1) * SECTOR]) + op.finalize()
    open(dst, "wb").write(out)


def policy_pcr(pcr):
    select = bytearray(3)
    select[pcr // 8] |= 1 << (pcr % 8)
    sel = struct.pack(">IHB", 1, 0x000B, 3) + bytes(select)
    pcr_digest = hashlib.sha256(bytes(32)).digest()
    cc_policy_pcr = struct.pack(">I", 0x17F)
    return hashlib.sha256(bytes(32) + cc_policy_pcr + sel + pcr_digest).hexdigest()


def main(argv):
    if len(argv) == 6 and argv[1] == "xts" and argv[2] in ("encrypt", "decrypt"):
        xts(argv[2], argv[3], argv[4], argv[5])
    elif len(argv) == 3 and argv[1] == "policy-pcr" and 0 <= int(argv[2]) < 24:
        print(policy_pcr(int(argv[2])))
    else:
        sys.exit("usage: host.py xts encrypt|decrypt KEYHEX IN OUT | host.py policy-pcr PCR")


if __name__ == "__main__":
    main(sys.argv)
