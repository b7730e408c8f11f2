"""Text similarity for near-duplicate orders, hotspot clusters and reply suggestions.

A message is read as the router reads it (`router.normalise`: NFKC, no whitespace or punctuation,
lower case) and described by its set of character bigrams (short Chinese messages that say the same
thing in other words still share most of their bigrams; word sets share far fewer). Two messages
are as similar as the Jaccard index of their bigram sets.

Finding the similar ones among 100,000 open orders must not compare the new text with each of
them, so every order is indexed by MinHash locality-sensitive hashing: 32 multiply-shift hashes of
its bigrams make a signature, cut into 16 bands of two; each band is one integer key stored in the
`OrderBand` table with the order's time. Orders sharing at least one band key with the new text are
the candidates (two texts with Jaccard 0.5 share one with probability 0.99, at 0.3 with 0.78, at
0.05 — unrelated texts — with 0.04); only those are read and compared exactly.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .router import normalise

MAX_CHARS = 500  # the opening says what a message is about, and bounds the work per text
PERMUTATIONS = 32
ROWS_PER_BAND = 2
BANDS = PERMUTATIONS // ROWS_PER_BAND

_rng = np.random.default_rng(20190101)  # fixed: keys written by one process are read by all
_A = _rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BAND_SALT = _rng.integers(1, 2**63, size=BANDS, dtype=np.uint64)
_KEY_MASK = np.uint64(2**63 - 1)


def text_of(text: str) -> str:
    return normalise(text)[:MAX_CHARS]


@functools.lru_cache(maxsize=20_000)
def bigrams(text: str) -> frozenset[str]:
    """The character bigrams of a normalised text (a one-character text is its own shingle)."""
    if len(text) < 2:
        return frozenset([text]) if text else frozenset()
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def similarity(raw_a: str, raw_b: str) -> float:
    return jaccard(bigrams(text_of(raw_a)), bigrams(text_of(raw_b)))


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of a normalised text: PERMUTATIONS unsigned 32-bit values (the share
    of equal positions between two signatures estimates their Jaccard index). None when empty."""
    shingles = bigrams(text)
    if not shingles:
        return None
    codes = np.fromiter(
        ((ord(s[0]) << 21) | ord(s[-1]) for s in shingles), dtype=np.uint64, count=len(shingles)
    )
    with np.errstate(over="ignore"):
        mixed = codes * _MIX
        hashed = (mixed[:, None] * _A[None, :] + _B[None, :]) >> np.uint64(32)
    return hashed.min(axis=0).astype(np.uint32)


def keys_of(sig: np.ndarray | None) -> list[int]:
    """The LSH keys of a signature: one signed 63-bit integer per band (band number mixed in, so
    equal rows in different bands are different keys)."""
    if sig is None:
        return []
    rows = sig.astype(np.uint64).reshape(BANDS, ROWS_PER_BAND)
    with np.errstate(over="ignore"):
        keys = (rows[:, 0] * _MIX + rows[:, 1]) * _MIX + _BAND_SALT
    return [int(k) for k in keys & _KEY_MASK]


def band_keys(text: str) -> list[int]:
    return keys_of(signature(text))


def to_bytes(sig: np.ndarray | None) -> bytes:
    return b"" if sig is None else sig.astype("<u4").tobytes()


def estimates(sig: np.ndarray, stored: list[bytes]) -> np.ndarray:
    """Estimated Jaccard of one signature against stored ones (a stored empty one estimates 0)."""
    width = PERMUTATIONS * 4
    buf = b"".join(bytes(s) if len(s) == width else bytes(width) for s in stored)
    others = np.frombuffer(buf, dtype="<u4").reshape(len(stored), PERMUTATIONS)
    return (others == sig[None, :]).mean(axis=1)


def distance_m(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(h)))
