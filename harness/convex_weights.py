"""The weight of a convex hybrid (NAME=a+b:convex), fitted once on the dev split and reused by every step.

A weight is chosen on dev, never on the test queries it is judged by: over a dev pool of every document of the
dataset that is not a training negative (dev-relevant ones always kept), the two parts' dev runs are fused at each
grid weight and the best dev nDCG@10 wins (harness.fusion.choose_weight). A dataset without a dev split (many public
BEIR sets ship only train and test) uses the dev set step 0 carved from its training queries, held out of training
for exactly this.

The fit is stored under cache/fusion/ (beside cache/embeddings/) keyed by the content it depends on (the dataset, its dev qrels and pool, each
part's model fingerprint, the store, the fusion settings), so steps 3, 4 and 5 use the same weight and a rerun fits
nothing again; `--cache recompute` fits anew.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from corpus.beir import Dataset, Document, corpus_fingerprint
from corpus.cache_policy import CachePolicy
from corpus.console import console
from corpus.errors import RagtuneError
from corpus.jsonl import read_json_or_none, write_json
from corpus.progress import working
from harness.ann import IndexConfig
from harness.arm_ranking import drop_identical_ids
from harness.arms import BM25, CONVEX, HYBRID, ArmSpec
from harness.first_stage import first_stage_ranker
from harness.fusion import FusionConfig, GridPoint, choose_weight
from harness.retrieval_options import RetrievalOptions

DEV_SPLIT = "dev"
FIT_DEPTH = 100  # ranks of each part fused per dev query (step 3's default depth)


@dataclass(frozen=True)
class FittedWeight:
    """A convex arm's weight on its first part (the second gets 1 - weight) and where it was chosen."""

    weight: float
    first: str  # the part the weight applies to
    second: str
    score: float  # the dev metric at that weight
    metric: str  # e.g. 'ndcg@10'
    dev: str  # 'dev' or 'carved dev'
    dev_queries: int
    dev_documents: int
    grid: tuple[GridPoint, ...] = ()
    key: str = ""  # the content key it is cached under

    @property
    def note(self) -> str:
        return f"convex, weight {self.weight:.1f} on {self.first} ({self.dev} {self.metric} {self.score:.3f})"

    def card(self) -> dict:
        out = asdict(self)
        out["grid"] = [asdict(p) if not isinstance(p, dict) else p for p in self.grid]
        return out


def with_dev_split(ds: Dataset) -> tuple[Dataset, str]:
    """ds with the qrels a weight is chosen on, and their name in notes: its own dev split ('dev'), else the
    training queries step 0 carved out as dev ('carved dev', graded as in qrels/train.tsv)."""
    from corpus.paths import triplets_dir
    from corpus.triplets import carved_dev_ids

    if ds.qrels.get(DEV_SPLIT):
        return ds, "dev"
    folder = triplets_dir(ds.path)
    train = ds.qrels.get("train", {})
    carved = {q: train[q] for q in carved_dev_ids(folder) if q in train}
    if not carved:
        raise RagtuneError(
            f"{ds.path}: convex fusion picks its weight on a dev split, and there is no qrels/dev.tsv nor a dev set "
            f"carved by step 0 in {folder} (add qrels/dev.tsv, run step 0 where there is a train split, or fuse by "
            "rank: NAME=a+b)"
        )
    return replace(ds, qrels={**ds.qrels, DEV_SPLIT: carved}), "carved dev"


def dev_pool(ds: Dataset) -> dict[str, Document]:
    from corpus.paths import triplets_dir
    from corpus.triplets import training_negative_ids

    excluded = training_negative_ids(triplets_dir(ds.path))
    relevant = {d for docs in ds.relevant(DEV_SPLIT).values() for d in docs}
    return {d: doc for d, doc in ds.corpus.items() if d not in excluded or d in relevant}


def _part_identity(spec: ArmSpec) -> str:
    if spec.kind == BM25:
        return BM25
    from corpus.models import model_fingerprint, resolve_model_path

    return model_fingerprint(resolve_model_path(spec.model))


