r"""Post-training quantization: maps a trained point :math:`w^*` to a grid point :math:`q`.

Every method has the signature ``method(source, quantizer, w_star, key=None, **options) -> q``
where ``source`` is a :class:`~landscape.geometry.Landscape` or a
:class:`~landscape.geometry.valley.ValleyLandscape` (the Hessian is its exact Hessian at each row of
``w_star``, through low-rank factors) or a ``(d, d)`` array ``H`` shared by the rows of a 2-D
``w_star`` (the layer setting of GPTQ). See ``docs/ptq.md`` for the objective each one
minimises.

* :func:`rtn` -- round to nearest;
* :func:`stochastic_rounding` -- unbiased random rounding (needs ``key``);
* :func:`obq` -- Optimal Brain Quantization (greedy order);
* :func:`gptq` -- GPTQ (fixed order, blocked, Cholesky form);
* :func:`adaround` -- AdaRound on the quadratic proxy (optax);
* :func:`proxy_minimizer` -- the exact minimiser of GPTQ's damped proxy over the 2^d corners of
  :math:`w^*`'s cell (enumeration, ``d <= 20``): a second-order rule without a greedy order;
* :func:`oracle` -- the lowest-loss corner of :math:`w^*`'s cell (exact for small ``d``,
  a documented search beyond); needs a Landscape and returns an :class:`OracleResult`.

``ptq_methods`` maps each name to its function (the oracle is not in it: it needs a
Landscape and returns more than ``q``).
"""

from landscape.ptq.adaround import adaround
from landscape.ptq.gptq import gptq
from landscape.ptq.hessian import dense_hessian, hessian_factors, quadratic_proxy
from landscape.ptq.obq import obq
from landscape.ptq.oracle import OracleResult, oracle
from landscape.ptq.proxy import proxy_minimizer
from landscape.ptq.rounding import rtn, stochastic_rounding

ptq_methods = {
    "rtn": rtn,
    "stochastic": stochastic_rounding,
    "obq": obq,
    "gptq": gptq,
    "adaround": adaround,
    "proxy_min": proxy_minimizer,
}

HESSIAN_METHODS = ("obq", "gptq", "adaround", "proxy_min")

#: methods that only exist for small d (exact enumeration of the 2^d corners)
SMALL_DIM_METHODS = {"proxy_min": 20}

__all__ = [
    "rtn",
    "stochastic_rounding",
    "obq",
    "gptq",
    "adaround",
    "oracle",
    "proxy_minimizer",
    "OracleResult",
    "SMALL_DIM_METHODS",
    "ptq_methods",
    "HESSIAN_METHODS",
    "hessian_factors",
    "dense_hessian",
    "quadratic_proxy",
]
