"""Rows of several queries sharing one positive: grouping, columns, and a loss that is the mean of per-query MNRLs."""

from __future__ import annotations

import pytest
import torch

from corpus.triplets import Triplet
from train.examples import column_prompts, query_columns, shared_positive_groups, to_dataset, training_rows


def _t(qid: str, doc: str) -> Triplet:
    return Triplet(qid, f"query {qid}", doc, f"document {doc}", [], [], [f"out-{qid}"], [f"outside {qid}"])


TRIPLETS = [_t("a1", "A"), _t("b1", "B"), _t("a2", "A"), _t("a3", "A"), _t("c1", "C"), _t("b2", "B")]


def test_groups_share_their_positive_and_fill_from_their_own_queries():
    groups = shared_positive_groups(TRIPLETS, 2)
    assert [[t.query_id for t in g] for g in groups] == [["a1", "a2"], ["a3", "a1"], ["b1", "b2"], ["c1", "c1"]]
    assert all(len({t.positive_id for t in g}) == 1 for g in groups)


def test_one_query_a_row_keeps_the_file_order():
    assert [g[0].query_id for g in training_rows(TRIPLETS, 1)] == [t.query_id for t in TRIPLETS]


def test_every_query_is_in_some_row():
    for k in (1, 2, 3, 5):
        seen = {t.query_id for g in shared_positive_groups(TRIPLETS, k) for t in g}
        assert seen == {t.query_id for t in TRIPLETS}


def test_dataset_columns_hold_k_queries_then_the_documents():
    data, dropped = to_dataset(TRIPLETS, 0, 1, queries_per_row=3)
    assert data.column_names == ["query_1", "positive", "query_2", "query_3", "negative_1"]
    assert dropped == 0
    first = data[0]
    assert (first["query_1"], first["query_2"], first["query_3"]) == ("query a1", "query a2", "query a3")
    assert first["positive"] == "document A" and first["negative_1"] == "outside a1"
    assert len(data) == 3  # one row each for A, B and C


def test_one_query_per_row_keeps_the_triplet_layout():
    data, _ = to_dataset(TRIPLETS, 0, 1)
    assert data.column_names == ["anchor", "positive", "negative_1"] and len(data) == len(TRIPLETS)


def test_every_query_column_gets_the_query_prompt():
    prompts = column_prompts("query: ", "passage: ", 1, queries_per_row=3)
    assert prompts == {c: "query: " for c in query_columns(3)} | {"positive": "passage: ", "negative_1": "passage: "}
    assert query_columns(3) == ["query_1", "query_2", "query_3"] and query_columns(1) == ["anchor"]


def test_the_trainer_gives_each_query_column_only_its_own_inputs():
    """The trainer splits a batch by column-name prefix; no query column may be a prefix of another's name."""
    names = query_columns(12)
    assert not [(a, b) for a in names for b in names if a != b and b.startswith(a + "_")]


@pytest.mark.slow
def test_loss_is_the_mean_of_per_query_ranking_losses(minilm):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from train.shared_positive import SharedPositiveRankingLoss

    model = minilm.model
    model.eval()
    columns = [  # query_1, positive, query_2, negative_1
        ["Cook meals.", "Operate cranes.", "Teach reading."],
        ["Chefs\nPlan menus and cook.", "Crane Operators\nRun cranes.", "Teachers\nTeach children."],
        ["Prepare food for guests.", "Lift loads at a port.", "Grade pupils' work."],
        ["Welders\nJoin metal parts.", "Pilots\nFly aircraft.", "Nurses\nCare for patients."],
    ]
    features = [dict(model.preprocess(c)) for c in columns]
    labels = torch.arange(3)
    with torch.no_grad():
        shared = SharedPositiveRankingLoss(model, queries=2)(features, labels)
        plain = MultipleNegativesRankingLoss(model)
        each = [plain([features[q], features[1], features[3]], labels) for q in (0, 2)]
    torch.testing.assert_close(shared, sum(each) / 2, atol=1e-5, rtol=0)


@pytest.mark.slow
def test_a_training_batch_splits_into_one_input_per_column(fast_config, tiny_triplets, tmp_path):
    """What the loss receives from the real trainer: k query columns, the positive and the negative, each with
    only its own tensors (the trainer matches columns to inputs by name prefix)."""
    from train.dev_eval import build_evaluator
    from train.examples import load_training_data
    from train.fine_tune import build_trainer, prepare_model
    from train.shared_positive import SharedPositiveRankingLoss

    base, cfg = prepare_model(fast_config(queries_per_row=3, outside_negatives=1, num_negatives=0))
    data = load_training_data(tiny_triplets)
    trainer = build_trainer(base.model, data, cfg, tmp_path / "ckpt", build_evaluator(data, "", ""))
    assert isinstance(trainer.loss, SharedPositiveRankingLoss) and trainer.loss.queries == 3
    batch = next(iter(trainer.get_train_dataloader()))
    features, _ = trainer.collect_features(batch)
    assert len(features) == 5, "three queries, the positive, one outside negative"
    assert all(set(f) == set(features[0]) for f in features), [sorted(f) for f in features]


def test_the_run_table_says_what_a_row_holds():
    from train.tables import training_rows_line

    four = {"queries_per_row": 4, "outside_negatives": 1, "num_negatives": 0}
    assert training_rows_line(3345, four) == "3,345 × (4 queries, positive, 1 outside + 0 mined neg.)"
    one = {"queries_per_row": 1, "outside_negatives": None, "num_negatives": 2}
    assert training_rows_line(12, one) == "12 × (query, positive, 0 outside + 2 mined neg.)"


def test_several_queries_a_row_need_the_plain_ranking_loss():
    from corpus.errors import RagtuneError
    from train.config import TrainConfig

    with pytest.raises(RagtuneError, match="needs --loss mnrl"):
        TrainConfig(queries_per_row=2, loss="gist")
    assert TrainConfig(queries_per_row=1, loss="gist").queries_per_row == 1
