"""The robustness table: bad and odd inputs run through the numbered scripts as a user runs them.

Bad case: exit code 2, one line on stderr, no traceback, the file:line and field named where there is one, and
every earlier output (under the sandbox's prev/ folder) byte for byte untouched, with no stray file beside it.
Odd-but-valid case: the same per-query results as the plain input (step 3's retrieval_per_query.csv), or for a
step that writes no per-query results the same output file.

Every run happens in a sandbox: RAGTUNE_HOME points data/, cache/, reports/ and runs/ at a temporary folder, so
flat conversions and cache entries never land in the repository. Most bad cases fail before any model loads
(about a second each); the cases that need MiniLM are marked slow and share one embedding cache.

Flags are today's names and live in each case's `flags` (placeholders in braces are filled per sandbox).
Range and output-location cases are refused before any model loads, so they run in the fast table.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from corpus.splits import stable_hash
from tests.helpers import ROOT, assert_one_line_error, run_script, stub_rag_flags

SLOW = pytest.mark.slow
STEP3_FAST = ("--arms", "base=base", "--bootstrap", "100", "--latency-queries", "0")


# ---------------------------------------------------------------------------------------------------- sandbox


@dataclass
class Sandbox:
    root: Path
    home: Path  # RAGTUNE_HOME
    ds: Path  # a copy of the tiny BEIR dataset, free to damage
    prev: Path  # earlier outputs that a failing run must leave untouched
    triplets: Path

    def env(self) -> dict:
        return {"RAGTUNE_HOME": str(self.home)}

    def fill(self, flags: tuple[str, ...]) -> list[str]:
        names = {"ds": self.ds, "prev": self.prev, "triplets": self.triplets, "root": self.root}
        if any("{read_only}" in f for f in flags):
            names["read_only"] = read_only_dir(self.root)
        return [f.format(**{k: str(v) for k, v in names.items()}) if "{" in f else f for f in flags]


def read_only_dir(root: Path) -> Path:
    """A folder this process cannot write in: chmod where that binds, else a read-only system folder (root)."""
    folder = root / "read_only"
    if not folder.exists():
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() != 0:
        return folder
    for candidate in (Path("/sys/fs"), Path("/proc/sys")):
        if candidate.is_dir() and not os.access(candidate, os.W_OK | os.X_OK):
            return candidate
        if candidate.is_dir():
            try:
                (candidate / ".ragtune-probe").touch()
                (candidate / ".ragtune-probe").unlink()
            except OSError:
                return candidate
    pytest.skip("no read-only folder on this machine")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_triplets(ds: Path, out: Path) -> Path:
    """A valid triplet folder written by hand from the dataset (no model): one hard negative per train query."""
    from corpus.beir import document_text, load_dataset

    data = load_dataset(ds)
    doc_ids = sorted(data.corpus)
    out.mkdir(parents=True)
    rows = []
    for q, rel in sorted(data.relevant("train").items()):
        pos = sorted(rel)[0]
        neg = next(d for d in doc_ids if d not in rel)
        rows.append(
            {
                "query_id": q,
                "query": data.queries[q],
                "positive_id": pos,
                "positive": document_text(data.corpus[pos]),
                "negative_ids": [neg],
                "negatives": [document_text(data.corpus[neg])],
            }
        )
    (out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    dev = data.relevant("dev")
    (out / "dev.jsonl").write_text(
        "".join(
            json.dumps({"query_id": q, "query": data.queries[q], "relevant_ids": sorted(dev[q])}) + "\n"
            for q in sorted(dev)
        ),
        encoding="utf-8",
    )
    (out / "card.json").write_text(json.dumps({"dataset": str(ds.resolve())}), encoding="utf-8")
    return out


@pytest.fixture()
def sandbox(tmp_path, tiny_dataset) -> Sandbox:
    box = Sandbox(tmp_path, tmp_path / "home", tmp_path / "ds", tmp_path / "prev", tmp_path / "triplets")
    shutil.copytree(tiny_dataset, box.ds)
    box.home.mkdir()
    make_triplets(box.ds, box.triplets)
    # what earlier successful runs left: a pool, a report set, a trained model folder, a triplet folder
    (box.prev / "reports").mkdir(parents=True)
    (box.prev / "pool.jsonl").write_text('{"_id": "earlier", "text": "earlier pool"}\n', encoding="utf-8")
    (box.prev / "reports" / "retrieval_card.json").write_text('{"earlier": true}\n', encoding="utf-8")
    (box.prev / "reports" / "retrieval_metrics.csv").write_text("earlier\n", encoding="utf-8")
    (box.prev / "model").mkdir()
    (box.prev / "model" / "training_card.json").write_text('{"earlier": true}\n', encoding="utf-8")
    (box.prev / "triplets_out").mkdir()
    (box.prev / "triplets_out" / "card.json").write_text('{"earlier": true}\n', encoding="utf-8")
    (box.prev / "a_file").write_text("earlier\n", encoding="utf-8")
    yield box
    ro = tmp_path / "read_only"
    if ro.exists():
        ro.chmod(0o755)


# ---------------------------------------------------------------------------------------------- input damage


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split("\n")


def set_line(path: Path, n: int, text: str) -> None:
    """Replace line n (1-based) of a text file."""
    rows = lines(path)
    rows[n - 1] = text
    path.write_text("\n".join(rows), encoding="utf-8")


def set_tsv(path: Path, n: int, column: int, value: str) -> None:
    cells = lines(path)[n - 1].split("\t")
    cells[column] = value
    set_line(path, n, "\t".join(cells))


def set_json_line(path: Path, n: int, change: Callable[[dict], dict]) -> None:
    set_line(path, n, json.dumps(change(json.loads(lines(path)[n - 1]))))


def first_ids(ds: Path) -> tuple[str, str]:
    q, d, _ = lines(ds / "qrels" / "test.tsv")[1].split("\t")
    return q, d


def qrels_score(value: str) -> Callable[[Sandbox], None]:
    return lambda b: set_tsv(b.ds / "qrels" / "test.tsv", 2, 2, value)


def write_flat_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["query", "positive"])
        w.writerows(rows)
    return path


def flat_rows(n: int, split: str | None = None, tag: str = "") -> list[tuple[str, str]]:
    """n (query, positive) rows; with `split`, only queries that flat conversion's seeded hash puts there."""
    rows, i = [], 0
    while len(rows) < n:
        q = f"who handles task {tag}{i}?"
        u = stable_hash(13, q) / 2**64
        where = "test" if u < 0.1 else "dev" if u < 0.2 else "train"
        if split is None or where == split:
            rows.append((q, f"Document {tag}{i} describes task {i} in plain words."))
        i += 1
    return rows


