"""The real-model bridge: the river / basin diagnostics of the analytic model on small trained networks.

See docs/bridge.md.
"""
