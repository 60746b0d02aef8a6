r"""The one scan driver (:func:`run`, :func:`run_batch`), its recording spec (:class:`SaveAt`), the
:class:`Trajectory` it returns, loss surfaces for real networks (:class:`LossSurface`) and the outcome
statistics that count diverged and censored runs apart (:mod:`landscape.simulate.outcomes`).
"""

from landscape.simulate.driver import check_compatible, run, run_batch
from landscape.simulate.record import ROW_FIELDS, SaveAt, Trajectory
from landscape.simulate.surface import LossSurface

__all__ = ["run", "run_batch", "check_compatible", "SaveAt", "Trajectory", "ROW_FIELDS", "LossSurface"]