def _key(ds: Dataset, dev_qrels: dict, docs: dict, parts: tuple[ArmSpec, ArmSpec], extra: dict) -> str:
    content = {
        "dataset": ds.fingerprint(),
        "dev_qrels": sorted((q, sorted(g.items())) for q, g in dev_qrels.items()),
        "dev_pool": corpus_fingerprint(docs.values()),
        "parts": [_part_identity(p) for p in parts],
        **extra,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _load(path: Path) -> FittedWeight | None:
    stored = read_json_or_none(path)
    if not isinstance(stored, dict):
        return None
    try:
        grid = tuple(GridPoint(float(p["weight"]), float(p["score"])) for p in stored.get("grid", []))
        return FittedWeight(**{**stored, "grid": grid})
    except (TypeError, KeyError, ValueError):
        return None  # a damaged entry is fitted again, like a corrupt embedding


class _DevRuns:
    """The dev queries, qrels and pool a weight is fitted on, and each part's dev run, ranked once when first asked."""

    def __init__(self, ds: Dataset, cache, retrieval: RetrievalOptions, batch_size: int, exclude_own_ids: bool):
        self.ds, self.name = with_dev_split(ds)
        self.docs = dev_pool(self.ds)
        self.doc_ids = list(self.docs)
        dev = self.ds.split(DEV_SPLIT)
        self.query_ids = [q for q, grades in dev.items() if any(g > 0 for g in grades.values())]
        self.qrels = {q: dev[q] for q in self.query_ids}
        self.cache, self.retrieval, self.batch_size = cache, retrieval, batch_size
        self.exclude_own_ids = exclude_own_ids
        self._runs: dict[str, object] = {}

    def run(self, part: ArmSpec):
        if part.name not in self._runs:
            ranker = first_stage_ranker(part, self.docs, self.cache, self.retrieval, None, self.batch_size, False)
            texts = [self.ds.queries[q] for q in self.query_ids]
            depth = FIT_DEPTH + (1 if self.exclude_own_ids else 0)
            rows = [np.arange(len(self.doc_ids))]
            (run,) = ranker.rank(texts, depth, rows, IndexConfig("exact"), np.zeros(0, dtype=int))
            if self.exclude_own_ids:
                run.scores, run.ranked = drop_identical_ids(
                    run.scores, run.ranked, self.doc_ids, self.query_ids, FIT_DEPTH
                )
            self._runs[part.name] = run
        return self._runs[part.name]


def fit_convex_weights(
    ds: Dataset | None,
    arms: list[ArmSpec],
    cache,
    retrieval: RetrievalOptions | None = None,
    batch_size: int = 64,
    exclude_own_ids: bool = False,
    fusion: FusionConfig | None = None,
) -> dict[str, FittedWeight]:
    """Per convex hybrid arm of `arms`, its fitted weight (from cache/fusion/ when the same content was fitted)."""
    convex = [a for a in arms if a.kind == HYBRID and a.fusion == CONVEX]
    if not convex:
        return {}
    if ds is None:
        names = ", ".join(a.name for a in convex)
        raise RagtuneError(f"--arms {names}: a convex hybrid fits its weight on the dataset's dev split: give --data")
    import corpus.paths

    # beside the embeddings the fit was computed from (tests and notebooks that move one move both)
    folder = Path(cache.folder).with_name("fusion") if hasattr(cache, "folder") else corpus.paths.CACHE_DIR / "fusion"
    fusion = fusion or FusionConfig(method="convex", k=10)
    reuse = getattr(cache, "policy", CachePolicy.REUSE) == CachePolicy.REUSE
    dev = _DevRuns(ds, cache, retrieval or RetrievalOptions(), batch_size, exclude_own_ids)
    extra = {
        "search": "exact",  # dev runs search exactly whatever the store: the weight must not depend on ANN noise
        "depth": FIT_DEPTH,
        "exclude_own_ids": exclude_own_ids,
        "fusion": [list(fusion.weight_grid), fusion.metric, fusion.k],
    }
    by_name = {a.name: a for a in arms}
    fitted: dict[str, FittedWeight] = {}
    for arm in convex:
        parts = (by_name[arm.parts[0]], by_name[arm.parts[1]])
        key = _key(dev.ds, dev.qrels, dev.docs, parts, extra)
        stored = _load(folder / f"{key}.json") if reuse else None
        if stored is not None:
            # the key is the parts' content: the names are this run's labels for it
            fitted[arm.name] = replace(stored, first=arm.parts[0], second=arm.parts[1])
            continue
        with working(f"{arm.name}: the parts' runs on the {dev.name} split (convex weight)"):
            runs = (dev.run(parts[0]), dev.run(parts[1]))
        choice = choose_weight(runs, dev.doc_ids, dev.query_ids, dev.qrels, fusion)
        fitted[arm.name] = FittedWeight(
            choice.weight, parts[0].name, parts[1].name, choice.score, choice.metric, dev.name,
            len(dev.query_ids), len(dev.docs), tuple(choice.grid), key,
        )  # fmt: skip
        write_json(folder / f"{key}.json", fitted[arm.name].card())
    for name, w in fitted.items():
        console.print(
            f"[bold]{name}[/]: convex weight {w.weight:.1f} on {w.first}, {1 - w.weight:.1f} on {w.second} "
            f"({w.dev} {w.metric} {w.score:.3f}, {w.dev_queries} {w.dev} queries, {w.dev_documents} documents)"
        )
    return fitted
