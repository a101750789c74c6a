"""What a paired comparison of answers can detect, and the run that would detect more: plain functions over plain
numbers.

A paired correctness difference per query is d = y_b − y_a ∈ {−1, 0, +1}. With n queries, the estimate d̄ has
standard error SE; a two-sided test at confidence 1 − α has power 1 − β against a true difference δ when
δ ≥ (z_{1−α/2} + z_{1−β}) · SE (normal approximation). That δ is the minimum detectable effect (MDE).

* After a run: SE is the stratified estimate's own (rag.answer_design.paired_difference), so mde(se).
* Without a design: for a simple random sample SE² = (p_d − δ²) / n, p_d the share of discordant queries (the two
  answers differ in correctness): δ = c · √(p_d / (n + c²)) with c = z_{1−α/2} + z_{1−β}; when nothing discordant
  was observed, a stated p_d is assumed.
* More queries: SE shrinks as 1/√n when the same design is extended proportionally, so detecting δ needs
  n · (c · SE / δ)² answered queries.
* Before a run: plan() spends a time budget on the design's draw order (cost = distinct prompts × seconds per
  answer) and predicts the MDE from the strata sizes and the assumed SDs of the paired difference.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from corpus.errors import RagtuneError
from rag.answer_design import (
    PRIOR_SD,
    Design,
    Estimate,
    Sample,
    estimate,
    paired_difference,
    same_context_strata,
    stratum_labels,
)

POWER = 0.8
# assumed share of discordant queries when a run observed none (half of fixed/regressed-like queries)
ASSUMED_DISCORDANCE = 0.2


def z_sum(confidence: float = 0.95, power: float = POWER) -> float:
    """c = z_{1−α/2} + z_{power}, α = 1 − confidence (two-sided)."""
    if not (0 < confidence < 1 and 0 < power < 1):
        raise RagtuneError(f"confidence {confidence} and power {power} must lie strictly between 0 and 1")
    nd = NormalDist()
    return nd.inv_cdf(0.5 + confidence / 2) + nd.inv_cdf(power)


def mde(se: float, confidence: float = 0.95, power: float = POWER) -> float:
    """The smallest true difference a test with this standard error detects with the given power."""
    return z_sum(confidence, power) * se


def mde_paired(n: int, discordance: float, confidence: float = 0.95, power: float = POWER) -> float:
    """MDE of n paired binary outcomes (simple random sample) whose two answers differ in correctness in a share
    `discordance` of queries; solves δ = c · √((p_d − δ²) / n)."""
    if n <= 0:
        return math.inf
    c = z_sum(confidence, power)
    return c * math.sqrt(discordance / (n + c * c))


def queries_for_effect(
    effect: float, discordance: float = ASSUMED_DISCORDANCE, confidence: float = 0.95, power: float = POWER
) -> int:
    """Paired queries (simple random sample) needed to detect `effect`: n = c² (p_d − δ²) / δ²."""
    if effect <= 0:
        raise RagtuneError(f"effect {effect}: a difference to detect must be > 0")
    if effect * effect > discordance:
        raise RagtuneError(f"effect {effect} exceeds what discordance {discordance} allows (δ² ≤ p_d)")
    c = z_sum(confidence, power)
    return math.ceil(c * c * (discordance - effect * effect) / (effect * effect))


def queries_for_effect_from_se(effect: float, se: float, n: int, confidence: float = 0.95, power: float = POWER) -> int:
    """Answered queries the same design needs to detect `effect`, from a run of n queries with standard error se
    (SE ∝ 1/√n): n · (c · se / δ)², at least n."""
    if effect <= 0:
        raise RagtuneError(f"effect {effect}: a difference to detect must be > 0")
    c = z_sum(confidence, power)
    return max(n, math.ceil(n * (c * se / effect) ** 2))


@dataclass(frozen=True)
class Detectable:
    """The after-run statement: what n answered queries could detect, and what more would take."""

    n: int
    se: float
    mde: float
    confidence: float
    power: float
    effect: float | None = None  # the difference asked about
    queries_needed: int | None = None  # answered queries to detect `effect`
    more_queries: int | None = None  # queries_needed − n


def detectable(
    se: float, n: int, effect: float | None = None, confidence: float = 0.95, power: float = POWER
) -> Detectable:
    needed = more = None
    if effect is not None:
        needed = queries_for_effect_from_se(effect, se, n, confidence, power) if se > 0 else n
        more = needed - n
    return Detectable(n, se, mde(se, confidence, power), confidence, power, effect, needed, more)


def design_se(sample: Sample, sd: Mapping[str, float] | None = None) -> float:
    """Predicted SE of the paired difference for a sample: √Σ_h (N_h/N)² (1 − n_h/N_h) S_h² / n_h, S_h from `sd`
    (e.g. a finished run's observed_sd) else PRIOR_SD of the stratum's labels (0 where the prompts are identical).
    A stratum with nonzero SD and nothing drawn makes it infinite."""
    total = sum(sample.sizes.values())
    var = 0.0
    for h, size in sample.sizes.items():
        s = sd[h] if sd is not None and h in sd else max(PRIOR_SD.get(x, 0.5) for x in stratum_labels(h).values())
        n = sample.drawn.get(h, 0)
        if s == 0:
            continue
        if n == 0:
            return math.inf
        var += (size / total) ** 2 * (1 - n / size) * s * s / n
    return math.sqrt(var)


@dataclass(frozen=True)
class Plan:
    """What --budget buys: the sample, its cost and the difference it is expected to detect."""

    budget_minutes: float
    seconds_per_answer: float
    sample: Sample
    per_stratum: Mapping[str, int]  # n_h
    strata_sizes: Mapping[str, int]  # N_h
    queries: int
    prompts: int  # generations (distinct prompts)
    shared: float  # share of arm answers served by another arm's identical prompt
    minutes: float  # expected answering time
    expected_se: float
    expected_mde: float
    confidence: float
    power: float

    def lines(self) -> list[str]:
        """The plan as printed before a run: totals, then queries drawn per stratum."""
        out = [
            f"budget {self.budget_minutes:g} min at {self.seconds_per_answer:.1f} s per answer: {self.queries} queries, "
            f"{self.prompts} generations ({self.shared:.0%} of arm answers shared), ≈ {self.minutes:.1f} min; "
            f"expected minimum detectable difference {self.expected_mde:.3f} "
            f"({self.confidence:.0%} confidence, {self.power:.0%} power)"
        ]
        out += [f"  {h}: {self.per_stratum.get(h, 0)} of {n}" for h, n in sorted(self.strata_sizes.items())]
        return out


def plan(
    d: Design,
    budget_minutes: float,
    seconds_per_answer: float,
    arms: int,
    confidence: float = 0.95,
    power: float = POWER,
    sd: Mapping[str, float] | None = None,
    overhead_minutes: float = 0.0,
) -> Plan:
    """The longest prefix of the design's draw order whose generations fit in the budget (less a fixed overhead,
    e.g. loading the model), with its expected MDE. `arms`: answers per query before sharing (retriever arms plus
    brackets), for the shared share."""
    if budget_minutes <= 0 or seconds_per_answer <= 0:
        raise RagtuneError(f"--budget {budget_minutes} min at {seconds_per_answer} s per answer: both must be > 0")
    prompts = int((budget_minutes - overhead_minutes) * 60 // seconds_per_answer)
    sample = d.sample(prompts=max(prompts, 0))
    se = design_se(sample, sd)
    shared = 1 - sample.prompts / (arms * sample.n) if sample.n and arms else 0.0
    return Plan(
        budget_minutes,
        seconds_per_answer,
        sample,
        dict(sample.drawn),
        dict(sample.sizes),
        sample.n,
        sample.prompts,
        shared,
        overhead_minutes + sample.prompts * seconds_per_answer / 60,
        se,
        mde(se, confidence, power),
        confidence,
        power,
    )


@dataclass(frozen=True)
class DesignSummary:
    """A sampled run carried to the whole split: each arm's correctness, each pair's difference (b − a) and what
    that difference could detect."""

    arms: Mapping[str, Estimate]
    differences: Mapping[tuple[str, str], Estimate]
    detectable: Mapping[tuple[str, str], Detectable]


def summarise(
    sample: Sample,
    values: Mapping[str, Mapping[str, float]],
    pairs: Sequence[tuple[str, str]],
    confidence: float = 0.95,
    effect: float | None = None,
    power: float = POWER,
) -> DesignSummary:
    """`values[arm][query_id]`: a per-query score (correct 0/1) of every sampled query; `pairs` (a, b) as
    compared, b − a. Pairs whose prompts were identical in whole strata have those strata's difference exactly 0."""
    arms = {arm: estimate(sample, v, confidence) for arm, v in values.items()}
    diffs, det = {}, {}
    for a, b in pairs:
        e = paired_difference(sample, values[a], values[b], confidence, same_context_strata(sample, a, b))
        diffs[(a, b)] = e
        det[(a, b)] = detectable(e.se, e.n, effect, confidence, power)
    return DesignSummary(arms, diffs, det)
