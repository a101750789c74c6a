"""Ground floor of ragtune: data sources, the BEIR layout, splits, triplet mining and the candidate pool.

Importing a ragtune package changes no environment variable and no library setting: the `ragtune` command and the
numbered scripts switch off every call home at their entry (corpus.offline.force_offline, via corpus.cli.run_cli).
"""
