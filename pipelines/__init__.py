"""Dagster definitions of the hub: one folder per source, and the derived tables."""

import hub  # noqa: F401  (its allocator settings, set before Polars loads)
