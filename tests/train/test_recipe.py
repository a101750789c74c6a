"""Settings the data decides: sequence length from token lengths, steps from the number of rows, dev candidates."""

from __future__ import annotations

import json
import shutil

import pytest

from corpus.beir import load_dataset
from train.config import (
    LONG_TEXT,
    LONG_TEXT_POWER,
    ROW_OVERHEAD,
    STEP_TOKENS,
    STEPS_MIN,
    TrainConfig,
    counted_tokens,
    scaled_steps,
)
from train.seq_length import choose_seq_length, percentile, supported_length, token_lengths


def test_percentile_is_the_smallest_value_covering_the_share():
    assert percentile([5, 1, 3, 2, 4], 0.9) == 5
    assert percentile([5, 1, 3, 2, 4], 0.6) == 3
    assert percentile(list(range(1, 101)), 0.9) == 90


def test_seq_length_never_below_the_base_model_and_capped_at_what_it_supports(minilm):
    base, cap = minilm.max_seq_length, supported_length(minilm.model)
    assert base == 256 and cap == 512
    short = choose_seq_length(minilm.model, ["a short task statement."] * 10, 0.9)
    assert short.value == base and short.how == "base model's"
    words = "the nurse checks the chart of each patient and writes a note "
    mid = [words * n for n in (30, 32, 34)]  # ~370-420 tokens
    lengths = token_lengths(minilm.model, mid)
    chosen = choose_seq_length(minilm.model, mid, 0.9)
    assert chosen.how == "from data" and chosen.value == max(lengths) and base < chosen.value < cap
    huge = choose_seq_length(minilm.model, [words * 200] * 3, 0.9)
    assert huge.value == cap and huge.covering_tokens > cap
    assert choose_seq_length(minilm.model, mid, 0.9, asked=64).value == 64, "an explicit length is kept"


def test_a_longer_length_is_kept_only_when_the_dev_gain_pays_for_its_encode_cost(minilm):
    from train.seq_length import MIN_GAIN_PER_COST, weigh_seq_length

    base = minilm.max_seq_length
    words = "the nurse checks the chart of each patient and writes a note "
    mid = [words * n for n in (30, 32, 34)]  # ~370-420 tokens
    chosen = choose_seq_length(minilm.model, mid, 0.9)
    longer = chosen.value
    asked = []

    def flat(n):
        asked.append(n)
        return 0.40

    kept_short = weigh_seq_length(chosen, minilm.model, mid, flat, "mrr@10")
    assert sorted(asked) == sorted([base, longer]), "the base model scored on dev at both lengths"
    assert kept_short.value == base and kept_short.how.startswith("base model's: ")
    w = kept_short.weighed
    assert w["lengths"] == [base, longer] and w["base_dev_mrr@10"] == [0.4, 0.4] and w["gain"] == 0
    assert all(c > 0 for c in w["encode_s_per_1000"]) and kept_short.encode_s_per_1000 == w["encode_s_per_1000"][0]
    ratio = w["encode_s_per_1000"][1] / w["encode_s_per_1000"][0]
    assert w["cost_ratio"] == pytest.approx(ratio, abs=0.26) and (2 * w["cost_ratio"]).is_integer()
    assert w["needed"] == pytest.approx(MIN_GAIN_PER_COST * max(0.0, w["cost_ratio"] - 1), abs=1e-6)
    assert minilm.max_seq_length == base, "the model's own length is restored"

    pays = weigh_seq_length(chosen, minilm.model, mid, lambda n: 0.40 + 0.1 * (n > base), "mrr@10")
    assert (pays.value, pays.how) == (longer, "from data") and pays.encode_s_per_1000 == pays.weighed[
        "encode_s_per_1000"
    ][1]

    def never(n):
        raise AssertionError("no dev scoring when the data asks for no more than the base model reads")

    short = weigh_seq_length(choose_seq_length(minilm.model, ["a short task."] * 5, 0.9), minilm.model, mid, never, "m")
    assert short.value == base and short.weighed is None and short.encode_s_per_1000 > 0


