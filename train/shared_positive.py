"""Several training queries in one row around the positive they share: the document is embedded once for all of them.

On a CPU a step costs its tokens, and documents hold most of them (O*NET: a 21-token task statement against a
positive and an outside negative of 226 tokens together). A dataset whose documents each have many queries
(O*NET: 13 on average) can therefore train several queries for little more than the price of one: a row carries
`k` queries of one positive, every query is scored against every document of the batch, and the loss is the mean
of the k query columns' in-batch ranking losses. Each query's own positive is still its only right answer, and no
text appears twice in a batch (the sampler keeps duplicates out), so no query is pushed away from a copy of its own
positive. The rows are built in train/examples.py.
"""

from __future__ import annotations

from sentence_transformers.base.losses.merged_forward import embed_columns
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss


class SharedPositiveRankingLoss(MultipleNegativesRankingLoss):
    """In-batch ranking loss over rows (query_1, positive, query_2..query_k, negatives...): the mean over the k
    query columns of MultipleNegativesRankingLoss with that column as the anchor."""

    def __init__(self, model, queries: int, **kwargs):
        super().__init__(model, **kwargs)
        self.queries = queries

    def forward(self, sentence_features, labels):
        features = list(sentence_features)
        k = self.queries
        queries = embed_columns(self.model, [features[0], *features[2 : k + 1]], separate_first=False)
        documents = embed_columns(self.model, [features[1], *features[k + 1 :]], separate_first=False)
        losses = [self.compute_loss_from_embeddings([q, *documents], labels) for q in queries]
        return sum(losses) / len(losses)
