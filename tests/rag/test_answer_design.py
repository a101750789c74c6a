"""The stratified answer design: a stable draw order where answers can differ, and weighted estimates that agree
with the full enumeration of a split whose every query was answered."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rag.answer_design import (
    QueryStratum,
    Sample,
    design,
    estimate,
    paired_difference,
    read_step3_strata,
    same_context_strata,
    strata_from_ranks,
)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "answer_design" / "onet_tiny_answers.csv"


def test_stratified_estimate_by_hand():
    # stratum A: 2 of 4 drawn, values 1, 0; stratum B: 3 of 6 drawn, values 1, 1, 0
    s = Sample(
        ("a1", "a2", "b1", "b2", "b3"),
        {**{f"a{i}": "A" for i in range(1, 5)}, **{f"b{i}": "B" for i in range(1, 7)}},
        {"A": 4, "B": 6},
        {"A": 2, "B": 3},
        5,
    )
    e = estimate(s, {"a1": 1, "a2": 0, "b1": 1, "b2": 1, "b3": 0}, confidence=0.95)
    # 0.4 · 1/2 + 0.6 · 2/3 = 0.6; variance 0.4² · (1 − 2/4) · 0.5/2 + 0.6² · (1 − 3/6) · (1/3)/3 = 0.02 + 0.02
    assert e.value == pytest.approx(0.6) and e.se == pytest.approx(0.2)
    assert e.ci_low == pytest.approx(0.6 - 1.959964 * 0.2, abs=1e-5) and e.covered == 1.0
    assert s.weight("a1") == 2 and s.weight("b1") == 2
    # a stratum whose sample does not vary still has a variance (half an observation the other way) ...
    same = estimate(s, {"a1": 1, "a2": 1, "b1": 1, "b2": 1, "b3": 1})
    assert same.value == 1 and same.se > 0
    # ... unless it is exact: identical prompts make a paired difference 0 by construction
    assert estimate(s, dict.fromkeys(s.query_ids, 0.0), exact={"A", "B"}).se == 0


def _strata(n_fixed=10, n_same=40, n_differ=20):
    labels = ["fixed"] * n_fixed + ["both_hit:same"] * n_same + ["both_miss:differ"] * n_differ
    return [QueryStratum(f"q{i:03d}", f"a~b={h}", 1 if h.endswith("same") else 2) for i, h in enumerate(labels)]


def test_draw_order_is_seeded_stable_and_extends():
    queries = _strata()
    d = design(queries, seed=3)
    assert sorted(d.draw) == sorted(q.query_id for q in queries)  # every query, once
    assert design(list(reversed(queries)), seed=3).draw == d.draw  # input order does not matter
    assert design(queries, seed=4).draw != d.draw
    small, large = d.sample(n_queries=12), d.sample(n_queries=30)
    assert large.query_ids[:12] == small.query_ids
    assert set(small.drawn) == set(small.sizes)  # every stratum drawn before any gets more
    by_cost = d.sample(prompts=25)
    assert by_cost.prompts <= 25 and d.sample(prompts=by_cost.prompts + 2).n > by_cost.n
    # the fixed stratum is sampled most densely, identical prompts least
    f = {h: large.drawn[h] / large.sizes[h] for h in large.sizes}
    assert f["a~b=fixed"] > f["a~b=both_miss:differ"] > f["a~b=both_hit:same"]


def test_strata_from_ranks_and_step_3_file(tmp_path):
    strata = strata_from_ranks(
        ["q1", "q2", "q3"],
        {"base": [5, 1, 2], "ft": [1, 1, None]},
        {"base": [("x", "y"), ("a", "b"), ("c", "d")], "ft": [("y", "x"), ("a", "b"), ("e", "f")]},
        [("base", "ft")],
        k=3,
        brackets=1,
    )
    assert [s.stratum for s in strata] == ["base~ft=fixed", "base~ft=both_hit:same", "base~ft=regressed"]
    assert [s.prompts for s in strata] == [3, 2, 3]  # identical contexts: one prompt for both arms
    rows = []
    for arm, ranks, tops in (("base", [5, 1, 2], ["x", "a", "c"]), ("ft", [1, 1, None], ["y", "a", "e"])):
        for q, r, t in zip(["q1", "q2", "q3"], ranks, tops, strict=True):
            rows.append({"size": 20, "arm": arm, "query_id": q, "first_relevant_rank": r, "top1_id": t})
    rows.append({"size": 10, "arm": "base", "query_id": "q9", "first_relevant_rank": 1, "top1_id": "x"})
    pd.DataFrame(rows).to_csv(tmp_path / "retrieval_per_query.csv", index=False)
    read = read_step3_strata(tmp_path / "retrieval_per_query.csv", ["base", "ft"], fix_k=3, top_k=1)
    assert [s.stratum for s in read] == [s.stratum for s in strata]  # pool size 20, the largest


def _fixture():
    df = pd.read_csv(FIXTURE, dtype={"query_id": str}, keep_default_na=False)
    assert len(df) >= 30, "regenerate it: benchmarks/answer_design_fixture.py"
    ids = df["query_id"].tolist()
    ranks = {a: [int(r) or None for r in df[f"{a}_rank"]] for a in ("base", "bm25")}
    contexts = {a: [tuple(c.split(";")) for c in df[f"{a}_context_ids"]] for a in ("base", "bm25")}
    strata = strata_from_ranks(ids, ranks, contexts, [("base", "bm25")], k=3)
    correct = {a: dict(zip(ids, df[f"{a}_correct"].astype(float), strict=True)) for a in ("base", "bm25")}
    return strata, correct


def test_weighted_estimates_agree_with_the_full_enumeration():
    """SmolLM2's real answers to every query of the fixture split (base MiniLM and BM25 contexts): estimates from
    40 stratified samples of 40 % of the split cover the full-split values at about the stated 90 %."""
    strata, correct = _fixture()
    n_split = len(strata)
    truth = {a: sum(correct[a].values()) / n_split for a in correct}
    diff_truth = truth["bm25"] - truth["base"]
    full = design(strata, seed=0).sample()
    whole = estimate(full, correct["base"])
    assert whole.value == pytest.approx(truth["base"]) and whole.se == 0  # the whole split: no sampling error

    hits, total, errors = 0, 0, []
    for seed in range(40):
        sample = design(strata, seed=seed).sample(n_queries=round(0.4 * n_split))
        exact = same_context_strata(sample, "base", "bm25")
        for est, value in (
            (estimate(sample, correct["base"], 0.9), truth["base"]),
            (estimate(sample, correct["bm25"], 0.9), truth["bm25"]),
            (paired_difference(sample, correct["base"], correct["bm25"], 0.9, exact), diff_truth),
        ):
            hits += est.ci_low <= value <= est.ci_high
            total += 1
            errors.append(est.value - value)
    # 120 intervals at 90 %: fewer than 96 covering would be very unlikely (binomial P < 0.01) for valid intervals
    assert hits / total >= 0.8, f"coverage {hits}/{total}"
    assert abs(sum(errors) / len(errors)) < 0.03  # unbiased: the errors average out


def test_summary_of_the_whole_split_is_the_enumeration():
    from rag.answer_power import summarise

    strata, correct = _fixture()
    everything = design(strata, seed=0).sample()
    s = summarise(everything, correct, [("base", "bm25")], confidence=0.9, effect=0.1)
    n = len(strata)
    assert s.arms["base"].value == pytest.approx(sum(correct["base"].values()) / n)
    diff = s.differences[("base", "bm25")]
    assert diff.value == pytest.approx((sum(correct["bm25"].values()) - sum(correct["base"].values())) / n)
    assert diff.se == 0 and s.detectable[("base", "bm25")].mde == 0  # nothing left to sample

    half = summarise(design(strata, seed=0).sample(n_queries=n // 2), correct, [("base", "bm25")], 0.9, 0.1)
    d = half.detectable[("base", "bm25")]
    assert d.mde > 0 and d.queries_needed >= d.n and d.more_queries == d.queries_needed - d.n
