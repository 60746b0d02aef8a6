r"""Character-level text that ships with Python (``pydoc_data.topics``): vocabulary, split, n-gram baselines.

The corpus is the concatenation of ``pydoc_data.topics.topics[k]`` over the sorted keys (about 465 k
characters on CPython 3.11; nothing to download). Its length and SHA-256 are recorded, because the
text differs between Python versions.

* :func:`pydoc_corpus` -- the text, its vocabulary (every distinct character, sorted), the token ids,
  and a deterministic train/test split: the text is cut into chunks of ``chunk`` characters and every
  ``test_every``-th chunk is test (no seed: every model seed sees the same split);
* :func:`ngram_bits` -- the cross-entropy in **bits per character** of add-``alpha`` smoothed unigram and
  bigram models fitted on the train text and evaluated on the test text: the baselines a character
  model must beat, :math:`-\frac1n\sum_i \log_2 \hat p(x_i \mid x_{i-1})`.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np

from landscape._errors import check_int_at_least, check_positive

__all__ = ["Corpus", "pydoc_corpus", "ngram_bits", "windows"]


class Corpus(NamedTuple):
    """Token ids of the train and test text (int32), the vocabulary and the text's fingerprint."""

    train: np.ndarray
    test: np.ndarray
    vocab: tuple
    n_chars: int
    sha256: str


def pydoc_corpus(chunk: int = 1024, test_every: int = 10) -> Corpus:
    """The pydoc topics text as character ids, split by chunks (every ``test_every``-th chunk is test)."""
    import pydoc_data.topics as topics

    check_int_at_least("chunk", chunk, 2)
    check_int_at_least("test_every", test_every, 2)
    text = "".join(topics.topics[k] for k in sorted(topics.topics))
    vocab = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    n_chunks = -(-len(ids) // chunk)
    is_test = (np.arange(n_chunks) % test_every) == test_every - 1
    parts = np.array_split(ids, np.arange(chunk, len(ids), chunk))
    train = np.concatenate([p for p, t in zip(parts, is_test, strict=True) if not t])
    test = np.concatenate([p for p, t in zip(parts, is_test, strict=True) if t])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Corpus(train, test, vocab, len(text), digest)


def ngram_bits(train: np.ndarray, test: np.ndarray, vocab_size: int, alpha: float = 0.1) -> dict:
    """Bits per character of add-alpha unigram and bigram models (fitted on train, scored on test)."""
    check_positive("alpha", alpha)
    train, test = np.asarray(train), np.asarray(test)
    uni = np.bincount(train, minlength=vocab_size).astype(np.float64) + alpha
    uni /= uni.sum()
    big = np.full((vocab_size, vocab_size), alpha)
    np.add.at(big, (train[:-1], train[1:]), 1.0)
    big /= big.sum(1, keepdims=True)
    return {
        "unigram_bpc": float(-np.mean(np.log2(uni[test]))),
        "bigram_bpc": float(-np.mean(np.log2(big[test[:-1], test[1:]]))),
        "alpha": alpha,
    }


def windows(ids: np.ndarray, context: int, count: int | None = None, stride: int | None = None):
    """(x, y) of non-overlapping windows x = ids[s:s+context], y = ids[s+1:s+context+1]; first ``count``."""
    check_int_at_least("context", context, 1)
    stride = context if stride is None else stride
    starts = np.arange(0, len(ids) - context - 1, stride)
    if count is not None:
        starts = starts[:count]
    idx = starts[:, None] + np.arange(context)[None, :]
    return ids[idx].astype(np.int32), ids[idx + 1].astype(np.int32)
