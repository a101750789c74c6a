"""ragtune inside a LangChain stack: each arm as a BaseRetriever, the answer step as prompt | ChatOpenAI.

Script 4 itself calls the plain openai client (see README, step 4 "LangChain" for why); these adapters give the same
retrieval, the same prompt text and the same endpoint to a user who composes LangChain runnables.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from pydantic import ConfigDict

from corpus.beir import document_text
from rag.llm_client import NO_KEY, EndpointConfig
from rag.prompts import PromptTemplate, number_passages


class ArmRetriever(BaseRetriever):
    """One arm of a harness.arm_engine.ArmEngine (any kind: dense, bm25, hybrid, reranked) answering LangChain
    queries, so a LangChain stack retrieves exactly what steps 3-5 measured."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    engine: Any
    arm: str
    k: int = 3

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        hits = self.engine.hits(query, self.k, [self.arm])[self.arm]
        docs = self.engine.docs
        return [
            LCDocument(
                page_content=document_text(docs[h.doc_id]),
                id=h.doc_id,
                metadata={
                    "doc_id": h.doc_id,
                    "title": docs[h.doc_id].title,
                    "score": h.score,
                    "rank": h.rank,
                    "arm": self.arm,
                },
            )
            for h in hits
        ]


def chat_model(endpoint: EndpointConfig, max_tokens: int, temperature: float = 0.0):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=endpoint.base_url,
        model=endpoint.model,
        api_key=(os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None) or NO_KEY,
        timeout=endpoint.timeout_s,
        max_retries=endpoint.max_retries,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def answer_chain(
    template: PromptTemplate, endpoint: EndpointConfig, max_tokens: int, temperature: float = 0.0
) -> Runnable:
    """{'question', 'context'} → answer text, with the same template the plain client renders."""
    prompt = ChatPromptTemplate.from_messages([("human", template.text)])
    return prompt | chat_model(endpoint, max_tokens, temperature) | StrOutputParser()


def rag_chain(
    retriever: ArmRetriever,
    template: PromptTemplate,
    endpoint: EndpointConfig,
    max_tokens: int,
    temperature: float = 0.0,
) -> Runnable:
    """question → answer: retrieve with one arm, number the passages as ragtune does, ask the LLM."""
    numbered = RunnableLambda(lambda docs: number_passages([d.page_content for d in docs]))
    return {"context": retriever | numbered, "question": RunnablePassthrough()} | answer_chain(
        template, endpoint, max_tokens, temperature
    )
