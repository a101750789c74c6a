"""Which queries step 4 answers: a stratified sample of the split, drawn where the arms' answers can differ, and the
weighted estimates that carry the sample back to the whole split.

Strata. Each query gets, for every arm pair, its retrieval verdict (harness.outcomes: fixed, regressed, both_hit,
both_miss) and, for both_hit / both_miss, whether the pair's top-k contexts are the same passages in the same order
(``both_hit:same``) or not (``both_hit:differ``). With a deterministic decoder (rag.local_server) a pair with the same
context writes the same answer, so its paired difference is exactly 0 there: such queries cost one generation for
the pair and add nothing to the difference, while fixed / regressed queries are where answers are most likely to
differ. A query's stratum is the combination of its labels over the pairs (``base~finetuned=fixed``).

Allocation. Queries are drawn one at a time; the next draw goes to the stratum whose draw most reduces the variance
of the stratified estimate per generation it costs (Neyman allocation with costs, made sequential):
``gain_h = N_h² · S_h² · (1/n_h − 1/(n_h + 1)) / c_h``, with N_h the stratum's size, S_h the assumed standard
deviation of the paired difference there (PRIOR_SD, never below ARM_SD_FLOOR so every stratum's arm correctness is
still estimated), c_h its mean number of distinct prompts per query. Every stratum first gets MIN_PER_STRATUM draws
(most important first). Within a stratum the queries come in a seeded hash order, so the sample of a budget is the
prefix of one fixed draw order: a larger budget extends a smaller one, and a rerun reuses every cached answer.

Estimator. Within stratum h the n_h drawn queries are a simple random sample of its N_h, so each has inclusion
probability π = n_h / N_h; the Horvitz-Thompson mean over the split, Σ_i y_i / (N π_i), is the stratified mean
Σ_h (N_h / N) ȳ_h. Its variance is the stratified formula Σ_h (N_h / N)² (1 − n_h / N_h) s_h² / n_h, and the
interval is normal at the chosen confidence. A stratum whose sample does not vary would claim certainty from a few
queries, so s_h² is never below p̃(1 − p̃) with p̃ = 0.5 / (n_h + 1) (half an observation the other way); a stratum
of one drawn query gets the largest variance a value of that span can have. Strata where the pair's prompts are
identical (``exact``) keep a variance of 0: their difference is 0 by construction, not by chance.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

from corpus.errors import DataError
from corpus.splits import stable_order
from harness.outcomes import BOTH_HIT, BOTH_MISS, FIXED, REGRESSED, verdict

SAME, DIFFER = "same", "differ"
PAIR_SEP, PART_SEP, VERDICT_SEP = "~", "|", "="
# assumed SD of a paired correctness difference (−1, 0, +1 per query) by pair label, for allocation and planning:
# with no mean difference, SD = √(share of queries whose two answers differ in correctness): about half in fixed and
# regressed queries (one arm has the relevant passage), a fifth where the contexts differ but the verdict does not,
# none where the prompts are identical. A finished run's observed SDs (observed_sd) replace these.
PRIOR_SD = {
    FIXED: math.sqrt(0.5),
    REGRESSED: math.sqrt(0.5),
    f"{BOTH_HIT}:{DIFFER}": math.sqrt(0.2),
    f"{BOTH_MISS}:{DIFFER}": math.sqrt(0.2),
    f"{BOTH_HIT}:{SAME}": 0.0,
    f"{BOTH_MISS}:{SAME}": 0.0,
}
# the floor of a stratum's allocation SD: each arm's correctness (SD up to 0.5) is estimated in every stratum too
ARM_SD_FLOOR = 0.25
MIN_PER_STRATUM = 2  # two draws give a stratum a variance of its own


@dataclass(frozen=True)
class QueryStratum:
    """One query's place in the design."""

    query_id: str
    stratum: str
    prompts: int = 1  # distinct prompts answering it costs (arms with identical prompts share one generation)


def pair_name(a: str, b: str) -> str:
    return f"{a}{PAIR_SEP}{b}"


