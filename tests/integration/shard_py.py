"""An independent reader (and a tiny writer) for the shard format of
docs/shards.md, written from the document alone: the integration test checks
the C++ packer against it, and tests/fuzz/run_fuzz.sh seeds the fuzzer with it.
zstd payloads are decompressed through libzstd with ctypes (no Python binding
is installed)."""
import ctypes
import ctypes.util
import struct

import numpy as np

SHARD_MAGIC = b"MTSHARD1"
FOOTER_MAGIC = b"MTSHIDX1"
HEADER = struct.Struct("<BBBBIIHHqddddII")  # 64 bytes
EXTENSION = struct.Struct("<IIIIIIIIddd")    # 56 bytes, version 2 only
ENTRY = struct.Struct("<QIIq")               # 24 bytes
FOOTER = struct.Struct("<QQII8s")            # 32 bytes


def _crc_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def zstd_decompress(payload: bytes, size: int) -> bytes:
    lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
    lib.ZSTD_decompress.restype = ctypes.c_size_t
    lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
    lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
    out = ctypes.create_string_buffer(size)
    n = lib.ZSTD_decompress(out, size, payload, len(payload))
    assert not lib.ZSTD_isError(n) and n == size, "zstd failed"
    return out.raw


def read_index(data: bytes):
    n, index_offset, index_crc, _, magic = FOOTER.unpack_from(data, len(data) - FOOTER.size)
    assert magic == FOOTER_MAGIC and data[:8] == SHARD_MAGIC
    index = data[index_offset:index_offset + n * ENTRY.size]
    assert crc32c(index) == index_crc
    return [ENTRY.unpack_from(index, i * ENTRY.size) for i in range(n)]


def decode_record(rec: bytes):
    (version, compression, encoding, flags, rows, cols, id_len, pid_len, label, slope, intercept, wc, ww,
     stored, raw) = HEADER.unpack_from(rec, 0)
    assert version in (1, 2)
    p = HEADER.size
    depth, rank, mask_dims, mask_stored, mask_raw, spacing = 1, 0, (), 0, 0, [0.0, 0.0, 0.0]
    if version == 2:
        depth, rank, md, mr, mc, mask_stored, mask_raw, _, *spacing = EXTENSION.unpack_from(rec, p)
        mask_dims = {0: (), 2: (mr, mc), 3: (md, mr, mc)}[rank]
        p += EXTENSION.size
    rid = rec[p:p + id_len].decode()
    pid = rec[p + id_len:p + id_len + pid_len].decode()
    p += id_len + pid_len
    payload, mask_payload = rec[p:p + stored], rec[p + stored:]
    assert len(payload) == stored and len(mask_payload) == mask_stored
    pixels = zstd_decompress(payload, raw) if compression == 1 else payload
    if encoding == 2:
        values = np.frombuffer(pixels, "<f4")
    else:
        q = np.frombuffer(pixels, "<i2" if encoding == 0 else "<u2").astype(np.float64)
        values = (q * slope + intercept).astype(np.float32)
    shape = (depth, rows, cols) if version == 2 and depth > 1 else (rows, cols)
    out = {"id": rid, "patient_id": pid, "label": label, "pixels": values.reshape(shape),
           "window": (wc, ww) if flags & 1 else None, "mask": None, "spacing": tuple(spacing)}
    if rank:
        mask = zstd_decompress(mask_payload, mask_raw) if compression == 1 else mask_payload
        out["mask"] = np.frombuffer(mask, np.uint8).reshape(mask_dims)
    return out


def read_shard(path):
    """Every record of a shard, each checked against its index CRC32C."""
    data = open(path, "rb").read()
    out = []
    for offset, length, crc, label in read_index(data):
        rec = data[offset:offset + length]
        assert crc32c(rec) == crc, f"{path}: crc mismatch at {offset}"
        r = decode_record(rec)
        assert r["label"] == label
        out.append(r)
    return out


def encode_record(rid, label, pixels, mask=None, spacing=(0.0, 0.0, 0.0)):
    """Uncompressed, slope 1: version 1 for int16 [rows, cols], version 2 for a
    volume [depth, rows, cols] (voxel spacing in mm) or with a uint8 mask of
    rank 2 or 3."""
    raw = pixels.astype("<i2").tobytes()
    rows, cols = pixels.shape[-2:]
    version = 2 if pixels.ndim == 3 or mask is not None else 1
    rec = HEADER.pack(version, 0, 0, 0, rows, cols, len(rid), 0, label, 1.0, 0.0, 0.0, 0.0, len(raw), len(raw))
    tail = b""
    if version == 2:
        m = b"" if mask is None else mask.astype(np.uint8).tobytes()
        dims = () if mask is None else mask.shape
        md, mr, mc = (1,) * (3 - len(dims)) + dims if dims else (1, 0, 0)
        rec += EXTENSION.pack(pixels.shape[0] if pixels.ndim == 3 else 1, len(dims), md, mr, mc, len(m), len(m), 0,
                              *spacing)
        tail = m
    return rec + rid.encode() + raw + tail


def write_shard(path, records):
    """records: list of (id, label, pixels[, mask]) as encode_record takes them."""
    body = bytearray(SHARD_MAGIC)
    entries = []
    for rid, label, pixels, *mask in records:
        rec = encode_record(rid, label, pixels, *mask)
        entries.append(ENTRY.pack(len(body), len(rec), crc32c(rec), label))
        body += rec
    index = b"".join(entries)
    footer = FOOTER.pack(len(records), len(body), crc32c(index), 0, FOOTER_MAGIC)
    open(path, "wb").write(bytes(body) + index + footer)
