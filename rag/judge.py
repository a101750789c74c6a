"""LLM-as-judge: faithfulness of an answer to its context and correctness against the relevant document.

`judge` asks for two integers on a fixed 1–5 scale in one request (kept for today's step 4). The metrics with
known definitions, each from a prompt file a user can replace (rag/templates/, or a path):
- claim-level faithfulness (RAGAS): the answer split into claims, each checked against the context;
  faithfulness = supported claims ÷ claims (missing when the answer makes no claim). RAGAS asks in two calls
  (split, then verify); here one call returns both, which halves the cost on a CPU and keeps the definition.
- answer correctness (RAGAS' factual part): the answer's statements sorted against the reference into TP (the
  reference supports it), FP (it does not) and FN (a needed fact the answer leaves out);
  correctness = |TP| / (|TP| + ½(|FP| + |FN|)), the F1 of statements (missing when all three lists are empty).
Every reply must be the asked-for strict JSON; a reply that is not is asked again once with a reminder; a
second failure is recorded as missing with the raw reply kept, so one bad reply never crashes a run nor turns
an average into NaN.

Judge noise: `judge_calls(repeats)` gives the (temperature, seed) of each of N repeats. One repeat is the
deterministic call (temperature 0, no seed: the cache keys of earlier runs stay valid); N > 1 are sampled at
JUDGE_TEMPERATURE with seeds 0..N−1, and the seed is part of the request, so each repeat is its own cache entry
and a rerun asks nothing again. Agreement across repeats is harness.agreement.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import DataError
from corpus.jsonl import read_text
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
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


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
    obj = _strict_json(text)
    return _judgement_fields(obj) if obj is not None else None


def _judgement_fields(obj) -> dict | None:
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
    reply = ask_json(llm, messages, _judgement_fields, max_tokens)
    if reply.parsed is None:
        return Judgement(None, "", None, "", "missing", reply.raw, reply.attempts)
    return Judgement(status="ok", raw=reply.raw, attempts=reply.attempts, **reply.parsed)


TEMPLATES_DIR = Path(__file__).parent / "templates"
# placeholders each judge prompt must contain
JUDGE_PROMPTS = {
    "judge_claims": ("question", "context", "answer"),
    "judge_correctness": ("question", "reference", "answer"),
}
# sampled repeats: warm enough that an unstable judge shows its instability, as users' runs do
JUDGE_TEMPERATURE = 0.7


@dataclass(frozen=True)
class JudgePrompt:
    name: str
    text: str
    source: str

    def messages(self, **fields: str) -> list[dict]:
        return [{"role": "user", "content": self.text.format(**fields)}]


def load_judge_prompt(name: str, path: str | Path | None = None) -> JudgePrompt:
    """The built-in prompt `name` (rag/templates/<name>.txt) or a user's file, checked for its placeholders."""
    needed = JUDGE_PROMPTS[name]
    source = Path(path) if path is not None else TEMPLATES_DIR / f"{name}.txt"
    text = read_text(source).strip("\n")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}
    except ValueError as exc:
        raise DataError(source, f"not a valid template ({exc}); write literal braces as {{{{ and }}}}") from None
    unknown, missing = sorted(fields - set(needed)), [f for f in needed if f not in fields]
    if unknown or missing:
        raise DataError(
            source,
            f"a {name} prompt needs exactly "
            + ", ".join("{" + f + "}" for f in needed)
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + " (literal braces are written {{ }})",
        )
    return JudgePrompt(name, text, str(path) if path is not None else "built-in")


