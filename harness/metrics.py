"""Ranking metrics as pure array functions: rankings + graded qrels in, one value per query and cut-off out.

Definitions follow trec_eval (checked against pytrec_eval in the tests), all at a cut-off k:

- hit@k (sentence-transformers' accuracy@k, trec_eval success_k): 1 if any relevant document is in the top k.
- precision@k: relevant documents in the top k, divided by k (even when fewer than k were retrieved).
- recall@k: relevant documents in the top k, divided by all relevant documents of the query in the qrels
  (relevant documents missing from the pool still count in the denominator).
- mrr@k: 1 / rank of the first relevant document when it is within the top k, else 0.
- ndcg@k: sum of gain/log2(rank+1) over the top k, gain = the qrels grade, divided by the same sum for the
  ideal ordering of all the query's judged documents (trec_eval ndcg_cut).
- map@k: sum of precision@r at every rank r <= k that holds a relevant document, divided by the number of
  relevant documents (trec_eval map_cut).

A document is relevant when its grade is > 0; unjudged documents have grade 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("hit", "precision", "recall", "mrr", "ndcg", "map")
DEFAULT_KS = (1, 3, 5, 10, 100)


@dataclass(frozen=True)
class RelevanceMatrix:
    """What each ranked position is worth, for n queries ranked to some depth."""

    gains: np.ndarray  # (n, depth) float: grade of the document at each rank (0: not relevant or no document)
    ideal: np.ndarray  # (n, m) float: the query's positive grades in descending order, zero-padded
    n_relevant: np.ndarray  # (n,) int: relevant documents per query in the qrels, in the pool or not


def relevance_matrix(
    ranked: np.ndarray, doc_ids: list[str], query_ids: list[str], qrels: dict[str, dict[str, float]]
) -> RelevanceMatrix:
    """Grade a ranking given as indices into doc_ids (row i answers query_ids[i]; -1 marks an empty slot)."""
    ranked = np.asarray(ranked, dtype=np.int64)
    n, width = len(query_ids), len(doc_ids) + 1
    index = {d: i for i, d in enumerate(doc_ids)}
    q_rows, d_cols, grades = [], [], []
    for row, qid in enumerate(query_ids):
        for did, grade in qrels.get(qid, {}).items():
            if grade > 0:
                q_rows.append(row)
                # a relevant document outside the pool can never be retrieved: it takes the spare column
                d_cols.append(index.get(did, width - 1))
                grades.append(float(grade))
    q_rows = np.asarray(q_rows, dtype=np.int64)
    grades = np.asarray(grades, dtype=np.float64)
    keys = q_rows * width + np.asarray(d_cols, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, sorted_grades = keys[order], grades[order]

    gains = np.zeros(ranked.shape, dtype=np.float64)
    if len(keys) and ranked.size:
        probe = np.arange(n, dtype=np.int64)[:, None] * width + np.where(ranked >= 0, ranked, width - 1)
        pos = np.clip(np.searchsorted(keys, probe), 0, len(keys) - 1)
        found = (keys[pos] == probe) & (ranked >= 0)
        gains[found] = sorted_grades[pos[found]]

    n_relevant = np.bincount(q_rows, minlength=n)
    m = int(n_relevant.max()) if n else 0
    ideal = np.zeros((n, max(m, 1)), dtype=np.float64)
    if len(grades):
        # sort by query, then grade descending; a query's slot is its position inside its group
        by = np.lexsort((-grades, q_rows))
        rows, g = q_rows[by], grades[by]
        starts = np.concatenate(([0], np.cumsum(n_relevant)[:-1]))
        ideal[rows, np.arange(len(rows)) - starts[rows]] = g
    return RelevanceMatrix(gains, ideal, n_relevant)


def _pad(a: np.ndarray, width: int) -> np.ndarray:
    if a.shape[1] >= width:
        return a[:, :width]
    return np.pad(a, ((0, 0), (0, width - a.shape[1])))


def per_query(judged: RelevanceMatrix, ks=DEFAULT_KS) -> dict[str, np.ndarray]:
    """metric name -> (n_queries, len(ks)) array of per-query values; no Python loop over queries."""
    ks = np.asarray(sorted(set(int(k) for k in ks)))
    if len(ks) == 0 or ks[0] < 1:
        raise ValueError("cut-offs must be positive integers")
    depth = int(ks[-1])
    gains = _pad(judged.gains, depth)
    ideal = _pad(judged.ideal, depth)
    col = ks - 1
    rel = gains > 0
    ranks = np.arange(1, depth + 1, dtype=np.float64)
    found = np.cumsum(rel, axis=1)[:, col].astype(np.float64)
    n_rel = judged.n_relevant.astype(np.float64)[:, None]
    safe_n_rel = np.where(n_rel > 0, n_rel, 1.0)

    has = rel.any(axis=1)
    first = np.where(has, rel.argmax(axis=1) + 1, depth + 1)[:, None]  # 1-based rank, depth+1 = none

    discount = 1.0 / np.log2(ranks + 1.0)
    dcg = np.cumsum(np.clip(gains, 0, None) * discount, axis=1)[:, col]
    idcg = np.cumsum(ideal * discount, axis=1)[:, col]

    precision_at_r = np.cumsum(rel, axis=1) / ranks
    ap = np.cumsum(np.where(rel, precision_at_r, 0.0), axis=1)[:, col]

    return {
        "hit": (found > 0).astype(np.float64),
        "precision": found / ks,
        "recall": np.where(n_rel > 0, found / safe_n_rel, 0.0),
        "mrr": np.where(first <= ks, 1.0 / first, 0.0),
        "ndcg": np.divide(dcg, idcg, out=np.zeros_like(dcg), where=idcg > 0),
        "map": np.where(n_rel > 0, ap / safe_n_rel, 0.0),
    }


def first_relevant_rank(judged: RelevanceMatrix) -> np.ndarray:
    """1-based rank of the first relevant document within the ranked depth, 0 when there is none."""
    rel = judged.gains > 0
    return np.where(rel.any(axis=1), rel.argmax(axis=1) + 1, 0)


def means(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {m: v.mean(axis=0) for m, v in values.items()}
