"""Rich summary tables for the corpus-floor stages."""

from __future__ import annotations

from collections import Counter

from rich.table import Table


def dataset_table(card: dict) -> Table:
    s = card["stats"]
    t = Table(title=f"dataset: {card.get('name', '')}", show_header=True)
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("occupations (documents)", f"{s['occupations']:,}")
    t.add_row("task statements", f"{s['tasks']:,}")
    t.add_row("  shown inside documents", f"{s['in_documents']:,}")
    for reason, n in s["dropped"].items():
        t.add_row(f"  dropped: {reason.replace('_', ' ')}", f"{n:,}")
    for split in ("train", "dev", "test"):
        t.add_row(
            f"queries {split} (relevant docs)",
            f"{s['queries'].get(split, 0):,} ({s['relevant_documents'].get(split, 0):,})",
        )
    return t


def mining_table(stats, card: dict) -> Table:
    t = Table(title="training triplets (hard negatives mined over the whole corpus)")
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("training queries × positives", f"{stats.queries:,}")
    t.add_row("triplet rows written", f"{stats.triplets:,}")
    for k, n in stats.negatives_per_query.items():
        t.add_row(f"  with {k} negative(s)", f"{n:,}")
    t.add_row("candidates removed by false-negative filter", f"{stats.filtered_candidates:,}")
    t.add_row("given negatives used (flat file)", f"{stats.given_negatives_used:,}")
    t.add_row("median rank of the positive (base model)", f"{stats.positive_rank_median:g}")
    t.add_row("documents kept back as evaluation distractors", f"{card['reserved_distractors']:,}")
    dev = card.get("dev", {})
    t.add_row(f"dev queries ({dev.get('source', 'dev split')})", f"{card['dev_queries']:,}")
    outside = card.get("outside_negatives")
    if outside and outside["stats"]["documents"]:
        st = outside["stats"]
        t.add_row(f"outside documents, training side ({outside['source']})", f"{st['documents']:,}")
        t.add_row(f"  rows with outside negatives (up to {outside['per_row']})", f"{st['rows_with_outside']:,}")
        t.add_row("  distinct outside negatives", f"{st['distinct_negatives']:,}")
    cache = card["embedding_cache"]
    t.add_row("embedding cache hits / misses", f"{cache['hits']} / {cache['misses']}")
    if cache.get("reused_rows"):
        t.add_row("  rows taken from other entries", f"{cache['reused_rows']:,}")
    return t


def pool_table(counts: Counter, excluded: int, out) -> Table:
    t = Table(title=f"candidate pool: {sum(counts.values()):,} documents → {out}")
    t.add_column("source")
    t.add_column("documents", justify="right")
    for name, n in counts.most_common():
        t.add_row(name, f"{n:,}")
    t.add_row("[dim]training negatives excluded[/]", f"[dim]{excluded:,}[/]")
    return t


def esco_dataset_table(card: dict) -> Table:
    """What corpus.datasets.prepare_esco built: skills read, documents kept, drops by reason, queries per split."""
    s = card["stats"]
    t = Table(title=f"dataset: {card.get('name', '')}", show_header=True)
    t.add_column("what")
    t.add_column("count", justify="right")
    t.add_row("ESCO skills read", f"{s['skills']:,}")
    t.add_row("documents (skills split into labels + description)", f"{s['documents']:,}")
    for reason, n in s["dropped"].items():
        t.add_row(f"  dropped: {reason.replace('_', ' ')}", f"{n:,}")
    for split in ("train", "dev", "test"):
        t.add_row(f"queries {split} (one relevant skill each)", f"{s['queries'].get(split, 0):,}")
    return t
