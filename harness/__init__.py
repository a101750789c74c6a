"""Judges any embedding model: encoding with its cache, indexes, metrics, statistics and report writers."""

import corpus  # noqa: F401  (switches off every call home before models load)
