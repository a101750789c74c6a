"""Real training steps with the shipped MiniLM on triplets mined from the tiny O*NET dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from transformers import TrainerCallback

from corpus.errors import RagtuneError
from corpus.models import Embedder, load_embedder, prompt_for
from harness.encoding import encode

pytestmark = [pytest.mark.slow]

TEXTS = [
    "Prepare and serve meals to customers in a restaurant.",
    "Chief Executives\nDetermine and formulate policies and provide overall direction of companies.",
]


class Interrupt(TrainerCallback):
    """Stops a run right after a checkpoint is written, like a kill between two steps."""

    def __init__(self, at_step: int):
        self.at_step = at_step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step >= self.at_step:
            raise KeyboardInterrupt


class Capture(TrainerCallback):
    """Keeps the step a run starts from and the in-memory model's embeddings once training ends."""

    def __init__(self):
        self.start_step = None
        self.embeddings = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self.embeddings = encode(Embedder(Path("."), "in-training", model), TEXTS, "document")


def test_training_changes_embeddings_stores_prompts_and_reloads(fast_config, minilm, isolated_cache):
    from train.fine_tune import fine_tune

    # fp32: under bf16 the trainer's autocast wraps the in-memory model's forward, so only fp32 can be compared
    # with the saved weights to 1e-5 (steps 3-5 load those and run fp32)
    cfg = fast_config(query_prompt="query: ", doc_prompt="passage: ", precision="fp32")
    capture = Capture()
    result = fine_tune(cfg, extra_callbacks=[capture])
    assert result.action == "trained"
    card = json.loads((result.out / "training_card.json").read_text())
    assert card["steps"] == 2 and card["dev_after"] and card["dev_before"]["MRR@10"] > 0
    assert card["config"]["learning_rate"] == 5e-4 and card["data_fingerprint"]
    assert not (result.out / "checkpoints").exists(), "checkpoints are removed once the final model is saved"

    seq = card["recipe"]["seq_length"]
    assert (seq["value"], seq["how"], seq["base_model_length"]) == (32, "asked", 256), "the base model's own length"
    tuned = load_embedder(result.out, device="cpu")
    assert tuned.max_seq_length == 32
    assert prompt_for(tuned, "query") == "query: " and prompt_for(tuned, "document") == "passage: "
    after = encode(tuned, TEXTS, "document")
    np.testing.assert_allclose(after, capture.embeddings, atol=1e-5)
    # the stored prompt is applied by harness.encoding: same as prefixing by hand, unlike no prompt at all
    by_hand = tuned.model.encode(["query: " + t for t in TEXTS], normalize_embeddings=True)
    np.testing.assert_allclose(encode(tuned, TEXTS, "query"), by_hand, atol=1e-5)
    assert np.abs(tuned.model.encode(TEXTS, normalize_embeddings=True) - by_hand).max() > 1e-3
    base = minilm.model.encode(["passage: " + t for t in TEXTS], normalize_embeddings=True)
    assert np.abs(after - base).max() > 1e-3, "two training steps at lr 5e-4 must move the embeddings"


def test_batches_never_repeat_a_text(fast_config, tiny_triplets, tmp_path):
    from sentence_transformers.base.sampler import BatchSamplers, NoDuplicatesBatchSampler

    from train.dev_eval import build_evaluator
    from train.examples import load_training_data
    from train.fine_tune import build_trainer, prepare_model

    base, cfg = prepare_model(fast_config(num_negatives=2, batch_size=6))
    model = base.model
    data = load_training_data(tiny_triplets)
    trainer = build_trainer(model, data, cfg, tmp_path / "ckpt", build_evaluator(data, "", ""))
    assert trainer.args.batch_sampler == BatchSamplers.NO_DUPLICATES
    loader = trainer.get_train_dataloader()
    assert isinstance(loader.batch_sampler, NoDuplicatesBatchSampler)
    dataset = trainer.train_dataset
    batches = list(loader.batch_sampler)
    assert batches
    for batch in batches:
        texts = [dataset[i][c] for i in batch for c in dataset.column_names]
        assert len(texts) == len(set(texts))
    # the data itself does repeat texts (an occupation is the positive of many tasks): the sampler earns its keep
    positives = dataset["positive"]
    assert len(set(positives)) < len(positives)


