"""Check a GGUF file before llama.cpp sees it, read its metadata, and hash it once.

llama.cpp can abort the whole process on a corrupt file, so every model path goes through
:func:`read_gguf` first: magic bytes, the header's key/value pairs and tensor table are parsed here in
pure Python (a memory map, ~50 ms for a 150k-token vocabulary; ``gguf.GGUFReader`` takes 1.6 s because it
builds numpy views of every array), and the tensor table is checked against the file size, which catches a
truncated download. Any problem is a :class:`ModelError` with one line that names the file.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deskscribe import paths
from deskscribe.errors import ModelError
from deskscribe.fileio import write_json_atomic

MAGIC = b"GGUF"
_SHORT_ARRAY = 64  # arrays longer than this are kept as their length only (vocabularies, merges)

# GGUF value types: id -> struct format (None = string / array, handled apart)
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9

# ggml tensor types: id -> (name, elements per block, bytes per block)  (from gguf.constants)
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
}
# general.file_type -> the quantization name people know (llama_ftype)
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
}


class _Corrupt(ModelError):
    """Internal: read_gguf turns it into a ModelError that names the file."""


@dataclass(frozen=True)
class ArrayInfo:
    """A long metadata array, kept as its element type and length (the values are not needed)."""

    type: int
    length: int


@dataclass(frozen=True)
class GGUFSummary:
    path: Path
    size: int
    version: int
    metadata: dict[str, Any]
    n_tensors: int
    n_params: int
    tensor_types: dict[str, int] = field(default_factory=dict)  # ggml type name -> tensor count
    projector_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # "mm.*" tensors, ggml order

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", "unknown"))

    def arch_key(self, suffix: str, default: Any = None) -> Any:
        return self.get(f"{self.architecture}.{suffix}", default)

    @property
    def context_length(self) -> int | None:
        value = self.arch_key("context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def embedding_length(self) -> int | None:
        value = self.arch_key("embedding_length")
        return int(value) if isinstance(value, int) else None

    @property
    def file_type(self) -> str:
        ftype = self.get("general.file_type")
        if isinstance(ftype, int):
            return FILE_TYPES.get(ftype, f"type {ftype}")
        if self.tensor_types:  # mmproj files often carry no file_type: report the dominant tensor type
            return max(self.tensor_types.items(), key=lambda kv: kv[1])[0]
        return "unknown"

    @property
    def has_chat_template(self) -> bool:
        return isinstance(self.get("tokenizer.chat_template"), str)

    @property
    def is_mmproj(self) -> bool:
        return self.architecture == "clip"

    @property
    def projector_type(self) -> str:
        value = self.get("clip.projector_type", self.get("clip.vision.projector_type", ""))
        return str(value)

    @property
    def projection_dim(self) -> int | None:
        """The size of what an mmproj hands the text model: must equal the text model's hidden size."""
        value = self.get("clip.vision.projection_dim")
        if isinstance(value, int) and value > 0:
            return value
        last = self.projector_shapes.get("mm.2.weight")  # LLaVA-style MLP: ggml shape (in, out)
        return int(last[1]) if last and len(last) == 2 else None


class _Cursor:
    """Little-endian reads from a memory map, raising _Corrupt instead of IndexError/struct.error."""

    def __init__(self, buf: mmap.mmap, size: int) -> None:
        self.buf, self.size, self.pos = buf, size, 0

    def take(self, fmt: str) -> Any:
        width = struct.calcsize("<" + fmt)
        if self.pos + width > self.size:
            raise _Corrupt("the header ends early")
        (value,) = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += width
        return value

    def string(self) -> str:
        length = self.take("Q")
        if self.pos + length > self.size:
            raise _Corrupt("a string runs past the end of the file")
        raw = self.buf[self.pos : self.pos + length]
        self.pos += length
        return raw.decode("utf-8", errors="replace")

    def skip_strings(self, count: int) -> None:
        for _ in range(count):
            length = self.take("Q")
            self.pos += length
            if self.pos > self.size:
                raise _Corrupt("a string array runs past the end of the file")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            return self.array()
        raise _Corrupt(f"unknown metadata value type {vtype}")

    def array(self) -> Any:
        etype, count = self.take("I"), self.take("Q")
        if count > self.size:
            raise _Corrupt("an array length is larger than the file")
        if count <= _SHORT_ARRAY:
            return [self.value(etype) for _ in range(count)]
        if etype == _STRING:
            self.skip_strings(count)
        elif etype in _SCALARS:
            self.pos += struct.calcsize("<" + _SCALARS[etype]) * count
        else:
            for _ in range(count):
                self.value(etype)
        if self.pos > self.size:
            raise _Corrupt("an array runs past the end of the file")
        return ArrayInfo(etype, count)