def flat_file(b: Sandbox, text: str, name: str = "seed.csv") -> Path:
    path = b.root / "flat" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def stale_conversion(b: Sandbox) -> None:
    """An earlier seed.csv with test queries was converted; a new, different seed.csv has none."""
    old = write_flat_csv(b.root / "old" / "seed.csv", flat_rows(2, "test", "a") + flat_rows(6, "train", "b"))
    proc = run_script(
        "1_build_corpus.py",
        "--data",
        old,
        "--size",
        "3",
        "--no-external",
        "--out",
        b.root / "old_pool.jsonl",
        env=b.env(),
    )
    assert proc.returncode == 0, proc.stderr
    write_flat_csv(b.root / "flat" / "seed.csv", flat_rows(8, "train", "c"))


def read_only_set_folder(reports: Path, name: str, root: Path) -> None:
    """The folder a step stages its report set in cannot be written (read-only, as on a full or locked disk)."""
    (reports / ".sets").mkdir(parents=True, exist_ok=True)
    os.symlink(read_only_dir(root), reports / ".sets" / name)


def users_folder(path: Path) -> None:
    """A folder of the user's that happens to carry a report's name, holding a file of theirs."""
    path.mkdir(parents=True)
    (path / "my_notes.txt").write_text("mine\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------------- the bad table


@dataclass(frozen=True)
class Bad:
    id: str
    script: str
    flags: tuple[str, ...]  # today's flag names, in one place per case
    damage: Callable[[Sandbox], None] | None
    expect: tuple[str, ...] = ()  # fragments of the one error line: file:line, field, problem
    marks: tuple = ()
    before_work: bool = False  # refused before any model encodes (no embedding cached)


STEP1 = ("--data", "{ds}", "--size", "10", "--no-external", "--out", "{prev}/pool.jsonl")
STEP1_FLAT = ("--data", "{root}/flat/seed.csv", "--size", "3", "--no-external", "--out", "{prev}/pool.jsonl")
# a fresh --out: an earlier model folder with other settings is refused first, which would hide the case
STEP2 = (
    "--triplets",
    "{triplets}",
    "--out",
    "{root}/new_model",
    "--max-steps",
    "1",
    "--batch-size",
    "4",
    "--max-seq-length",
    "32",
)
STEP3 = ("--data", "{ds}", *STEP3_FAST, "--out", "{prev}/reports")
STEP0 = ("--data", "{ds}", "--out", "{prev}/triplets_out")


def copy_first_id(name: str, n: int) -> Callable[[Sandbox], None]:
    """Line n of the dataset's file gets the id of its first line."""
    return lambda b: set_json_line(b.ds / name, n, lambda o: {**o, "_id": json.loads(lines(b.ds / name)[0])["_id"]})


def emptied(name: str, text: str = "") -> Callable[[Sandbox], None]:
    """The dataset's file holds nothing but `text` (blank lines at most)."""
    return lambda b: (b.ds / name).write_text(text, encoding="utf-8")


def unreadable_docs(b: Sandbox) -> None:
    """A folder of documents none of which has usable text: zero bytes, not UTF-8, an encrypted PDF, a PDF of
    images, a broken Word file, an HTML page of binary bytes, and a 200 MB file (sparse: never read)."""
    from tests import document_files as files

    folder = b.root / "bad_docs"
    folder.mkdir()
    (folder / "a_empty.md").write_bytes(b"")
    (folder / "latin1.txt").write_bytes("Caf\u00e9 menu\n".encode("latin-1"))
    files.write_encrypted_pdf(folder / "locked.pdf", files.NURSE)
    files.write_image_only_pdf(folder / "scan.pdf")
    (folder / "report.docx").write_bytes(b"not a zip file")
    (folder / "page.html").write_bytes(b"\x00\x01<html>\xff")
    with open(folder / "huge.txt", "wb") as f:
        f.truncate(200_000_000)


def step1(id: str, damage: Callable[[Sandbox], None], expect: tuple[str, ...]) -> Bad:
    """A damaged dataset file, read by step 1."""
    return Bad(id, "1_build_corpus.py", STEP1, damage, expect)


def flat(id: str, damage: Callable[[Sandbox], None], expect: tuple[str, ...]) -> Bad:
    """A damaged flat seed file, converted by step 1."""
    return Bad(id, "1_build_corpus.py", STEP1_FLAT, damage, expect)


def triplets(id: str, damage: Callable[[Sandbox], None], expect: tuple[str, ...]) -> Bad:
    """A damaged triplet folder, read by step 2 before the model loads."""
    return Bad(id, "2_train_embedder.py", STEP2, damage, expect)


def flag(id: str, script: str, base: tuple[str, ...], name: str, value: str, before_work: bool = False) -> Bad:
    """A flag out of its range on undamaged data: the error names the flag."""
    return Bad(id, script, (*base, name, value), None, (name,), before_work=before_work)


def out_at(id: str, script: str, flags: tuple[str, ...], out: str, expect: str, before_work: bool = False) -> Bad:
    """An output location the script refuses before any model loads, leaving nothing stray behind."""
    return Bad(id, script, (*flags, "--out", out), None, (expect,), before_work=before_work)


def refused(id: str, script: str, flags: tuple[str, ...], expect: tuple[str, ...], before_work: bool = False) -> Bad:
    """Undamaged data, flags the script refuses."""
    return Bad(id, script, flags, None, expect, before_work=before_work)


BAD: list[Bad] = [
    # BEIR corpus.jsonl / queries.jsonl
    step1(
        "corpus_bad_json",
        lambda b: set_line(b.ds / "corpus.jsonl", 2, '{"_id": "x", "text": '),
        ("corpus.jsonl:2", "invalid JSON"),
    ),
    step1(
        "corpus_missing_text",
        lambda b: set_json_line(b.ds / "corpus.jsonl", 3, lambda o: {"_id": o["_id"]}),
        ("corpus.jsonl:3", "field 'text'", "missing"),
    ),
    step1(
        "corpus_duplicate_id",
        copy_first_id("corpus.jsonl", 2),
        ("corpus.jsonl:2", "field '_id'", "duplicate id"),
    ),
    step1(
        "corpus_empty_file",
        emptied("corpus.jsonl", "\n\n"),
        ("corpus.jsonl", "file is empty"),
    ),
    step1(
        "corpus_not_utf8",
        lambda b: (b.ds / "corpus.jsonl").write_bytes(
            (b.ds / "corpus.jsonl").read_bytes().replace(b"\n", b"\n\xff", 1)
        ),
        ("corpus.jsonl:2", "not UTF-8"),
    ),
    step1(
        "corpus_id_not_a_string",
        lambda b: set_json_line(b.ds / "corpus.jsonl", 2, lambda o: {**o, "_id": ["d"]}),
        ("corpus.jsonl:2", "field '_id'", "expected a string"),
    ),
    step1(
        "queries_not_an_object",
        lambda b: set_line(b.ds / "queries.jsonl", 4, '["q", "text"]'),
        ("queries.jsonl:4", "expected a JSON object"),
    ),
    step1(
        "queries_duplicate_id",
        copy_first_id("queries.jsonl", 2),
        ("queries.jsonl:2", "field '_id'", "duplicate id"),
    ),
    step1(
        "queries_empty_text",
        lambda b: set_json_line(b.ds / "queries.jsonl", 5, lambda o: {**o, "text": "  "}),
        ("queries.jsonl:5", "field 'text'", "is empty"),
    ),
    step1(
        "queries_empty_file",
        emptied("queries.jsonl"),
        ("queries.jsonl", "file is empty"),
    ),
    # qrels
    step1(
        "qrels_unknown_query",
        lambda b: set_tsv(b.ds / "qrels" / "test.tsv", 3, 0, "no-such-query"),
        ("test.tsv:3", "field 'query-id'", "unknown query"),
    ),
    step1(
        "qrels_unknown_document",
        lambda b: set_tsv(b.ds / "qrels" / "test.tsv", 2, 1, "no-such-doc"),
        ("test.tsv:2", "field 'corpus-id'", "unknown document"),
    ),
    step1("qrels_grade_inf", qrels_score("inf"), ("test.tsv:2", "field 'score'", "finite")),
    step1("qrels_grade_nan", qrels_score("nan"), ("test.tsv:2", "field 'score'", "finite")),
    step1("qrels_grade_1e400", qrels_score("1e400"), ("test.tsv:2", "field 'score'", "finite")),
    step1("qrels_grade_word", qrels_score("relevant"), ("test.tsv:2", "field 'score'", "expected a number")),
    Bad(
        "qrels_grade_inf_in_step3",
        "3_eval_retrieval.py",
        STEP3,
        qrels_score("-Infinity"),
        ("test.tsv:2", "field 'score'", "finite"),
    ),
    step1(
        "qrels_bad_header",
        lambda b: set_line(b.ds / "qrels" / "test.tsv", 1, "qid\tdocid\tgrade"),
        ("test.tsv:1", "header"),
    ),
    step1(
        "qrels_two_columns",
        lambda b: set_line(b.ds / "qrels" / "test.tsv", 3, "\t".join(first_ids(b.ds))),
        ("test.tsv:3", "expected 3 columns"),
    ),
    step1(
        "qrels_duplicate_pair",
        lambda b: set_line(b.ds / "qrels" / "test.tsv", 3, lines(b.ds / "qrels" / "test.tsv")[1]),
        ("test.tsv:3", "duplicate pair"),
    ),
    step1(
        "qrels_quote_left_open",
        lambda b: set_tsv(b.ds / "qrels" / "test.tsv", 3, 0, '"open'),
        ("test.tsv", "unreadable CSV"),
    ),
    step1("qrels_folder_missing", lambda b: shutil.rmtree(b.ds / "qrels"), ("no qrels files",)),
    refused(
        "dataset_folder_missing",
        "1_build_corpus.py",
        ("--data", "{root}/nowhere", "--size", "3", "--no-external", "--out", "{prev}/pool.jsonl"),
        ("dataset folder not found",),
    ),
    # flat seed files (converted into the sandbox's data/)
    flat(
        "flat_missing_column",
        lambda b: flat_file(b, "query,answer\nq,p\n"),
        ("seed.csv:1", "field 'positive'", "missing column"),
    ),
    flat(
        "flat_empty_cell",
        lambda b: flat_file(b, "query,positive\nq,p\n,p2\n"),
        ("seed.csv:3", "field 'query'", "is empty"),
    ),
    flat(
        "flat_extra_cell",
        lambda b: flat_file(b, 'query,positive\n"multi\nline q",p\nq2,p2,surplus\n'),
        ("seed.csv:4", "expected 2 columns"),
    ),
    flat("flat_empty_file", lambda b: flat_file(b, ""), ("seed.csv", "file is empty")),
    flat(
        "flat_not_utf8",
        lambda b: flat_file(b, "").write_bytes(b"query,positive\nq,p\nq2,caf\xe9\n"),
        ("seed.csv:3", "not UTF-8"),
    ),
    Bad(
        "flat_jsonl_bad_json",
        "1_build_corpus.py",
        ("--data", "{root}/flat/seed.jsonl", "--size", "3", "--no-external", "--out", "{prev}/pool.jsonl"),
        lambda b: flat_file(b, '{"query": "q", "positive": "p"}\n{"query": "q2", "positive": \n', "seed.jsonl"),
        ("seed.jsonl:2", "invalid JSON"),
    ),
    flat("stale_conversion_same_name", stale_conversion, ("no qrels/test.tsv",)),
    # triplets read by step 2 (all fail before the model loads)
    triplets(
        "triplets_bad_json",
        lambda b: set_line(b.triplets / "train.jsonl", 2, '{"query_id": "q"'),
        ("train.jsonl:2", "invalid JSON"),
    ),
    triplets(
        "triplets_missing_query",
        lambda b: set_json_line(b.triplets / "train.jsonl", 3, lambda o: {k: v for k, v in o.items() if k != "query"}),
        ("train.jsonl:3", "field 'query'", "missing"),
    ),
    triplets(
        "triplets_negatives_not_a_list",
        lambda b: set_json_line(b.triplets / "train.jsonl", 1, lambda o: {**o, "negatives": "one"}),
        ("train.jsonl:1", "field 'negatives'"),
    ),
    triplets(
        "triplets_card_garbled",
        lambda b: (b.triplets / "card.json").write_text('{"dataset": "', encoding="utf-8"),
        ("card.json", "invalid JSON"),
    ),
    triplets(
        "triplets_dev_unknown_document",
        lambda b: set_json_line(b.triplets / "dev.jsonl", 1, lambda o: {**o, "relevant_ids": ["no-such-doc"]}),
        ("dev.jsonl:1", "field 'relevant_ids'", "unknown document"),
    ),
    triplets(
        "triplets_empty_file",
        lambda b: (b.triplets / "train.jsonl").write_text("", encoding="utf-8"),
        ("train.jsonl", "file is empty"),
    ),
    # numbers
    refused(
        "step1_size_zero",
        "1_build_corpus.py",
        ("--data", "{ds}", "--size", "0", "--out", "{prev}/pool.jsonl"),
        ("--size",),
    ),
    refused(
        "step1_size_negative",
        "1_build_corpus.py",
        ("--data", "{ds}", "--size", "-5", "--out", "{prev}/pool.jsonl"),
        ("--size",),
    ),
    refused(
        "step1_size_too_large",
        "1_build_corpus.py",
        ("--data", "{ds}", "--size", "100000", "--no-external", "--out", "{prev}/pool.jsonl"),
        ("--size 100000",),
    ),
    flag("step0_num_negatives_zero", "0_build_triplets.py", STEP0, "--num-negatives", "0"),
    flag("step0_reserve_negative", "0_build_triplets.py", STEP0, "--reserve-distractors", "-1"),
    flag("step3_k_zero", "3_eval_retrieval.py", STEP3, "--k", "0,5"),
    refused(
        "step3_bootstrap_too_few",
        "3_eval_retrieval.py",
        (*STEP3[:-2], "--bootstrap", "0", "--out", "{prev}/reports"),
        ("--bootstrap",),
    ),
    flag("step3_confidence_above_one", "3_eval_retrieval.py", STEP3, "--confidence", "1.5"),
    refused(
        "step3_unknown_model_folder",
        "3_eval_retrieval.py",
        ("--data", "{ds}", "--arms", "x={root}/no-model", "--out", "{prev}/reports"),
        ("no-model",),
    ),
    flag("step0_batch_size_zero", "0_build_triplets.py", STEP0, "--batch-size", "0", before_work=True),
    flag("step3_batch_size_zero", "3_eval_retrieval.py", STEP3, "--batch-size", "0", before_work=True),
    flag("step2_eval_batch_size_zero", "2_train_embedder.py", STEP2, "--eval-batch-size", "0"),
    flag("step3_fix_k_negative", "3_eval_retrieval.py", STEP3, "--fix-k", "-3", before_work=True),
    flag("step0_relative_margin_negative", "0_build_triplets.py", STEP0, "--relative-margin", "-2", before_work=True),
    # output locations: refused before any model loads, nothing stray left behind
    out_at("step1_out_is_a_folder", "1_build_corpus.py", STEP1[:-2], "{prev}/reports", "is a folder"),
    out_at("step1_out_read_only", "1_build_corpus.py", STEP1[:-2], "{read_only}/pool.jsonl", "cannot write"),
    out_at("step1_out_under_a_file", "1_build_corpus.py", STEP1[:-2], "{prev}/a_file/pool.jsonl", "is a file"),
    out_at("step0_out_is_a_file", "0_build_triplets.py", STEP0[:-2], "{prev}/a_file", "is a file", before_work=True),
    Bad(
        "step0a_docs_all_unreadable",
        "0a_generate_queries.py",
        ("--from-docs", "{root}/bad_docs", "--out", "{root}/generated"),
        unreadable_docs,
        ("a_empty.md: file is empty", "6 more file(s) skipped", "no usable document"),
        before_work=True,
    ),
    out_at(
        "step0a_out_is_a_file",
        "0a_generate_queries.py",
        ("--from-docs", "{ds}/corpus.jsonl"),
        "{prev}/a_file",
        "is a file",
        before_work=True,
    ),
    refused(
        "step3_index_with_a_store", "3_eval_retrieval.py", (*STEP3, "--store", "local", "--index", "ivf"), ("--index",)
    ),
    flag("step3_store_unknown", "3_eval_retrieval.py", STEP3, "--store", "sqlite"),
    refused(
        "step3_store_unreachable",
        "3_eval_retrieval.py",
        (*STEP3, "--store", "postgresql://nobody@127.0.0.1:9/ragtune"),
        ("127.0.0.1:9",),
        before_work=True,
    ),
    refused(
        "step2_out_is_a_file", "2_train_embedder.py", (*STEP2[:2], "--out", "{prev}/a_file", *STEP2[4:]), ("is a file",)
    ),
    out_at("step3_out_is_a_file", "3_eval_retrieval.py", STEP3[:-2], "{prev}/a_file", "is a file", before_work=True),
    out_at(
        "step3_out_read_only",
        "3_eval_retrieval.py",
        STEP3[:-2],
        "{read_only}/reports",
        "cannot write",
        before_work=True,
    ),
    # publishing: refused after the work, before anything is published; earlier outputs stay as they were
    Bad(
        "step3_publish_into_a_read_only_set_folder",
        "3_eval_retrieval.py",
        STEP3,
        lambda b: read_only_set_folder(b.prev / "reports", "retrieval", b.root),
        ("could not publish the retrieval reports", "published before are unchanged"),
        marks=(SLOW,),
    ),
    Bad(
        "step3_users_folder_named_like_a_report",
        "3_eval_retrieval.py",
        STEP3,
        lambda b: users_folder(b.prev / "reports" / "retrieval_summary.md"),
        ("retrieval_summary.md", "a folder ragtune did not write", "nothing was published"),
        marks=(SLOW,),
    ),
    out_at(
        "step4_out_is_a_file",
        "4_rag_compare.py",
        ("--data", "{ds}", "--arms", "base=base", "finetuned=base"),
        "{prev}/a_file",
        "is a file",
        before_work=True,
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in BAD])
def test_bad_input_is_one_line_exit_2_and_leaves_earlier_outputs(case: Bad, sandbox: Sandbox):
    if case.damage:
        case.damage(sandbox)
    before = snapshot(sandbox.prev)
    proc = run_script(case.script, *sandbox.fill(case.flags), env=sandbox.env())
    assert_one_line_error(proc, *case.expect)
    assert snapshot(sandbox.prev) == before  # untouched, and no stray temporary file beside them
    if case.before_work:
        assert not list((sandbox.home / "cache").rglob("*.npy")), "refused only after the model had encoded"


def test_ragtune_run_on_a_folder_with_no_usable_document_is_one_line_exit_2(sandbox):
    unreadable_docs(sandbox)
    proc = subprocess.run(
        [sys.executable, "-c", "from ragtune.cli import main; main()", "run", "--docs", str(sandbox.root / "bad_docs")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", **sandbox.env()},
        timeout=300,
    )
    assert_one_line_error(proc, "a_empty.md: file is empty", "no usable document")
    # every skipped file was one warning line on the way
    assert proc.stdout.count("warning: skipped") == 7, proc.stdout
    assert not (sandbox.home / "data" / "bad_docs").exists()


def test_the_table_is_big_enough():
    assert len(BAD) + len(ODD) >= 40
    assert len({c.id for c in BAD} | {c.id for c in ODD}) == len(BAD) + len(ODD)


# ----------------------------------------------------------------------------------------- the odd-valid table


def rewrite_dataset(
    src: Path,
    dst: Path,
    *,
    ensure_ascii: bool = True,
    newline: str = "\n",
    bom: bool = False,
    edit_doc: Callable[[dict], dict] | None = None,
    edit_query: Callable[[dict], dict] | None = None,
    blank_lines: bool = False,
) -> Path:
    """The same dataset in other bytes (escapes, line endings, BOM) and, optionally, other texts."""
    shutil.copytree(src, dst)
    for name, edit in (("corpus.jsonl", edit_doc), ("queries.jsonl", edit_query)):
        rows = [json.loads(x) for x in lines(src / name) if x.strip()]
        rows = [edit(r) if edit else r for r in rows]
        body = [json.dumps(r, ensure_ascii=ensure_ascii) for r in rows]
        if blank_lines:
            body = [x + newline for x in body]  # an empty line after every record
        text = newline.join(body) + newline
        (dst / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    for qrels in (dst / "qrels").glob("*.tsv"):
        text = qrels.read_text(encoding="utf-8").replace("\n", newline)
        qrels.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return dst


ODD_TEXT = (
    " \u2028 line\u0085break \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627 \U0001f469\u200d\U0001f373 \u2029"
)


def odd_text(obj: dict) -> dict:
    """Emoji (with a joiner), right-to-left Hebrew and Arabic, and the characters str.splitlines breaks at."""
    return {**obj, "text": obj["text"] + ODD_TEXT}


def long_text(size: int) -> Callable[[dict], dict]:
    def edit(obj: dict) -> dict:
        # only the first document grows; MiniLM reads the first 256 word pieces, so its embedding is unchanged
        if obj["_id"] != FIRST_DOC[0]:
            return odd_text(obj)
        filler = "Quarterly figures are reconciled and archived. "
        return {**obj, "text": obj["text"] + ODD_TEXT + filler * (size // len(filler))}

    return edit


FIRST_DOC: list[str] = []


@dataclass(frozen=True)
class Odd:
    id: str
    baseline: str  # the plain input it must match
    build: Callable[[Path, Path], Path]  # (tiny dataset, folder) -> the odd input (a folder or a file)
    marks: tuple = (SLOW,)


def flat_multiline_csv(src: Path, folder: Path) -> Path:
    return write_flat_csv(folder / "seed.csv", FLAT_ROWS)


def flat_equivalent_jsonl(src: Path, folder: Path) -> Path:
    path = folder / "seed.jsonl"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"query": q, "positive": p}) + "\n" for q, p in FLAT_ROWS), encoding="utf-8")
    return path


FLAT_ROWS = [
    (q.replace("task ", "task\n"), p.replace(". ", ".\n") + " Second paragraph.\r\nThird line.")
    for q, p in flat_rows(30)
]

BASELINES: dict[str, Callable[[Path, Path], Path]] = {
    "plain": lambda src, d: rewrite_dataset(src, d),
    "odd_escaped": lambda src, d: rewrite_dataset(src, d, edit_doc=long_text(20_000), edit_query=odd_text),
    "flat_jsonl": flat_equivalent_jsonl,
}

ODD: list[Odd] = [
    Odd("bom", "plain", lambda src, d: rewrite_dataset(src, d, bom=True)),
    Odd("crlf", "plain", lambda src, d: rewrite_dataset(src, d, newline="\r\n")),
    Odd(
        "blank_lines_and_bom_crlf",
        "plain",
        lambda src, d: rewrite_dataset(src, d, newline="\r\n", bom=True, blank_lines=True),
    ),
    Odd(
        "raw_u2028_emoji_rtl",
        "odd_escaped",
        lambda src, d: rewrite_dataset(src, d, ensure_ascii=False, edit_doc=long_text(20_000), edit_query=odd_text),
    ),
    Odd(
        "document_of_5_mb",
        "odd_escaped",
        lambda src, d: rewrite_dataset(src, d, ensure_ascii=False, edit_doc=long_text(5_000_000), edit_query=odd_text),
    ),
    Odd("flat_csv_multi_line_cells", "flat_jsonl", flat_multiline_csv),
]


def run_step3(data: Path, out: Path, home: Path) -> subprocess.CompletedProcess:
    return run_script("3_eval_retrieval.py", "--data", data, *STEP3_FAST, "--out", out, env={"RAGTUNE_HOME": str(home)})


def per_query_results(out: Path) -> pd.DataFrame:
    df = pd.read_csv(out / "retrieval_per_query.csv")
    return df.sort_values(["arm", "query_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory, tiny_dataset):
    """One RAGTUNE_HOME (and so one embedding cache) for every odd case; baselines computed once."""
    if not FIRST_DOC:
        FIRST_DOC.append(json.loads(lines(tiny_dataset / "corpus.jsonl")[0])["_id"])
    root = tmp_path_factory.mktemp("odd")
    results: dict[str, pd.DataFrame] = {}

    def baseline(name: str) -> pd.DataFrame:
        if name not in results:
            data = BASELINES[name](tiny_dataset, root / f"base_{name}")
            proc = run_step3(data, root / f"out_{name}", root / "home")
            assert proc.returncode == 0, proc.stderr[-3000:]
            results[name] = per_query_results(root / f"out_{name}")
        return results[name]

    return root, baseline


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in ODD])
def test_odd_but_valid_input_gives_the_same_per_query_results(case: Odd, shared_home, tiny_dataset):
    root, baseline = shared_home
    expected = baseline(case.baseline)
    data = case.build(tiny_dataset, root / f"odd_{case.id}")
    proc = run_step3(data, root / f"out_{case.id}", root / "home")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    got = per_query_results(root / f"out_{case.id}")
    assert len(got) == len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-5)


