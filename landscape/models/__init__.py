"""The real-model bridge: the river / band / STE-QAT protocol of the analytic model on small trained networks.

``run_bridge(BridgeConfig.preset("digits-mlp" | "digits-cnn" | "char-transformer" | "markov-lm", quick=...))``
returns a JSON-ready dict (rows per model, bits, grid, PTQ method and seed; verdicts over seeds with Wilson
intervals and their power; calibrated bands; the regime of the failures); ``to_dataset`` turns it into the
Dataset that ``landscape.plot.bridge`` draws.
See docs/bridge.md.
"""

from landscape.models.bridge import run_bridge, to_dataset
from landscape.models.config import MODELS, BridgeConfig, build_task

__all__ = ["MODELS", "BridgeConfig", "build_task", "run_bridge", "to_dataset"]