def test_steps_are_one_epoch_within_the_token_budget():
    assert scaled_steps(100, 32, 200) == STEPS_MIN, "a small set is repeated"
    assert scaled_steps(32 * 60 - 5, 32, 200) == 60, "one epoch"
    assert scaled_steps(12_000, 32, 200) == STEP_TOKENS // (32 * (200 + ROW_OVERHEAD)), "the budget stops an epoch"
    # longer rows (a negative beside the positive, or longer documents): fewer steps for the same budget
    assert scaled_steps(12_000, 32, 400) == STEP_TOKENS // (32 * (400 + ROW_OVERHEAD)) < scaled_steps(12_000, 32, 200)
    assert scaled_steps(100, 32, STEP_TOKENS) == 1, "the budget wins over the minimum"
    help_text = TrainConfig.__dataclass_fields__["max_steps"].metadata["help"]
    assert str(STEPS_MIN) in help_text and f"{STEP_TOKENS:,}" in help_text


def test_tokens_per_row_count_the_documents_a_row_feeds_cut_at_the_length(tiny_triplets, minilm):
    from train.examples import load_training_data, usable_triplets
    from train.recipe import row_documents, tokens_per_row

    data = load_training_data(tiny_triplets)
    cfg = TrainConfig(triplets=str(tiny_triplets), outside_negatives=1, num_negatives=0)
    rows = [[t] for t in usable_triplets(data.triplets, 0, 1)]
    whole = [sum(token_lengths(minilm.model, row_documents(g[0], cfg))) for g in rows]
    assert tokens_per_row(minilm.model, rows, cfg, 10_000) == pytest.approx(sum(whole) / len(rows))
    assert tokens_per_row(minilm.model, rows, cfg, 16) == 32, "two documents a row, each cut at 16 tokens"
    positives_only = TrainConfig(triplets=str(tiny_triplets), outside_negatives=0, num_negatives=0)
    assert tokens_per_row(minilm.model, rows, positives_only, 16) == 16


def test_a_text_read_beyond_the_long_length_counts_more_than_its_tokens(minilm):
    from corpus.triplets import Triplet
    from train.recipe import tokens_per_row

    assert counted_tokens(40) == 40 and counted_tokens(LONG_TEXT) == LONG_TEXT, "up to LONG_TEXT: the tokens"
    assert counted_tokens(2 * LONG_TEXT) == pytest.approx(2 * LONG_TEXT * 2**LONG_TEXT_POWER)
    words = "the daemon reads its configuration file and writes a log line for each request "
    long = Triplet("q", "a query", "p", words * 60, ["n"], [words * 61])  # both well over 512 tokens
    cfg = TrainConfig(outside_negatives=0, num_negatives=1)
    assert tokens_per_row(minilm.model, [[long]], cfg, LONG_TEXT) == 2 * LONG_TEXT
    at_512 = tokens_per_row(minilm.model, [[long]], cfg, 512)
    assert at_512 == pytest.approx(2 * counted_tokens(512)) and at_512 > 2 * 2 * LONG_TEXT
    # so reading twice the tokens buys fewer than half the steps: the budget's minutes hold at any length
    assert scaled_steps(12_000, 32, at_512) < scaled_steps(12_000, 32, 2 * LONG_TEXT) / 2


def test_a_rows_further_queries_count_but_not_its_first(tiny_triplets, minilm):
    from train.config import QUERY_OVERHEAD
    from train.examples import load_training_data, shared_positive_groups, usable_triplets
    from train.recipe import tokens_per_row

    data = load_training_data(tiny_triplets)
    cfg = TrainConfig(triplets=str(tiny_triplets), outside_negatives=1, num_negatives=0)
    groups = shared_positive_groups(usable_triplets(data.triplets, 0, 1), 3)
    assert tokens_per_row(minilm.model, groups, cfg, 4) == 4 * (2 + 2) + 2 * QUERY_OVERHEAD, "2 documents, 2 queries"


