"""Hard-negative mining over the whole corpus with a false-negative filter.

Same rule as sentence_transformers.util.mine_hard_negatives (top-scoring non-positives, a candidate kept only if
score <= positive_score * (1 - relative_margin) and <= max_score), but it searches every document (a small
range_max silently drops the queries whose positive ranks low, the hardest ones), keeps document ids, and
counts what the filter removed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from corpus.errors import DataError
from corpus.jsonl import iter_jsonl, read_json_or_none, require_str
from corpus.options import option

TRAIN_FILE = "train.jsonl"
DEV_FILE = "dev.jsonl"
CARD_FILE = "card.json"
# the card's dev source when the dataset had no dev split and step 0 held out training queries instead
CARVED_DEV = "carved from train"


RESERVE_MAX = 400
RESERVE_SHARE = 0.4


def default_reserve(corpus_size: int) -> int:
    return min(RESERVE_MAX, int(RESERVE_SHARE * corpus_size))


@dataclass
class MiningConfig:
    num_negatives: int = 3
    # documents relevant to no dev/test query, kept out of mining so evaluation pools can use them as
    # distractors without handing the fine-tuned model documents it was trained to push away.
    # None: 40% of the corpus, at most 400 (O*NET: 400, half of the 800-document pool; a small corpus of
    # your own keeps most of its documents for mining)
    reserve_distractors: int | None = None
    relative_margin: float = 0.05
    max_score: float | None = None
    seed: int = 13
    # hardest training-side outside documents (corpus.outside) kept per row, beside the dataset's own negatives;
    # step 2's outside_negatives says how many of them training uses
    num_outside: int = option(3, help="outside negatives mined per row (0 = none)", min=0, max=20)

    def __post_init__(self):
        if self.num_negatives < 1:
            raise ValueError("num_negatives must be at least 1")
        if self.num_outside < 0:
            raise ValueError("num_outside must be 0 or more")


@dataclass
class MiningStats:
    queries: int = 0
    triplets: int = 0
    filtered_candidates: int = 0
    queries_short_of_negatives: int = 0
    given_negatives_used: int = 0
    negatives_per_query: dict[int, int] = field(default_factory=dict)
    positive_rank_median: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def mine(
    query_emb: np.ndarray,
    doc_emb: np.ndarray,
    positives: list[list[int]],
    cfg: MiningConfig,
    given: list[list[int]] | None = None,
    excluded: set[int] | frozenset = frozenset(),
    chunk: int = 2048,
) -> tuple[list[list[int]], MiningStats]:
    """For each query (row), indices of hard negatives into doc_emb; the anchor positive is positives[i][0].

    Documents in `excluded` are never negatives (they are kept back as evaluation distractors).
    """
    n = query_emb.shape[0]
    stats = MiningStats(queries=n)
    negatives: list[list[int]] = []
    per_query: Counter = Counter()
    pos_ranks = []
    for start in range(0, n, chunk):
        scores = query_emb[start : start + chunk] @ doc_emb.T
        order = np.argsort(-scores, axis=1, kind="stable")
        for row in range(scores.shape[0]):
            i = start + row
            pos = set(positives[i])
            anchor = positives[i][0]
            pos_score = float(scores[row, anchor])
            pos_ranks.append(int(np.count_nonzero(scores[row] > pos_score)) + 1)
            limit = pos_score * (1.0 - cfg.relative_margin)
            chosen = [d for d in (given[i] if given else []) if d not in pos][: cfg.num_negatives]
            stats.given_negatives_used += len(chosen)
            for d in order[row]:
                if len(chosen) >= cfg.num_negatives:
                    break
                d = int(d)
                if d in pos or d in chosen or d in excluded:
                    continue
                s = float(scores[row, d])
                if s > limit or (cfg.max_score is not None and s > cfg.max_score):
                    stats.filtered_candidates += 1
                    continue
                chosen.append(d)
            if len(chosen) < cfg.num_negatives:
                stats.queries_short_of_negatives += 1
            per_query[len(chosen)] += 1
            negatives.append(chosen)
    stats.triplets = sum(1 for c in negatives if c)
    stats.negatives_per_query = dict(sorted(per_query.items()))
    stats.positive_rank_median = float(np.median(pos_ranks)) if pos_ranks else 0.0
    return negatives, stats


@dataclass
class Triplet:
    query_id: str
    query: str
    positive_id: str
    positive: str
    negative_ids: list[str]
    negatives: list[str]
    # hard negatives from the training side of the outside documents (corpus.outside), hardest first
    outside_ids: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def read_triplets(path: Path) -> list[Triplet]:
    path = Path(path)
    if path.is_dir():
        path = path / TRAIN_FILE
    out = []
    for lineno, obj in iter_jsonl(path):
        lists = {}
        for name in ("negatives", "outside_negatives"):
            texts = obj.get(name, [])
            if not isinstance(texts, list) or not all(isinstance(n, str) and n.strip() for n in texts):
                raise DataError(path, "expected a list of non-empty strings", line=lineno, field=name)
            lists[name] = list(texts)
        out.append(
            Triplet(
                require_str(path, lineno, obj, "query_id"),
                require_str(path, lineno, obj, "query"),
                require_str(path, lineno, obj, "positive_id"),
                require_str(path, lineno, obj, "positive"),
                [str(n) for n in obj.get("negative_ids", [])],
                lists["negatives"],
                [str(n) for n in obj.get("outside_negative_ids", [])],
                lists["outside_negatives"],
            )
        )
    return out


def training_negative_ids(triplet_folder: Path) -> set[str]:
    """Document ids used as training negatives: never to be distractors in an evaluation pool."""
    path = Path(triplet_folder) / TRAIN_FILE
    if not path.is_file() or not path.read_bytes().strip():
        return set()
    ids: set[str] = set()
    for lineno, obj in iter_jsonl(path):
        negative_ids = obj.get("negative_ids", [])
        if not isinstance(negative_ids, list):
            raise DataError(path, "expected a list of document ids", line=lineno, field="negative_ids")
        ids.update(str(d) for d in negative_ids)
        outside_ids = obj.get("outside_negative_ids", [])
        if not isinstance(outside_ids, list):
            raise DataError(path, "expected a list of document ids", line=lineno, field="outside_negative_ids")
        ids.update(str(d) for d in outside_ids)
    return ids


def carved_dev_ids(triplet_folder: Path) -> list[str]:
    """The training queries step 0 held out as dev because the dataset has no dev split; [] when it carved none."""
    folder = Path(triplet_folder)
    card = read_json_or_none(folder / CARD_FILE)
    if not isinstance(card, dict) or (card.get("dev") or {}).get("source") != CARVED_DEV:
        return []
    path = folder / DEV_FILE
    if not path.is_file():
        return []
    return [require_str(path, lineno, obj, "query_id") for lineno, obj in iter_jsonl(path)]


@dataclass
class OutsideStats:
    documents: int = 0  # training-side outside documents searched
    rows_with_outside: int = 0
    filtered_candidates: int = 0
    distinct_negatives: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def mine_outside(
    query_emb: np.ndarray, positive_emb: np.ndarray, outside_emb: np.ndarray, cfg: MiningConfig, chunk: int = 2048
) -> tuple[list[list[int]], OutsideStats]:
    """For each row, the cfg.num_outside highest-scoring outside documents (indices into outside_emb), under
    the same false-negative filter as mine(): an unlabelled text that scores near the positive may be relevant.
    """
    stats = OutsideStats(documents=int(outside_emb.shape[0]))
    k = min(cfg.num_outside, outside_emb.shape[0])
    chosen: list[list[int]] = []
    if k == 0:
        return [[] for _ in range(query_emb.shape[0])], stats
    for start in range(0, query_emb.shape[0], chunk):
        q = query_emb[start : start + chunk]
        scores = q @ outside_emb.T
        limit = np.einsum("ij,ij->i", q, positive_emb[start : start + chunk]) * (1.0 - cfg.relative_margin)
        blocked = scores > limit[:, None]
        if cfg.max_score is not None:
            blocked |= scores > cfg.max_score
        scores = np.where(blocked, -np.inf, scores)
        # blocked candidates sort last (-inf), so the first k are the hardest kept ones
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        for row in range(scores.shape[0]):
            chosen.append([int(d) for d in top[row] if np.isfinite(scores[row, d])])
        stats.filtered_candidates += int(blocked.sum())
    stats.rows_with_outside = sum(1 for c in chosen if c)
    stats.distinct_negatives = len({d for c in chosen for d in c})
    return chosen, stats
