#!/usr/bin/env python3
# Known-answer vectors for TPM 2.0 salted, encrypted, HMAC sessions
# (hal-tpm-spi/src/session.rs), computed independently of the Rust code with
# hashlib/hmac and the `cryptography` package (ECDH P-256, AES-128-CFB).
#
# Sources of the formulas:
#   TPM 2.0 Part 1 §11.4.10.2 (KDFa), §11.4.10.3 / Annex C.6.1 (KDFe),
#   §19.6.8 (sessionKey), §19.6.9-11 / §19.6.17-18 (cpHash/rpHash, HMACs),
#   §21.2-21.4 (CFB parameter encryption), §16 (Names);
#   Linux drivers/char/tpm/tpm2-sessions.c (tpm2_KDFa, tpm2_KDFe,
#   tpm_buf_append_salt, tpm_buf_fill_hmac_session, tpm_buf_check_hmac_response).
#
# The flow modelled: a salted, unbound HMAC session (salt to the SRK by ECDH),
# then TPM2_Create under the SRK with the decrypt attribute, then
# TPM2_Unseal of a sealed object (with an authValue) with the encrypt attribute.
#
# Run: python3 session_vectors.py > session_vectors.txt
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

try:  # CFB moved to the "decrepit" module in cryptography 47
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:
    from cryptography.hazmat.primitives.ciphers.modes import CFB


def be16(v):
    return struct.pack(">H", v)


def be32(v):
    return struct.pack(">I", v)


def kdfa(key, label, u, v, nbytes):
    # Part 1 §11.4.10.2: K(i) = HMAC(key, [i]_32 || Label || 00 || U || V || [L]_32)
    out = b""
    i = 1
    while len(out) < nbytes:
        out += hmac.new(
            key, be32(i) + label + b"\x00" + u + v + be32(nbytes * 8), hashlib.sha256
        ).digest()
        i += 1
    return out[:nbytes]


def kdfe(z, label, party_u, party_v):
    # Part 1 Annex C.6.1, one block: H([1]_32 || Z || Label || 00 || U || V)
    return hashlib.sha256(be32(1) + z + label + b"\x00" + party_u + party_v).digest()


def strip_zeros(auth):
    # authValue in HMAC/KDF keys has trailing zeros removed (ms-tpm-20-ref
    # EntityGetAuthValue -> MemoryRemoveTrailingZeros; Linux
    # tpm_buf_append_hmac_session strips them too)
    return auth.rstrip(b"\x00")


def cfb(key_iv, data, encrypt):
    c = Cipher(algorithms.AES(key_iv[:16]), CFB(key_iv[16:32]))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def point_xy(pub):
    n = pub.public_numbers()
    return n.x.to_bytes(32, "big"), n.y.to_bytes(32, "big")


def pattern(start, n, step=1):
    return bytes((start + i * step) & 0xFF for i in range(n))


lines = []


def section(name):
    lines.append("[%s]" % name)


def out(name, value):
    lines.append("%s = %s" % (name, value.hex()))


# --- KDFa, two stand-alone cases -------------------------------------------
k1_key = pattern(0x00, 32)
k1_u = pattern(0x40, 32)
k1_v = pattern(0x80, 32)
section("kdfa-1")
out("key", k1_key)
out("label", b"ATH")
out("u", k1_u)
out("v", k1_v)
out("out", kdfa(k1_key, b"ATH", k1_u, k1_v, 32))

k2_key = pattern(0xA0, 20, 3)
k2_u = pattern(0x11, 16, 5)
k2_v = pattern(0x22, 24, 7)
section("kdfa-2")
out("key", k2_key)
out("label", b"CFB")
out("u", k2_u)
out("v", k2_v)
out("out", kdfa(k2_key, b"CFB", k2_u, k2_v, 45))  # 360 bits, 2 blocks, truncated

# --- KDFe stand-alone ------------------------------------------------------
e_z = pattern(0x5A, 32, 11)
e_u = pattern(0x01, 32, 2)
e_v = pattern(0x02, 32, 3)
section("kdfe")
out("z", e_z)
out("u", e_u)
out("v", e_v)
out("out", kdfe(e_z, b"SECRET", e_u, e_v))

