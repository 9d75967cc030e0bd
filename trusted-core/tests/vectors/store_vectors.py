#!/usr/bin/env python3
"""Independent known answers for the key store's slot format (trusted-core
src/store.rs, format version 1), made with Python's zlib and struct only.

Run once: `python3 store_vectors.py > store_vectors.txt`.

A committed slot is: the commit mark 5a a5 3c c3 96 69 0f f0 repeated over
8 bytes rounded up to WRITE_SIZE; the header, little endian: magic "TKBS",
version u16, header length u16, sequence u32, blob length u32, source name
(8 bytes, zero padded), reserved u32 (0), CRC-32; then the blob, padded with
0xff to WRITE_SIZE. The CRC-32 is zlib.crc32 over the header without its last
four bytes, then the blob, stored in the header's last four bytes.
"""
import struct, zlib

MARK = bytes.fromhex("5aa53cc396690ff0")

def round_up(n, unit):
    return -(-n // unit) * unit

def commit_unit(write_size):
    n = round_up(len(MARK), write_size)
    return (MARK * n)[:n]

def slot(write_size, seq, source, blob, version=1, extra=b""):
    fields = struct.pack("<4sHHII8sI", b"TKBS", version, 32 + len(extra), seq, len(blob),
                         source.encode().ljust(8, b"\0"), 0) + extra
    crc = zlib.crc32(fields + blob)
    header = fields + struct.pack("<I", crc)
    image = header + blob
    image += b"\xff" * (round_up(len(image), write_size) - len(image))
    return commit_unit(write_size) + image, crc

cases = [
    # First writes to an empty store: slot A, sequence 1.
    ("slot-w1", 1, 1, "tee", bytes(range(65)), 1, b""),
    ("slot-w8", 8, 1, "caam", b"\xb1" * 85, 1, b""),
    ("slot-w32", 32, 1, "tpm", b"\x5a" * 236, 1, b""),
    # A slot with a large sequence number, and the next write after it.
    ("seq-w8", 8, 0x01020304, "dcp", b"\xc4" * 85, 1, b""),
    ("next-w8", 8, 0x01020305, "dcp", b"\xd5" * 101, 1, b""),
    # A later format: version 2 with an 8-byte longer header (fields this
    # firmware does not know), same fixed fields, CRC in its last 4 bytes.
    ("future-v2", 1, 9, "tee", b"\x11" * 48, 2, b"\x01\x02\x03\x04\x05\x06\x07\x08"),
]

print("# Key store slot images (store_vectors.py; zlib CRC-32).")
for name, write_size, seq, source, blob, version, extra in cases:
    image, crc = slot(write_size, seq, source, blob, version, extra)
    print(f"[{name}]")
    print(f"write_size = {write_size:02x}")
    print(f"seq = {seq:08x}")
    print(f"source = {source.encode().hex()}")
    print(f"version = {version:04x}")
    print(f"blob = {blob.hex()}")
    print(f"crc = {crc:08x}")
    print(f"image = {image.hex()}")
    print()
