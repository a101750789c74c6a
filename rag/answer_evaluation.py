"""Answer-level evidence for step 4 in one call: deterministic correctness per arm, judge scores with their
repeats, agreement among repeats and between two judges, paired statistics for every pair of arms, and the
retrieval × answer join per pair.

Step 4 gathers, per arm (retriever arms and the brackets alike), one `ArmAnswer` per query in the same query
order, scores them (`score_arm`, and `judge_arm` when judging), and calls `evaluate_answers`.
A bracket (closed book) has no ranking: its first_relevant_rank is 0, so its joins read "retrieval unchanged".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from harness.agreement import Agreement, agreement
from harness.bootstrap import query_means
from rag.answer_metrics import AnswerScore, TitleIndex, score_answer
from rag.answer_statistics import ArmDelta, ArmMean, JoinTable, compare_answers, join
from rag.cached_llm import CachedLLM
from rag.judge import JudgePrompt, answer_correctness, claim_faithfulness, judge_calls

JUDGE_METRICS = ("faithfulness", "correctness")


@dataclass(frozen=True)
class ArmAnswer:
    query_id: str
    question: str
    relevant_ids: frozenset[str]
    context_ids: tuple[str, ...]
    context: str  # the numbered passages as the LLM saw them ("" for closed book)
    first_relevant_rank: int  # 1-based within the search depth, 0 when not found (or no retrieval)
    answer: str


@dataclass(frozen=True)
class JudgeScores:
    faithfulness: tuple[float | None, ...]  # one per repeat; None where the judge failed or found no claim
    correctness: tuple[float | None, ...]


def score_arm(
    answers: Sequence[ArmAnswer], titles: TitleIndex | None, references: dict[str, tuple[str, ...]] | None = None
) -> list[AnswerScore]:
    references = references or {}
    return [
        score_answer(a.answer, a.relevant_ids, a.context_ids, references.get(a.query_id, ()), titles) for a in answers
    ]


def judge_answer(
    llm: CachedLLM,
    claims: JudgePrompt,
    correctness: JudgePrompt,
    a: ArmAnswer,
    reference: str,
    repeats: int = 1,
    max_tokens: int = 300,
) -> JudgeScores:
    """Both judge metrics, `repeats` times each (seeded sampled calls when repeats > 1, all cached)."""
    faith, corr = [], []
    for temperature, seed in judge_calls(repeats):
        faith.append(
            claim_faithfulness(llm, claims, a.question, a.context, a.answer, max_tokens, temperature, seed).score
            if a.context
            else None
        )
        corr.append(
            answer_correctness(llm, correctness, a.question, reference, a.answer, max_tokens, temperature, seed).score
        )
    return JudgeScores(tuple(faith), tuple(corr))


def _column(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values])


def _repeats(rows: Sequence[tuple[float | None, ...]]) -> np.ndarray:
    width = max((len(r) for r in rows), default=1)
    return np.array(
        [[np.nan if v is None else v for v in r] + [np.nan] * (width - len(r)) for r in rows], dtype=np.float64
    ).reshape(len(rows), width)


def metric_values(scores: Sequence[AnswerScore], judged: Sequence[JudgeScores] | None = None) -> dict[str, np.ndarray]:
    """Per metric: (n_queries,) for deterministic metrics, (n_queries, repeats) for judge metrics."""
    out: dict[str, np.ndarray] = {}
    kinds = {s.metric for s in scores}
    if kinds & {"title_match", "reference"}:
        out["correct"] = _column(s.correct for s in scores)
    if "reference" in kinds:
        out["f1"] = _column(s.f1 for s in scores)
    if "title_match" in kinds:
        out["names_wrong"] = _column(s.names_wrong for s in scores)
    if judged is not None:
        out["faithfulness"] = _repeats([j.faithfulness for j in judged])
        out["correctness"] = _repeats([j.correctness for j in judged])
    return out


@dataclass
class AnswerEvaluation:
    means: list[ArmMean]
    deltas: list[ArmDelta]
    joins: list[JoinTable]
    judge_agreement: dict[str, Agreement] = field(default_factory=dict)  # metric -> across repeats, all arms
    inter_judge: dict[str, Agreement] = field(default_factory=dict)  # metric -> judge 1 vs judge 2
    queries: int = 0
    # rag.answer_power.DesignSummary: correctness and differences estimated for the whole split from the
    # stratified sample, with the minimum detectable difference (None without judge-free correctness)
    design: object = None

    def headline(self) -> list[str]:
        """The join sentences on the headline metric, first pair first."""
        metrics = [t.metric for t in self.joins]
        headline = "correct" if "correct" in metrics else (metrics[0] if metrics else None)
        return [t.sentence() for t in self.joins if t.metric == headline]


def evaluate_answers(
    answers: dict[str, Sequence[ArmAnswer]],
    values: dict[str, dict[str, np.ndarray]],
    k: int,
    second_judge: dict[str, dict[str, np.ndarray]] | None = None,
    samples: int = 10_000,
    confidence: float = 0.95,
    seed: int = 0,
) -> AnswerEvaluation:
    """answers[arm] and values[arm] (from `metric_values`) in arm order; pairs are (earlier, later) in that order.
    `second_judge[arm][metric]` holds a second judge's scores of the same answers, for inter-judge agreement."""
    means, deltas = compare_answers(values, samples, confidence, seed)
    joins = []
    for earlier, later in combinations(list(answers), 2):
        rank_a = np.array([a.first_relevant_rank for a in answers[earlier]])
        rank_b = np.array([a.first_relevant_rank for a in answers[later]])
        for metric in ("correct", "f1", "correctness"):
            if metric in values[earlier] and metric in values[later]:
                joins.append(
                    join(earlier, later, rank_a, rank_b, values[earlier][metric], values[later][metric], k, metric)
                )
    result = AnswerEvaluation(means, deltas, joins, queries=len(next(iter(answers.values()), [])))
    for metric in JUDGE_METRICS:
        stacked = [values[arm][metric] for arm in values if metric in values[arm]]
        if stacked and stacked[0].shape[1] > 1:
            result.judge_agreement[metric] = agreement(np.vstack(stacked), "interval")
        if second_judge:
            pairs = [
                np.stack([query_means(values[arm][metric]), query_means(second_judge[arm][metric])], axis=1)
                for arm in values
                if metric in values[arm] and metric in second_judge.get(arm, {})
            ]
            if pairs:
                result.inter_judge[metric] = agreement(np.vstack(pairs), "interval")
    return result