@SLOW
def test_corrupt_cache_entries_are_a_warning_and_a_recompute(shared_home, tiny_dataset):
    root, baseline = shared_home
    expected = baseline("plain")
    entries = list((root / "home" / "cache" / "embeddings").glob("*.npy"))
    assert entries
    for p in entries:
        p.write_bytes(p.read_bytes()[:50])  # truncated, as by a full disk
    proc = run_step3(root / "base_plain", root / "out_corrupt", root / "home")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "unreadable cache entry" in proc.stdout
    pd.testing.assert_frame_equal(per_query_results(root / "out_corrupt"), expected, check_exact=False, rtol=1e-5)


def test_garbled_conversion_record_means_convert_again(sandbox):
    src = write_flat_csv(sandbox.root / "flat" / "seed.csv", flat_rows(2, "test") + flat_rows(10, "train", "t"))
    flags = sandbox.fill(STEP1_FLAT[:-1]) + [str(sandbox.root / "pool.jsonl")]
    assert run_script("1_build_corpus.py", *flags, env=sandbox.env()).returncode == 0
    first = (sandbox.root / "pool.jsonl").read_bytes()
    (folder,) = (sandbox.home / "data").iterdir()
    assert folder.name.startswith("seed-")
    (folder / "flat_source.json").write_text('{"sha2', encoding="utf-8")
    proc = run_script("1_build_corpus.py", *flags, env=sandbox.env())
    assert proc.returncode == 0, proc.stderr
    assert (sandbox.root / "pool.jsonl").read_bytes() == first
    assert json.loads((folder / "flat_source.json").read_text())["sha256"]
    assert src.exists()