# --- ECDH salt to the SRK ----------------------------------------------------
tpm_d = 0x7A3B1C5D9E2F40618273A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9
eph_d = 0x1F2E3D4C5B6A79881726354453627180F0E1D2C3B4A5968778695A4B3C2D1E0F
tpm_key = ec.derive_private_key(tpm_d, ec.SECP256R1())
eph_key = ec.derive_private_key(eph_d, ec.SECP256R1())
p_x, p_y = point_xy(tpm_key.public_key())
q_x, q_y = point_xy(eph_key.public_key())
z = eph_key.exchange(ec.ECDH(), tpm_key.public_key())
# the TPM side must derive the same Z
assert z == tpm_key.exchange(ec.ECDH(), eph_key.public_key())
salt = kdfe(z, b"SECRET", q_x, p_x)
# TPM2B_ENCRYPTED_SECRET holding a marshalled TPMS_ECC_POINT (Linux tpm_buf_append_salt)
enc_salt = be16(2 * (2 + 32)) + be16(32) + q_x + be16(32) + q_y
section("ecdh")
out("tpm_point_x", p_x)
out("tpm_point_y", p_y)
out("eph_scalar", eph_d.to_bytes(32, "big"))
out("eph_point_x", q_x)
out("eph_point_y", q_y)
out("z", z)
out("salt", salt)
out("encrypted_salt", enc_salt)

# --- Object names --------------------------------------------------------------
# Linux's NULL/SRK ECC template (TCG Provisioning Guidance key H) with unique = P
srk_public = (
    be16(0x0023)  # TPM_ALG_ECC
    + be16(0x000B)  # nameAlg SHA256
    + be32(0x00030472)  # fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|noDA|restricted|decrypt
    + be16(0)  # authPolicy
    + be16(0x0006) + be16(128) + be16(0x0043)  # AES-128-CFB
    + be16(0x0010)  # scheme NULL
    + be16(0x0003)  # NIST P-256
    + be16(0x0010)  # kdf NULL
    + be16(32) + p_x + be16(32) + p_y
)
srk_name = be16(0x000B) + hashlib.sha256(srk_public).digest()
section("names")
out("srk_public", srk_public)
out("srk_name", srk_name)

sealed_public = (
    be16(0x0008)  # TPM_ALG_KEYEDHASH
    + be16(0x000B)
    + be32(0x00000052)  # fixedTPM|fixedParent|userWithAuth
    + be16(0)
    + be16(0x0010)  # scheme NULL
    + be16(32) + pattern(0xC0, 32, 5)  # unique
)
sealed_name = be16(0x000B) + hashlib.sha256(sealed_public).digest()
out("sealed_public", sealed_public)
out("sealed_name", sealed_name)

# --- Session start (TPM2_StartAuthSession) -------------------------------------
nonce_caller0 = pattern(0x31, 32, 7)
nonce_tpm0 = pattern(0x93, 32, 13)
session_key = kdfa(salt, b"ATH", nonce_tpm0, nonce_caller0, 32)
section("start")
out("nonce_caller", nonce_caller0)
out("nonce_tpm", nonce_tpm0)
out("session_key", session_key)

# a session bound to an entity whose authValue has trailing zeros
bind_auth = b"bind\x00\x00"
out("bind_auth", bind_auth)
out("session_key_bound", kdfa(strip_zeros(bind_auth) + salt, b"ATH", nonce_tpm0, nonce_caller0, 32))