def pair_label(baseline_rank: int | None, rank: int | None, k: int, same_context: bool) -> str:
    """fixed / regressed, else both_hit or both_miss with ':same' or ':differ' (the pair's top-k contexts)."""
    v = verdict(baseline_rank, rank, k)
    return v if v in (FIXED, REGRESSED) else f"{v}:{SAME if same_context else DIFFER}"


def stratum_labels(stratum: str) -> dict[str, str]:
    """{pair name: label} of a stratum name."""
    return dict(part.split(VERDICT_SEP, 1) for part in stratum.split(PART_SEP))


def strata_from_ranks(
    query_ids: Sequence[str],
    first_ranks: Mapping[str, Sequence[int | None]],
    contexts: Mapping[str, Sequence[Sequence[str]]],
    pairs: Sequence[tuple[str, str]],
    k: int,
    brackets: int = 0,
) -> list[QueryStratum]:
    """Each query's stratum over `pairs` (verdict at cut-off `k`, context identity from `contexts`, the top-k ids
    per arm and query) and its prompt count: the distinct contexts among the retriever arms plus `brackets`
    (closed book, oracle: answered once per query whatever the arms do)."""
    arms = list(contexts)
    out = []
    for i, q in enumerate(query_ids):
        parts = []
        for a, b in pairs:
            same = tuple(contexts[a][i]) == tuple(contexts[b][i])
            parts.append(f"{pair_name(a, b)}{VERDICT_SEP}{pair_label(first_ranks[a][i], first_ranks[b][i], k, same)}")
        distinct = len({tuple(contexts[arm][i]) for arm in arms})
        out.append(QueryStratum(q, PART_SEP.join(parts), distinct + brackets))
    return out


def read_step3_strata(
    path: str | Path,
    arms: Sequence[str],
    fix_k: int,
    top_k: int,
    pairs: Sequence[tuple[str, str]] | None = None,
    size: int | None = None,
    brackets: int = 0,
) -> list[QueryStratum]:
    """Strata from step 3's retrieval_per_query.csv (one row per pool size, arm and query): verdicts at `fix_k` from
    first_relevant_rank, context identity from top1_id..top3_id (the file holds three; with top_k > 3 the pair's
    contexts count as different, so nothing is assumed to cancel). `size`: the pool size (default: the largest).
    `pairs` default to the first arm against each other arm."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"query_id": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read step 3's per-query results ({exc})") from None
    missing = {"size", "arm", "query_id", "first_relevant_rank"} - set(df.columns)
    if missing:
        raise DataError(f"{path}: column(s) {', '.join(sorted(missing))} missing (is it retrieval_per_query.csv?)")
    size = int(df["size"].max()) if size is None else size
    df = df[df["size"] == size]
    absent = [a for a in arms if a not in set(df["arm"])]
    if absent:
        raise DataError(f"{path}: no rows for arm(s) {', '.join(absent)} at pool size {size}")
    pairs = list(pairs) if pairs is not None else [(arms[0], b) for b in arms[1:]]
    by_arm = {a: df[df["arm"] == a].set_index("query_id") for a in arms}
    query_ids = sorted(by_arm[arms[0]].index)
    depth = min(top_k, 3)
    tops = [f"top{j}_id" for j in range(1, depth + 1)]
    ranks, contexts = {}, {}
    for a in arms:
        rows = by_arm[a].reindex(query_ids)
        ranks[a] = [None if pd.isna(r) else int(r) for r in rows["first_relevant_rank"]]
        if top_k <= 3 and set(tops) <= set(rows.columns):
            contexts[a] = [tuple("" if pd.isna(x) else str(x) for x in row) for row in rows[tops].itertuples(False)]
        else:
            contexts[a] = [(a, q) for q in query_ids]  # unknown beyond top 3: never the same
    return strata_from_ranks(query_ids, ranks, contexts, pairs, fix_k, brackets)


def allocation_sd(stratum: str, sd: Mapping[str, float] | None = None) -> float:
    """The SD the allocation assumes for a stratum: `sd[stratum]` when given, else the largest PRIOR_SD of its pair
    labels; never below ARM_SD_FLOOR."""
    if sd is not None and stratum in sd:
        return max(float(sd[stratum]), ARM_SD_FLOOR)
    labels = stratum_labels(stratum).values()
    return max([PRIOR_SD.get(label, 0.5) for label in labels] + [ARM_SD_FLOOR])


@dataclass(frozen=True)
class Sample:
    """A prefix of the design's draw order: the queries to answer and the weights that carry them to the split."""

    query_ids: tuple[str, ...]  # in draw order
    stratum_of: Mapping[str, str]  # every query of the split
    sizes: Mapping[str, int]  # N_h
    drawn: Mapping[str, int]  # n_h
    prompts: int  # distinct prompts the sample costs

    @property
    def n(self) -> int:
        return len(self.query_ids)

    def inclusion(self, query_id: str) -> float:
        """π_i = n_h / N_h."""
        h = self.stratum_of[query_id]
        return self.drawn.get(h, 0) / self.sizes[h]

    def weight(self, query_id: str) -> float:
        """1 / π_i: how many queries of the split this one stands for."""
        return 1.0 / self.inclusion(query_id)