@SLOW
def test_overlap_between_splits_is_dropped_from_training_with_a_warning(sandbox):
    q, d = first_ids(sandbox.ds)
    with open(sandbox.ds / "qrels" / "train.tsv", "a", encoding="utf-8") as fh:
        fh.write(f"{q}\t{d}\t1\n")  # a test query (and its answer) leaked into train
    out = sandbox.root / "triplets_leak"
    proc = run_script("0_build_triplets.py", "--data", sandbox.ds, "--out", out, env=sandbox.env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning:" in proc.stdout and "also dev/test queries" in " ".join(proc.stdout.split())
    trained = {json.loads(x)["query_id"] for x in lines(out / "train.jsonl") if x.strip()}
    assert q not in trained and trained


# ---------------------------------------------------------------------------------- kill -9 while writing a set

KILL_DURING_REPORTS = """
import os, signal, sys
sys.path.insert(0, {root!r})
sys.argv = [{script!r}, *{args!r}]
import harness.retrieval_report as reports
real = reports.plot_hit_at_k
def plot_then_die(*a, **kw):  # the CSVs of the new run are written by now; the card and summary are not
    real(*a, **kw)
    os.kill(os.getpid(), signal.SIGKILL)
reports.plot_hit_at_k = plot_then_die
import runpy
runpy.run_path({script!r}, run_name="__main__")
"""


@SLOW
def test_kill_9_while_step_3_writes_reports_leaves_a_complete_set(sandbox):
    out = sandbox.root / "reports"
    first = run_step3(sandbox.ds, out, sandbox.home)
    assert first.returncode == 0, first.stderr[-3000:]
    # a second run with another arm set, killed after its CSVs are written
    args = [
        "--data",
        str(sandbox.ds),
        "--arms",
        "base=base",
        "again=base",
        "--bootstrap",
        "100",
        "--latency-queries",
        "0",
        "--out",
        str(out),
    ]
    code = KILL_DURING_REPORTS.format(root=str(ROOT), script=str(ROOT / "3_eval_retrieval.py"), args=args)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **sandbox.env()},
        timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL
    card = json.loads((out / "retrieval_card.json").read_text())
    # the per-query CSV and the card must come from the same run (one arm before, two after)
    assert set(pd.read_csv(out / "retrieval_per_query.csv")["arm"]) == set(card["models"])


