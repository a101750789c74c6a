"""Length-sorted training forwards: the same embeddings and gradients as one padded pass, rows in their order."""

from __future__ import annotations

import pytest
import torch

from train.length_sorted import LengthSortedForward, _take_rows, default_forward_rows, wrap_loss_models

# lengths far apart, and not in length order, so sorting and trimming both matter
TEXTS = [
    "Cook meals.",
    "Chief Executives\nDetermine and formulate policies and provide overall direction of companies or private and "
    "public sector organizations within guidelines set up by a board of directors. " * 3,
    "Operate cranes.",
    "Teach children to read and write, grade their work and meet their parents to discuss their progress.",
    "Repair engines of trucks and buses.",
]


@pytest.fixture()
def model(minilm):
    m = minilm.model
    m.eval()  # no dropout: the two ways must agree to float noise
    return m


def _features(model):
    return model.preprocess(TEXTS)


@pytest.mark.parametrize("rows", [1, 2, 3])
def test_same_embeddings_in_the_callers_row_order(model, rows):
    with torch.no_grad():
        padded = model(dict(_features(model)))["sentence_embedding"]
        sorted_ = LengthSortedForward(model, rows)(dict(_features(model)))["sentence_embedding"]
    assert sorted_.shape == padded.shape
    torch.testing.assert_close(sorted_, padded, atol=1e-5, rtol=0)


def test_each_pass_is_trimmed_to_its_own_longest_row(model):
    widths = []
    hook = model[0].register_forward_pre_hook(lambda mod, args: widths.append(args[0]["input_ids"].shape[1]))
    try:
        with torch.no_grad():
            LengthSortedForward(model, 2)(dict(_features(model)))
    finally:
        hook.remove()
    full = _features(model)["input_ids"].shape[1]
    assert widths[0] == full and all(w < full for w in widths[1:]), widths


def test_gradients_match_one_padded_pass(model):
    def grads(module):
        model.zero_grad()
        emb = module(dict(_features(model)))["sentence_embedding"]
        (emb @ torch.arange(emb.shape[1], dtype=emb.dtype)).sum().backward()
        return torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]).clone()

    torch.testing.assert_close(grads(LengthSortedForward(model, 2)), grads(model), atol=1e-4, rtol=1e-3)
    model.zero_grad()


def test_left_padded_rows_keep_their_text_end():
    # a model that pads on the left (decoder embedders) keeps the last `width` tokens, not the first
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1], [0, 0, 0, 1]])
    ids = torch.arange(12).reshape(3, 4) * mask
    chunk = _take_rows({"input_ids": ids, "attention_mask": mask, "prompt_length": 0}, torch.tensor([0, 2]), 2, True)
    assert chunk["input_ids"].tolist() == [[2, 3], [0, 11]] and chunk["attention_mask"].tolist() == [[1, 1], [0, 1]]
    assert chunk["prompt_length"] == 0
    right = _take_rows({"input_ids": ids.flip(1), "attention_mask": mask.flip(1)}, torch.tensor([0]), 2, False)
    assert right["input_ids"].tolist() == [[3, 2]]


def test_small_batches_and_rows_zero_pass_straight_through(model):
    calls = []
    hook = model.register_forward_pre_hook(lambda mod, args: calls.append(1))
    try:
        with torch.no_grad():
            LengthSortedForward(model, 0)(dict(_features(model)))
            LengthSortedForward(model, len(TEXTS))(dict(_features(model)))
    finally:
        hook.remove()
    assert len(calls) == 2


def test_losses_hold_the_wrapper_and_still_reach_the_model(minilm, tmp_path):
    from train.config import TrainConfig
    from train.fine_tune import build_loss

    model = minilm.model
    loss = wrap_loss_models(build_loss(model, TrainConfig(loss="gist", max_seq_length=32)), 8)
    assert isinstance(loss.model, LengthSortedForward) and loss.model.model is model
    assert isinstance(loss.guide, LengthSortedForward)
    assert loss.model.max_seq_length == model.max_seq_length and loss.model.preprocess == model.preprocess
    assert wrap_loss_models(loss, 8).model.model is model, "wrapping twice keeps one wrapper"
    plain = build_loss(model, TrainConfig())
    assert wrap_loss_models(plain, 0).model is model


def test_defaults_sort_on_a_cpu_and_feed_cuda_whole_batches():
    assert default_forward_rows("cpu") == 8
    assert default_forward_rows("cuda:0") == 0
