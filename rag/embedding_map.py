"""A 2-D picture of an embedding space: PCA of a corpus sample, with a query and what it retrieved.

Each arm gets its own projection (the spaces of two models share no axes), drawn over the same documents so a
person can see whether fine-tuning pulled the query towards its passages.
"""

from __future__ import annotations

import numpy as np

from harness.retrieval import Hit


def sample_rows(n_docs: int, size: int, keep: list[int], seed: int = 0) -> np.ndarray:
    """`size` document rows chosen once by seed, always including `keep` (the retrieved ones)."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(n_docs)[: max(size, 0)]
    return np.unique(np.concatenate([rows, np.asarray(keep, dtype=int)])).astype(int)


def project(doc_emb: np.ndarray, query_emb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document xy, query xy, explained variance ratio of the two axes); PCA fitted on the documents only,
    so the query is placed in the documents' map rather than bending it."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=0).fit(doc_emb)
    return pca.transform(doc_emb), pca.transform(np.atleast_2d(query_emb)), pca.explained_variance_ratio_


def draw(panels: list[dict], question: str):
    """panels: [{arm, doc_xy, query_xy, variance, hit_rows (indices into doc_xy, rank order), only (bool per
    hit)}]; returns a matplotlib Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6), squeeze=False)
    for ax, p in zip(axes[0], panels, strict=False):
        xy = p["doc_xy"]
        ax.scatter(xy[:, 0], xy[:, 1], s=8, c="lightgray", label="corpus sample")
        hit_rows = p["hit_rows"]
        if hit_rows:
            colours = ["tab:orange" if only else "tab:blue" for only in p["only"]]
            ax.scatter(
                xy[hit_rows, 0],
                xy[hit_rows, 1],
                s=40,
                c=colours,
                edgecolors="black",
                linewidths=0.5,
                label="retrieved (orange: only this arm)",
            )
            for rank, row in enumerate(hit_rows, start=1):
                ax.annotate(str(rank), xy[row], textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.scatter(
            p["query_xy"][:, 0], p["query_xy"][:, 1], marker="*", s=220, c="tab:red", edgecolors="black", label="query"
        )
        v = p["variance"]
        ax.set_title(f"{p['arm']} (PC1 {v[0]:.0%}, PC2 {v[1]:.0%} of variance)", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.legend(fontsize=7, loc="best")
    short = question if len(question) <= 90 else question[:87] + "…"
    fig.suptitle(f"PCA of the corpus sample and the query: “{short}”", fontsize=10)
    fig.tight_layout()
    return fig


def build_panels(
    arm_space: dict[str, tuple[np.ndarray, np.ndarray]],
    doc_ids: list[str],
    hits: dict[str, list[Hit]],
    only: dict[str, set[str]],
    sample: int,
    seed: int = 0,
) -> list[dict]:
    """arm_space: arm → (all document embeddings in doc_ids order, query embedding). The same sample of
    documents (plus every arm's retrieved ones) is drawn in every panel."""
    position = {d: i for i, d in enumerate(doc_ids)}
    keep = sorted({position[h.doc_id] for arm_hits in hits.values() for h in arm_hits})
    rows = sample_rows(len(doc_ids), sample, keep, seed)
    row_of = {int(r): i for i, r in enumerate(rows)}
    panels = []
    for arm, (doc_emb, q_emb) in arm_space.items():
        doc_xy, q_xy, variance = project(doc_emb[rows], q_emb)
        arm_hits = hits.get(arm, [])
        panels.append(
            {
                "arm": arm,
                "doc_xy": doc_xy,
                "query_xy": q_xy,
                "variance": variance,
                "hit_rows": [row_of[position[h.doc_id]] for h in arm_hits],
                "only": [h.doc_id in only.get(arm, set()) for h in arm_hits],
            }
        )
    return panels
