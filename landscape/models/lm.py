r"""The language model of the bridge: an MLP next-token model of a synthetic Markov language.

Context tokens :math:`x_{t-o},\dots,x_{t-1}` are embedded (:math:`E \in \mathbb{R}^{V\times e}`),
concatenated, and mapped by a tanh MLP to next-token logits (a Bengio-style neural
language model). The language is an order-``o`` Markov chain made by the project
(:func:`landscape.models.data.markov_chain`), so the optimal perplexity :math:`e^{H}` is
known exactly and the trained perplexity can be judged against it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import check_int_at_least
from landscape.models.data import entropy_rate, markov_chain, markov_language
from landscape.models.fit import check_hidden, full_batch_task
from landscape.models.nets import Task, dense_init, dense_stack

__all__ = ["lm_apply", "lm_inputs", "markov_lm"]


def _embed(params, x):
    return params["embed"][x].reshape(x.shape[0], -1)


def lm_apply(params, x):
    """Next-token logits of the MLP language model for contexts x (n, order)."""
    return dense_stack(params["dense"], _embed(params, x))


def lm_inputs(params, x):
    """[X_l]: the input of every dense layer (concatenated embeddings first)."""
    return dense_stack(params["dense"], _embed(params, x), collect=True)[1]


def markov_lm(
    seed: int = 0,
    vocab: int = 12,
    order: int = 2,
    embed: int = 8,
    hidden=(64,),
    n_train: int = 160,
    seq_len: int = 128,
    steps: int = 1500,
    learning_rate: float = 1e-2,
    weight_decay: float = 1e-4,
) -> Task:
    """Train the MLP LM on the seeded Markov language; the Task records perplexities and e^H."""
    check_int_at_least("seed", seed, 0)
    check_int_at_least("embed", embed, 1)
    hidden = check_hidden(hidden)
    chain = markov_chain(seed, vocab, order)
    data = markov_language(chain, jax.random.PRNGKey(seed + 1), n_train=n_train, seq_len=seq_len)
    k_e, k_d = jax.random.split(jax.random.PRNGKey(seed))
    params = {
        "embed": jax.random.normal(k_e, (vocab, embed), jnp.float32),
        "dense": dense_init(k_d, (order * embed, *hidden, vocab)),
    }
    h = entropy_rate(chain)
    extra = {
        "entropy_rate": h,
        "optimal_perplexity": float(np.exp(h)),
        "uniform_perplexity": float(vocab),
        "vocab": vocab,
        "order": order,
        "embed": embed,
        "hidden": list(hidden),
        "train_steps": steps,
    }
    return full_batch_task("markov-lm", lm_apply, lm_inputs, params, data, "perplexity", extra,
                           steps=steps, learning_rate=learning_rate, weight_decay=weight_decay)
