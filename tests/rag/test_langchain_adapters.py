"""The LangChain face: an arm as a BaseRetriever and prompt | ChatOpenAI against the same endpoint."""

from __future__ import annotations

from harness.arm_engine import ArmEngine
from harness.arms import parse_arms
from rag.langchain_adapters import ArmRetriever, rag_chain
from rag.llm_client import EndpointConfig
from rag.prompts import load_template
from tests.rag.conftest import LONG_ANSWER


def test_arm_retriever_and_chain(minilm, tiny_dataset, isolated_cache, stub_llm):
    from corpus.beir import load_dataset

    ds = load_dataset(tiny_dataset)
    qid, rel = next(iter(ds.relevant("test").items()))
    engine = ArmEngine(parse_arms(["base", "bm25", "hy=bm25+base"]), ds.corpus)
    for name in ("base", "hy"):
        docs = ArmRetriever(engine=engine, arm=name, k=3).invoke(ds.queries[qid])
        assert [d.metadata["rank"] for d in docs] == [1, 2, 3] and docs[0].metadata["arm"] == name
        assert [d.id for d in docs] == [h.doc_id for h in engine.hits(ds.queries[qid], 3)[name]]
    arm = ArmRetriever(engine=engine, arm="base", k=3)
    docs = arm.invoke(ds.queries[qid])
    assert docs[0].page_content.startswith(ds.corpus[docs[0].metadata["doc_id"]].title)

    chain = rag_chain(arm, load_template(None), EndpointConfig(stub_llm.base_url, "stub", max_retries=0), 32)
    assert chain.invoke(ds.queries[qid]) == LONG_ANSWER
    sent = stub_llm.chat_requests[0]
    assert (
        sent["model"] == "stub"
        and sent.get("max_tokens", sent.get("max_completion_tokens")) == 32
        and sent["temperature"] == 0
    )
    prompt = sent["messages"][0]["content"]
    assert f"[1] {docs[0].page_content}" in prompt and f'searched for: "{ds.queries[qid]}"' in prompt
