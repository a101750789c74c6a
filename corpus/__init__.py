"""Ground floor of ragtune: data sources, the BEIR layout, splits, triplet mining and the candidate pool.

Importing any ragtune package switches off every call home before transformers or gradio are imported.
"""

from corpus.offline import force_offline

force_offline()