def test_length_sorted_passes_train_and_a_rerun_is_byte_identical(fast_config, tiny_triplets, tmp_path):
    from train.dev_eval import build_evaluator
    from train.examples import load_training_data
    from train.fine_tune import build_trainer, fine_tune, prepare_model
    from train.length_sorted import LengthSortedForward

    base, cfg = prepare_model(fast_config(forward_rows=2))
    data = load_training_data(tiny_triplets)
    trainer = build_trainer(base.model, data, cfg, tmp_path / "ckpt", build_evaluator(data, "", ""))
    assert isinstance(trainer.loss.model, LengthSortedForward) and trainer.loss.model.rows == 2
    assert trainer.loss.model.model is trainer.model, "the trainer still updates and saves the model itself"

    first = fine_tune(fast_config(forward_rows=2, max_seq_length=64, out=str(tmp_path / "a")))
    again = fine_tune(fast_config(forward_rows=2, max_seq_length=64, out=str(tmp_path / "b")))
    assert first.card["forward_rows"] == 2 and first.card["precision"] in ("bf16", "fp32")
    weights = "model.safetensors"
    assert (first.out / weights).read_bytes() == (again.out / weights).read_bytes()
    plain = load_embedder("base", device="cpu").model.encode(TEXTS)
    assert np.abs(load_embedder(first.out, device="cpu").model.encode(TEXTS) - plain).max() > 1e-4


def test_interrupted_run_resumes_from_its_checkpoint(fast_config, isolated_cache):
    from train.fine_tune import fine_tune

    cfg = fast_config(max_steps=4)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(cfg, extra_callbacks=[Interrupt(at_step=2)])
    out = Path(cfg.out)
    assert (out / "checkpoints" / "checkpoint-2" / "optimizer.pt").exists()
    assert not (out / "training_card.json").exists()

    capture = Capture()
    result = fine_tune(cfg, extra_callbacks=[capture])
    assert result.action == "resumed" and capture.start_step == 2
    assert result.card["resumed_from_step"] == 2 and result.card["steps"] == 4
    assert set(result.card["dev_history"]) == {"2", "4"}

    # same settings again: the finished model is reused, not retrained
    assert fine_tune(cfg).action == "reused"
    # other settings into the same folder: refused unless --overwrite
    with pytest.raises(RagtuneError, match="other settings"):
        fine_tune(fast_config(max_steps=4, learning_rate=1e-4))
    assert fine_tune(fast_config(max_steps=2, learning_rate=1e-4), overwrite=True).action == "trained"


def test_lora_adapter_saves_and_reloads_with_the_same_embeddings(fast_config, minilm, isolated_cache):
    from train.fine_tune import fine_tune

    capture = Capture()
    lora = fast_config(lora=True, lora_rank=4, lora_alpha=8, learning_rate=2e-3, precision="fp32")  # as above
    result = fine_tune(lora, extra_callbacks=[capture])
    card = result.card
    assert 0 < card["trainable_parameters"] < 0.05 * card["total_parameters"]
    # merged into plain weights: loads without PEFT and without the base model's path
    assert not list(result.out.rglob("adapter_config.json"))
    reloaded = load_embedder(result.out, device="cpu")
    after = encode(reloaded, TEXTS, "document")
    np.testing.assert_allclose(after, capture.embeddings, atol=1e-5)
    assert np.abs(after - minilm.model.encode(TEXTS, normalize_embeddings=True)).max() > 1e-4


@pytest.mark.parametrize("loss", ["gist", "cached-gist"])
def test_guided_losses_train_with_the_base_model_as_guide(fast_config, isolated_cache, loss):
    from train.fine_tune import build_loss, fine_tune

    cfg = fast_config(loss=loss, mini_batch_size=2)
    result = fine_tune(cfg)
    assert result.card["config"]["loss"] == loss and result.card["steps"] == 2
    model = load_embedder(result.out, device="cpu")
    guide = build_loss(model.model, cfg).guide
    assert guide is not model and guide.max_seq_length == cfg.max_seq_length
    assert not any(p.requires_grad for p in guide.parameters()), "the guide stays the untouched base model"


def test_card_says_how_the_recipe_was_chosen_and_what_dev_was_scored_against(fast_config, isolated_cache):
    from train.fine_tune import fine_tune

    card = fine_tune(fast_config(max_seq_length=None, dev_candidates=12, outside_negatives=1)).card
    assert card["recipe"]["seq_length"]["how"] == "base model's" and card["config"]["max_seq_length"] == 256
    seq = card["recipe"]["seq_length"]
    assert seq["encode_s_per_1000"] > 0 and seq["weighed"] is None, "measured; nothing to weigh at the base length"
    from rich.console import Console

    from train.tables import run_table

    shown = Console(record=True, width=200)
    shown.print(run_table(card))
    text = shown.export_text()
    assert "256 (base model's) / " in text and " s per 1,000 documents on cpu" in text
    assert card["dev_scored_against"]["documents"] == 12 == card["dev_corpus_documents"]
    assert card["dev_set"]["source"] == "dev split"
    assert card["outside_negatives"]["source"].endswith("own_docs")
    assert card["train_rows"] == card["recipe"]["rows"]
