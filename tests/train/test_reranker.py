"""The reranker trains a few real steps on the tiny triplets, saves, reloads, and reranks a first-stage run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from corpus.errors import RagtuneError
from corpus.models import load_reranker
from harness.fusion import Ranking
from harness.rerank import RerankConfig, rerank
from train.precision import resolve_precision
from train.reranker import RerankerConfig, pair_rows, train_reranker


@pytest.mark.slow
def test_train_save_reload_rerank(fast_reranker_config):
    cfg = fast_reranker_config()
    result = train_reranker(cfg)
    card = json.loads((result.out / "training_card.json").read_text())
    assert result.action == "trained" and card["steps"] == 2
    assert card["precision"] == resolve_precision("auto", "cpu")  # the same rule as step 2's
    assert set(card["dev_after"]) == {"MRR@10", "nDCG@10", "MAP"} and card["dev_queries"] > 0
    assert not (result.out / "checkpoints").exists()
    assert train_reranker(cfg).action == "reused"  # same settings and data: nothing to do

    model = load_reranker(result.out, device="cpu")
    docs = [f"document number {i} about welding metal parts" for i in range(6)] + ["bake bread and pastries"]
    first = Ranking(np.zeros((2, 5), dtype=np.float32), np.array([[0, 1, 2, 3, -1], [6, 5, 4, 3, 2]]))
    out = rerank(first, ["weld metal", "bake bread"], docs, model, RerankConfig(depth=3))
    assert out.ranking.ranked.shape == (2, 5) and out.latency_ms.shape == (2,) and out.pairs == 6
    # the head is a permutation of the first-stage head, sorted by the model's own scores; the tail keeps its order
    assert sorted(out.ranking.ranked[0, :3]) == [0, 1, 2] and out.ranking.ranked[0, 3:].tolist() == [3, -1]
    assert sorted(out.ranking.ranked[1, :3]) == [4, 5, 6] and out.ranking.ranked[1, 3:].tolist() == [3, 2]
    direct = model.predict([("bake bread", docs[d]) for d in out.ranking.ranked[1, :3]])
    assert np.allclose(out.ranking.scores[1, :3], direct, atol=1e-5)
    assert (np.diff(out.ranking.scores[1, :5]) <= 0).all()


@pytest.mark.slow
def test_fp16_on_a_cpu_is_refused_before_any_work(fast_reranker_config):
    cfg = fast_reranker_config(precision="fp16", device="cpu")
    with pytest.raises(RagtuneError, match="needs a CUDA device"):
        train_reranker(cfg)
    assert not Path(cfg.out).exists()  # no run record, no dev scoring of the untrained head


def test_pairs_for_each_loss(tiny_triplets):
    from train.examples import load_training_data

    data = load_training_data(tiny_triplets)
    bce, skipped = pair_rows(data, RerankerConfig(num_negatives=2, loss="bce"))
    kept = [t for t in data.triplets if len(t.negatives) >= 2]
    assert len(bce) == 3 * len(kept) and skipped == len(data.triplets) - len(kept)
    assert sum(bce["label"]) == len(kept)
    listwise, _ = pair_rows(data, RerankerConfig(num_negatives=2, loss="lambda"))
    assert len(listwise) == len(kept) and listwise[0]["labels"] == [1, 0, 0]
    assert listwise[0]["docs"][0] == kept[0].positive
    mnrl, _ = pair_rows(data, RerankerConfig(num_negatives=2, loss="mnrl"))
    assert mnrl.column_names == ["query", "positive", "negative_1", "negative_2"] and len(mnrl) == len(kept)
    assert mnrl[0]["negative_2"] == kept[0].negatives[1]


def test_settings_are_checked():
    with pytest.raises(RagtuneError):
        RerankerConfig(loss="mse")
    with pytest.raises(RagtuneError):
        RerankerConfig(max_steps=0)


class Scorer:
    """Scores a document by its length: a model whose order is known in advance."""

    def predict(self, pairs, **_):
        return np.array([float(len(doc)) for _, doc in pairs])


def test_rerank_orders_the_head_only():
    docs = ["a", "aaaa", "aa", "aaaaa", "aaa"]
    first = Ranking(np.zeros((1, 5), dtype=np.float32), np.array([[0, 1, 2, 3, 4]]))
    out = rerank(first, ["q"], docs, Scorer(), RerankConfig(depth=3))
    assert out.ranking.ranked[0].tolist() == [1, 2, 0, 3, 4]
    assert out.ranking.scores[0, :3].tolist() == [4.0, 2.0, 1.0] and out.ranking.scores[0, 3] < 1.0
    with pytest.raises(RagtuneError):
        rerank(first, ["q", "r"], docs, Scorer())


@pytest.mark.slow
def test_listwise_loss_trains(fast_reranker_config, tmp_path):
    cfg = fast_reranker_config(out=str(tmp_path / "lambda"), loss="lambda", batch_size=4)
    card = train_reranker(cfg).card
    assert card["config"]["loss"] == "lambda" and card["steps"] == 2 and card["dev_after"]
