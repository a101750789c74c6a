"""Step 3 (`ragtune eval`, 3_eval_retrieval.py) end to end on the tiny O*NET set: outputs, their agreement with trec_eval, and the
one-line errors a user can act on."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import pytrec_eval

from corpus.cli import run_cli
from ragtune.cli import entry
from tests.helpers import assert_one_line_error, run_script

pytestmark = [pytest.mark.slow]

EVAL = entry("eval")


FAST = ["--bootstrap", "500", "--latency-queries", "2"]


@pytest.fixture(scope="module")
def sizes_run(tiny_dataset, tmp_path_factory):
    """Three arms (base, the same model again, BM25) over pools of 12 and 20 documents."""
    import corpus.paths

    out = tmp_path_factory.mktemp("reports")
    mp = pytest.MonkeyPatch()
    mp.setattr(corpus.paths, "EMBEDDING_CACHE_DIR", out / "cache")
    try:
        rc = run_cli(
            EVAL,
            [
                "--data",
                str(tiny_dataset),
                "--arms",
                "base=base",
                "again=base",
                "bm25",
                "--sizes",
                "12,20",
                "--no-external",
                "--k",
                "1,3,10",
                "--out",
                str(out),
                *FAST,
            ],
        )
    finally:
        mp.undo()
    assert rc == 0
    return out


def test_reports_are_tidy_and_complete(sizes_run):
    m = pd.read_csv(sizes_run / "retrieval_metrics.csv")
    assert list(m.columns) == [
        "size",
        "kind",
        "arm",
        "baseline",
        "metric",
        "k",
        "value",
        "ci_low",
        "ci_high",
        "p_value",
        "n_queries",
    ]
    arms = m[m["kind"] == "arm"]
    assert len(arms) == 2 * 3 * 6 * 3  # sizes × arms × metrics × k
    assert set(m[m["kind"] == "delta"]["arm"]) == {"again - base", "bm25 - base", "bm25 - again"}
    assert ((m["ci_low"] <= m["value"] + 1e-12) & (m["value"] <= m["ci_high"] + 1e-12)).all()
    # the same model twice: every delta is exactly zero and no test can call it significant
    same = m[m["arm"] == "again - base"]
    assert (same["value"] == 0).all() and (same["p_value"] == 1).all()
    # a larger pool can only make it harder to find the relevant documents for the same model
    hit10 = arms[(arms["arm"] == "base") & (arms["metric"] == "hit") & (arms["k"] == 10)].set_index("size")["value"]
    assert hit10[12] >= hit10[20]

    o = pd.read_csv(sizes_run / "retrieval_outcomes.csv")
    assert len(o) == 6 and (o["fixed"] + o["regressed"] + o["unchanged"] == m["n_queries"].iloc[0]).all()
    again = o[o["arm"] == "again"]
    assert (again["fixed"] == 0).all() and (again["regressed"] == 0).all()

    pq = pd.read_csv(sizes_run / "retrieval_per_query.csv")
    assert len(pq) == 2 * 3 * m["n_queries"].iloc[0]
    found = pq["first_relevant_rank"].notna()
    assert ((pq["first_relevant_rank"] <= 10) == (pq["hit@10"] == 1))[found].all()
    assert (pq.loc[~found, "hit@10"] == 0).all()
    for col in ("top1_id", "first_relevant_score", "ndcg@10", "n_relevant_in_pool"):
        assert col in pq.columns

    speed = pd.read_csv(sizes_run / "retrieval_speed.csv")
    assert set(speed["arm"]) == {"base", "again", "bm25"} and speed["latency_p50_ms"].notna().all()
    assert (sizes_run / "hit_at_k.png").stat().st_size > 5000
    assert (sizes_run / "metric_vs_size.png").stat().st_size > 5000
    card = json.loads((sizes_run / "retrieval_card.json").read_text())
    assert card["config"]["sizes"] == [12, 20] and card["models"]["base"]["fingerprint"]
    assert "Δ again - base" in (sizes_run / "retrieval_summary.md").read_text()


def test_trec_runs_rescore_to_the_reported_metrics(sizes_run):
    """Anyone can re-score the TREC files with trec_eval and get our numbers."""
    qrels = {}
    for line in (sizes_run / "runs" / "qrels.test.txt").read_text().splitlines():
        q, _, d, g = line.split()
        qrels.setdefault(q, {})[d] = int(g)
    m = pd.read_csv(sizes_run / "retrieval_metrics.csv")
    for arm in ("base", "bm25"):
        run = {}
        for line in (sizes_run / "runs" / f"{arm}.size20.trec").read_text().splitlines():
            q, _, d, rank, score, tag = line.split()
            assert tag == f"{arm}.size20"
            run.setdefault(q, {})[d] = float(score)
        res = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "P.3", "recall.10", "map_cut.10"}).evaluate(run)
        # queries BM25 retrieves nothing for are absent from its run: trec_eval -c would count them as 0
        for measure, metric, k in (
            ("ndcg_cut_10", "ndcg", 10),
            ("P_3", "precision", 3),
            ("recall_10", "recall", 10),
            ("map_cut_10", "map", 10),
        ):
            ours = m[
                (m["size"] == 20) & (m["kind"] == "arm") & (m["arm"] == arm) & (m["metric"] == metric) & (m["k"] == k)
            ]["value"].iloc[0]
            theirs = sum(r[measure] for r in res.values()) / len(qrels)
            assert ours == pytest.approx(theirs, abs=1e-6), (arm, measure)


def test_queries_whose_documents_are_not_in_the_pool_count_as_misses(tiny_dataset, isolated_cache, tmp_path):
    from corpus.beir import load_dataset
    from corpus.jsonl import write_jsonl

    ds = load_dataset(tiny_dataset)
    gone = next(iter(ds.qrels["test"].values()))
    pool = tmp_path / "pool.jsonl"
    write_jsonl(pool, ({"_id": d.id, "title": d.title, "text": d.text} for d in ds.corpus.values() if d.id not in gone))
    out = tmp_path / "r"
    assert (
        run_cli(
            EVAL,
            ["--data", str(tiny_dataset), "--pool", str(pool), "--arms", "base=base", "--out", str(out), *FAST],
        )
        == 0
    )
    card = json.loads((out / "retrieval_card.json").read_text())
    missing = sum(1 for docs in ds.qrels["test"].values() if set(docs) <= set(gone))
    assert card["pools"][0]["unreachable_queries"] == missing >= 1
    assert card["queries"] == len(ds.qrels["test"])  # kept, not dropped
    pq = pd.read_csv(out / "retrieval_per_query.csv")
    assert (pq.loc[pq["n_relevant_in_pool"] == 0, "hit@100"] == 0).all()


@pytest.fixture()
def broken_copy(tiny_dataset, tmp_path):
    dst = tmp_path / "data"
    shutil.copytree(tiny_dataset, dst)
    return dst


def test_qrels_naming_an_unknown_document(broken_copy):
    with open(broken_copy / "qrels" / "test.tsv", "a") as fh:
        fh.write(
            f"{next(iter(json.loads(line)['_id'] for line in open(broken_copy / 'queries.jsonl')))}\tno-such-doc\t1\n"
        )
    proc = run_script("3_eval_retrieval.py", "--data", broken_copy, "--arms", "base=base")
    assert_one_line_error(proc, "test.tsv", "unknown document 'no-such-doc'")


def test_empty_split(broken_copy):
    (broken_copy / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n")
    proc = run_script("3_eval_retrieval.py", "--data", broken_copy, "--arms", "base=base")
    assert_one_line_error(proc, "split 'test' has no relevant pairs")


def test_unknown_model_path(tiny_dataset, tmp_path):
    proc = run_script(
        "3_eval_retrieval.py", "--data", tiny_dataset, "--arms", "base=base", f"finetuned={tmp_path / 'nope'}"
    )
    assert_one_line_error(proc, "nope", "does not exist")


def test_ignore_identical_ids_drops_the_querys_own_document(isolated_cache, tmp_path):
    """ArguAna-style data: each query's own text is in the corpus under the query's id and is not relevant."""
    from tests.corpus.test_beir import make_beir

    corpus = [
        {"_id": "a1", "title": "", "text": "Zoos should be banned because animals suffer in captivity."},
        {"_id": "a2", "title": "", "text": "Keeping wild animals in cages harms their welfare."},
        {"_id": "a3", "title": "", "text": "Nuclear power is the cleanest reliable energy source."},
        {"_id": "a4", "title": "", "text": "Reactors produce waste that stays dangerous for millennia."},
    ]
    queries = [
        {"_id": "a1", "text": "Zoos should be banned because animals suffer in captivity."},
        {"_id": "a3", "text": "Nuclear power is the cleanest reliable energy source."},
    ]
    data = make_beir(tmp_path / "arguana_like", corpus, queries, "query-id\tcorpus-id\tscore\na1\ta2\t1\na3\ta4\t1\n")
    mrr = {}
    for flag in ([], ["--ignore-identical-ids"]):
        out = tmp_path / f"r{len(flag)}"
        assert run_cli(EVAL, ["--data", str(data), "--arms", "base=base", "--out", str(out), *FAST, *flag]) == 0
        pq = pd.read_csv(out / "retrieval_per_query.csv")
        assert len(pq) == 2
        mrr[bool(flag)] = pq["mrr@10"].mean()
        top1 = set(pq["top1_id"])
        assert (top1 == {"a1", "a3"}) if not flag else not (top1 & {"a1", "a3"})
        trec = (out / "runs" / "base.trec").read_text().splitlines()
        assert any(line.split()[0] == line.split()[2] for line in trec) == (not flag)
    assert mrr[False] == pytest.approx(0.5) and mrr[True] == pytest.approx(1.0)


def test_console_leads_with_the_headline_and_the_grid_is_behind_a_flag(tiny_dataset, isolated_cache, tmp_path, capsys):
    out = tmp_path / "r"
    flags = ["--data", str(tiny_dataset), "--arms", "base=base", "bm25", "--k", "1,3,10,20", "--out", str(out), *FAST]
    assert run_cli(EVAL, flags) == 0
    printed = capsys.readouterr().out
    rows = [line for line in printed.splitlines() if line.startswith("│")]  # the table's body rows
    assert len(rows) <= 15, printed
    m = pd.read_csv(out / "retrieval_metrics.csv")
    delta = m[(m["kind"] == "delta") & (m["metric"] == "mrr") & (m["k"] == 10)].iloc[0]
    base_row, mrr_row = [line for line in rows if "MRR@10" in line]  # the baseline's, then bm25's with its Δ
    assert f"{delta['value']:+.3f}" in mrr_row and f"{delta['ci_low']:+.3f}" in mrr_row
    for label in ("Hit@10", "nDCG@10", "Recall@20", "fixed / regressed (Hit@10)"):
        assert label in printed
    assert "P@1" not in printed and "MAP@3" not in printed  # the full grid is in the CSV
    o = pd.read_csv(out / "retrieval_outcomes.csv").iloc[0]
    assert f"{o['fixed']} / {o['regressed']}" in printed

    assert run_cli(EVAL, [*flags, "--full-table"]) == 0
    full = capsys.readouterr().out
    assert "P@1" in full and "MAP@3" in full
