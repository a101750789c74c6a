"""Step 4: RAG answers side by side. For each test query, every retriever arm (any kind step 3 takes: base,
fine-tuned, bm25, RRF or convex hybrids, reranked arms) fills the prompt with its top-k passages, and two brackets
answer too: oracle (the relevant documents) and, with --closed-book, the question alone. Answers are scored without a
judge where the data allows (O*NET: the answer names the relevant occupation; own data: SQuAD EM/F1 against
answers.jsonl), optionally by an LLM judge (--judge), and every pair of arms gets paired CIs, p-values and the
retrieval × answer join: the headline of rag_compare_summary.md.

The LLM is ragtune's own local server (Qwen2.5-Coder-1.5B GGUF via llama.cpp, no key, no network) unless
--llm-base-url / OPENAI_BASE_URL names any OpenAI-compatible endpoint (key from OPENAI_API_KEY).
The whole test split against an OpenAI-compatible endpoint (vLLM, Ollama, OpenAI), resumable from the answer cache:

    4_rag_compare.py --limit 0 --workers 8 --llm-base-url http://HOST:8000/v1 --llm-model MODEL \\
        --arms base finetuned=runs/finetuned/final bm25 hybrid=bm25+finetuned:convex --closed-book --judge
"""

from __future__ import annotations

from rag.comparison import RagResult, compare
from rag.rag_config import RagConfig

__all__ = ["RagConfig", "RagResult", "run", "show"]


def run(cfg: RagConfig) -> RagResult:
    return compare(cfg)


def show(result: RagResult) -> None:
    from rich.table import Table

    from corpus.console import console
    from rag import answer_report

    console.print(answer_report.summary_table(result.summary))
    for sentence in result.evaluation.headline() if result.evaluation else []:
        console.print(f"[bold]{sentence}[/]")
    for sentence in answer_report.design_lines(result.evaluation) if result.evaluation else []:
        console.print(sentence)
    facts = Table(title="run")
    facts.add_column("what")
    facts.add_column("value", justify="right")
    facts.add_row("queries × arms", f"{result.queries} × {len(result.card['arms'])}")
    for name, fit in result.card.get("fitted", {}).items():
        facts.add_row(f"{name} convex weight", f"{fit['weight']:.1f} on {fit['first']} ({fit['dev']})")
    design = result.card.get("design", {})
    if design:
        facts.add_row("generations (answers shared)", f"{design['generations']} ({design['answers_shared']})")
    facts.add_row("LLM requests cached / new", f"{result.cache_hits} / {result.cache_misses}")
    facts.add_row("report", str(result.report))
    facts.add_row(
        "summary, picture, card", f"{answer_report.SUMMARY_MD}, {answer_report.PLOT_PNG}, {answer_report.CARD_JSON}"
    )
    console.print(facts)
