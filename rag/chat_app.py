"""The chatbot's web page (Gradio): a chat tab with one column per retriever arm, a report tab over reports/,
and an embedding map tab. The callbacks are plain functions over a ChatEngine so tests can drive them without a
browser; build_app only wires them to components.
"""

import html
import re
import time
from pathlib import Path

from corpus.beir import Document, document_text
from corpus.errors import RagtuneError
from harness.retrieval import Hit
from rag import embedding_map, report_browser
from rag.chat_engine import ArmAnswer, ChatConfig, ChatEngine, QuestionError, only_in_one

ONLY_STYLE = "border-left:4px solid #f59e0b;background:rgba(245,158,11,.14)"
SHARED_STYLE = "border-left:4px solid #9ca3af"
SNIPPET_CHARS = 160
EXAMPLE_QUESTION = "Who plans and directs the activities of a hospital department?"


def slug(arm: str) -> str:
    """An element id fragment for an arm name (tests and CSS find the columns by it)."""
    return re.sub(r"[^a-z0-9]+", "-", arm.lower()).strip("-") or "arm"


def render_passages(arm: str, hits: list[Hit], only: set[str], docs: dict[str, Document]) -> str:
    if not hits:
        return "<p>No passages retrieved.</p>"
    rows = [f"<div class='rt-passages' data-arm='{html.escape(arm)}'>"]
    for h in hits:
        doc = docs[h.doc_id]
        text = document_text(doc)
        body = doc.text.strip()
        snippet = body if len(body) <= SNIPPET_CHARS else body[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
        mark = h.doc_id in only
        badge = (
            (
                f" <span class='rt-only' style='background:#f59e0b;color:#111;border-radius:4px;padding:0 4px;"
                f"font-size:.8em'>only {html.escape(arm)}</span>"
            )
            if mark
            else ""
        )
        rows.append(
            f"<div class='rt-hit{' rt-hit-only' if mark else ''}' data-doc='{html.escape(h.doc_id)}' "
            f"style='{ONLY_STYLE if mark else SHARED_STYLE};padding:4px 8px;margin:4px 0'>"
            f"<div><b class='rt-rank'>#{h.rank}</b> · score <code class='rt-score'>{h.score:.3f}</code> · "
            f"<b>{html.escape(doc.title or h.doc_id)}</b>{badge}</div>"
            f"<details><summary style='font-size:.9em'>{html.escape(snippet)}</summary>"
            f"<div style='white-space:pre-wrap;font-size:.9em'>{html.escape(text)}</div></details></div>"
        )
    rows.append("</div>")
    return "".join(rows)


def answer_text(a: ArmAnswer) -> str:
    if a.error:
        shown = a.text + "\n\n" if a.text else ""
        return f"{shown}**The answer could not be written:** {a.error}"
    if not a.done:
        return a.text + " ▌"
    return a.text.strip() or "_(the model returned an empty answer)_"


def ask(
    engine: ChatEngine,
    question: str | None,
    top_k: int,
    chosen: list[str] | None,
    temperature: float,
    max_tokens: int,
    histories: list[list | None],
):
    """Yields (status, passages HTML per arm or None = unchanged, chat history per arm, question box text).

    Only chosen arms get the question; every arm keeps its own history for this browser session."""
    histories = [list(h or []) for h in histories]
    arms = engine.arms
    try:
        q = engine.check(question)
    except QuestionError as exc:
        yield f"**Warning:** {exc}", [None] * len(arms), histories, question or ""
        return
    chosen = [a for a in arms if a in (chosen or [])]
    if not chosen:
        yield "**Warning:** choose at least one model under Settings.", [None] * len(arms), histories, q
        return
    t0 = time.perf_counter()
    hits = engine.retrieve(q, int(top_k), chosen)
    only = only_in_one(hits)
    passages = [
        render_passages(a, hits[a], only[a], engine.docs) if a in hits else "<p><i>not asked</i></p>" for a in arms
    ]
    slot = {}
    for i, a in enumerate(arms):
        if a in hits:
            histories[i] += [{"role": "user", "content": q}, {"role": "assistant", "content": "…"}]
            slot[a] = i
    differ = sum(len(s) for s in only.values())
    retrieved = (
        f"retrieved top-{int(top_k)} with {len(hits)} arm(s) in {time.perf_counter() - t0:.2f} s; "
        f"{differ} passage(s) found by only one arm"
    )
    yield f"Working: {retrieved}; writing answers…", passages, histories, ""
    last = {}
    for last in engine.stream_answers(q, hits, int(max_tokens), float(temperature)):
        for a, ans in last.items():
            histories[slot[a]][-1] = {"role": "assistant", "content": answer_text(ans)}
        yield f"Working: {retrieved}; writing answers…", [None] * len(arms), histories, ""
    failed = [a for a, ans in last.items() if ans.error]
    tail = f"answers failed for {', '.join(failed)} (see the answer area)" if failed else "answered"
    yield (
        f"**{'Problem' if failed else 'Done'}:** {retrieved}; {tail} in {time.perf_counter() - t0:.1f} s",
        [None] * len(arms),
        histories,
        "",
    )


def map_figure(engine: ChatEngine, question: str | None, top_k: int, sample: int):
    """(figure or None, message) for the embedding map tab."""
    try:
        q = engine.check(question)
    except QuestionError as exc:
        return None, f"**Warning:** {exc}"
    hits = engine.retrieve(q, int(top_k))
    space = {}
    doc_ids = None
    for arm, (ids, doc_emb, query_emb) in engine.engine.embedding_spaces(q).items():
        if doc_ids is not None and ids != doc_ids:
            raise RagtuneError("arms index different document sets; the map needs the same corpus")
        doc_ids = ids
        space[arm] = (doc_emb, query_emb)
    if not space:
        return None, "**Note:** the map draws embedding spaces, and none of the arms shown is a dense model."
    hits = {arm: h for arm, h in hits.items() if arm in space}
    panels = embedding_map.build_panels(space, doc_ids, hits, only_in_one(hits), int(sample))
    n = len(panels[0]["doc_xy"])
    return (
        embedding_map.draw(panels, q),
        f"{n} documents (a fixed random sample plus every retrieved one), query = red star, top-{int(top_k)} numbered "
        "by rank; orange = retrieved by this arm only. Each arm has its own axes: compare shapes, not "
        "coordinates.",
    )


def report_view(folder: Path, table: str | None, verdict: str | None):
    """(table names, chosen table, verdict choices, chosen verdict, shown frame, message)."""
    tables = report_browser.report_tables(folder)
    table = table if table in tables else (tables[0] if tables else None)
    df, message = report_browser.read_table(folder, table)
    choices = report_browser.verdict_choices(df)
    verdict = verdict if verdict in choices else report_browser.ALL
    shown = report_browser.filter_rows(df, verdict)
    if df is not None and verdict != report_browser.ALL:
        message += f", {len(shown):,} with verdict {verdict}"
    return tables, table, choices, verdict, report_browser.brief(shown), message


def report_row(
    folder: Path, table: str | None, verdict: str | None, index: int | None, docs: dict[str, Document]
) -> str:
    df, _ = report_browser.read_table(folder, table)
    shown = report_browser.filter_rows(df, verdict)
    if index is None or not (0 <= index < len(shown)):
        return "<p>Click a row to read it in full.</p>"
    return report_browser.row_details(shown.iloc[index].to_dict(), docs)


NO_PASSAGES = "<p><i>passages appear here</i></p>"


def _arm_columns(gr, engine: ChatEngine, cfg: ChatConfig) -> tuple[list, list]:
    """One column per arm: its retrieved passages above its answers."""
    chats, passages = [], []
    with gr.Row(equal_height=False):
        for arm in engine.arms:
            with gr.Column(min_width=300):
                fit = cfg.fitted.get(arm)
                weight = f" — weight {fit['weight']:.1f} on {fit['first']} ({fit['dev']})" if fit else ""
                gr.Markdown(f"### {arm}\n`{cfg.arms.get(arm, '')}`{weight}")
                passages.append(
                    gr.HTML(NO_PASSAGES, elem_id=f"passages-{slug(arm)}", label=f"{arm}: retrieved passages")
                )
                chats.append(
                    gr.Chatbot(label=f"{arm}: answers", height=300, elem_id=f"chat-{slug(arm)}", feedback_options=None)
                )
    return chats, passages


def _chat_tab(gr, engine: ChatEngine, cfg: ChatConfig) -> None:
    arms = engine.arms
    with gr.Row():
        question = gr.Textbox(
            label="Question", placeholder=EXAMPLE_QUESTION, lines=1, max_lines=4, scale=6, elem_id="question"
        )
        send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
    status = gr.Markdown(
        "Ask a question: every model retrieves its passages and the LLM answers from them.", elem_id="status"
    )
    with gr.Accordion("Settings", open=False):
        with gr.Row():
            top_k = gr.Slider(1, 10, value=cfg.top_k, step=1, label="top-k passages")
            temperature = gr.Slider(0.0, 1.5, value=cfg.temperature, step=0.05, label="temperature")
            max_tokens = gr.Slider(16, 1024, value=cfg.max_tokens, step=16, label="max answer tokens")
        chosen = gr.CheckboxGroup(arms, value=arms, label="models (retriever arms) to ask")
        clear = gr.Button("Clear history")
    chats, passages = _arm_columns(gr, engine, cfg)

    def on_ask(q, k, chosen_arms, temp, tokens, *histories):
        for msg, html_out, hist, box in ask(engine, q, k, chosen_arms, temp, tokens, list(histories)):
            yield (msg, *[gr.skip() if h is None else h for h in html_out], *hist, box)

    ask_inputs = [question, top_k, chosen, temperature, max_tokens, *chats]
    ask_outputs = [status, *passages, *chats, question]
    send.click(on_ask, ask_inputs, ask_outputs, api_name="ask")
    question.submit(on_ask, ask_inputs, ask_outputs, api_name=False)
    clear.click(
        lambda: ("History cleared.", *([NO_PASSAGES] * len(arms)), *([[]] * len(arms))),
        None,
        [status, *passages, *chats],
        api_name=False,
    )


def _reports_tab(gr, app, engine: ChatEngine, folder: Path) -> None:
    with gr.Row():
        gr.Markdown(f"The review page of `{folder}` (`index.html`), rebuilt from the files there.")
        reload = gr.Button("Reload", scale=0, min_width=120)
    page = gr.HTML(elem_id="report-page-frame")
    with gr.Accordion("CSV files in reports/", open=False, elem_id="report-csv"):
        with gr.Row():
            table_pick = gr.Dropdown([], label="table in reports/", scale=3)
            verdict = gr.Dropdown([report_browser.ALL], value=report_browser.ALL, label="verdict", scale=2)
        info = gr.Markdown(elem_id="report-info")
        table = gr.Dataframe(interactive=False, wrap=True, elem_id="report-table", max_height=600)
        detail = gr.HTML("<p>Click a row to read it in full.</p>", elem_id="report-detail")

    def on_view(t, v):
        tables, t, choices, v, shown, message = report_view(folder, t, v)
        return gr.update(choices=tables, value=t), gr.update(choices=choices, value=v), shown, message

    view_outputs = [table_pick, verdict, table, info]
    for trigger in (table_pick.input, verdict.input):
        trigger(on_view, [table_pick, verdict], view_outputs, api_name=False)

    def on_reload(t, v):
        return (report_browser.page_frame(folder, engine.docs), *on_view(t, v))

    for trigger in (reload.click, app.load):
        trigger(on_reload, [table_pick, verdict], [page, *view_outputs], api_name=False)

    def on_select(t, v, evt: gr.SelectData):
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return report_row(folder, t, v, index, engine.docs)

    table.select(on_select, [table_pick, verdict], detail, api_name=False)


def _map_tab(gr, engine: ChatEngine, cfg: ChatConfig) -> None:
    with gr.Row():
        map_q = gr.Textbox(label="Query", value=EXAMPLE_QUESTION, scale=5)
        map_k = gr.Slider(1, 10, value=cfg.top_k, step=1, label="top-k", scale=1)
        lo = min(10, cfg.pool_documents)
        high = max(lo + 1, min(2000, cfg.pool_documents))
        sample = gr.Slider(lo, high, step=1, value=min(300, cfg.pool_documents), label="corpus sample", scale=2)
    draw = gr.Button("Draw map", variant="primary")
    map_plot = gr.Plot(elem_id="embedding-map")
    map_note = gr.Markdown()
    draw.click(
        lambda q, k, s: map_figure(engine, q, k, s), [map_q, map_k, sample], [map_plot, map_note], api_name=False
    )


def build_app(engine: ChatEngine, cfg: ChatConfig):
    import gradio as gr

    with gr.Blocks(title="ragtune: base vs fine-tuned", analytics_enabled=False) as app:
        gr.Markdown(
            "## ragtune — does the fine-tuned retriever make answers better?\n"
            f"{cfg.pool_documents:,} passages from `{cfg.pool}`; LLM `{cfg.llm.get('model', 'none')}`."
        )
        for note in cfg.notes + ([f"**Warning:** {engine.llm_problem}"] if engine.llm_problem else []):
            gr.Markdown(f"> {note}")
        with gr.Tab("Chat"):
            _chat_tab(gr, engine, cfg)
        with gr.Tab("Reports"):
            _reports_tab(gr, app, engine, Path(cfg.reports_dir))
        with gr.Tab("Embedding map"):
            _map_tab(gr, engine, cfg)
        with gr.Tab("About"):
            gr.Markdown("The settings this page was started with (traceable like every ragtune card):")
            gr.JSON(cfg.card())
    return app


def serve(app, cfg: ChatConfig, block: bool = True):
    """Queue on (several users at once), bound to cfg.host; returns after Ctrl-C when blocking."""
    app.queue(default_concurrency_limit=cfg.concurrency)
    try:
        return app.launch(
            server_name=cfg.host,
            server_port=cfg.port,
            ssr_mode=False,
            show_error=False,
            allowed_paths=[str(Path(cfg.reports_dir).resolve())],
            prevent_thread_lock=not block,
            quiet=True,
            inbrowser=False,
        )
    except OSError as exc:  # gradio says so when the port is taken
        raise RagtuneError(
            f"cannot serve on {cfg.host}:{cfg.port}: {str(exc).splitlines()[0]} (pick another with --port)"
        ) from None
