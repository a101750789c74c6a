"""LLM-as-judge: faithfulness of an answer to its context and correctness against the relevant document.

Scores are integers on a fixed 1–5 scale, each with a one-sentence reason, asked for as strict JSON. A reply
that is not valid JSON is asked again once with a reminder; a second failure is recorded as missing with the
raw reply kept, so one bad reply never crashes a run nor turns an average into NaN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from rag.cached_llm import CachedLLM

SCALE = (1, 5)
FIELDS = ("faithfulness", "correctness")

JUDGE_TEMPLATE = """You grade an answer written by an assistant from retrieved passages.

Passages the assistant was given:
{context}

Reference document that truly answers the question:
{reference}

The user searched for: "{question}"

Assistant's answer:
{answer}

Grade on two integer scales from 1 (worst) to 5 (best):
- faithfulness: is every claim in the answer supported by the passages the assistant was given?
- correctness: does the answer point the user to what the reference document says (and agree with it)?

Reply with only this JSON object and nothing else:
{{"faithfulness": <1-5>, "faithfulness_reason": "<one sentence>", "correctness": <1-5>, "correctness_reason": "<one sentence>"}}"""

REMINDER = "Your reply was not the JSON object asked for. Reply again with only the JSON object."
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


@dataclass(frozen=True)
class Judgement:
    faithfulness: int | None
    faithfulness_reason: str
    correctness: int | None
    correctness_reason: str
    status: str  # "ok" or "missing"
    raw: str  # the last reply, kept whatever it was
    attempts: int


def parse_judgement(text: str) -> dict | None:
    """The scores if the reply is the asked-for JSON object with in-range integer scores, else None."""
    body = text.strip()
    m = _FENCE.match(body)  # a fenced block is still the same strict object
    if m:
        body = m.group(1)
    try:
        obj = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict):
        return None
    out = {}
    for f in FIELDS:
        v = obj.get(f)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or int(v) != v or not SCALE[0] <= v <= SCALE[1]:
            return None
        out[f] = int(v)
        reason = obj.get(f"{f}_reason", "")
        out[f"{f}_reason"] = reason if isinstance(reason, str) else json.dumps(reason)
    return out


def judge(llm: CachedLLM, question: str, context: str, reference: str, answer: str, max_tokens: int = 200) -> Judgement:
    messages = [
        {
            "role": "user",
            "content": JUDGE_TEMPLATE.format(context=context, reference=reference, question=question, answer=answer),
        }
    ]
    raw = ""
    for attempt in (1, 2):
        done, _ = llm.complete(messages, max_tokens, 0.0)
        raw = done.text
        parsed = parse_judgement(raw)
        if parsed is not None:
            return Judgement(status="ok", raw=raw, attempts=attempt, **parsed)
        messages = messages + [{"role": "assistant", "content": raw}, {"role": "user", "content": REMINDER}]
    return Judgement(None, "", None, "", "missing", raw, 2)