@dataclass(frozen=True)
class Design:
    queries: tuple[QueryStratum, ...]
    seed: int
    draw: tuple[str, ...]  # every query of the split, in the order the sequential allocation draws them
    sd: Mapping[str, float] = field(default_factory=dict)  # allocation SD per stratum

    @property
    def sizes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for q in self.queries:
            out[q.stratum] = out.get(q.stratum, 0) + 1
        return out

    def sample(self, n_queries: int | None = None, prompts: int | None = None) -> Sample:
        """The longest prefix of the draw order with at most `n_queries` queries and `prompts` generations."""
        by_id = {q.query_id: q for q in self.queries}
        chosen, cost = [], 0
        for qid in self.draw:
            if n_queries is not None and len(chosen) >= n_queries:
                break
            if prompts is not None and cost + by_id[qid].prompts > prompts:
                break
            chosen.append(qid)
            cost += by_id[qid].prompts
        drawn: dict[str, int] = {}
        for qid in chosen:
            h = by_id[qid].stratum
            drawn[h] = drawn.get(h, 0) + 1
        stratum_of = {q.query_id: q.stratum for q in self.queries}
        return Sample(tuple(chosen), stratum_of, self.sizes, drawn, cost)


def design(
    queries: Sequence[QueryStratum],
    seed: int = 13,
    sd: Mapping[str, float] | None = None,
    min_per_stratum: int = MIN_PER_STRATUM,
) -> Design:
    """The draw order of every query of the split (see the module doc): seeded, stable, cost-aware."""
    ids = [q.query_id for q in queries]
    if len(set(ids)) != len(ids):
        raise DataError("answer design: a query id appears twice")
    members: dict[str, list[QueryStratum]] = {}
    for q in queries:
        members.setdefault(q.stratum, []).append(q)
    order = {h: stable_order(m, f"rag/design/{seed}/{h}", key=lambda q: q.query_id) for h, m in members.items()}
    s = {h: allocation_sd(h, sd) for h in members}
    cost = {h: sum(q.prompts for q in m) / len(m) for h, m in members.items()}
    size = {h: len(m) for h, m in members.items()}
    importance = {h: size[h] * s[h] / math.sqrt(cost[h]) for h in members}

    def key(h: str, n: int) -> tuple:
        # heapq pops the smallest: first the floor rounds (fewest drawn first, most important first), then gains
        if n < min_per_stratum:
            return (0, n, -importance[h], h)
        gain = size[h] ** 2 * s[h] ** 2 * (1 / n - 1 / (n + 1)) / cost[h]
        return (1, -gain, h)

    heap = [(key(h, 0), h) for h in members]
    heapq.heapify(heap)
    drawn = dict.fromkeys(members, 0)
    draw = []
    while heap:
        _, h = heapq.heappop(heap)
        draw.append(order[h][drawn[h]].query_id)
        drawn[h] += 1
        if drawn[h] < size[h]:
            heapq.heappush(heap, (key(h, drawn[h]), h))
    return Design(tuple(queries), seed, tuple(draw), s)


