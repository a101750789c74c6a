"""The arms table (docs/arms.md) from a step-3 report folder: per arm MRR@10, nDCG@10 and Hit@10 with the paired CI of
its difference to the baseline, training minutes and milliseconds per query.

    python -m harness.arms_table reports/arms_onet [--size 800]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from harness.retrieval_report import FILES

METRICS = (("mrr", "MRR@10"), ("ndcg", "nDCG@10"), ("hit", "Hit@10"))


def _cell(metrics: pd.DataFrame, arm: str, baseline: str, metric: str, k: int) -> str:
    sel = metrics[(metrics["metric"] == metric) & (metrics["k"] == k)]
    value = sel[(sel["kind"] == "arm") & (sel["arm"] == arm)]["value"].iloc[0]
    if arm == baseline:
        return f"{value:.3f}"
    d = sel[(sel["kind"] == "delta") & (sel["arm"] == f"{arm} - {baseline}")].iloc[0]
    return f"{value:.3f} ({d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}])"


def arms_markdown(folder: Path, size: int | None = None, k: int = 10) -> str:
    metrics = pd.read_csv(Path(folder) / FILES["metrics"])
    speed = pd.read_csv(Path(folder) / FILES["speed"]).fillna({"note": ""})
    size = size or int(metrics["size"].max())
    metrics, speed = metrics[metrics["size"] == size], speed[speed["size"] == size]
    arms = list(dict.fromkeys(metrics[metrics["kind"] == "arm"]["arm"]))
    baseline = arms[0]
    head = " | ".join(f"{label} (Δ vs {baseline}, 95% CI)" for _, label in METRICS)
    lines = [f"| arm | {head} | training min | ms/query |", "|---" * (len(METRICS) + 3) + "|"]
    for arm in arms:
        s = speed[speed["arm"] == arm].iloc[0]
        minutes = s["training_minutes"] if "training_minutes" in s else float("nan")
        latency = s["latency_mean_ms"] if "latency_mean_ms" in s else s["latency_p50_ms"]
        cells = " | ".join(_cell(metrics, arm, baseline, m, k) for m, _ in METRICS)
        lines.append(f"| {arm} | {cells} | {minutes:.1f} | {latency:.1f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    args = sys.argv[1:]
    size = int(args[args.index("--size") + 1]) if "--size" in args else None
    print(arms_markdown(Path(args[0]), size))
