"""Backwards-compatible home of the figure style: it lives in :mod:`landscape.plot.style`."""

from landscape.plot.style import *  # noqa: F403
from landscape.plot.style import _CYCLE, __all__  # noqa: F401
