"""A long-document retrieval set built from the Linux manual pages: what a page does (its NAME line) finds the page.

One document per manual page of four Debian packages (Linux man-pages, OpenSSL's and Git's pages; pinned by version
and sha256): the page's name and section as title, the first 300 words from its DESCRIPTION on (without the
reference sections at the end) as text; pages with fewer than 200 words there are left out, so every document is
long. One query per page: the summary after the dash of its NAME line ("open and possibly create a file"), relevant
to that page only — the words a programmer uses for what a call does, without its name. Summaries shared by
several pages, shorter than 3 words, or found inside their own document are dropped (counts in the card). Splits:
a seeded order of the query pages, 300 test, 100 dev, the rest train.

The shape differs from the built-in sets on purpose: documents of 200+ words (O*NET's are about 60, ESCO's 15),
one relevant document a query, a technical vocabulary. Rebuilt deterministically by `make data-manpages`; the card
holds the packages' checksums and the corpus fingerprint.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpus.beir import Dataset, Document, write_dataset
from corpus.errors import RagtuneError
from corpus.jsonl import read_json_or_none, write_json
from corpus.registry import sha256_file
from corpus.splits import normalise, stable_order

CARD_NAME = "manpages-search"  # a folder whose card says so was written by this command and may be rebuilt
# Debian bookworm's packages; the pages keep their own licences, so the built texts stay under data/, outside the
# repository, and the card records how to rebuild them
PACKAGES = {
    "manpages": ("6.03-2", "efa1ba4cd19ad7baeae959c9209a7eb74be2ebb858bcabb412597bfc9f588c91"),
    "manpages-dev": ("6.03-2", "96f55cb5e26231d5567c89b692bced63825a14a2d5bd18fdf16ea2ed44eb9838"),
    "libssl-doc": ("3.0.22-1~deb12u2", "b79995160eeb7673b3933bf270105e075814a13b3d499db8c65bb41735748b41"),
    "git-man": ("1:2.39.5-0+deb12u3", "904dbd8dbc3db34c6780fb0abfe35816d4a90a490126ef0a055a77a0c5dcab82"),
}
LICENCE = (
    "each page keeps its own licence: Linux man-pages (mostly Linux-man-pages-copyleft: verbatim and modified "
    "copies allowed with the permission notice), OpenSSL 3.0 (Apache-2.0), Git (GPL-2.0)"
)
DOC_WORDS, MIN_WORDS, MIN_QUERY_WORDS = 300, 200, 3  # the module's docstring states them in words for the card
# what `make data-manpages` built on Debian bookworm (groff 1.22.4): a rebuild elsewhere is checked against it
EXPECTED_FINGERPRINT = "7bdc586b491912d9"
TEST, DEV = 300, 100
DOC_PREFIX = "man:"
TRAILING = {"SEE ALSO", "COLOPHON", "AUTHOR", "AUTHORS", "COPYRIGHT", "HISTORY", "REPORTING BUGS", "GIT"}
# a page rendered as plain text: section headings start at column 0, body text is indented
_HEADING = re.compile(r"^[A-Z][A-Z /-]*$")
_NAME = re.compile(r"\s+[-\u2010\u2212]\s+")


@dataclass
class ManpagesConfig:
    seed: int = 13
    test: int = TEST
    dev: int = DEV


@dataclass
class ManpagesStats:
    pages: int = 0
    documents: int = 0
    queries: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    doc_words_median: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def sections(text: str) -> dict[str, str]:
    """Heading -> its body, lines joined into paragraphs, from a page rendered by groff."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = line.strip() if _HEADING.match(line.strip()) else None
            if current:
                out.setdefault(current, [])
            continue
        if current:
            out[current].append(line.strip())
    return {k: " ".join(" ".join(v).split()) for k, v in out.items()}


def page_parts(rendered: str) -> tuple[str, str] | None:
    """(summary of the NAME line, the text from DESCRIPTION on) of a rendered page, or None when it has either
    missing. The sections after DESCRIPTION (options, return value, errors, notes) are what a reader goes on to;
    the reference lists at the end are left out."""
    parts = sections(rendered)
    heads = list(parts)
    pieces = _NAME.split(parts.get("NAME", ""), maxsplit=1)
    if len(pieces) != 2 or not parts.get("DESCRIPTION"):
        return None
    body = [parts[h] for h in heads[heads.index("DESCRIPTION") :] if h not in TRAILING]
    return pieces[1].strip(), " ".join(b for b in body if b)


def render(page: Path) -> str:
    """The page as plain text: one line a paragraph (a very long line length), no hyphenation, no formatting."""
    source = gzip.decompress(page.read_bytes()) if page.suffix == ".gz" else page.read_bytes()
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=5000n", "-rHY=0"],
        input=source,
        capture_output=True,
        check=False,
    )
    return proc.stdout.decode("utf-8", errors="replace")


