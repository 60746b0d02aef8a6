r"""The one scan driver (:func:`run`, :func:`run_batch`), its recording spec (:class:`SaveAt`), the
:class:`Trajectory` it returns, loss surfaces for real networks (:class:`LossSurface`) and the outcome
statistics that count diverged and censored runs apart (:mod:`landscape.simulate.outcomes`).

Importing it turns on JAX's persistent compilation cache (:mod:`landscape.simulate.cache`).
"""

from landscape.simulate import cache as _cache

_cache.enable()

from landscape.simulate.driver import check_compatible, run, run_batch  # noqa: E402
from landscape.simulate.record import ROW_FIELDS, SaveAt, Trajectory  # noqa: E402
from landscape.simulate.surface import LossSurface  # noqa: E402

__all__ = ["run", "run_batch", "check_compatible", "SaveAt", "Trajectory", "ROW_FIELDS", "LossSurface"]
