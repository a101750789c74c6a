"""Judges any embedding model: encoding with its cache, indexes, metrics, statistics and report writers."""
