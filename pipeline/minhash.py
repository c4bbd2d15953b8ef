"""Near-duplicate fingerprints: MinHash signatures over word (or, for Chinese, character) 5-shingles,
cut into LSH bands so that a copy is found by looking up a handful of band hashes."""

from __future__ import annotations

import hashlib
import re

import numpy

from pipeline.language import to_simplified

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS  # 16 bands of 4 rows: pairs above ~0.5 Jaccard meet in some band
SHINGLE = 5
MIN_TOKENS = 40  # shorter texts (a headline, a teaser) say too little to call anything a copy
SEED = 20251208
MERSENNE_PRIME = numpy.uint64((1 << 61) - 1)
MAX_HASH = numpy.uint64((1 << 32) - 1)
# Universal hashing a*x + b mod p, one (a, b) pair per permutation (the scheme datasketch uses; importing
# datasketch itself pulls in scipy and would add most of a second to every crawl's start).
_generator = numpy.random.RandomState(SEED)
_A = _generator.randint(1, int(MERSENNE_PRIME), size=NUM_PERM, dtype=numpy.uint64)
_B = _generator.randint(0, int(MERSENNE_PRIME), size=NUM_PERM, dtype=numpy.uint64)
TOKEN = re.compile(r"[a-z0-9\u00c0-\u024f]+|[\u3400-\u9fff]")


def tokens(text: str) -> list[str]:
    """Words for alphabetic text, single characters for Chinese; case, script and punctuation ignored."""
    return TOKEN.findall(to_simplified(text.lower()))


def signature(text: str | None) -> numpy.ndarray | None:
    """The text's MinHash signature, or None when it is too short to fingerprint."""
    words = tokens(text or "")
    if len(words) < MIN_TOKENS:
        return None
    # Each shingle is its words joined by spaces, in UTF-8 (encoding the words once gives the same bytes),
    # hashed to 4 bytes read as a little-endian integer: all of them converted at once.
    encoded = [word.encode("utf-8") for word in words]
    shingles = {b" ".join(encoded[i : i + SHINGLE]) for i in range(len(encoded) - SHINGLE + 1)}
    digests = b"".join([hashlib.blake2b(shingle, digest_size=4).digest() for shingle in shingles])
    hashes = numpy.frombuffer(digests, dtype="<u4").astype(numpy.uint64)
    permuted = (hashes[:, None] * _A + _B) % MERSENNE_PRIME & MAX_HASH
    return permuted.min(axis=0).astype(numpy.uint32)


def band_hashes(values: numpy.ndarray) -> list[int]:
    """One 63-bit hash per band (fits an SQLite INTEGER)."""
    hashes = []
    for band in range(BANDS):
        chunk = values[band * ROWS : (band + 1) * ROWS].tobytes()
        hashes.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "big") >> 1)
    return hashes


def similarity(first: numpy.ndarray, second: numpy.ndarray) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets."""
    return float(numpy.mean(first == second))


def to_blob(values: numpy.ndarray) -> bytes:
    return values.astype("<u4").tobytes()


def from_blob(blob: bytes) -> numpy.ndarray:
    return numpy.frombuffer(blob, dtype="<u4")
