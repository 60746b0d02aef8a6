"""The stages of ``landscape reproduce`` as data (:class:`~landscape.reproduce.stage.Stage`), one module per
group of figures; :data:`landscape.reproduce.runner.STAGES` puts them in the order of report.md.

Each stage's numbers are computed from the datasets it saves, and its text is a template of those numbers:
a relation such as "rho(q) > r_b" is itself a number of the stage (``landscape.plot.compare``), never a
word chosen by the author.

* :mod:`~.grid` -- figures 1 (anatomy) and 2 (RTN's exit law);
* :mod:`~.valley` -- figure 3 (Hessian blindness on valleys);
* :mod:`~.runs` -- figures 4 (an STE trajectory) and 8 (chattering);
* :mod:`~.phase` -- figure 5 (the recovery phase diagram and certificate);
* :mod:`~.recovery` -- figures 6 (T against T_max) and 7 (the QAT rules);
* :mod:`~.proofs` -- the proof table; :mod:`~.bridge` -- the real-model bridge.
"""

from landscape.reproduce.stages.bridge import BRIDGE
from landscape.reproduce.stages.grid import ANATOMY, RTN_EXIT
from landscape.reproduce.stages.phase import PHASE
from landscape.reproduce.stages.proofs import PROOFS
from landscape.reproduce.stages.recovery import RULES, TIGHTNESS
from landscape.reproduce.stages.runs import CHATTER, TRAJECTORY
from landscape.reproduce.stages.valley import BLINDNESS

__all__ = ["ANATOMY", "RTN_EXIT", "BLINDNESS", "TRAJECTORY", "PHASE", "TIGHTNESS", "RULES", "CHATTER",
           "PROOFS", "BRIDGE"]
