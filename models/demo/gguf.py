"""A small GGUF v3 writer (little-endian), enough for the demo model: scalar, string and array
metadata, F32 and F16 tensors, data aligned to 32 bytes."""
import struct

import numpy as np

UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_F16 = 0, 1
ALIGNMENT = 32


class U32(int):
    pass


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(v):
    """(type, bytes) of one metadata value. Python int -> INT32 unless wrapped in U32."""
    if isinstance(v, bool):
        return BOOL, struct.pack("<?", v)
    if isinstance(v, U32):
        return UINT32, struct.pack("<I", int(v))
    if isinstance(v, int):
        return INT32, struct.pack("<i", v)
    if isinstance(v, float):
        return FLOAT32, struct.pack("<f", v)
    if isinstance(v, str):
        return STRING, _str(v)
    if isinstance(v, list):
        if not v:
            raise ValueError("empty array")
        t0, _ = _value(v[0])
        parts = []
        for x in v:
            t, b = _value(x)
            if t != t0:
                raise ValueError("mixed array")
            parts.append(b)
        return ARRAY, struct.pack("<IQ", t0, len(v)) + b"".join(parts)
    raise TypeError(type(v))


def write(path, metadata, tensors):
    """metadata: dict key -> value (order kept). tensors: list of (name, numpy array, ggml_type).

    A numpy array of shape (rows, cols) is written row-major as is, with GGML shape [cols, rows]
    (GGML lists the fastest-varying dimension first)."""
    md = dict(metadata)
    md["general.alignment"] = U32(ALIGNMENT)
    out = bytearray()
    out += b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(md))
    for k, v in md.items():
        t, b = _value(v)
        out += _str(k) + struct.pack("<I", t) + b
    blobs, offset = [], 0
    for name, arr, gtype in tensors:
        dt = {GGML_F32: np.float32, GGML_F16: np.float16}[gtype]
        data = np.ascontiguousarray(arr, dtype=dt).tobytes()
        dims = list(reversed(arr.shape))
        out += _str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", gtype, offset)
        blobs.append((offset, data))
        offset += len(data)
        offset = (offset + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    out += b"\0" * ((-len(out)) % ALIGNMENT)
    base = len(out)
    for off, data in blobs:
        out += b"\0" * (base + off - len(out))
        out += data
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


def read(path):
    """The metadata (dict) and tensors (dict name -> numpy array, shape reversed from GGML's) of a
    GGUF v3 file with F32 and F16 tensors: what write() produces, read back to continue training."""
    with open(path, "rb") as f:
        buf = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(t):
        if t == STRING:
            return string()
        if t == ARRAY:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(scalar[t])

    if buf[:4] != b"GGUF":
        raise ValueError(f"{path}: not a GGUF file")
    pos = 4
    version, n_tensors, n_kv = take("IQQ")
    if version != 3:
        raise ValueError(f"{path}: GGUF version {version}, expected 3")
    metadata = {}
    for _ in range(n_kv):
        k = string()
        metadata[k] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        gtype, offset = take("I"), take("Q")
        infos.append((name, dims, gtype, offset))
    align = metadata.get("general.alignment", ALIGNMENT)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, dims, gtype, offset in infos:
        dt = {GGML_F32: np.float32, GGML_F16: np.float16}[gtype]
        count = int(np.prod(dims))
        arr = np.frombuffer(buf, dtype=dt, count=count, offset=base + offset)
        tensors[name] = arr.reshape(list(reversed(dims))).astype(np.float32)
    return metadata, tensors