def test_the_undamaged_sandbox_passes(sandbox):
    """The control: every bad case above differs from a run that works only by its damage."""
    proc = run_script("1_build_corpus.py", *sandbox.fill(STEP1), env=sandbox.env())
    assert proc.returncode == 0, proc.stderr
    write_flat_csv(sandbox.root / "flat" / "seed.csv", flat_rows(2, "test") + flat_rows(6, "train", "t"))
    proc = run_script("1_build_corpus.py", *sandbox.fill(STEP1_FLAT), env=sandbox.env())
    assert proc.returncode == 0, proc.stderr
    from train.examples import load_training_data

    assert len(load_training_data(sandbox.triplets).triplets) > 0  # what step 2 reads before its model loads


KILL_DURING_RAG_REPORTS = """
import os, signal, sys
sys.path.insert(0, {root!r})
sys.argv = [{script!r}, *{args!r}]
import rag.answer_report as reports
def plot_then_die(*a, **kw):  # the report and summary CSVs of the new run are written by now; the card is not
    os.kill(os.getpid(), signal.SIGKILL)
reports.plot = plot_then_die
import runpy
runpy.run_path({script!r}, run_name="__main__")
"""


@SLOW
def test_kill_9_while_step_4_writes_reports_leaves_a_complete_set(sandbox):
    from tests.rag.conftest import StubLLM

    stub = StubLLM()
    out = sandbox.root / "reports"
    try:
        flags = stub_rag_flags(stub.base_url, sandbox.ds, out)
        first = run_script("4_rag_compare.py", *flags, "--top-k", "3", env=sandbox.env())
        assert first.returncode == 0, first.stderr[-3000:]
        code = KILL_DURING_RAG_REPORTS.format(
            root=str(ROOT), script=str(ROOT / "4_rag_compare.py"), args=[*flags, "--top-k", "2"]
        )
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **sandbox.env()},
            timeout=600,
        )
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    finally:
        stub.close()
    card = json.loads((out / "rag_compare_card.json").read_text())
    report = pd.read_csv(out / "rag_compare_report.csv")
    assert (report["base_context_ids"].str.count(";") + 1 == card["top_k"]).all()


