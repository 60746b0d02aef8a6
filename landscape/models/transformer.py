r"""A small character-level transformer language model in plain JAX, trained on the pydoc topics text.

Pre-LayerNorm decoder blocks (GPT-2 style), ``layers`` blocks of width ``width`` with ``heads`` causal
heads over a context of ``context`` characters:

.. math::
    h_0 = E[x] + P, \quad
    a = h + W_o\,\mathrm{Attn}(W_q u, W_k u, W_v u),\ u = \mathrm{LN}_1(h), \quad
    h' = a + W_2\,\mathrm{gelu}(W_1\,\mathrm{LN}_2(a)),

logits :math:`= W_{\rm head}\,\mathrm{LN}_f(h_L)`. The **quantized weights** ``w`` are the attention and
MLP matrices :math:`W_q, W_k, W_v, W_o, W_1, W_2` of every block (``params["dense"]``, rows = output
channels); embeddings, LayerNorms, biases and the head stay in full precision.

The loss of the bridge, :math:`L(w)`, is the mean next-character cross-entropy on a fixed set of
training windows (``Task.data.x_train``); the test metric is bits per character on held-out windows.
Training is minibatch AdamW over random windows of the whole training text (seeded).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import check_int_at_least
from landscape.models.data import Split
from landscape.models.fit import fit, fitted_task
from landscape.models.nets import Task, Windows, cross_entropy
from landscape.models.text import ngram_bits, pydoc_corpus, windows

__all__ = ["transformer_init", "transformer_apply", "transformer_inputs", "char_transformer"]

LOG2E = 1.0 / np.log(2.0)


def _ln(p, x):
    mu = jnp.mean(x, -1, keepdims=True)
    var = jnp.var(x, -1, keepdims=True)
    return (x - mu) * jax.lax.rsqrt(var + 1e-5) * p["g"] + p["b"]


def _lin(layer, x):
    return x @ layer["w"].T + layer["b"]


def transformer_init(key, vocab: int, width: int = 64, layers: int = 1, mlp: int = 128, context: int = 64):
    """Parameters: embed (V, D), pos (C, D), dense [Wq, Wk, Wv, Wo, W1, W2] x layers, ln, head."""
    keys = jax.random.split(key, 3 + 6 * layers)
    dense, ln = [], []
    std = 0.02
    for i in range(layers):
        k = keys[3 + 6 * i : 9 + 6 * i]
        shapes = [(width, width)] * 4 + [(mlp, width), (width, mlp)]
        for j, (kk, s) in enumerate(zip(k, shapes, strict=True)):
            scale = std / np.sqrt(2 * layers) if j in (3, 5) else std  # residual projections (GPT-2)
            dense.append({"w": jax.random.normal(kk, s, jnp.float32) * scale, "b": jnp.zeros((s[0],))})
        ln.append({"g": jnp.ones((width,)), "b": jnp.zeros((width,))})
        ln.append({"g": jnp.ones((width,)), "b": jnp.zeros((width,))})
    ln.append({"g": jnp.ones((width,)), "b": jnp.zeros((width,))})
    return {
        "embed": jax.random.normal(keys[0], (vocab, width), jnp.float32) * std,
        "pos": jax.random.normal(keys[1], (context, width), jnp.float32) * std,
        "dense": dense,
        "ln": ln,
        "head": {
            "w": jax.random.normal(keys[2], (vocab, width), jnp.float32) * std,
            "b": jnp.zeros((vocab,)),
        },
    }


def _forward(params, x, heads: int, collect: bool):
    n, c = x.shape
    h = params["embed"][x] + params["pos"][:c]
    d = h.shape[-1]
    dh = d // heads
    mask = jnp.tril(jnp.ones((c, c), bool))
    inputs = []
    n_layers = len(params["dense"]) // 6
    for i in range(n_layers):
        wq, wk, wv, wo, w1, w2 = params["dense"][6 * i : 6 * i + 6]
        u = _ln(params["ln"][2 * i], h)
        q, k, v = (_lin(m, u).reshape(n, c, heads, dh) for m in (wq, wk, wv))
        att = jnp.einsum("nqhd,nkhd->nhqk", q, k) / np.sqrt(dh)
        att = jax.nn.softmax(jnp.where(mask, att, -1e9), axis=-1)
        o = jnp.einsum("nhqk,nkhd->nqhd", att, v).reshape(n, c, d)
        h = h + _lin(wo, o)
        u2 = _ln(params["ln"][2 * i + 1], h)
        g = jax.nn.gelu(_lin(w1, u2))
        h = h + _lin(w2, g)
        if collect:
            inputs += [u.reshape(-1, d)] * 3 + [
                o.reshape(-1, d),
                u2.reshape(-1, d),
                g.reshape(-1, g.shape[-1]),
            ]
    logits = _lin(params["head"], _ln(params["ln"][-1], h))
    return logits, inputs


def transformer_apply(params, x, heads: int = 4):
    """Next-character logits (n, C, V) for windows x (n, C); flattened to (n*C, V)."""
    logits = _forward(params, x, heads, False)[0]
    return logits.reshape(-1, logits.shape[-1])


def transformer_inputs(params, x, heads: int = 4):
    """[X_l]: the (n*C, in) input of each quantized matrix (Wq, Wk, Wv share LN_1(h))."""
    return _forward(params, x, heads, True)[1]


def char_transformer(
    seed: int = 0,
    *,
    layers: int = 1,
    width: int = 64,
    mlp: int = 128,
    context: int = 64,
    steps: int = 1500,
    batch: int = 32,
    learning_rate: float = 3e-3,
    weight_decay: float = 0.01,
    n_fit: int = 32,
    n_test: int = 128,
) -> Task:
    """Train the character transformer (seeded init and batches); Task with the fit set and test windows.

    ``n_fit`` training windows define the bridge's loss L(w); ``n_test`` held-out windows give bits per char.
    ``Task.checkpoints`` holds the same run's parameters at :data:`~landscape.models.nets.CHECKPOINTS`.
    """
    check_int_at_least("seed", seed, 0)
    for name, v in (
        ("layers", layers),
        ("width", width),
        ("mlp", mlp),
        ("context", context),
        ("steps", steps),
        ("batch", batch),
        ("n_fit", n_fit),
        ("n_test", n_test),
    ):
        check_int_at_least(name, v, 1)
    corpus = pydoc_corpus()
    vocab = len(corpus.vocab)
    key = jax.random.PRNGKey(seed)
    k_init, k_train, k_fit = jax.random.split(key, 3)
    params = transformer_init(k_init, vocab, width, layers, mlp, context)
    # minibatch AdamW over random windows of the whole text: warmup 5 %, cosine to 5 %, clip 1
    stream = jnp.asarray(corpus.train)
    run = fit(
        Windows(transformer_apply, batch, context),
        params,
        {"stream": stream},
        steps=steps,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        key=k_train,
        warmup=max(1, steps // 20),
        clip=1.0,
        end_fraction=0.05,
    )
    # fit set: n_fit windows at seeded offsets of the training text; test: the first n_test test windows
    span = len(corpus.train) - context - 1
    starts = np.asarray(jax.random.choice(k_fit, span, (n_fit,), replace=False))
    idx = starts[:, None] + np.arange(context)[None, :]
    x_fit, y_fit = corpus.train[idx], corpus.train[idx + 1]
    x_te, y_te = windows(corpus.test, context, n_test)
    data = Split(
        jnp.asarray(x_fit), jnp.asarray(y_fit.reshape(-1)), jnp.asarray(x_te), jnp.asarray(y_te.reshape(-1))
    )
    base = ngram_bits(corpus.train, corpus.test, vocab)

    def bpc(p, x, y):
        return float(cross_entropy(transformer_apply(p, x), y) * LOG2E)

    info = {
        "train_bpc_fit": bpc(run.params, data.x_train, data.y_train),
        "test_bpc": bpc(run.params, data.x_test, data.y_test),
        "early_test_bpc": bpc(run.checkpoints["early"], data.x_test, data.y_test),
        "unigram_bpc": base["unigram_bpc"],
        "bigram_bpc": base["bigram_bpc"],
        "vocab": vocab,
        "corpus_chars": corpus.n_chars,
        "corpus_sha256": corpus.sha256,
        "n_train_chars": int(len(corpus.train)),
        "n_test_chars_scored": int(data.y_test.shape[0]),
        "n_fit_chars": int(data.y_train.shape[0]),
        "layers": layers,
        "width": width,
        "mlp": mlp,
        "context": context,
        "heads": 4,
        "train_steps": steps,
        "batch": batch,
        "checkpoint_steps": list(run.marks),
    }
    return fitted_task("char-transformer", run, transformer_apply, transformer_inputs, data, "bpc", info,
                       stream)
