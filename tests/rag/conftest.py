"""RAG fixtures: a scriptable OpenAI-compatible stub server for faults, and redirected caches."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LONG_ANSWER = (
    "The passages describe this work under [1]: the occupation plans, directs and coordinates the "
    "activities named in the question, and [2] lists related duties; nothing here is cut at 100 chars."
)
GOOD_JUDGEMENT = json.dumps(
    {
        "faithfulness": 4,
        "faithfulness_reason": "Supported by [1].",
        "correctness": 3,
        "correctness_reason": "Partly matches the reference.",
    }
)


# the claim and statement judges' replies (rag/templates/judge_claims.txt, judge_correctness.txt)
GOOD_CLAIMS = json.dumps(
    {
        "claims": [
            {"claim": "a", "supported": True},
            {"claim": "b", "supported": True},
            {"claim": "c", "supported": False},
        ]
    }
)
GOOD_STATEMENTS = json.dumps({"TP": ["x"], "FP": [], "FN": []})


def default_reply(messages: list[dict]) -> str:
    first, last = messages[0]["content"], messages[-1]["content"]
    if '{{"claims"' in first or '{"claims"' in first:
        return GOOD_CLAIMS
    if '{"TP"' in first:
        return GOOD_STATEMENTS
    if "Reply with only this JSON object" in last or "Reply again with only the JSON object" in last:
        return GOOD_JUDGEMENT
    return LONG_ANSWER


def first_title_reply(messages: list[dict]) -> str:
    """An answerer that names the first passage's title (the occupation, for O*NET), or nothing without passages."""
    content = messages[0]["content"]
    if "[1] " not in content or "JSON" in content:
        return default_reply(messages)
    title = content.split("[1] ", 1)[1].split("\n", 1)[0]
    return f"This is the work of {title} [1]."


class StubLLM:
    """Chat completions on 127.0.0.1. `script` is consumed one action per chat request:
    'ok', '429', '500', 'sleep' (longer than the client's timeout), 'drop' (close without answering),
    or any other string, returned as the reply text. After `fail_after` chat requests every request is dropped,
    as when a server dies mid-run."""

    def __init__(self):
        self.script: list[str] = []
        self.reply = default_reply
        self.fail_after: int | None = None
        self.sleep_s = 2.0
        self.chat_requests: list[dict] = []
        # llama.cpp-style /tokenize beside /v1 (one token per word); False answers 404 as OpenAI's API would
        self.tokenize = True
        self.tokenize_requests: list[dict] = []
        self.auth_headers: list[str] = []
        # a context of this many words: a longer prompt gets llama.cpp's HTTP 400 (None: any length)
        self.context_words: int | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # keep pytest output clean
                pass

            def _json(self, code: int, obj, headers: dict | None = None):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/").endswith("/models"):
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [{"id": "stub", "object": "model", "created": 0, "owned_by": "tests"}],
                        },
                    )
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path == "/tokenize" and stub.tokenize:
                    stub.tokenize_requests.append(body)
                    return self._json(200, {"tokens": list(range(len(body["content"].split())))})
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                stub.auth_headers.append(self.headers.get("Authorization", ""))
                n = len(stub.chat_requests)
                stub.chat_requests.append(body)
                action = stub.script.pop(0) if stub.script else "ok"
                if stub.fail_after is not None and n >= stub.fail_after:
                    action = "drop"
                if action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if action in ("429", "500"):
                    return self._json(
                        int(action), {"error": {"message": f"stub {action}", "type": "stub"}}, {"retry-after-ms": "1"}
                    )
                if action == "sleep":
                    time.sleep(stub.sleep_s)
                    action = "ok"
                words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
                if stub.context_words is not None and words > stub.context_words:
                    message = (
                        f"request ({words} tokens) exceeds the available context size ({stub.context_words} tokens), "
                        "try increasing it"
                    )
                    return self._json(
                        400, {"error": {"code": 400, "message": message, "type": "exceed_context_size_error"}}
                    )
                text = stub.reply(body["messages"]) if action == "ok" else action
                if body.get("stream"):
                    return self._stream(text)
                self._json(
                    200,
                    {
                        "id": f"c{n}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                        ],
                        "usage": {
                            "prompt_tokens": len(json.dumps(body["messages"])) // 4,
                            "completion_tokens": len(text.split()),
                            "total_tokens": 0,
                        },
                    },
                )

            def _stream(self, text: str):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for word in text.split(" "):
                    chunk = {
                        "id": "s",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "stub",
                        "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.close_connection = True

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture()
def stub_llm():
    stub = StubLLM()
    yield stub
    stub.close()


@pytest.fixture()
def rag_caches(tmp_path, monkeypatch, isolated_cache):
    """Answer and LLM caches under tmp_path (the embedding cache is redirected by isolated_cache)."""
    import corpus.paths

    monkeypatch.setattr(corpus.paths, "CACHE_DIR", tmp_path / "cache")
    return tmp_path / "cache"


def closed_port_url() -> str:
    from tests.helpers import free_port

    return f"http://127.0.0.1:{free_port()}/v1"


@pytest.fixture(scope="session")
def smollm2_server():
    """The real tiny SmolLM2 GGUF behind ragtune's own local server, started once for the whole session."""
    from rag.local_model import smollm2
    from rag.local_server import LocalServer, ServerConfig

    with LocalServer(smollm2(), ServerConfig(threads=1, ctx_per_slot=2048)) as server:
        yield server