def test_fractional_grades_keep_their_queries_relevant(sandbox):
    """0.5 is relevant (> 0): the pool keeps every test answer, exactly as with grade 1 (it was truncated to 0)."""
    plain = run_script("1_build_corpus.py", *sandbox.fill(STEP1[:-1]), sandbox.root / "plain.jsonl", env=sandbox.env())
    assert plain.returncode == 0, plain.stderr
    qrels = sandbox.ds / "qrels" / "test.tsv"
    rows = lines(qrels)
    qrels.write_text(
        "\n".join([rows[0]] + [r.rsplit("\t", 1)[0] + "\t0.5" for r in rows[1:] if r]) + "\n", encoding="utf-8"
    )
    proc = run_script("1_build_corpus.py", *sandbox.fill(STEP1[:-1]), sandbox.root / "graded.jsonl", env=sandbox.env())
    assert proc.returncode == 0, proc.stderr
    assert (sandbox.root / "graded.jsonl").read_bytes() == (sandbox.root / "plain.jsonl").read_bytes()


@SLOW
def test_step_4_never_deletes_a_users_folder_named_like_a_report(sandbox):
    from tests.rag.conftest import StubLLM

    out = sandbox.prev / "reports"
    users_folder(out / "rag_compare_summary.md")
    before = snapshot(sandbox.prev)
    stub = StubLLM()
    try:
        proc = run_script("4_rag_compare.py", *stub_rag_flags(stub.base_url, sandbox.ds, out), env=sandbox.env())
    finally:
        stub.close()
    assert_one_line_error(proc, "rag_compare_summary.md", "a folder ragtune did not write", "nothing was published")
    assert snapshot(sandbox.prev) == before


