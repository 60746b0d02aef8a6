"""Backwards-compatible home of the figure checks: they live in :mod:`landscape.plot.lint`."""

from landscape.plot.lint import __all__, text_overlaps, unlabelled_axes  # noqa: F401
