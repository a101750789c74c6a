"""The LangChain face: an arm as a BaseRetriever and prompt | ChatOpenAI against the same endpoint."""

from __future__ import annotations

from harness.retrieval import Retriever
from rag.langchain_adapters import ArmRetriever, rag_chain
from rag.llm_client import EndpointConfig
from rag.prompts import load_template
from tests.rag.conftest import LONG_ANSWER


def test_arm_retriever_and_chain(minilm, tiny_dataset, isolated_cache, stub_llm):
    from corpus.beir import load_dataset

    ds = load_dataset(tiny_dataset)
    qid, rel = next(iter(ds.relevant("test").items()))
    arm = ArmRetriever(retriever=Retriever(minilm, ds.corpus, name="base"), k=3)
    docs = arm.invoke(ds.queries[qid])
    assert [d.metadata["rank"] for d in docs] == [1, 2, 3]
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
