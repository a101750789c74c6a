#!/usr/bin/env python
"""Does a training recipe carry over? The fine-tuned lift over the base model, with paired 95% CIs, for today's
defaults and for the earlier ones, on every dataset given, each recipe with the same training budget.

    .venv/bin/python benchmarks/bench_recipe.py --data data/onet data/esco data/manpages
    .venv/bin/python benchmarks/bench_recipe.py --data data/onet --recipes previous chosen -- --max-steps 40
                                                            # after --: flags for every training

Per dataset: step 0 when its triplets are missing, step 2 once per recipe (into runs/bench_recipe/<dataset>/<recipe>;
a recipe whose settings come out the same as an earlier recipe's on that data reuses its run), step 3 on the test
split (the dataset's 800-document pool when step 1 wrote one, else its whole corpus) with the arms base and one per
distinct run, then one table: training minutes and steps from the cards, each recipe's headline metric with its
difference from base and the CI, and chosen − previous. "Equal training time" is the step rule's token budget
(`docs/steps/2-train.md`): each recipe gets the steps its rows' tokens pay for, so all train about as long; the
measured minutes are printed beside the lifts so a reader can check. Not a test: about an hour on 2 CPU cores for
three datasets; each training is reused when its run folder is complete (`--overwrite` retrains).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import corpus  # noqa: E402,F401
from corpus.paths import REPORTS_DIR, RUNS_DIR  # noqa: E402

# In training order. previous: the defaults before the recipe changes chosen on O*NET (mined hard negatives from the
# dataset's own documents, one query a row, no outside negatives). in-batch: the next defaults (no mined negatives
# anywhere). chosen: today's defaults, which let step 0's median positive rank decide the mined negatives.
RECIPES = {
    "previous": ["--num-negatives", "1", "--outside-negatives", "0", "--queries-per-row", "1"],
    "in-batch": ["--num-negatives", "0"],
    "chosen": [],
}


def train_recipe(triplets: Path, out: Path, flags: list[str], earlier: list[Path], overwrite: bool):
    """Step 2 for one recipe. A recipe whose settings come out the same as an earlier one's on this data reuses that
    run (the train step's own fingerprint check decides; it refuses a folder trained otherwise)."""
    from corpus.errors import RagtuneError
    from ragtune.cli import run_step

    for folder in earlier:
        try:
            return run_step("train", ["--triplets", str(triplets), "--out", str(folder), *flags])
        except RagtuneError:
            continue
    return run_step("train", ["--triplets", str(triplets), "--out", str(out), *flags, *(["--overwrite"] * overwrite)])


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


def bench_dataset(data: Path, names: list[str], extra: list[str], metric: str, k: int, overwrite: bool) -> list[str]:
    from corpus.paths import triplets_dir
    from ragtune.cli import run_step

    triplets = triplets_dir(data)
    if not (triplets / "train.jsonl").exists():
        run_step("triplets", ["--data", str(data)])
    cards, folders = {}, {}
    for name in names:
        out = RUNS_DIR / "bench_recipe" / data.name / name / "final"
        result = train_recipe(triplets, out, [*RECIPES[name], *extra], list(dict.fromkeys(folders.values())), overwrite)
        cards[name], folders[name] = result.card, Path(result.out)
    # one arm per distinct model; a recipe that reused another's run is that arm
    arm_of = {}
    for name in names:
        arm_of[name] = next(a for a in [*arm_of.values(), name] if folders.get(a) == folders[name])
    arms = ["base", *(f"{a}={folders[a]}" for a in dict.fromkeys(arm_of.values()))]
    report = REPORTS_DIR / "bench_recipe" / data.name
    run_step("eval", ["--data", str(data), "--arms", *arms, "--out", str(report)])
    metrics = report / "retrieval_metrics.csv"
    figures = lifts(metrics, metric, k, ["base", *dict.fromkeys(arm_of.values())])
    versus = ""
    if "chosen" in arm_of and "previous" in arm_of:
        a, b = arm_of["chosen"], arm_of["previous"]
        if a == b:
            versus = "same run"
        else:  # step 3 pairs every later arm with every earlier one
            later, earlier = (a, b) if names.index(a) > names.index(b) else (b, a)
            _, d, low, high = lifts(metrics, metric, k, [later], baseline=earlier)[later]
            sign = 1 if later == a else -1
            low, high = sorted((sign * low, sign * high))
            versus = f"{sign * d:+.3f} [{low:+.3f}, {high:+.3f}]"
    rows = [f"| {data.name} | base | | | {figures['base'][0]:.3f} | |"]
    for name in names:
        value, delta, low, high = figures[arm_of[name]]
        card = cards[name]
        same = "" if arm_of[name] == name else f" (= {arm_of[name]})"
        shown = f"{value:.3f} ({delta:+.3f} [{low:+.3f}, {high:+.3f}])"
        rows.append(
            f"| {data.name} | {name}{same} | {card['wall_time_s'] / 60:.1f} | {card['steps']} | {shown} "
            f"| {versus if name == 'chosen' else ''} |"
        )
    return rows


def main() -> None:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", nargs="+", required=True, help="BEIR folders (with a test split)")
    p.add_argument("--metric", default="ndcg", help="headline metric (step 3's names: mrr, ndcg, hit, ...)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES), help="recipes, in this order")
    p.add_argument("--overwrite", action="store_true", help="retrain even when a run folder is complete")
    args = p.parse_args(own)
    table = [
        f"| dataset | recipe | training min | steps | {args.metric}@{args.k} (Δ vs base [95% CI]) | chosen − previous |",
        "|---|---|---|---|---|---|",
    ]
    for data in args.data:
        table += bench_dataset(Path(data), args.recipes, extra, args.metric, args.k, args.overwrite)
    print("\n".join(table))


if __name__ == "__main__":
    main()
