# The two commands of the README: `make site` and `make test`. Everything they need is
# installed here from the registries (PyPI, npm, Debian), into .venv/ and node_modules/.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export NO_MKDOCS_2_WARNING := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: site test setup setup-dev serve schema lint system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)

# Site and metrics only: no torch, no lm-eval.
$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# Tests: the runner extra too. torch is pinned first so pip never picks a CUDA build.
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q "torch==2.13.0"
	$(BIN)/pip install -q -e ".[run,dev]" "torch==2.13.0"
	@# the Every Eval Ever validator for the export tests: its metadata asks for Python 3.12,
	@# its validator runs on 3.11 with what is installed above (its other extras are not needed)
	$(BIN)/pip install -q --no-deps --ignore-requires-python "every-eval-ever==0.3.0"
	touch $@ $(VENV)/.core

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.core node_modules/.installed
setup-dev: $(VENV)/.dev node_modules/.installed system-deps

# Chromium for the browser tests, Slurm and munge for the scheduler test (Debian packages).
system-deps:
	bash .ci/system-deps.sh

site: setup
	@# bytecode written once, even where PYTHONDONTWRITEBYTECODE is set: 0.5 s of every build
	$(BIN)/python -m compileall -q evalrunner > /dev/null
	$(BIN)/densitometer build --results results --out site
	@echo "The leaderboard is in site/ (open site/index.html, or: make serve)"

serve: setup
	$(BIN)/densitometer serve --out site

schema: $(VENV)/.core
	$(BIN)/densitometer schema --out schema

lint: $(VENV)/.dev
	$(BIN)/ruff check evalrunner tests benchmarks

test: setup-dev
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=5
