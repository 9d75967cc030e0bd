#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into corpus/<target>/seed-*.

Seeds come from the committed test vectors (real blobs: OP-TEE TEE blobs,
Linux trusted_dcp blobs, the CAAM model's blob, key-store slot images, the
TPMKey blobs Linux 6.12 wrote on swtpm, the Linux 6.1 TPMKey layout) and from well-formed answers of each device, in the
input format each target reads (see the doc comment of each target). Run
from anywhere: `python3 fuzz/make_seeds.py`. Stdlib only.
"""
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
SEP = b"\xff\xfe"


def sections(path):
    out, cur = {}, None
    for line in (ROOT / path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            cur = out.setdefault(line.strip("[]"), {})
        elif "=" in line and cur is not None:
            k, v = (x.strip() for x in line.split("=", 1))
            cur[k] = v
    return out


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data)


def tpm(tag, rc, body):
    return struct.pack(">HII", tag, 10 + len(body), rc) + body


def linux_6_1_blob():
    # trustctl/tests/inspect.rs: the layout of research linux-formats.md 5.1.
    b = bytes([0x30, 0x81, 0xE9, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0A, 0x01, 0x05])
    b += bytes([0xA0, 0x03, 0x01, 0x01, 0x01, 0x02, 0x05, 0x00, 0x81, 0x00, 0x00, 0x01])
    b += bytes([0x04, 0x30, 0x00, 0x2E, 0x00, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x40])
    b += bytes([0x00, 0x00, 0x00, 0x10, 0x00, 0x20]) + bytes([0x5C] * 32)
    b += bytes([0x04, 0x81, 0xA0, 0x00, 0x9E]) + bytes([0xA7] * 158)
    assert len(b) == 236
    return b


def main():
    core = sections("trusted-core/tests/vectors/vectors.txt")
    dcp = sections("hal-dcp/tests/vectors/dcp_vectors.txt")
    caam = sections("hal-caam/tests/vectors/sim_blob_kat.txt")
    store = sections("trusted-core/tests/vectors/store_vectors.txt")

    for name in ("tee-1", "tee-2", "tee-3"):
        write("tee_blob", name, bytes.fromhex(core[name]["blob"]))
    write("tee_blob", "tee-huk-1", bytes.fromhex(dcp["tee-huk-1"]["blob"]))
    write("tee_blob", "key-32", bytes(range(32)))

    for name in ("blob-e", "blob-unique-1", "blob-otp-1"):
        write("dcp_blob", name, bytes.fromhex(dcp[name]["blob"]))
    write("caam_blob", "sim-blob", bytes.fromhex(caam["sim-blob"]["blob"]))
    write("caam_blob", "key-32", bytes(range(32)))

    # caam_status: a decoded word, then per job flags, status, pointer.
    ok = bytes([0]) + struct.pack(">II", 0, 0)
    write("caam_status", "all-ok", struct.pack(">I", 0) + ok * 8)
    write("caam_status", "icv", struct.pack(">I", 0x2000_001A) + ok * 3
          + bytes([0]) + struct.pack(">II", 0x2000_001A, 0))
    write("caam_status", "deco", struct.pack(">I", 0x4000_0004) + bytes([1])
          + struct.pack(">II", 0x4000_0004, 0x8000_0200))

    blob = linux_6_1_blob()
    write("tpm_blob", "linux-6.1", blob)
    linux = sections("hal-tpm-spi/tests/vectors/linux-6.12-tpm.txt")
    for name in ("linux-plain", "linux-pcr16"):
        write("tpm_blob", name, bytes.fromhex(linux[name]["blob"]))
    raw = struct.pack(">H", 4) + b"\x01\x02\x03\x04" + struct.pack(">H", 14) \
        + bytes([0, 8, 0, 11, 0, 0, 0, 0x40, 0, 0, 0, 0x10, 0, 0])
    write("tpm_blob", "pre-5.13-raw", raw)

    # tpm_responses: flags (1 fixed headers, 2 password sessions), ops;
    # the blob; answers (with fixed headers: tag selector byte + body).
    load = bytes([1]) + bytes([0x80, 0, 0, 1]) + struct.pack(">I", 4) + bytes([0, 2, 0, 11])
    unseal = bytes([1]) + struct.pack(">I", 34) + bytes([0, 32]) + bytes([7] * 32)
    flush = bytes([0])
    write("tpm_responses", "unseal-password",
          SEP.join([bytes([3, 3]), blob, load, unseal, flush]))
    write("tpm_responses", "unseal-linux-6.12",
          SEP.join([bytes([3, 3]), bytes.fromhex(linux["linux-plain"]["blob"]), load, unseal, flush]))
    startup = bytes([0])
    rand = bytes([0, 0, 40]) + bytes(range(40))
    write("tpm_responses", "init-random",
          SEP.join([bytes([3, 0, 1]), blob, startup, rand]))
    write("tpm_responses", "raw-header",
          SEP.join([bytes([0, 0, 10]), b"", tpm(0x8001, 0, b""), tpm(0x8001, 0x100, b"")]))

    # tpm_spi: flags, burst max (u16), fault kinds (u16), fault arg (u16),
    # ops; the MISO plan; canned responses.
    control = bytes([0]) + struct.pack(">HHH", 64, 0, 0) + bytes([0, 4, 5])
    write("tpm_spi", "init-startup-random",
          SEP.join([control, b"", tpm(0x8001, 0, b""), tpm(0x8001, 0, bytes([0, 48]) + bytes(48))]))
    control = bytes([0]) + struct.pack(">HHH", 1, 0b1_0000_0001, 3) + bytes([0, 7])
    write("tpm_spi", "wait-states", SEP.join([control, b"", tpm(0x8001, 0, b"")]))
    write("tpm_spi", "raw-miso", SEP.join([bytes([0x31, 0, 1, 3]), bytes([1, 0xA1, 0x90, 0x01]) * 8]))

    # mmio_tis: flags, burst max (u16), fault kinds (u16), fault arg (u16),
    # ops; the read plan (delta u16, xor u32 records); canned responses.
    control = bytes([0]) + struct.pack(">HHH", 64, 0, 0) + bytes([0, 4, 5, 6])
    answers = [tpm(0x8001, 0, b""), tpm(0x8001, 0, bytes([0, 48]) + bytes(48))]
    write("mmio_tis", "init-startup-random", SEP.join([control, b""] + answers))
    write("mmio_tis", "one-flip", SEP.join([control, struct.pack(">HI", 5, 1 << 7)] + answers))
    control = bytes([0]) + struct.pack(">HHH", 1, 0b10_0000_0001, 3) + bytes([0, 7, 3])
    write("mmio_tis", "faults", SEP.join([control, b"", tpm(0x8001, 0, b"")]))

    for i, text in enumerate([
        "new 32",
        "new 64 keyhandle=0x81000001 hash=sha256 migratable=0",
        "load " + core["tee-1"]["blob"],
        "load " + core["tee-1"]["blob"] + " keyhandle=0x81000001",
        "update blobauth=secret",
        "new 32 keyhandle=0x81000001 keyauth=" + "00" * 20 + " blobauth=" + "ab" * 20,
        "new 32 pcrinfo=0 pcrlock=16 policyhandle=0x3000000",
        "new 32 hash=sha1 policydigest=" + "11" * 20,
    ]):
        write("keyctl", f"payload-{i}", text.encode())

    # bsec_smc: flags; SMC answers (a0..a3); BSEC register reads.
    answers = b"".join(struct.pack(">IIII", 0, v, 0, 0) for v in
                       [0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C] * 4)
    write("bsec_smc", "smc-ok", SEP.join([bytes([0]), answers, b""]))
    write("bsec_smc", "regs", SEP.join([bytes([1]), b"", struct.pack(">I", 0x0000_0001) * 64]))

    # mmio_*: flags and timeout; the read plan (delta u16, xor u32 records).
    for t in ("mmio_dcp", "mmio_caam", "mmio_stm32mp1"):
        write(t, "clean", SEP.join([bytes([0, 200]), b""]))
        write(t, "one-flip", SEP.join([bytes([0, 200]), struct.pack(">HI", 3, 1 << 4)]))
        write(t, "flags-1", SEP.join([bytes([1, 200]), struct.pack(">HI", 17, 0x8000_0000)]))

    # store: geometry | source << 2, write length, write bytes, flash image.
    geometry = {"01": 0, "08": 1, "20": 2}
    sources = ["746565", "74706d", "6361616d", "646370"]
    for name, v in store.items():
        if "image" not in v or v.get("write_size") not in geometry:
            continue
        g = geometry[v["write_size"]]
        src = sources.index(v["source"]) if v.get("source") in sources else 0
        write("store", name, bytes([g | src << 2, 0]) + bytes.fromhex(v["image"]))
        write("store", name + "-rewrite", bytes([g | src << 2, 33]) + bytes([0xB7] * 33)
              + bytes.fromhex(v["image"]))


if __name__ == "__main__":
    main()
