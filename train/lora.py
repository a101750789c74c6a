"""LoRA through PEFT: adapters on the attention and feed-forward projections, merged back before the model is saved."""

from __future__ import annotations

from corpus.errors import RagtuneError

# BERT-family projection names (MiniLM, mpnet, e5, bge); other architectures fall back to all linear layers
_BERT_TARGETS = ["query", "key", "value", "dense"]


def add_lora(model, rank: int, alpha: int, dropout: float) -> None:
    """Inject LoRA layers in place and freeze everything else.

    peft's integration API is used rather than model.add_adapter: transformers 5.24's add_adapter demands
    peft >= 0.22, while injection works with the pinned peft and keeps the trainer's checkpoints ordinary
    state dicts (base and adapter weights together), which resume and best-model loading read back as usual.
    """
    from peft import LoraConfig
    from peft.functional import inject_adapter_in_model

    inner = model.transformers_model
    names = {name.rsplit(".", 1)[-1] for name, _ in inner.named_modules()}
    targets = _BERT_TARGETS if {"query", "value"} <= names else "all-linear"
    try:
        inject_adapter_in_model(
            LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets), inner
        )
    except (ValueError, AttributeError) as exc:
        raise RagtuneError(f"--lora is not supported for this base model: {exc}") from None


def merge_lora(model) -> None:
    """Fold the adapter into the base weights and drop the PEFT layers.

    The saved folder is then a plain sentence-transformers model: it loads anywhere without PEFT and without
    the base model's original path (an adapter-only save records that absolute path).
    """
    from peft.tuners.tuners_utils import BaseTunerLayer

    inner = model.transformers_model
    for name, module in list(inner.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent, _, child = name.rpartition(".")
            setattr(inner.get_submodule(parent) if parent else inner, child, module.get_base_layer())
    # injection may leave peft bookkeeping on the model; without it transformers saves plain weights
    inner._hf_peft_config_loaded = False
    if hasattr(inner, "peft_config"):
        del inner.peft_config


def trainable_share(model) -> tuple[int, int]:
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