def fetch_packages(dest: Path) -> Path:
    """The pinned .deb files, downloaded with apt-get (Debian's registry), checked and unpacked under dest."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb") or not shutil.which("groff"):
        raise RagtuneError("building the manual-page set needs apt-get, dpkg-deb and groff (Debian)")
    dest.mkdir(parents=True, exist_ok=True)
    root = dest / "root"
    for package, (version, sha256) in PACKAGES.items():
        pattern = f"{package}_{version.replace(':', '%3a')}_*.deb"  # apt writes an epoch's colon as %3a
        debs = sorted(dest.glob(pattern))
        if not debs:
            proc = subprocess.run(
                ["apt-get", "download", f"{package}={version}"], cwd=dest, capture_output=True, text=True
            )
            debs = sorted(dest.glob(pattern))
            if proc.returncode != 0 or not debs:
                last = (proc.stderr.strip().splitlines() or ["nothing downloaded"])[-1]
                raise RagtuneError(
                    f"could not download {package}={version} from Debian: {last} (`apt-get update` refreshes stale "
                    "package lists; a version Debian has replaced since is gone from its mirrors)"
                )
        got = sha256_file(debs[0])
        if got != sha256:
            raise RagtuneError(f"{debs[0]}: sha256 {got[:12]}… is not the pinned {sha256[:12]}…")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(root)], check=True)
    return root / "usr" / "share" / "man"


def build_manpages_dataset(man_dir: Path, cfg: ManpagesConfig, out: Path) -> tuple[Dataset, ManpagesStats]:
    stats = ManpagesStats()
    dropped: Counter = Counter()
    pages = {}
    for page in sorted(man_dir.glob("man*/*.gz")):
        # Debian links a page's other names to it, and a few pages are `.so` redirects: one document a page
        if page.is_symlink() or gzip.decompress(page.read_bytes())[:200].lstrip().startswith(b".so "):
            continue
        stats.pages += 1
        parts = page_parts(render(page))
        if parts is None:
            dropped["no NAME summary or DESCRIPTION"] += 1
            continue
        summary, description = parts
        words = description.split()
        if len(words) < MIN_WORDS:
            dropped[f"under {MIN_WORDS} words from DESCRIPTION on"] += 1
            continue
        name, section = page.name.removesuffix(".gz").rsplit(".", 1)
        pages[f"{DOC_PREFIX}{name}.{section}"] = (f"{name}({section})", " ".join(words[:DOC_WORDS]), summary)
    shared = Counter(normalise(s) for _, _, s in pages.values())
    corpus, queries_by_page = {}, {}
    for doc_id, (title, text, summary) in pages.items():
        corpus[doc_id] = Document(doc_id, title, text)
        if shared[normalise(summary)] > 1:
            dropped["summary shared by several pages"] += 1
        elif len(summary.split()) < MIN_QUERY_WORDS:
            dropped[f"summary under {MIN_QUERY_WORDS} words"] += 1
        elif normalise(summary) in normalise(text):
            dropped["summary inside its document"] += 1
        else:
            queries_by_page[doc_id] = summary
    order = stable_order(queries_by_page, f"{cfg.seed}/manpages-split", key=str)
    cuts = {
        "test": order[: cfg.test],
        "dev": order[cfg.test : cfg.test + cfg.dev],
        "train": order[cfg.test + cfg.dev :],
    }
    queries, qrels = {}, {}
    for split, ids in cuts.items():
        qrels[split] = {}
        for doc_id in ids:
            qid = f"q:{doc_id.removeprefix(DOC_PREFIX)}"
            queries[qid] = queries_by_page[doc_id]
            qrels[split][qid] = {doc_id: 1}
    stats.documents = len(corpus)
    stats.queries = {split: len(ids) for split, ids in cuts.items()}
    stats.dropped = dict(sorted(dropped.items()))
    lengths = sorted(len(d.text.split()) for d in corpus.values())
    stats.doc_words_median = lengths[len(lengths) // 2] if lengths else 0
    return Dataset(out, corpus, queries, qrels), stats


def prepare_manpages(out: Path, cfg: ManpagesConfig | None = None) -> tuple[Path, dict]:
    cfg = cfg or ManpagesConfig()
    out = Path(out)
    card = read_json_or_none(out / "dataset_card.json")
    if (out / "corpus.jsonl").exists() and not (isinstance(card, dict) and card.get("name") == CARD_NAME):
        raise RagtuneError(f"{out}: holds a dataset this command did not write; choose another --out")
    with tempfile.TemporaryDirectory(prefix="ragtune-manpages-") as tmp:
        ds, stats = build_manpages_dataset(fetch_packages(Path(tmp)), cfg, out)
    write_dataset(ds, out)
    card = {
        "name": CARD_NAME,
        "config": asdict(cfg),
        "stats": stats.as_dict(),
        "construction": __doc__.split("\n\n")[1].replace("\n", " "),
        "licence": LICENCE,
        "sources": [f"debian:{p}={v} sha256 {s}" for p, (v, s) in PACKAGES.items()],
        "renderer": subprocess.run(["groff", "--version"], capture_output=True, text=True).stdout.splitlines()[0],
        "size_bytes": (out / "corpus.jsonl").stat().st_size,
        "fingerprint": ds.fingerprint(),
        "expected_fingerprint": EXPECTED_FINGERPRINT,
    }
    write_json(out / "dataset_card.json", card)
    return out, card


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="data/manpages", help="dataset folder to write (BEIR layout)")
    p.add_argument("--seed", type=int, default=13)
    args = p.parse_args(argv)
    out, card = prepare_manpages(Path(args.out), ManpagesConfig(seed=args.seed))
    s = card["stats"]
    if card["fingerprint"] != EXPECTED_FINGERPRINT:
        print(
            f"warning: corpus fingerprint {card['fingerprint']} is not the committed {EXPECTED_FINGERPRINT} (another groff?)"
        )
    print(
        f"{out}: {s['documents']} documents (median {s['doc_words_median']} words), queries {s['queries']}, "
        f"dropped {s['dropped']}; fingerprint {card['fingerprint']}"
    )


if __name__ == "__main__":
    from corpus.cli import run_cli

    raise SystemExit(run_cli(main))
