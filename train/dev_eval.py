"""Dev retrieval metrics during training: sentence-transformers' InformationRetrievalEvaluator over a fixed-size
candidate set, so an evaluation costs the same on a corpus of 1,000 documents or of 100,000."""

from __future__ import annotations

from dataclasses import asdict, dataclass

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


def build_evaluator(
    data: TrainingData,
    query_prompt: str,
    doc_prompt: str,
    batch_size: int = 64,
    candidates: DevCandidates | None = None,
):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator
    from sentence_transformers.util import cos_sim

    ids = candidates.ids if candidates is not None else list(data.corpus)
    return InformationRetrievalEvaluator(
        queries=data.dev_queries,
        corpus={d: data.corpus[d] for d in ids},
        relevant_docs=data.dev_relevant,
        name=NAME,
        mrr_at_k=[10],
        ndcg_at_k=[10],
        accuracy_at_k=[1, 3, 5, 10],
        precision_recall_at_k=[10],
        map_at_k=[100],
        batch_size=batch_size,
        score_functions={SCORE: cos_sim},
        main_score_function=SCORE,
        query_prompt=query_prompt or None,
        corpus_prompt=doc_prompt or None,
        write_csv=False,
    )


def shown_metrics(raw: dict) -> dict[str, float]:
    """Evaluator/trainer output -> {'MRR@10': ..., 'Hit@1': ...} (trainer keys carry an extra 'eval_' prefix)."""
    out = {}
    for metric, label in SHOWN.items():
        for key in (metric_key(metric), "eval_" + metric_key(metric)):
            if key in raw:
                out[label] = float(raw[key])
    return out
