r"""Data sets of the real-model bridge, all local (no download), all seeded.

* :func:`digits` -- scikit-learn's bundled 8x8 handwritten digits (1797 images, 10
  classes), pixels scaled to [0, 1], split train/test by a seeded permutation.
* :func:`markov_chain` / :func:`markov_language` -- a synthetic language: an order-``order``
  Markov chain over ``vocab`` tokens whose transition rows are drawn from a symmetric
  Dirichlet(``concentration``); sequences are sampled with ``lax.scan``, starting from the
  stationary distribution of the context chain, so that the exact entropy rate
  :math:`H = -\sum_c \pi(c) \sum_x P(x|c)\log P(x|c)` (:func:`entropy_rate`) is the lowest
  next-token cross-entropy any model can reach; :math:`e^{H}` is the optimal perplexity.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least, check_positive

__all__ = ["Split", "MarkovChain", "digits", "markov_chain", "entropy_rate", "markov_language"]


class Split(NamedTuple):
    """A supervised split: inputs x (n, ...) and integer labels y (n,), train and test."""

    x_train: jax.Array
    y_train: jax.Array
    x_test: jax.Array
    y_test: jax.Array


class MarkovChain(NamedTuple):
    """P(x_t | x_{t-order..t-1}) as a (vocab^order, vocab) table; contexts indexed base ``vocab``."""

    transition: np.ndarray  # (vocab**order, vocab), rows sum to 1
    stationary: np.ndarray  # (vocab**order,) stationary law of the context chain
    vocab: int
    order: int


def digits(seed: int = 0, test_fraction: float = 0.25) -> Split:
    """The 8x8 digits (x in [0,1]^64, y in 0..9), split by a permutation drawn from ``seed``."""
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise LandscapeError(f"test_fraction must lie in (0, 1); got {test_fraction!r}.")
    data = load_digits()
    x = np.asarray(data.data, dtype=np.float32) / 16.0
    y = np.asarray(data.target, dtype=np.int32)
    perm = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    te, tr = perm[:n_test], perm[n_test:]
    return Split(jnp.asarray(x[tr]), jnp.asarray(y[tr]), jnp.asarray(x[te]), jnp.asarray(y[te]))


def markov_chain(seed: int = 0, vocab: int = 12, order: int = 2, concentration: float = 0.3) -> MarkovChain:
    """A random order-``order`` chain: each row P(.|context) ~ Dirichlet(concentration * 1_vocab)."""
    check_int_at_least("vocab", vocab, 2)
    check_int_at_least("order", order, 1)
    check_positive("concentration", concentration)
    if vocab**order > 4096:
        raise LandscapeError(f"vocab**order must be <= 4096 (a small language); got {vocab}**{order}.")
    rng = np.random.default_rng(seed)
    n_ctx = vocab**order
    trans = rng.dirichlet(np.full(vocab, concentration), size=n_ctx)
    trans = np.maximum(trans, 1e-6)  # keep every transition possible (finite cross-entropy)
    trans /= trans.sum(1, keepdims=True)
    # context chain: c = (x_{t-order}, ..., x_{t-1}) -> c' = (x_{t-order+1}, ..., x_t)
    big = np.zeros((n_ctx, n_ctx))
    shift = vocab ** (order - 1)
    for c in range(n_ctx):
        nxt = (c % shift) * vocab + np.arange(vocab)
        big[c, nxt] += trans[c]
    evals, evecs = np.linalg.eig(big.T)
    pi = np.real(evecs[:, np.argmin(np.abs(evals - 1.0))])
    pi = np.abs(pi) / np.abs(pi).sum()
    return MarkovChain(trans, pi, vocab, order)


def entropy_rate(chain: MarkovChain) -> float:
    """H = -sum_c pi(c) sum_x P(x|c) log P(x|c), in nats per token (exp(H) = optimal perplexity)."""
    p = chain.transition
    return float(-np.sum(chain.stationary[:, None] * p * np.log(p)))


def _sample(chain: MarkovChain, key, n_seq: int, seq_len: int):
    """Token sequences (n_seq, order + seq_len): stationary start context, then seq_len steps."""
    v, o = chain.vocab, chain.order
    logp = jnp.log(jnp.asarray(chain.transition, jnp.float32))
    k0, k1 = jax.random.split(key)
    c0 = jax.random.choice(k0, v**o, (n_seq,), p=jnp.asarray(chain.stationary, jnp.float32))
    shift = v ** (o - 1)

    def step(c, k):
        x = jax.random.categorical(k, logp[c])
        return (c % shift) * v + x, x

    _, xs = jax.lax.scan(step, c0, jax.random.split(k1, seq_len))
    start = jnp.stack([(c0 // v ** (o - 1 - i)) % v for i in range(o)], axis=1)
    return jnp.concatenate([start, xs.T], axis=1).astype(jnp.int32)


def _windows(seqs, order: int):
    """(contexts (n, order), next tokens (n,)) from every position of every sequence."""
    n_seq, length = seqs.shape
    idx = jnp.arange(length - order)[:, None] + jnp.arange(order)[None, :]
    ctx = seqs[:, idx].reshape(-1, order)
    nxt = seqs[:, order:].reshape(-1)
    return ctx, nxt


def markov_language(
    chain: MarkovChain, key, n_train: int = 160, n_test: int = 64, seq_len: int = 128
) -> Split:
    """Next-token split of the chain: x = the ``order`` previous tokens, y = the next token."""
    for name, val in (("n_train", n_train), ("n_test", n_test), ("seq_len", seq_len)):
        check_int_at_least(name, val, 1)
    k_tr, k_te = jax.random.split(key)
    x_tr, y_tr = _windows(_sample(chain, k_tr, n_train, seq_len), chain.order)
    x_te, y_te = _windows(_sample(chain, k_te, n_test, seq_len), chain.order)
    return Split(x_tr, y_tr, x_te, y_te)