def _parse(cur: _Cursor, path: Path) -> GGUFSummary:
    version = cur.take("I")
    if version not in (2, 3):
        raise _Corrupt(f"unsupported GGUF version {version}")
    n_tensors, n_kv = cur.take("Q"), cur.take("Q")
    if n_tensors > 1_000_000 or n_kv > 1_000_000:
        raise _Corrupt("implausible tensor/key counts")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.take("I"))
    tensors = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.take("I")
        if n_dims > 8:
            raise _Corrupt(f"tensor {name} has {n_dims} dimensions")
        dims = [cur.take("Q") for _ in range(n_dims)]
        tensors.append((name, dims, cur.take("I"), cur.take("Q")))
    align = metadata.get("general.alignment", 32)
    align = align if isinstance(align, int) and align > 0 else 32
    data_start = (cur.pos + align - 1) // align * align
    n_params, need = 0, data_start
    types: dict[str, int] = {}
    shapes = {name: tuple(dims) for name, dims, _t, _o in tensors if name.startswith("mm.")}
    for _name, dims, ttype, offset in tensors:
        elements = 1
        for d in dims:
            elements *= d
        n_params += elements
        tname, block, nbytes = GGML_TYPES.get(ttype, (f"type{ttype}", 0, 0))
        types[tname] = types.get(tname, 0) + 1
        if block:
            need = max(need, data_start + offset + elements // block * nbytes)
    if need > cur.size:
        raise _Corrupt(f"truncated: the tensors need {need:,} bytes but the file has {cur.size:,}")
    return GGUFSummary(path, cur.size, version, metadata, n_tensors, n_params, types, shapes)


def read_gguf(path: str | os.PathLike[str], *, what: str = "model file") -> GGUFSummary:
    """Validate ``path`` as a complete GGUF file and return its metadata; ModelError otherwise."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"{what} not found: {path}")
    if not path.is_file():
        raise ModelError(f"{what} {path} is not a file")
    try:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(4)
            if head != MAGIC:
                raise ModelError(
                    f"{what} {path} is not a GGUF file (it starts with {head!r}, not b'GGUF'); "
                    "point the setting at a .gguf model"
                )
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                cur = _Cursor(buf, size)
                cur.pos = 4
                return _parse(cur, path)
    except _Corrupt as exc:
        raise ModelError(f"{what} {path} is corrupt or incomplete ({exc}); download it again") from exc
    except OSError as exc:
        raise ModelError(f"{what} {path} cannot be read ({exc.strerror or exc})") from exc


def _hash_cache_path() -> Path:
    return paths.models_dir() / "sha256-cache.json"


def _load_hash_cache() -> dict[str, Any]:
    try:
        data = json.loads(_hash_cache_path().read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_hash_cache(cache: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs a re-hash next time."""
    try:
        write_json_atomic(_hash_cache_path(), cache)
    except OSError:
        return


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The file's sha256, cached by (path, size, mtime) in the data folder: big models are hashed once."""
    path = Path(path).expanduser().resolve()
    st = path.stat()
    key = str(path)
    cache = _load_hash_cache()
    hit = cache.get(key)
    if isinstance(hit, dict) and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
        return str(hit["sha256"])
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    cache = _load_hash_cache()  # re-read: another process may have added entries meanwhile
    cache[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": value}
    _save_hash_cache(cache)
    return value
