#!/usr/bin/env python
"""Does a training recipe carry over? The fine-tuned lift over the base model, with paired 95% CIs, for the chosen
defaults and for the previous ones, on every dataset given, each recipe with the same training budget.

    .venv/bin/python benchmarks/bench_recipe.py --data data/onet data/esco PATH/TO/long-docs
    .venv/bin/python benchmarks/bench_recipe.py --data data/onet -- --max-steps 40   # after --: to every training

Per dataset: step 0 when its triplets are missing, step 2 once per recipe (into runs/bench_recipe/<dataset>/<recipe>),
step 3 on the test split (the dataset's 800-document pool when step 1 wrote one, else its whole corpus) with the
arms base and one per recipe, then one table: training minutes and steps from the cards, and each recipe's
headline metric with its difference from base and the CI. "Equal training time" is the step rule's token budget
(`docs/steps/2-train.md`): each recipe gets the steps its rows' tokens pay for, so both train about as long; the
measured minutes are printed beside the lifts so a reader can check. Not a test: hours on 2 CPU cores for three
datasets; each training is reused when its run folder is complete (`--overwrite` retrains).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402,F401
from corpus.paths import REPORTS_DIR, RUNS_DIR  # noqa: E402

# the defaults before the recipe changes chosen on O*NET: mined hard negatives from the dataset's own documents,
# one query a row, no outside negatives
RECIPES = {
    "chosen": [],
    "previous": ["--num-negatives", "1", "--outside-negatives", "0", "--queries-per-row", "1"],
}


def lifts(
    metrics_csv: Path, metric: str, k: int, arms: list[str], baseline: str = "base"
) -> dict[str, tuple[float, float, float, float]]:
    """arm -> (value, Δ vs baseline, CI low, CI high) from step 3's metrics CSV (largest pool)."""
    import pandas as pd

    m = pd.read_csv(metrics_csv)
    m = m[(m["metric"] == metric) & (m["k"] == k) & (m["size"] == m["size"].max())]
    out = {}
    for arm in arms:
        value = float(m[(m["kind"] == "arm") & (m["arm"] == arm)]["value"].iloc[0])
        delta = m[(m["kind"] == "delta") & (m["arm"] == f"{arm} - {baseline}")]
        if delta.empty:
            out[arm] = (value, float("nan"), float("nan"), float("nan"))
        else:
            d = delta.iloc[0]
            out[arm] = (value, float(d["value"]), float(d["ci_low"]), float(d["ci_high"]))
    return out


def bench_dataset(data: Path, extra: list[str], metric: str, k: int, overwrite: bool) -> list[str]:
    from corpus.paths import triplets_dir
    from ragtune.cli import run_step

    triplets = triplets_dir(data)
    if not (triplets / "train.jsonl").exists():
        run_step("triplets", ["--data", str(data)])
    arms, cards = ["base"], {}
    for name, flags in RECIPES.items():
        out = RUNS_DIR / "bench_recipe" / data.name / name / "final"
        result = run_step(
            "train", ["--triplets", str(triplets), "--out", str(out), *flags, *extra, *(["--overwrite"] * overwrite)]
        )
        cards[name] = result.card
        arms.append(f"{name}={out}")
    report = REPORTS_DIR / "bench_recipe" / data.name
    run_step("eval", ["--data", str(data), "--arms", *arms, "--out", str(report)])
    figures = lifts(report / "retrieval_metrics.csv", metric, k, ["base", *RECIPES])
    # step 3 pairs every later arm with every earlier one: 'previous - chosen'
    _, d, low, high = lifts(report / "retrieval_metrics.csv", metric, k, ["previous"], baseline="chosen")["previous"]
    versus = f"{-d:+.3f} [{-high:+.3f}, {-low:+.3f}]"
    rows = []
    for name in ["base", *RECIPES]:
        value, delta, low, high = figures[name]
        card = cards.get(name, {})
        minutes = f"{card['wall_time_s'] / 60:.1f}" if card else "0"
        steps = str(card.get("steps", "")) if card else ""
        shown = f"{value:.3f}" + ("" if name == "base" else f" ({delta:+.3f} [{low:+.3f}, {high:+.3f}])")
        rows.append(f"| {data.name} | {name} | {minutes} | {steps} | {shown} | {versus if name == 'chosen' else ''} |")
    return rows


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="BEIR folders (with a test split)")
    p.add_argument("--metric", default="ndcg", help="headline metric (step 3's names: mrr, ndcg, hit, ...)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--overwrite", action="store_true", help="retrain even when a run folder is complete")
    args = p.parse_args(own)
    table = [
        f"| dataset | recipe | training min | steps | {args.metric}@{args.k} (Δ vs base [95% CI]) | chosen − previous |",
        "|---|---|---|---|---|---|",
    ]
    for data in args.data:
        table += bench_dataset(Path(data), extra, args.metric, args.k, args.overwrite)
    print("\n".join(table))


if __name__ == "__main__":
    main()
