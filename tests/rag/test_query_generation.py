"""Step 0a (`ragtune generate-queries`, 0a_generate_queries.py) end to end: a run killed half way resumes without asking the LLM again, the split
never puts one document in two splits, the real tiny SmolLM2 writes a dataset steps 0 and 1 accept, and bad
input is one line and exit 2."""

from __future__ import annotations

import json
import re

import pytest

from corpus.beir import load_dataset
from corpus.cli import run_cli
from corpus.documents import source_of
from rag.query_filters import FILTERS
from ragtune.cli import entry
from ragtune.steps import generate_queries
from tests.conftest import FIXTURES
from tests.helpers import assert_one_line_error, run_script

OWN_DOCS = FIXTURES / "own_docs"


@pytest.fixture(scope="module")
def script():
    class Step:
        main = staticmethod(entry("generate-queries"))
        default_out = staticmethod(generate_queries.default_out)

    return Step


def stub_queries(messages: list[dict]) -> str:
    title = re.search(r'titled "([^"]+)"', messages[-1]["content"]).group(1)
    return f"Here are two queries:\n1. where to find {title} jobs near me\n2. what does a {title} do all day"


def card_of(out):
    return json.loads((out / "dataset_card.json").read_text())


@pytest.mark.slow
def test_killed_run_resumes_without_asking_again_and_splits_by_document(script, stub_llm, rag_caches, tmp_path, capsys):
    stub_llm.reply = stub_queries
    stub_llm.fail_after = 3  # the server dies while the fourth passage is being asked
    out = tmp_path / "own"
    argv = [
        "--from-docs",
        str(OWN_DOCS),
        "--out",
        str(out),
        "--llm-base-url",
        stub_llm.base_url,
        "--llm-model",
        "stub",
        "--retries",
        "0",
    ]
    assert run_cli(script.main, argv) == 2
    assert "connection failed" in capsys.readouterr().err
    failed = len(stub_llm.chat_requests)  # 3 answered, then the one that failed (the worker may start one more)
    assert failed in (4, 5)
    stub_llm.fail_after = None
    assert run_cli(script.main, argv) == 0
    card = card_of(out)
    assert card["llm_calls"]["cached"] == 3 and card["llm_calls"]["asked"] == 3
    assert len(stub_llm.chat_requests) == failed + 3  # only the passages that never finished were asked
    assert run_cli(script.main, argv) == 0
    assert len(stub_llm.chat_requests) == failed + 3 and card_of(out)["llm_calls"]["cached"] == 6
    assert card_of(out)["fingerprint"] == card["fingerprint"]

    ds = load_dataset(out)
    assert len(ds.corpus) == 6 and all(source_of(d) in {p.stem for p in OWN_DOCS.glob("*.txt")} for d in ds.corpus)
    docs_in = {s: {source_of(d) for rel in ds.relevant(s).values() for d in rel} for s in ("train", "dev", "test")}
    assert docs_in["train"] and docs_in["dev"] and docs_in["test"]
    assert not (
        docs_in["train"] & docs_in["test"] or docs_in["train"] & docs_in["dev"] or docs_in["dev"] & docs_in["test"]
    )
    for split in ("train", "dev", "test"):
        for qid, rel in ds.relevant(split).items():
            assert rel == {qid.rsplit("#q", 1)[0]}  # each query points at the passage it was written from
    counts = card["counts"]
    assert counts["queries_asked"] == 12 and counts["queries_parsed"] == 12
    assert counts["queries_kept"] == len(ds.queries) == counts["queries_parsed"] - sum(card["filters"].values())
    assert set(card["filters"]) == set(FILTERS)
    assert card["generator"]["model"] == "stub" and len(card["generator"]["prompt_sha256"]) == 64
    assert card["source"]["format"] == "folder" and card["source"]["documents"] == 6
    assert card["kind"] == "generated-from-documents" and card["config"]["queries_per_passage"] == 2


def test_never_overwrites_a_dataset_it_did_not_write(script, tiny_dataset, tmp_path, capsys):
    import shutil

    target = tmp_path / "beir"
    shutil.copytree(tiny_dataset, target)
    argv = [
        "--from-docs",
        str(OWN_DOCS),
        "--out",
        str(target),
        "--llm-base-url",
        "http://127.0.0.1:9/v1",
        "--llm-model",
        "x",
    ]
    assert run_cli(script.main, argv) == 2
    assert "not generated from documents" in capsys.readouterr().err