@dataclass(frozen=True)
class Estimate:
    """A stratified (Horvitz-Thompson) estimate of a split-wide mean."""

    value: float
    se: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int  # answered queries used
    covered: float  # share of the split in strata with at least one answered query (1.0 = the whole split)


def _floor_variance(n: int, span: float) -> float:
    if n <= 1:
        return span**2 / 4  # the largest variance of a value of that span
    p = 0.5 / (n + 1)
    return p * (1 - p)


def stratum_variances(
    sample: Sample, values: Mapping[str, float], exact: Collection[str] = (), span: float = 1.0
) -> dict[str, float]:
    """s_h² of the sampled values per stratum, floored (module doc) except in `exact` strata."""
    by: dict[str, list[float]] = {}
    for qid in sample.query_ids:
        by.setdefault(sample.stratum_of[qid], []).append(float(values[qid]))
    out = {}
    for h, ys in by.items():
        n = len(ys)
        mean = sum(ys) / n
        s2 = sum((y - mean) ** 2 for y in ys) / (n - 1) if n > 1 else 0.0
        out[h] = s2 if h in exact else max(s2, _floor_variance(n, span))
    return out


def estimate(
    sample: Sample,
    values: Mapping[str, float],
    confidence: float = 0.95,
    exact: Collection[str] = (),
    span: float = 1.0,
) -> Estimate:
    """The split-wide mean of `values` (one per answered query: correctness 0/1, a paired difference −1..1 with
    span=2) from the sample, its standard error and normal interval. Strata without an answered query are left out
    and reported through `covered`."""
    missing = [q for q in sample.query_ids if q not in values]
    if missing:
        raise DataError(f"answer design: no value for {len(missing)} sampled queries (e.g. {missing[0]})")
    sums: dict[str, float] = {}
    for qid in sample.query_ids:
        h = sample.stratum_of[qid]
        sums[h] = sums.get(h, 0.0) + float(values[qid])
    covered_n = sum(sample.sizes[h] for h in sums)
    total = sum(sample.sizes.values())
    if not covered_n:
        raise DataError("answer design: no answered query to estimate from")
    s2 = stratum_variances(sample, values, exact, span)
    value = sum(sample.sizes[h] / covered_n * sums[h] / sample.drawn[h] for h in sums)
    var = sum(
        (sample.sizes[h] / covered_n) ** 2 * (1 - sample.drawn[h] / sample.sizes[h]) * s2[h] / sample.drawn[h]
        for h in sums
    )
    se = math.sqrt(var)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    # the normal interval is cut to the values' range (0..1 for correctness, -1..1 for a difference of two): a few
    # queries per stratum give wide intervals, and a share below 0 is no possible outcome
    low, high = (0.0, 1.0) if span == 1.0 else (-span / 2, span / 2)
    ci = (max(value - z * se, low), min(value + z * se, high))
    return Estimate(value, se, *ci, confidence, sample.n, covered_n / total)


def paired_difference(
    sample: Sample,
    a: Mapping[str, float],
    b: Mapping[str, float],
    confidence: float = 0.95,
    exact: Collection[str] = (),
) -> Estimate:
    """The split-wide mean of b − a (e.g. fine-tuned − base correctness) over the sampled queries."""
    return estimate(sample, {q: float(b[q]) - float(a[q]) for q in sample.query_ids}, confidence, exact, span=2.0)


def same_context_strata(sample: Sample, a: str, b: str) -> set[str]:
    """Strata in which every query gave arms a and b the same context: their b − a is 0 by construction."""
    name = pair_name(a, b)
    out = set()
    for h in sample.sizes:
        label = stratum_labels(h).get(name, "")
        if label.endswith(f":{SAME}"):
            out.add(h)
    return out


def observed_sd(sample: Sample, a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    """Per stratum, the sample SD of b − a: the allocation SDs of the next run's design."""
    diffs = {q: float(b[q]) - float(a[q]) for q in sample.query_ids}
    return {h: math.sqrt(v) for h, v in stratum_variances(sample, diffs, exact=sample.sizes, span=2.0).items()}
