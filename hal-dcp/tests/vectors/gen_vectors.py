#!/usr/bin/env python3
"""Independent reference for hal-dcp's known-answer tests.

Run once with Python `cryptography` (pip install cryptography):
    python3 gen_vectors.py > dcp_vectors.txt
Nothing here shares code with the Rust crate. Sources of each vector:
- [aes-128]: NIST SP 800-38A appendix F.1.1 / F.2.1 (AES-128),
  recomputed here as a check.
- [cmac-1..4]: RFC 4493 section 4 examples 1..4, recomputed here.
- [zero-key-probe]: Linux trusted_dcp.c test_for_zero_key constant (pt, ct),
  and the second block hal-dcp's hardened self test adds: AES-128 of the
  all-zero block under the all-zero key (pt2, ct2).
- [device-*] huk: OP-TEE core/drivers/imx/dcp/dcp_huk.c: AES-128-CMAC(unique
  key, 01 'huk' 00 'opteeosdcp' 80).
- [blob-*]: Linux security/keys/trusted-keys/trusted_dcp.c format v1:
  01 | ECB(hwkey, BEK) | nonce[16] | LE32(N) | GCM(BEK, nonce[:12], key) | tag.
  [blob-e] is vector E of research/linux-formats.md 8.2.
- [tee-huk-1]: OP-TEE ta/trusted_keys blob (00 | iv[16] | tag | AES-256-GCM ct)
  under HMAC-SHA256(HUK, LE32(3) | TA UUID) with the HUK of [device-1].
The output is the project's one vector format: # comments, [section]
headers, key = hex lines.
"""
import hmac, hashlib
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC

def ecb(k, d, enc=True):
    c = Cipher(algorithms.AES(k), modes.ECB())
    o = c.encryptor() if enc else c.decryptor()
    return o.update(d) + o.finalize()

def cbc(k, iv, d):
    o = Cipher(algorithms.AES(k), modes.CBC(iv)).encryptor()
    return o.update(d) + o.finalize()

def cmac(k, m):
    c = CMAC(algorithms.AES(k)); c.update(m); return c.finalize()

def dcp_blob(hwkey, key, bek, nonce):
    ct = AESGCM(bek).encrypt(nonce[:12], key, None)  # ct || tag
    return bytes([1]) + ecb(hwkey, bek) + nonce + len(key).to_bytes(4, "little") + ct

def huk(unique):
    return cmac(unique, bytes([1]) + b"huk" + bytes([0]) + b"opteeosdcp" + bytes([0x80]))

TA_UUID = bytes.fromhex("e70f4af05d1f9b4babf7619b85b4ce8c")
def tee_blob(h, key, iv):
    ta = hmac.new(h, (3).to_bytes(4, "little") + TA_UUID, hashlib.sha256).digest()
    ct = AESGCM(ta).encrypt(iv, key, None)
    return bytes([0]) + iv + ct[-16:] + ct[:-16]

def section(name, comment=None):
    print()
    if comment:
        print(f"# {comment}")
    print(f"[{name}]")

def out(name, b):
    print(f"{name} = {b.hex()}".rstrip())

print("# hal-dcp known answers, written by gen_vectors.py (see its docstring")
print("# for the source of each vector). Format: [section], key = hex.")

r = lambda a, b: bytes(range(a, b))
k = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
pt = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                   "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
section("aes-128", "NIST SP 800-38A F.1.1 (ECB) and F.2.1 (CBC)")
out("key", k); out("pt", pt); out("ecb_ct", ecb(k, pt))
out("cbc_iv", r(0, 16)); out("cbc_ct", cbc(k, r(0, 16), pt))
for i, n in enumerate([0, 16, 40, 64], 1):
    section(f"cmac-{i}", f"RFC 4493 section 4 example {i} (key as [aes-128])")
    out("msg", pt[:n]); out("tag", cmac(k, pt[:n]))
section("zero-key-probe", "Linux trusted_dcp.c test_for_zero_key: ECB(zero key, 55..55); 2nd block 00..00")
out("pt", b"\x55" * 16); out("ct", ecb(bytes(16), b"\x55" * 16))
out("pt2", bytes(16)); out("ct2", ecb(bytes(16), bytes(16)))

u1 = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
otp1 = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")
section("device-zero", "an unfused part; huk: OP-TEE dcp_huk.c")
out("unique", bytes(16)); out("otp", bytes(16)); out("huk", huk(bytes(16)))
section("device-1", "fused keys of the tests' device 1; huk: OP-TEE dcp_huk.c")
out("unique", u1); out("otp", otp1); out("huk", huk(u1))

# Vector E: hw key 0, key 00..1f, BEK 10..1f, nonce 20..2f.
section("blob-e", "vector E of research/linux-formats.md 8.2: hardware key all zero")
bek_e, nonce_e = r(0x10, 0x20), r(0x20, 0x30)
out("key", r(0, 32)); out("bek", bek_e); out("nonce", nonce_e)
out("blob", dcp_blob(bytes(16), r(0, 32), bek_e, nonce_e))
# Own vectors: 64-byte key under unique_1; 128-byte key under otp_1.
key64 = bytes((i * 7 + 3) & 0xff for i in range(64))
bek = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf")
nonce = bytes.fromhex("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf")
section("blob-unique-1", "64-byte key under the UNIQUE key of [device-1]")
out("key", key64); out("bek", bek); out("nonce", nonce)
out("blob", dcp_blob(u1, key64, bek, nonce))
key128 = bytes((255 - i) for i in range(128))
section("blob-otp-1", "128-byte key under the OTP key of [device-1]")
out("key", key128); out("bek", bek); out("nonce", nonce)
out("blob", dcp_blob(otp1, key128, bek, nonce))
# TEE blob with the DCP HUK of unique_1, key 00..1f, IV c0..cf.
section("tee-huk-1", "OP-TEE trusted_keys TA blob under the HUK of [device-1]")
out("key", r(0, 32)); out("iv", r(0xc0, 0xd0))
out("blob", tee_blob(huk(u1), r(0, 32), r(0xc0, 0xd0)))
