"""Answer metrics compared across arms with step 3's statistics, and joined with the retrieval outcome.

For every arm: the mean of every answer metric with a bootstrap CI. For every pair of arms (earlier, later) in
the order given, the paired difference later − earlier with a bootstrap CI and a randomization-test p-value.
Values are (n_queries, n_repeats) per arm and metric: one column for a deterministic metric, N for a judge asked
N times; repeats are resampled within queries (harness.bootstrap.bootstrap_ci_repeats), the randomization test
flips the sign of each query's mean difference. Missing values (a failed judge call) are NaN and left out.

The join per pair crosses the retrieval outcome with the answer outcome per query:
  retrieval  fixed / regressed / unchanged at cut-off k, by the rank of the first relevant document, as step 3
             defines it (harness.outcomes): fixed = the earlier arm has no relevant document in its top k,
             the later arm has one; regressed the reverse;
  answer     improved / worsened / unchanged: the later arm's value (mean over repeats) above / below / equal to
             the earlier arm's; for a yes/no metric such as `correct`, improved means wrong → right.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from harness.bootstrap import bootstrap_ci_repeats, query_means, randomization_test
from harness.outcomes import FIXED, REGRESSED, verdict

RETRIEVAL = ("fixed", "regressed", "unchanged")
ANSWER = ("improved", "worsened", "unchanged", "missing")


@dataclass(frozen=True)
class ArmMean:
    arm: str
    metric: str
    n: int  # queries with a value
    missing: int  # queries without one
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmDelta:
    later: str
    earlier: str
    metric: str
    n: int  # queries with a value in both arms
    value: float  # mean of later − earlier
    low: float
    high: float
    p_value: float


def _as_repeats(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x


def compare_answers(
    values: dict[str, dict[str, np.ndarray]], samples: int = 10_000, confidence: float = 0.95, seed: int = 0
) -> tuple[list[ArmMean], list[ArmDelta]]:
    """values[arm][metric]: (n_queries,) or (n_queries, n_repeats), the same queries in the same order."""
    means, deltas = [], []
    arms = list(values)
    for arm in arms:
        for metric, x in values[arm].items():
            x = _as_repeats(x)
            ci = bootstrap_ci_repeats(x, samples=samples, confidence=confidence, seed=seed)
            n = int((~np.isnan(query_means(x))).sum())
            means.append(ArmMean(arm, metric, n, len(x) - n, float(ci.value), float(ci.low), float(ci.high)))
    for earlier, later in combinations(arms, 2):
        for metric in values[later]:
            if metric not in values[earlier]:
                continue
            a, b = _as_repeats(values[earlier][metric]), _as_repeats(values[later][metric])
            ci = bootstrap_ci_repeats(b, a, samples=samples, confidence=confidence, seed=seed)
            diff = query_means(b) - query_means(a)
            diff = diff[~np.isnan(diff)]
            p = float(randomization_test(diff, samples, seed)) if len(diff) else float("nan")
            deltas.append(
                ArmDelta(later, earlier, metric, len(diff), float(ci.value), float(ci.low), float(ci.high), p)
            )
    return means, deltas


def retrieval_change(first_a: np.ndarray, first_b: np.ndarray, k: int) -> list[str]:
    """Per query 'fixed' / 'regressed' / 'unchanged' by harness.outcomes' one definition (first_*: 1-based rank of
    the first relevant document, 0 when none was retrieved); both_hit and both_miss count as 'unchanged'."""
    labels = (verdict(int(a), int(b), k) for a, b in zip(first_a, first_b))
    return [v if v in (FIXED, REGRESSED) else "unchanged" for v in labels]


def answer_change(a: np.ndarray, b: np.ndarray, tolerance: float = 1e-9) -> list[str]:
    """Per query 'improved' / 'worsened' / 'unchanged' / 'missing' from later (b) versus earlier (a)."""
    ma, mb = query_means(_as_repeats(a)), query_means(_as_repeats(b))
    out = []
    for x, y in zip(ma, mb):
        if np.isnan(x) or np.isnan(y):
            out.append("missing")
        else:
            out.append("improved" if y > x + tolerance else "worsened" if y < x - tolerance else "unchanged")
    return out


@dataclass(frozen=True)
class JoinTable:
    earlier: str
    later: str
    metric: str
    k: int
    counts: dict[str, dict[str, int]]  # retrieval outcome -> answer outcome -> queries

    def cell(self, retrieval: str, answer: str) -> int:
        return self.counts[retrieval][answer]

    def sentence(self) -> str:
        fixed, regressed = sum(self.counts["fixed"].values()), sum(self.counts["regressed"].values())
        became = "became correct" if self.metric == "correct" else f"improved on {self.metric}"
        got = "became wrong" if self.metric == "correct" else f"worsened on {self.metric}"
        text = (
            f"{self.later} vs {self.earlier}: retrieval fixed {fixed} "
            f"quer{'y' if fixed == 1 else 'ies'} (top {self.k}); for {self.cell('fixed', 'improved')} of them "
            f"the answer {became}"
        )
        if regressed:
            text += (
                f". Retrieval regressed {regressed}; for {self.cell('regressed', 'worsened')} of them the answer {got}"
            )
        return text + "."


def join(earlier: str, later: str, first_a, first_b, metric_a, metric_b, k: int, metric: str = "correct") -> JoinTable:
    """The 3 × 4 table of retrieval outcome × answer outcome over the same queries."""
    counts = {r: {a: 0 for a in ANSWER} for r in RETRIEVAL}
    for r, a in zip(retrieval_change(first_a, first_b, k), answer_change(metric_a, metric_b)):
        counts[r][a] += 1
    return JoinTable(earlier, later, metric, k, counts)


def join_rows(tables: list[JoinTable]) -> list[dict]:
    """Tidy rows for rag_answer_join.csv: one per pair and retrieval outcome, a column per answer outcome."""
    return [
        {"earlier": t.earlier, "later": t.later, "metric": t.metric, "k": t.k, "retrieval": r, **t.counts[r]}
        for t in tables
        for r in RETRIEVAL
    ]
