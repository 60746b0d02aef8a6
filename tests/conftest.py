"""Shared test configuration: a deterministic hypothesis profile."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "landscape",
    derandomize=True,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("landscape")
