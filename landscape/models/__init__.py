"""The real-model bridge: the basin-crossing diagnostics on small vision and language networks.

``run_bridge(BridgeConfig.preset("digits-mlp" | "digits-cnn" | "markov-lm", quick=...))`` returns
one xarray Dataset (sharp directions, basin widths, RTN/GPTQ points, STE-QAT re-entry, verdicts);
``landscape.models.figures`` draws it. See docs/bridge.md.
"""

from landscape.models.bridge import MODELS, BridgeConfig, build_task, run_bridge, summary_rows, verdict
from landscape.models.hessian import Spectrum, hvp, lanczos

__all__ = ["MODELS", "BridgeConfig", "build_task", "run_bridge", "summary_rows", "verdict", "Spectrum",
           "hvp", "lanczos"]
