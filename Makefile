# limelab — the two commands a newcomer needs:
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run every test (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.limelab-installed
# torch is pinned to the CPU build cached on the course machines; a looser
# requirement would pull a multi-GB CUDA build. On a Linux laptop outside the course
# machines, PyPI's torch==2.13.0 is the CUDA build too: ask for the CPU wheel with
#   make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH  := torch==2.13.0
TORCH_INDEX ?=
LAB_ARGS ?=

# Two workers on a two-core laptop: keep each to one BLAS/torch thread.
export MPLBACKEND := Agg
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help install lab test test-lib test-notebooks lint bench exercises grade clean

help:
	@echo "make lab        set up .venv and open the course in JupyterLab"
	@echo "make test       set up .venv and run every test (pytest, notebooks, browser)"
	@echo "make lint       ruff check"
	@echo "make bench      side-by-side benchmarks against lime/shap/captum"
	@echo "make exercises  regenerate exercises/ from solutions/ with nbgrader"
	@echo "make grade SUBMISSION=path [ARGS=--json]   grade homework submissions"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# tools/lab.py: as root too, with or without a screen; the next free port when 8888 is
# taken; the last line it prints is the URL to open. Options: make lab LAB_ARGS="--port 9000"
lab: install
	@$(BIN)/python tools/lab.py $(LAB_ARGS)

test: install test-lib test-notebooks

test-lib: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadfile tests

test-notebooks: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -p no:randomly -n 2 --dist loadscope \
		--nbval-lax --nbval-cell-timeout=120 --nbval-kernel-startup-timeout=60 course

lint: install
	$(BIN)/ruff check .

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m benchmarks

exercises: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grading.generate

grade: install
	@test -n "$(SUBMISSION)" || (echo "usage: make grade SUBMISSION=path/to/notebook-or-folder [ARGS='--json']"; exit 2)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m grading $(SUBMISSION) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# ---- instructor kit: reveal.js slide decks of the course, offline (instructor/slides.py).
# reveal.js, jQuery, require.js, MathJax 2 and the widget renderer come from the npm
# registry (package-lock.json), never from a CDN at show time. SLIDES_ARGS=--execute
# runs the notebooks first so the decks carry figures (about 4 min on two cores).
.PHONY: slides slide-metadata
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

slides: install node_modules/.package-lock.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python instructor/slides.py $(SLIDES_ARGS)

slide-metadata: install
	$(BIN)/python instructor/slide_metadata.py