@SLOW
def test_a_document_too_long_for_the_prompt_says_what_to_change(sandbox):
    """A rerun of the same command would be refused the same way: the error names what to change instead."""
    from tests.rag.conftest import StubLLM

    filler = " Quarterly figures are reconciled and archived." * 300  # ~1,800 words per document
    corpus = sandbox.ds / "corpus.jsonl"
    docs = [json.loads(x) for x in lines(corpus) if x.strip()]
    corpus.write_text("".join(json.dumps({**d, "text": d["text"] + filler}) + "\n" for d in docs), encoding="utf-8")
    out = sandbox.root / "reports"
    stub = StubLLM()
    stub.context_words = 1000  # fewer than one document
    try:
        flags = stub_rag_flags(stub.base_url, sandbox.ds, out)
        proc = run_script("4_rag_compare.py", *flags, env=sandbox.env())
        err = assert_one_line_error(proc, "exceeds the available context size", "--top-k", "--ctx")
        assert "rerun the same command" not in err
        stub.context_words = 3 * 2000  # what the error advised: a longer context on the server
        again = run_script("4_rag_compare.py", *flags, env=sandbox.env())
        assert again.returncode == 0, again.stderr[-3000:]
    finally:
        stub.close()
    assert (out / "rag_compare_report.csv").is_file()