@pytest.mark.llm
@pytest.mark.slow
def test_tiny_local_model_writes_a_dataset_steps_0_and_1_accept(script, smollm2_server, rag_caches, tmp_path):
    out = tmp_path / "postings"
    # SmolLM2-135M writes poor queries: loose filters here, the filters themselves are tested on their own
    argv = [
        "--from-docs",
        str(OWN_DOCS),
        "--out",
        str(out),
        "--max-docs",
        "4",
        "--max-tokens",
        "40",
        "--llm-base-url",
        smollm2_server.base_url,
        "--llm-model",
        "smollm2",
        "--min-words",
        "1",
        "--max-words",
        "200",
        "--copy-ngram",
        "1000",
        "--near-duplicate",
        "1.01",
        "--round-trip-k",
        "0",
    ]
    assert run_cli(script.main, argv) == 0
    ds = load_dataset(out)
    card = card_of(out)
    assert card["llm_calls"]["asked"] == 4 and card["llm_calls"]["completion_tokens"] > 0
    assert len(ds.corpus) == 4 and ds.queries and all(q.strip() for q in ds.queries.values())
    assert set(ds.qrels) == {"train", "dev", "test"}

    assert (
        run_cli(
            entry("triplets"),
            ["--data", str(out), "--reserve-distractors", "0", "--num-negatives", "1"],
        )
        == 0
    )
    train_rows = (out / "triplets" / "train.jsonl").read_text().splitlines()
    assert len(train_rows) == len(ds.qrels["train"])
    relevant_test = {d for rel in ds.relevant("test").values() for d in rel}
    pool = out / "pool.jsonl"
    assert (
        run_cli(
            entry("pool"),
            ["--data", str(out), "--size", str(len(relevant_test)), "--no-external", "--out", str(pool)],
        )
        == 0
    )
    assert {json.loads(line)["_id"] for line in pool.read_text().splitlines()} == relevant_test


@pytest.mark.parametrize(
    "name,content,extra,fragments",
    [
        # a folder whose only file is unusable: one line naming the file and why, then that no document is left
        ("empty.txt", b"\n\n", [], ["empty.txt", "no text in the file", "no usable document"]),
        ("latin1.txt", "Caf\u00e9 cook wanted\n".encode("latin-1"), [], ["latin1.txt", "not UTF-8", "line 1"]),
        (
            "jobs.csv",
            b"title,body\nWelder,Joins metal\n",
            ["--title-column", "title"],
            ["jobs.csv:1", "field 'text'", "--text-column"],
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, name, content, extra, fragments):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_bytes(content)
    source = folder if name.endswith(".txt") else folder / name
    proc = run_script(
        "0a_generate_queries.py",
        "--from-docs",
        source,
        "--out",
        tmp_path / "out",
        *extra,
        "--llm-base-url",
        "http://127.0.0.1:9/v1",
        "--llm-model",
        "never-called",
    )
    assert_one_line_error(proc, *fragments)


def test_default_output_never_lands_in_the_source_dataset(script, tiny_dataset):
    from corpus.paths import DATA_DIR

    assert script.default_out(OWN_DOCS) == DATA_DIR / "own_docs"
    assert script.default_out(tiny_dataset / "corpus.jsonl") == DATA_DIR / f"{tiny_dataset.name}_generated"
    assert script.default_out(tiny_dataset) == DATA_DIR / f"{tiny_dataset.name}_generated"
    assert script.default_out(OWN_DOCS / "chef.txt") == DATA_DIR / "chef"


@pytest.mark.slow
def test_a_mixed_folder_keeps_sources_counts_skipped_files_and_asks_a_sample(script, stub_llm, rag_caches, tmp_path):
    from tests import document_files as files

    stub_llm.reply = stub_queries
    folder = files.mixed_folder(tmp_path / "docs")
    (folder / "more.txt").write_text(files.NURSE.replace("surgical", "children's"))
    files.write_encrypted_pdf(folder / "locked.pdf", files.NURSE)
    (folder / "empty.html").write_bytes(b"")
    out = tmp_path / "generated"
    argv = ["--from-docs", str(folder), "--out", str(out), "--chunk-size", "32", "--chunk-overlap", "0",
            "--max-passages", "6", "--llm-base-url", stub_llm.base_url, "--llm-model", "stub",
            "--round-trip-k", "0", "--near-duplicate", "1.01"]  # fmt: skip
    assert run_cli(script.main, argv) == 0
    card = card_of(out)
    assert card["source"]["skipped_files"] == 2 and card["counts"]["files_skipped"] == 2
    assert {s["file"] for s in card["source"]["skipped"]} == {"locked.pdf", "empty.html"}
    rows = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    # a sample of 6 passages was asked; every passage is in the corpus
    assert card["counts"]["passages_asked"] == 6 == len(stub_llm.chat_requests) and len(rows) > 6
    pdf = [r for r in rows if r.get("file") == "manuals/nursing.pdf"]
    assert pdf and {r["page"] for r in pdf} == {1, 2}
    assert all(r["title"] == f"manuals/nursing.pdf p. {r['page']} — Ward handbook" for r in pdf)
    assert all("page" not in r and r["title"].startswith(r["file"]) for r in rows if r not in pdf)
    # BEIR readers take the extra fields in their stride
    assert len(load_dataset(out).corpus) == len(rows)