def test_queries_per_row_follow_the_median_positive_up_to_the_cap(tiny_triplets):
    import dataclasses

    from train.config import QUERIES_PER_ROW_MAX
    from train.examples import load_training_data
    from train.recipe import queries_per_row

    triplets = load_training_data(tiny_triplets).triplets
    cfg = TrainConfig(triplets=str(tiny_triplets))
    one_each = [dataclasses.replace(t, positive_id=t.query_id) for t in triplets]
    assert queries_per_row(cfg, one_each)[0] == 1, "one query a positive (ESCO): plain triplet rows"
    two_each = [dataclasses.replace(t, positive_id=str(i // 2)) for i, t in enumerate(triplets)]
    assert queries_per_row(cfg, two_each)[0] == 2
    assert queries_per_row(cfg, [dataclasses.replace(t, positive_id="x") for t in triplets])[0] == QUERIES_PER_ROW_MAX
    assert queries_per_row(dataclasses.replace(cfg, queries_per_row=3), one_each) == (3, "asked")
    gist = TrainConfig(triplets=str(tiny_triplets), loss="gist")
    assert queries_per_row(gist, two_each)[0] == 1, "the guided losses take one query column"


def test_mined_negatives_follow_the_median_positive_rank_of_step_0(tiny_triplets):
    import dataclasses

    from train.config import NEGATIVES_RANK_MAX
    from train.examples import load_training_data
    from train.recipe import with_negatives_default

    data = load_training_data(tiny_triplets)
    cfg = TrainConfig(triplets=str(tiny_triplets))

    def ranked(rank):
        return dataclasses.replace(data, triplet_card={"stats": {"positive_rank_median": rank}})

    first, how = with_negatives_default(cfg, ranked(NEGATIVES_RANK_MAX))
    assert first.num_negatives == 1 and "median positive rank 1" in how, "positives ranked first: mine"
    assert with_negatives_default(cfg, ranked(NEGATIVES_RANK_MAX + 4))[0].num_negatives == 0, "O*NET-like: none"
    assert with_negatives_default(cfg, dataclasses.replace(data, triplet_card={}))[0].num_negatives == 0
    asked = dataclasses.replace(cfg, num_negatives=2)
    assert with_negatives_default(asked, ranked(9)) == (asked, "asked")


def test_gist_keeps_its_one_negative_column_for_the_outside_negative(tiny_triplets):
    import dataclasses

    from corpus.errors import RagtuneError
    from train.examples import load_training_data
    from train.recipe import with_negatives_default

    data = dataclasses.replace(load_training_data(tiny_triplets), triplet_card={"stats": {"positive_rank_median": 1}})
    gist = TrainConfig(triplets=str(tiny_triplets), loss="gist", outside_negatives=1)
    resolved, how = with_negatives_default(gist, data)
    assert resolved.num_negatives == 0 and "gist" in how, "GISTEmbedLoss scores one negative column"
    alone = dataclasses.replace(gist, outside_negatives=0)
    assert with_negatives_default(alone, data)[0].num_negatives == 1, "without an outside negative it may mine one"
    assert with_negatives_default(dataclasses.replace(gist, loss="cached-gist"), data)[0].num_negatives == 1
    with pytest.raises(RagtuneError, match="one negative a row"):
        with_negatives_default(dataclasses.replace(gist, num_negatives=1), data)


def test_recipe_fills_the_unset_settings_from_the_data(tiny_triplets, minilm):
    import dataclasses

    from train.examples import load_training_data, training_rows, usable_triplets
    from train.recipe import resolve_recipe

    data = load_training_data(tiny_triplets)
    cfg = TrainConfig(triplets=str(tiny_triplets), batch_size=4)
    resolved, recipe = resolve_recipe(cfg, data, minilm.model)
    assert cfg.outside_negatives is None and resolved.outside_negatives == 1, "step 0 mined them: one per row"
    usable = usable_triplets(data.triplets, resolved.num_negatives, resolved.outside_negatives)
    rows = len(training_rows(usable, resolved.queries_per_row))
    assert recipe.rows == rows > 0 and resolved.queries_per_row == recipe.queries_per_row > 1
    assert resolved.max_steps == recipe.steps == scaled_steps(rows, 4, recipe.tokens_per_row)
    assert resolved.eval_steps == -(-recipe.steps // 2)
    assert resolved.max_seq_length == minilm.max_seq_length == recipe.seq_length.value
    asked, r2 = resolve_recipe(
        dataclasses.replace(cfg, max_steps=7, eval_steps=3, max_seq_length=48), data, minilm.model
    )
    assert (asked.max_steps, asked.eval_steps, asked.max_seq_length, r2.steps_how) == (7, 3, 48, "asked")

    without = dataclasses.replace(data, triplets=[dataclasses.replace(t, outside=[]) for t in data.triplets])
    plain, r3 = resolve_recipe(cfg, without, minilm.model)
    groups = len(training_rows(data.triplets, plain.queries_per_row))
    assert plain.outside_negatives == 0 and r3.rows == groups, "no outside negatives: none asked"
    assert r3.steps == scaled_steps(groups, 4, r3.tokens_per_row)
    assert r3.tokens_per_row < recipe.tokens_per_row, "no outside negative: fewer tokens a row"


def test_dev_candidates_are_fixed_size_relevant_first_and_seeded(tiny_triplets):
    from train.dev_eval import dev_candidates
    from train.examples import load_training_data

    data = load_training_data(tiny_triplets)
    relevant = {d for docs in data.dev_relevant.values() for d in docs}
    small = dev_candidates(data, len(relevant) + 3, seed=13)
    assert set(small.ids[: len(relevant)]) == relevant and len(small.ids) == len(relevant) + 3
    assert small.ids == dev_candidates(data, len(relevant) + 3, seed=13).ids
    assert small.card()["documents"] == len(relevant) + 3 and small.card()["corpus_documents"] == len(data.corpus)
    whole = dev_candidates(data, 10_000, seed=13)
    assert sorted(whole.ids) == sorted(data.corpus)


@pytest.fixture(scope="module")
def no_dev_dataset(tiny_dataset, tmp_path_factory):
    folder = tmp_path_factory.mktemp("no_dev") / "data"
    shutil.copytree(tiny_dataset, folder)
    (folder / "qrels" / "dev.tsv").unlink()
    return folder


def test_a_dataset_without_dev_gets_one_carved_from_train(no_dev_dataset, minilm, tmp_path, isolated_cache):
    from train.triplet_data import TripletConfig, build_triplets

    ds = load_dataset(no_dev_dataset)
    train = ds.relevant("train")
    out, _, card = build_triplets(ds, minilm, TripletConfig(out=str(tmp_path / "t"), outside="none"))
    dev = [json.loads(x) for x in (out / "dev.jsonl").read_text().splitlines()]
    trained = {json.loads(x)["query_id"] for x in (out / "train.jsonl").read_text().splitlines()}
    assert len(dev) == -(-len(train) // 10)
    assert card["dev"] == {"source": "carved from train", "queries": len(dev), "seed": 13}
    assert not trained & {r["query_id"] for r in dev}, "carved queries leave training"
    assert all(set(r["relevant_ids"]) == train[r["query_id"]] for r in dev)
    again, _, _ = build_triplets(ds, minilm, TripletConfig(out=str(tmp_path / "t2"), outside="none"))
    assert (again / "dev.jsonl").read_bytes() == (out / "dev.jsonl").read_bytes()
