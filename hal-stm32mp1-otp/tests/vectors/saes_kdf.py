#!/usr/bin/env python3
"""Known answers for the STM32MP13/MP2x SAES DHUK subkey derivation, computed
independently of the Rust code with the Python `cryptography` package (run
once; the output is committed beside this script as saes_kdf.txt):

    pip install cryptography
    python3 saes_kdf.py > saes_kdf.txt

What OP-TEE computes (optee_os core/drivers/crypto/stm32/stm32_saes.c,
`huk_subkey_derive`, `stm32_saes_kdf`, `stm32_saes_cmac_prf_128`), written
out here from the C, not from our Rust:

  input  = const_data || 0x00          (only when const_data is not NULL)
           || usage                    (enum huk_subkey_usage: 4 bytes, LE;
                                        OP-TEE builds with -fno-short-enums)
           || subkey_bitlen            (size_t holding
                                        TEE_U32_TO_BIG_ENDIAN(len * 8): 4 bytes
                                        on arm32 (MP13), 8 on arm64 (MP2x),
                                        stored little-endian in memory)
  K(0)   = AES-CMAC(DHUK, input)
  input  = input || K(0)
  K(i)   = AES-CMAC(DHUK, BE32(i) || input), i = 1, 2, ...
  subkey = (K(1) || K(2) || ...)[:len]

The DHUK is AES-128 (KEYSIZE = 0) and, on hardware, never readable; here it
is a value of our choosing, the one the register-level model is built with.

The TEE blob is OP-TEE's trusted_keys TA format with that subkey as the TA
key: 00 || IV(16) || tag(16) || AES-256-GCM(TA key, IV, key), 128-bit IV.
"""
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC

# f04a0fe7-1f5d-4b9b-abf7-619b85b4ce8c in OP-TEE's TEE_UUID memory layout
# (timeLow, timeMid, timeHiAndVersion little-endian on ARM).
TA_UUID = bytes.fromhex("e70f4af05d1f9b4babf7619b85b4ce8c")

# A DHUK of our choosing (the SP 800-38B / RFC 4493 example key, so the CMAC
# below can be checked against the published examples first).
DHUK = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
# A second device, to show the DHUK is what binds the subkey.
DHUK2 = bytes.fromhex("8f3ad1c05e7729b4c6e10d5aa3927f61")

HUK_SUBKEY_SSK = 1
HUK_SUBKEY_DIE_ID = 2
HUK_SUBKEY_UNIQUE_TA = 3
HUK_SUBKEY_SE050 = 5


def cmac(key, msg):
    c = CMAC(algorithms.AES(key))
    c.update(msg)
    return c.finalize()


# RFC 4493 section 4 examples: the CMAC used here is the standard one.
assert cmac(DHUK, b"").hex() == "bb1d6929e95937287fa37d129b756746"
assert cmac(DHUK, bytes.fromhex("6bc1bee22e409f96e93d7e117393172a")).hex() == (
    "070a16b46b4d4144f79bdd9dd04a287c")
# FIPS-197 appendix C.1, the driver's known-answer self test with a software key.
FIPS197_KEY = bytes(range(16))
FIPS197_PT = bytes.fromhex("00112233445566778899aabbccddeeff")
enc = Cipher(algorithms.AES(FIPS197_KEY), modes.ECB()).encryptor()
assert (enc.update(FIPS197_PT) + enc.finalize()).hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def bswap32(x):
    return struct.unpack("<I", struct.pack(">I", x & 0xFFFFFFFF))[0]


def kdf_input(usage, const_data, subkey_len, size_t):
    """The bytes OP-TEE's huk_subkey_derive feeds to K(0)."""
    data = b""
    if const_data is not None:
        data += const_data + b"\x00"
    data += struct.pack("<I", usage)
    # size_t subkey_bitlen = TEE_U32_TO_BIG_ENDIAN(subkey_len * INT8_BIT);
    # memcpy(input, &subkey_bitlen, sizeof(size_t)) on a little-endian CPU.
    value = bswap32(subkey_len * 8)
    data += struct.pack("<I" if size_t == 4 else "<Q", value)
    return data


def saes_subkey(dhuk, usage, const_data, subkey_len, size_t):
    data = kdf_input(usage, const_data, subkey_len, size_t)
    k0 = cmac(dhuk, data)
    data += k0
    out = b""
    i = 1
    while len(out) < subkey_len:
        out += cmac(dhuk, struct.pack(">I", i) + data)
        i += 1
    return k0, out[:subkey_len]


def tee_blob(ta_key, key, iv):
    ct_tag = AESGCM(ta_key).encrypt(iv, key, None)
    return b"\x00" + iv + ct_tag[-16:] + ct_tag[:-16]


def h(b):
    return b.hex()


print("# written by saes_kdf.py (Python cryptography); do not edit")
print("# const_data = - means NULL (no separator byte); = (empty) never occurs in OP-TEE")

CASES = [
    # name, dhuk, usage, const_data, length, size_t
    ("ta-32", DHUK, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 32, 4),
    ("ta-64", DHUK, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 32, 8),
    ("ta-dhuk2-32", DHUK2, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 32, 4),
    ("ta-dhuk2-64", DHUK2, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 32, 8),
    ("ssk-null-32", DHUK, HUK_SUBKEY_SSK, None, 32, 4),
    ("dieid-null-64", DHUK, HUK_SUBKEY_DIE_ID, None, 16, 8),
    ("ta-len1-32", DHUK, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 1, 4),
    ("ta-len17-64", DHUK, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 17, 8),
    # the longest TA-unique request OP-TEE's system PTA passes: UUID + 1024 bytes
    ("ta-extra1024-32", DHUK, HUK_SUBKEY_UNIQUE_TA,
     TA_UUID + bytes((7 * i + 1) & 0xFF for i in range(1024)), 16, 4),
    ("se050-64", DHUK, HUK_SUBKEY_SE050, b"SE050 SCP03 key enc", 16, 8),
]
for name, dhuk, usage, const_data, length, size_t in CASES:
    k0, subkey = saes_subkey(dhuk, usage, const_data, length, size_t)
    print(f"[kdf-{name}]")
    print("dhuk =", h(dhuk))
    print("usage =", usage)
    print("const_data =", "-" if const_data is None else h(const_data))
    print("length =", length)
    print("size_t =", size_t)
    print("input =", h(kdf_input(usage, const_data, length, size_t)))
    print("k0 =", h(k0))
    print("subkey =", h(subkey))

# CMAC under the DHUK for message lengths around the block boundaries.
for n in (0, 1, 15, 16, 17, 32, 45, 100):
    msg = bytes((3 * i + 5) & 0xFF for i in range(n))
    print(f"[cmac-{n}]")
    print("dhuk =", h(DHUK))
    print("msg =", h(msg))
    print("mac =", h(cmac(DHUK, msg)))

# TEE blobs keyed by the SAES TA key, both size_t layouts.
for size_t in (4, 8):
    _, ta_key = saes_subkey(DHUK, HUK_SUBKEY_UNIQUE_TA, TA_UUID, 32, size_t)
    key = bytes(range(0x40, 0x60))
    iv = bytes(range(0xb0, 0xc0))
    print(f"[tee-{8 * size_t}]")
    print("dhuk =", h(DHUK))
    print("size_t =", size_t)
    print("ta_key =", h(ta_key))
    print("key =", h(key))
    print("iv =", h(iv))
    print("blob =", h(tee_blob(ta_key, key, iv)))
