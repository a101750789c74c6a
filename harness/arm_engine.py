"""The one arm engine: every retriever ragtune compares ranks queries here, for step 3 (metrics), step 4 (answer
contexts) and step 5 (the chatbot), so the three can never disagree on what an arm retrieves.

Arm kinds (harness.arms): a dense model and BM25 rank on their own (harness.first_stage); a hybrid fuses two earlier
arms' rankings by reciprocal rank or by a convex combination of min-max scores, its weight fitted on dev
(harness.convex_weights); a reranked arm reorders an earlier arm's top --rerank-depth with a cross-encoder.
Rankings are rows into the engine's document list (ids only at the edge, ArmRanking.ids and hits()). Each arm's
costs travel with its ranking: its parts' single-query latencies on the same seeded sample of queries plus its own
work (the fusion, per query; the reranking of that query), and the training minutes of every model behind it.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from corpus.beir import Dataset, Document, document_text
from corpus.console import console
from corpus.options import check_options, option
from corpus.progress import working
from harness.ann import IndexConfig
from harness.arm_ranking import ArmRanking, drop_identical_ids, latency_sample, training_minutes
from harness.arms import BM25, DENSE, HYBRID, RERANK, ArmSpec
from harness.convex_weights import fit_convex_weights
from harness.first_stage import first_stage_ranker
from harness.fusion import DEFAULT_RRF_K, convex_fusion, reciprocal_rank_fusion
from harness.rerank import DEFAULT_RERANK_DEPTH, RerankConfig, rerank
from harness.retrieval import Hit
from harness.retrieval_options import RetrievalOptions


@dataclass
class ArmOptions:
    """Hybrid and reranked arms."""

    rrf_k: int = option(
        DEFAULT_RRF_K, help="hybrid arms (NAME=a+b): RRF constant, a document at rank r adds 1/(k + r)", min=1
    )
    rerank_depth: int = option(
        DEFAULT_RERANK_DEPTH, help="reranked arms (NAME=a>RERANKER): first-stage documents reranked per query", min=1
    )

    def __post_init__(self):
        check_options(self)


class ArmEngine:
    """Arms prepared over one document set: models loaded and documents encoded once, convex weights fitted once
    (on `dataset`'s dev split), then any queries ranked on the whole set or on pools of its rows."""

    def __init__(
        self,
        arms: list[ArmSpec],
        docs: dict[str, Document],
        *,
        dataset: Dataset | None = None,
        options: ArmOptions | None = None,
        retrieval: RetrievalOptions | None = None,
        index: IndexConfig | None = None,
        cache=None,
        backend=None,
        batch_size: int = 64,
        show_progress: bool = True,
        cache_queries: bool = True,
        exclude_own_ids: bool = False,
        ann_recall: bool = False,
    ):
        self.arms = list(arms)
        self.docs = docs
        self.doc_ids = list(docs)
        self.options = options or ArmOptions()
        self.retrieval = retrieval or RetrievalOptions()
        self.index = index or IndexConfig()
        self.cache = cache
        self.backend = backend
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.cache_queries = cache_queries
        # BEIR's evaluator drops a retrieved document whose id is the query's id (ArguAna, Quora, CQADupStack)
        self.exclude_own_ids = exclude_own_ids
        self.ann_recall = ann_recall  # measure an approximate search against exact (needs every embedding loaded)
        self.weights = fit_convex_weights(dataset, self.arms, cache, self.retrieval, batch_size, exclude_own_ids)
        self._rankers: dict[str, object] = {}
        self._rerankers: dict[str, object] = {}
        self._doc_texts: list[str] | None = None

    def _ranker(self, arm: ArmSpec):
        if arm.name not in self._rankers:
            if arm.kind == DENSE and self.show_progress:
                console.print(f"[bold]{arm.name}[/]: {arm.model}")
            self._rankers[arm.name] = first_stage_ranker(
                arm, self.docs, self.cache, self.retrieval, self.backend, self.batch_size, self.show_progress,
                self.cache_queries,
            )  # fmt: skip
        return self._rankers[arm.name]

    def prepare(self) -> ArmEngine:
        """Load every model and embed every document now (a page should not make its first question wait)."""
        for arm in self.arms:
            if arm.kind in (DENSE, BM25):
                self._ranker(arm)
            elif arm.kind == RERANK:
                self._reranker(arm)
        return self

    def models(self) -> dict[str, dict]:
        """Dense arms' model identities (path, fingerprint, store) for cards, in arm order."""
        return {a.name: self._ranker(a).identity() for a in self.arms if a.kind == DENSE}

    def fitted(self) -> dict[str, dict]:
        """What was fitted per arm (convex weights and where they were chosen), for cards."""
        return {name: w.card() for name, w in self.weights.items()}

    def rank(
        self,
        texts: list[str],
        depth: int,
        pools_rows: list[np.ndarray] | None = None,
        query_ids: list[str] | None = None,
        latency_queries: int = 0,
        seed: int = 13,
        progress: bool = True,
    ) -> list[list[ArmRanking]]:
        """Per pool (default: one pool of every document), every arm's ranking of `texts` to `depth`, in arm order.
        `query_ids` are needed when the engine excludes each query's own id; `latency_queries` > 0 times that many
        seeded single queries per arm; `progress` False draws no bar or status (one live question of several at
        once: a terminal shows one live display)."""
        progress = progress and self.show_progress
        pools_rows = pools_rows if pools_rows is not None else [np.arange(len(self.doc_ids))]
        timed = latency_sample(len(texts), latency_queries, seed)
        by_pool: list[dict[str, ArmRanking]] = [{} for _ in pools_rows]
        for arm in self.arms:
            if arm.kind in (DENSE, BM25):
                runs = self._first_stage(arm, texts, depth, pools_rows, query_ids, timed, progress)
            elif arm.kind == HYBRID:
                runs = [self._hybrid(arm, pool[arm.parts[0]], pool[arm.parts[1]], depth) for pool in by_pool]
            else:
                runs = self._reranked(arm, [pool[arm.parts[0]] for pool in by_pool], texts, timed, progress)
            for pool, run in zip(by_pool, runs, strict=True):
                pool[arm.name] = run
        return [[pool[a.name] for a in self.arms] for pool in by_pool]

    def hits(self, question: str, k: int, arms: list[str] | None = None) -> dict[str, list[Hit]]:
        """One question's top-k documents per arm (all arms by default), as the chatbot shows them."""
        depth = max(k, min(100, len(self.doc_ids)))  # hybrids and rerankers need their parts' deeper rankings
        (runs,) = self.rank([question], depth, progress=False)
        wanted = set(arms or [a.name for a in self.arms])
        return {
            run.name: [
                Hit(self.doc_ids[j], float(s), r + 1)
                for r, (s, j) in enumerate(zip(run.scores[0][:k], run.ranked[0][:k], strict=True))
                if j >= 0
            ]
            for run in runs
            if run.name in wanted
        }

    def embedding_spaces(self, question: str) -> dict[str, tuple[list[str], np.ndarray, np.ndarray]]:
        """Per dense arm: its document ids, their embeddings and the question's embedding (the embedding map)."""
        out = {}
        for arm in self.arms:
            if arm.kind == DENSE:
                retriever = self._ranker(arm).retriever
                out[arm.name] = (retriever.doc_ids, retriever.doc_emb, retriever.encode_queries([question])[0])
        return out

    def _first_stage(self, arm, texts, depth, pools_rows, query_ids, timed, progress) -> list[ArmRanking]:
        search_depth = depth + (1 if self.exclude_own_ids else 0)
        runs = self._ranker(arm).rank(texts, search_depth, pools_rows, self.index, timed, progress, self.ann_recall)
        if self.exclude_own_ids:
            for run in runs:
                run.scores, run.ranked = drop_identical_ids(run.scores, run.ranked, self.doc_ids, query_ids, depth)
        return runs

    def _hybrid(self, arm: ArmSpec, a: ArmRanking, b: ArmRanking, depth: int) -> ArmRanking:
        t0 = time.perf_counter()
        weight = self.weights.get(arm.name)
        if weight is None:
            fused = reciprocal_rank_fusion((a, b), k=self.options.rrf_k, depth=depth)
            note, fitted = f"RRF k={self.options.rrf_k}", {}
        else:
            fused = convex_fusion((a, b), (weight.weight, 1.0 - weight.weight), depth=depth)
            note, fitted = weight.note, weight.card()
        fuse_ms = (time.perf_counter() - t0) * 1000.0 / max(a.ranked.shape[0], 1)
        return ArmRanking(
            arm.name,
            HYBRID,
            fused.scores,
            fused.ranked,
            latency_ms=a.latency_ms + b.latency_ms + fuse_ms,
            training_minutes=a.training_minutes + b.training_minutes,
            fitted=fitted,
            note=note,
        )

    def _reranker(self, arm: ArmSpec):
        if arm.name not in self._rerankers:
            from corpus.models import load_reranker

            self._rerankers[arm.name] = load_reranker(arm.parts[1])
        return self._rerankers[arm.name]

    def _reranked(
        self, arm: ArmSpec, firsts: list[ArmRanking], texts: list[str], timed: np.ndarray, progress: bool
    ) -> list[ArmRanking]:
        model = self._reranker(arm)
        if self._doc_texts is None:
            self._doc_texts = [document_text(self.docs[d]) for d in self.doc_ids]
        depth = self.options.rerank_depth
        out = []
        for i, first in enumerate(firsts):
            status = f"{arm.name}: reranking the top {depth} of {arm.parts[0]}" + (f" (pool {i + 1})" if i else "")
            with working(status) if progress else contextlib.nullcontext():
                done = rerank(first, texts, self._doc_texts, model.model, RerankConfig(depth=depth))
            latency = done.latency_ms[timed]
            out.append(
                ArmRanking(
                    arm.name,
                    RERANK,
                    done.ranking.scores,
                    done.ranking.ranked,
                    latency_ms=first.latency_ms + latency if len(first.latency_ms) else latency,
                    training_minutes=first.training_minutes + training_minutes(model.path),
                    fitted={"rerank_depth": depth},
                    note=f"top {depth} of {arm.parts[0]} reranked by {model.path}",
                )
            )
        return out