# --- Command 1: TPM2_Create under the SRK, decrypt (inSensitive encrypted) -----
cc_create = 0x00000153
attrs1 = 0x21  # continueSession | decrypt
parent_auth = b""  # SRK with empty authValue
nonce_caller1 = pattern(0x05, 32, 17)
hkey1 = session_key + strip_zeros(parent_auth)
create_plain = (
    # TPMS_SENSITIVE_CREATE: userAuth (TPM2B) || data (TPM2B), 37 bytes in all
    be16(8) + b"hunter2\x00" + be16(25) + pattern(0xD0, 25, 3)
)
cfb_cmd_key_iv = kdfa(hkey1, b"CFB", nonce_caller1, nonce_tpm0, 32)
create_cipher = cfb(cfb_cmd_key_iv, create_plain, True)
create_rest = sealed_public[:6] + be16(0)  # remaining parameters (stand-in bytes)
create_params = be16(len(create_cipher)) + create_cipher + create_rest
cp_hash1 = hashlib.sha256(be32(cc_create) + srk_name + create_params).digest()
cmd_hmac1 = hmac.new(hkey1, cp_hash1 + nonce_caller1 + nonce_tpm0 + bytes([attrs1]), hashlib.sha256).digest()
section("create")
out("cc", be32(cc_create))
out("attrs", bytes([attrs1]))
out("nonce_caller", nonce_caller1)
out("plain", create_plain)
out("cfb_key_iv", cfb_cmd_key_iv)
out("cipher", create_cipher)
out("params", create_params)
out("cp_hash", cp_hash1)
out("cmd_hmac", cmd_hmac1)

# response 1 (not encrypted): fresh nonceTPM, same attributes
nonce_tpm1 = pattern(0x6B, 32, 19)
create_rsp_params = be16(4) + b"\xaa\xbb\xcc\xdd" + be16(3) + b"\x01\x02\x03"
rp_hash1 = hashlib.sha256(be32(0) + be32(cc_create) + create_rsp_params).digest()
rsp_hmac1 = hmac.new(hkey1, rp_hash1 + nonce_tpm1 + nonce_caller1 + bytes([attrs1]), hashlib.sha256).digest()
out("nonce_tpm", nonce_tpm1)
out("rsp_params", create_rsp_params)
out("rp_hash", rp_hash1)
out("rsp_hmac", rsp_hmac1)

# --- Command 2: TPM2_Unseal, encrypt (outData encrypted) ------------------------
cc_unseal = 0x0000015E
attrs2 = 0x41  # continueSession | encrypt
sealed_auth = b"hunter2\x00"  # trailing zero: stripped from the HMAC/CFB key
nonce_caller2 = pattern(0x77, 32, 23)
hkey2 = session_key + strip_zeros(sealed_auth)
cp_hash2 = hashlib.sha256(be32(cc_unseal) + sealed_name).digest()
cmd_hmac2 = hmac.new(hkey2, cp_hash2 + nonce_caller2 + nonce_tpm1 + bytes([attrs2]), hashlib.sha256).digest()
section("unseal")
out("cc", be32(cc_unseal))
out("attrs", bytes([attrs2]))
out("auth", sealed_auth)
out("nonce_caller", nonce_caller2)
out("cp_hash", cp_hash2)
out("cmd_hmac", cmd_hmac2)

nonce_tpm2 = pattern(0xE1, 32, 29)
unseal_plain = pattern(0x40, 23, 9)  # the unsealed secret, 23 bytes (not a block multiple)
cfb_rsp_key_iv = kdfa(hkey2, b"CFB", nonce_tpm2, nonce_caller2, 32)
unseal_cipher = cfb(cfb_rsp_key_iv, unseal_plain, True)
assert cfb(cfb_rsp_key_iv, unseal_cipher, False) == unseal_plain
unseal_rsp_params = be16(len(unseal_cipher)) + unseal_cipher
rp_hash2 = hashlib.sha256(be32(0) + be32(cc_unseal) + unseal_rsp_params).digest()
rsp_hmac2 = hmac.new(hkey2, rp_hash2 + nonce_tpm2 + nonce_caller2 + bytes([attrs2]), hashlib.sha256).digest()
out("nonce_tpm", nonce_tpm2)
out("plain", unseal_plain)
out("cfb_key_iv", cfb_rsp_key_iv)
out("cipher", unseal_cipher)
out("rsp_params", unseal_rsp_params)
out("rp_hash", rp_hash2)
out("rsp_hmac", rsp_hmac2)

print("# Generated by hal-tpm-spi/tests/vectors/session_vectors.py; do not edit.")
print("# TPM 2.0 session KATs: KDFa, KDFe, ECDH P-256 salt, sessionKey, AES-128-CFB")
print("# parameter encryption, cpHash/rpHash and HMACs, object names, one [section]")
print("# per step; values are hex (trusted_core::test_util::vectors reads them).")
for line in lines:
    print(line)
