"""What the chatbot does for one question, without any web page: check it, retrieve with every arm, mark the
documents only one arm found, and stream each arm's answer as the LLM writes it.

Retrieval is harness.arm_engine (any arm kind: dense, bm25, RRF or convex hybrids, reranked), the prompt is
rag.prompts, the LLM is rag.llm_client: the same code as steps 3 and 4, so the page never shows something the
reports would not.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from corpus.beir import Document
from corpus.errors import RagtuneError
from harness.arm_engine import ArmEngine
from harness.retrieval import Hit
from rag.llm_client import LLMClient
from rag.prompts import PromptTemplate

MAX_QUESTION_CHARS = 1000


class QuestionError(RagtuneError):
    """A question the chatbot will not send anywhere (empty, too long); the message is shown to the user."""


@dataclass
class ChatConfig:
    """The chatbot's settings as started from the command line (shown on the page so answers can be traced)."""

    data: str = ""
    pool: str = ""
    pool_documents: int = 0
    arms: dict[str, str] = field(
        default_factory=dict
    )  # arm name → its spec as written (e.g. hybrid=bm25+finetuned:convex)
    fitted: dict[str, dict] = field(default_factory=dict)  # arm name → what was fitted (a convex weight and where)
    notes: list[str] = field(default_factory=list)  # e.g. "fine-tuned model missing"
    top_k: int = 3
    max_tokens: int = 160
    temperature: float = 0.0
    prompt: str = "built-in"
    prompt_fingerprint: str = ""
    llm: dict = field(default_factory=dict)  # endpoint description, never the key
    reports_dir: str = ""
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency: int = 4

    def card(self) -> dict:
        return asdict(self)


@dataclass
class ArmAnswer:
    text: str = ""
    error: str | None = None
    done: bool = False
    seconds: float = 0.0


def check_question(text: str | None, limit: int = MAX_QUESTION_CHARS) -> str:
    question = (text or "").strip()
    if not question:
        raise QuestionError("Please type a question first.")
    if len(question) > limit:
        raise QuestionError(
            f"That question is {len(question):,} characters long; the limit is {limit:,}. Please shorten it."
        )
    return question


def only_in_one(hits: dict[str, list[Hit]]) -> dict[str, set[str]]:
    """Per arm, the documents no other shown arm retrieved (nothing is 'only' when a single arm is shown)."""
    if len(hits) < 2:
        return {arm: set() for arm in hits}
    out = {}
    for arm, arm_hits in hits.items():
        others = {h.doc_id for other, oh in hits.items() if other != arm for h in oh}
        out[arm] = {h.doc_id for h in arm_hits} - others
    return out


class ChatEngine:
    def __init__(
        self,
        docs: dict[str, Document],
        engine: ArmEngine,
        template: PromptTemplate,
        llm: LLMClient | None,
        llm_problem: str | None = None,
        max_question_chars: int = MAX_QUESTION_CHARS,
    ):
        if not engine.arms:
            raise RagtuneError("the chatbot needs at least one retriever arm")
        self.docs = docs
        self.engine = engine
        self.template = template
        self.llm = llm
        self.llm_problem = llm_problem  # why there is no LLM (shown in every answer area)
        self.max_question_chars = max_question_chars

    @property
    def arms(self) -> list[str]:
        return [a.name for a in self.engine.arms]

    def check(self, text: str | None) -> str:
        return check_question(text, self.max_question_chars)

    def retrieve(self, question: str, k: int, arms: list[str] | None = None) -> dict[str, list[Hit]]:
        arms = [a for a in (arms or self.arms) if a in self.arms]
        return self.engine.hits(question, k, arms) if arms else {}

    def stream_answers(
        self, question: str, hits: dict[str, list[Hit]], max_tokens: int, temperature: float = 0.0
    ) -> Iterator[dict[str, ArmAnswer]]:
        """Snapshots of every arm's answer while they are written side by side; the last one has all done.

        A failing endpoint never raises here: the arm's answer carries the error, so retrieval stays visible.
        """
        answers = {arm: ArmAnswer() for arm in hits}
        if self.llm is None:
            for a in answers.values():
                a.error, a.done = f"no LLM: {self.llm_problem or 'not configured'}", True
            yield answers
            return
        events: queue.Queue = queue.Queue()

        def write(arm: str) -> None:
            t0 = time.perf_counter()
            try:
                messages = self.template.messages(question, [self.docs[h.doc_id] for h in hits[arm]])
                for piece in self.llm.stream(messages, max_tokens, temperature):
                    events.put((arm, "piece", piece))
                events.put((arm, "done", time.perf_counter() - t0))
            except RagtuneError as exc:
                events.put((arm, "error", str(exc)))
            except Exception as exc:  # noqa: BLE001  (a page must say what failed, not hang)
                events.put((arm, "error", f"{type(exc).__name__}: {exc}"))

        for arm in hits:
            threading.Thread(target=write, args=(arm,), daemon=True, name=f"chat-{arm}").start()
        pending = set(hits)
        while pending:
            arm, kind, value = events.get()
            a = answers[arm]
            if kind == "piece":
                a.text += value
            else:
                a.done = True
                pending.discard(arm)
                if kind == "error":
                    a.error = value
                else:
                    a.seconds = value
            yield answers
