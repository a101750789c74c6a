"""Dev retrieval metrics during training, defined once: harness.metrics over an exact inner-product search of a
fixed-size candidate set, wrapped as a sentence-transformers evaluator so the trainer can select checkpoints with it.

The card's dev figures and step 3's test figures therefore mean the same thing (sentence-transformers' own
InformationRetrievalEvaluator defines MAP and nDCG differently). The candidate set has a fixed size, so an
evaluation costs the same on a corpus of 1,000 documents or of 100,000."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator

from corpus.splits import stable_order
from train.examples import TrainingData

NAME = "dev"
SCORE = "cosine"
# metric name in the evaluator's output -> the label shown in tables and cards
SHOWN = {
    "mrr@10": "MRR@10",
    "ndcg@10": "nDCG@10",
    "accuracy@1": "Hit@1",
    "accuracy@3": "Hit@3",
    "accuracy@5": "Hit@5",
    "accuracy@10": "Hit@10",
    "map@100": "MAP@100",
}
# the evaluator's name for each harness.metrics metric (sentence-transformers' names, which the cards keep)
_KEYS = {"hit": "accuracy", "precision": "precision", "recall": "recall", "mrr": "mrr", "ndcg": "ndcg", "map": "map"}
# (harness metric, cut-off) pairs reported: the shown ones, plus precision and recall at 10
REPORTED = (
    ("hit", 1), ("hit", 3), ("hit", 5), ("hit", 10), ("precision", 10), ("recall", 10),
    ("mrr", 10), ("ndcg", 10), ("map", 100),
)  # fmt: skip
PRIMARY = "ndcg@10"


def metric_key(metric: str) -> str:
    """The evaluator's key for a metric, e.g. 'mrr@10' -> 'dev_cosine_mrr@10' (the trainer adds 'eval_')."""
    return f"{NAME}_{SCORE}_{metric}"


@dataclass
class DevCandidates:
    """What dev was scored against: recorded in the training card."""

    ids: list[str]
    relevant: int
    sampled: int
    corpus_documents: int
    seed: int

    def card(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "ids"} | {"documents": len(self.ids)}


def dev_candidates(data: TrainingData, size: int, seed: int) -> DevCandidates:
    """Every document relevant to a dev query, then a seeded sample of the others up to `size` (all relevant
    documents are kept even when they alone exceed it)."""
    relevant = sorted({d for docs in data.dev_relevant.values() for d in docs})
    taken = set(relevant)
    others = [d for d in data.corpus if d not in taken]
    sampled = stable_order(others, f"{seed}/dev-candidates", key=str)[: max(0, size - len(relevant))]
    return DevCandidates(relevant + sorted(sampled), len(relevant), len(sampled), len(data.corpus), seed)


def _encode(model, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
    """Unit-length rows, encoded as step 3 encodes them (corpus.models.Embedder.encode)."""
    return model.encode(
        texts,
        prompt=prompt or None,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )


class DevEvaluator(SentenceEvaluator):
    """harness.metrics on an exact inner-product ranking of `corpus` for each dev query, as a sentence-transformers
    evaluator: returns {'dev_cosine_mrr@10': ..., 'dev_cosine_accuracy@1': ..., ...} (the trainer adds 'eval_')."""

    def __init__(
        self,
        queries: dict[str, str],
        corpus: dict[str, str],
        relevant: dict[str, set[str]],
        query_prompt: str = "",
        doc_prompt: str = "",
        batch_size: int = 64,
        name: str = NAME,
    ):
        super().__init__()
        self.name = name
        self.query_ids = list(queries)
        self.query_texts = [queries[q] for q in self.query_ids]
        self.doc_ids = list(corpus)
        self.doc_texts = [corpus[d] for d in self.doc_ids]
        # dev.jsonl lists relevant ids without grades: every one counts as grade 1
        self.qrels = {q: {d: 1.0 for d in relevant.get(q, ())} for q in self.query_ids}
        self.query_prompt, self.doc_prompt, self.batch_size = query_prompt or "", doc_prompt or "", batch_size
        self.ks = sorted({k for _, k in REPORTED})
        self.primary_metric = f"{SCORE}_{PRIMARY}"

    def compute(self, model) -> dict[str, float]:
        """Mean metrics without the evaluator's prefix, e.g. {'cosine_mrr@10': ...}."""
        from harness.ann import IndexConfig, build_index, search
        from harness.metrics import means, per_query, relevance_matrix

        docs = _encode(model, self.doc_texts, self.doc_prompt, self.batch_size)
        queries = _encode(model, self.query_texts, self.query_prompt, self.batch_size)
        _, ranked = search(build_index(docs, IndexConfig("exact")), queries, self.ks[-1])
        averaged = means(per_query(relevance_matrix(ranked, self.doc_ids, self.query_ids, self.qrels), self.ks))
        return {f"{SCORE}_{_KEYS[metric]}@{k}": float(averaged[metric][self.ks.index(k)]) for metric, k in REPORTED}

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        metrics = self.prefix_name_to_metrics(self.compute(model), self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics

    def get_config_dict(self) -> dict:
        return {"queries": len(self.query_ids), "documents": len(self.doc_ids), "metrics": "harness.metrics"}


def build_evaluator(
    data: TrainingData,
    query_prompt: str,
    doc_prompt: str,
    batch_size: int = 64,
    candidates: DevCandidates | None = None,
) -> DevEvaluator:
    ids = candidates.ids if candidates is not None else list(data.corpus)
    return DevEvaluator(
        data.dev_queries, {d: data.corpus[d] for d in ids}, data.dev_relevant, query_prompt, doc_prompt, batch_size
    )


def shown_metrics(raw: dict) -> dict[str, float]:
    """Evaluator/trainer output -> {'MRR@10': ..., 'Hit@1': ...} (trainer keys carry an extra 'eval_' prefix)."""
    out = {}
    for metric, label in SHOWN.items():
        for key in (metric_key(metric), "eval_" + metric_key(metric)):
            if key in raw:
                out[label] = float(raw[key])
    return out