def judge_calls(repeats: int) -> list[tuple[float, int | None]]:
    """(temperature, seed) of each repeat."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    return [(0.0, None)] if repeats == 1 else [(JUDGE_TEMPERATURE, i) for i in range(repeats)]


@dataclass(frozen=True)
class JsonReply:
    parsed: object | None  # what `parse` returned, None when both attempts failed
    raw: str  # the last reply, kept whatever it was
    attempts: int


def ask_json(
    llm: CachedLLM,
    messages: list[dict],
    parse: Callable[[object], object | None],
    max_tokens: int,
    temperature: float = 0.0,
    seed: int | None = None,
) -> JsonReply:
    """Ask, parse strictly, ask once more with a reminder showing the bad reply, then give up as missing."""
    raw = ""
    for attempt in (1, 2):
        done, _ = llm.complete(messages, max_tokens, temperature, seed=seed)
        raw = done.text
        obj = _strict_json(raw)
        parsed = parse(obj) if obj is not None else None
        if parsed is not None:
            return JsonReply(parsed, raw, attempt)
        messages = messages + [{"role": "assistant", "content": raw}, {"role": "user", "content": REMINDER}]
    return JsonReply(None, raw, 2)


def _strict_json(text: str):
    body = text.strip()
    m = _FENCE.match(body)
    if m:
        body = m.group(1)
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        return None


@dataclass(frozen=True)
class Claim:
    claim: str
    supported: bool


@dataclass(frozen=True)
class ClaimFaithfulness:
    score: float | None  # supported ÷ claims; None when missing
    claims: tuple[Claim, ...]
    status: str  # "ok", "no_claims" or "missing"
    raw: str
    attempts: int
    seed: int | None


def parse_claims(obj) -> tuple[Claim, ...] | None:
    if not isinstance(obj, dict) or not isinstance(obj.get("claims"), list):
        return None
    out = []
    for c in obj["claims"]:
        if not isinstance(c, dict) or not isinstance(c.get("claim"), str) or not isinstance(c.get("supported"), bool):
            return None
        out.append(Claim(c["claim"], c["supported"]))
    return tuple(out)


def claim_faithfulness(
    llm: CachedLLM,
    prompt: JudgePrompt,
    question: str,
    context: str,
    answer: str,
    max_tokens: int = 300,
    temperature: float = 0.0,
    seed: int | None = None,
) -> ClaimFaithfulness:
    reply = ask_json(
        llm,
        prompt.messages(question=question, context=context, answer=answer),
        parse_claims,
        max_tokens,
        temperature,
        seed,
    )
    if reply.parsed is None:
        return ClaimFaithfulness(None, (), "missing", reply.raw, reply.attempts, seed)
    claims = reply.parsed
    if not claims:
        return ClaimFaithfulness(None, (), "no_claims", reply.raw, reply.attempts, seed)
    return ClaimFaithfulness(
        sum(c.supported for c in claims) / len(claims), claims, "ok", reply.raw, reply.attempts, seed
    )


@dataclass(frozen=True)
class AnswerCorrectness:
    score: float | None  # |TP| / (|TP| + ½(|FP| + |FN|)); None when missing
    tp: tuple[str, ...]
    fp: tuple[str, ...]
    fn: tuple[str, ...]
    status: str  # "ok", "empty" or "missing"
    raw: str
    attempts: int
    seed: int | None


def parse_statements(obj) -> dict[str, tuple[str, ...]] | None:
    if not isinstance(obj, dict):
        return None
    out = {}
    for key in ("TP", "FP", "FN"):
        v = obj.get(key)
        if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
            return None
        out[key] = tuple(v)
    return out


def answer_correctness(
    llm: CachedLLM,
    prompt: JudgePrompt,
    question: str,
    reference: str,
    answer: str,
    max_tokens: int = 300,
    temperature: float = 0.0,
    seed: int | None = None,
) -> AnswerCorrectness:
    reply = ask_json(
        llm,
        prompt.messages(question=question, reference=reference, answer=answer),
        parse_statements,
        max_tokens,
        temperature,
        seed,
    )
    if reply.parsed is None:
        return AnswerCorrectness(None, (), (), (), "missing", reply.raw, reply.attempts, seed)
    tp, fp, fn = reply.parsed["TP"], reply.parsed["FP"], reply.parsed["FN"]
    denominator = len(tp) + 0.5 * (len(fp) + len(fn))
    if denominator == 0:
        return AnswerCorrectness(None, tp, fp, fn, "empty", reply.raw, reply.attempts, seed)
    return AnswerCorrectness(len(tp) / denominator, tp, fp, fn, "ok", reply.raw, reply.attempts, seed)
