"""Experiments: measured quantities of the theory, returned as xarray Datasets with a manifest."""
