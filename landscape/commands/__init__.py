"""Subcommands of the ``landscape`` CLI; each module exposes ``register(app)``."""
