"""One generation per distinct prompt: arms with identical prompts share it, with any number of workers."""

from __future__ import annotations

import pytest

from rag.answer_sharing import SHARED, SHARED_WITH, generations_saved, group_jobs


def test_group_jobs_keeps_first_seen_order():
    jobs = [(0, "a"), (0, "b"), (0, "c"), (1, "a"), (1, "b")]
    key = {(0, "a"): "x", (0, "b"): "y", (0, "c"): "x", (1, "a"): "z", (1, "b"): "z"}
    assert group_jobs(jobs, key.__getitem__) == [[(0, "a"), (0, "c")], [(0, "b")], [(1, "a"), (1, "b")]]
    assert generations_saved([{SHARED: False}, {SHARED: True}, {}]) == 1


@pytest.mark.parametrize("workers", [1, 3])
def test_identical_prompts_are_answered_once_and_marked(stub_llm, tiny_dataset, tmp_path, workers):
    from corpus.beir import load_dataset
    from rag.answer_cache import AnswerCache
    from rag.answer_comparison import CLOSED_BOOK, Arm, ArmContext, Prompts, Query, generate
    from rag.brackets import load_closed_book_prompt
    from rag.cached_llm import CachedLLM
    from rag.llm_client import EndpointConfig, LLMClient
    from rag.prompts import DEFAULT_TEMPLATE, PromptTemplate
    from rag.rag_config import RagConfig

    stub_llm.sleep_s = 0.3
    stub_llm.script = ["sleep"] * 20  # slow replies: a worker's duplicate would be in flight beside the first
    ds = load_dataset(tiny_dataset)
    docs, qids = ds.corpus, sorted(ds.queries)[:3]
    ids = sorted(docs)
    queries = [Query(q, ds.queries[q], set()) for q in qids]
    a, b, c, closed = Arm("a", object()), Arm("b", object()), Arm("c", object()), Arm(CLOSED_BOOK)
    same = [ArmContext(ids[i : i + 3], None, False) for i in range(3)]
    other = [ArmContext(list(reversed(ids[i : i + 3])), None, False) for i in range(3)]  # same passages, new order
    contexts = {
        a: same,
        b: [ArmContext(list(x.ids), None, False) for x in same],
        c: other,
        closed: [ArmContext([], None, False)] * 3,
    }
    llm = CachedLLM(
        LLMClient(EndpointConfig(stub_llm.base_url, "stub", api_key_env="", max_retries=0)),
        AnswerCache(tmp_path / "a"),
        "stub",
    )
    prompts = Prompts(PromptTemplate(DEFAULT_TEMPLATE), load_closed_book_prompt())
    results = generate(llm, None, RagConfig(workers=workers, max_tokens=64), prompts, queries, contexts, docs)

    assert len(results) == 12
    assert len(stub_llm.chat_requests) == 9  # per query: a and b share, c and closed book alone
    assert generations_saved(r.fields for r in results.values()) == 3
    for i in range(3):
        ra, rb, rc = results[(i, "a")], results[(i, "b")], results[(i, "c")]
        assert ra.fields[SHARED_WITH] == "b" and rb.fields[SHARED_WITH] == "a" and rc.fields[SHARED_WITH] == ""
        assert not ra.fields[SHARED] and rb.fields[SHARED] and not rc.fields[SHARED]
        assert rb.answer.answer == ra.answer.answer and rb.answer.context == ra.answer.context
        assert results[(i, CLOSED_BOOK)].answer.context == ""
