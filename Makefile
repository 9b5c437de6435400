# The README's commands. Each target creates the virtual environment and
# installs the pinned requirements and lossland itself when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2

.PHONY: install book test test-package test-notebooks test-book lab notebooks bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Build the book (executes every notebook; warnings are errors). OPEN=1 opens it.
book: install
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book built: $(CURDIR)/_build/html/index.html"
	@if [ -n "$(OPEN)" ]; then $(BIN)/python -m webbrowser "file://$(CURDIR)/_build/html/index.html"; fi

## Run every test: lossland's tests, nbval on every notebook, and a strict book build.
test: install test-package test-notebooks test-book

test-package: install
	$(BIN)/python -m pytest -q -n $(JOBS) tests

test-notebooks: install
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

test-book: book

## Open JupyterLab on the notebooks.
lab: install
	$(BIN)/jupyter lab notebooks

## Re-execute every notebook in place (stores the outputs nbval compares).
notebooks: install
	$(BIN)/python scripts/execute_notebooks.py notebooks

bench: install
	$(BIN)/python benchmarks/hessian.py

clean:
	rm -rf _build .pytest_cache
