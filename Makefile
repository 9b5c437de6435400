# The README's commands. Each target creates the virtual environment and
# installs the pinned requirements and lossland itself when needed.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
JOBS   ?= 2
# One BLAS thread per process: with two pytest workers (or kernels) on two
# cores, multithreaded OpenBLAS oversubscribes and stalls (a 504x504 eigvalsh
# took 3.25 s instead of 0.03 s under load).
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: install book test test-package test-notebooks test-book test-browser chromium lab notebooks bench clean

# The pinned requirements have wheels for CPython 3.11 to 3.14 (numpy 2.4 and ipython 9 need 3.11).
PY_MIN := 3.11
PY_MAX := 3.14
define CHECK_PYTHON
import sys
v = sys.version_info[:2]
ok = (3, 11) <= v <= (3, 14)
print("" if ok else "lossland needs CPython $(PY_MIN) to $(PY_MAX) (the pinned numpy/ipython have no build for "
      f"{v[0]}.{v[1]}); $(PYTHON) is {sys.version.split()[0]}. Point PYTHON at another one: make PYTHON=python3.12 ...")
sys.exit(0 if ok else 1)
endef
export CHECK_PYTHON

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install CPython $(PY_MIN)-$(PY_MAX) or run make PYTHON=/path/to/python3.12 ..."; exit 1; }
	@$(PYTHON) -c "$$CHECK_PYTHON"
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

## Run every test: lossland's tests, nbval on every notebook, a strict book build,
## and the real-browser tests (rendered book offline; JupyterLab with a widget).
test: install test-package test-notebooks test-book test-browser

test-package: install
	$(BIN)/python -m pytest -q -n $(JOBS) tests --ignore=tests/browser

test-notebooks: install
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile --nbval --nbval-cell-timeout=300 --nbval-sanitize-with tests/nbval_sanitize.cfg notebooks

test-book: book

chromium:
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test-browser: install chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/browser

## Open JupyterLab on the notebooks.
lab: install
	$(BIN)/jupyter lab notebooks

## Re-execute every notebook in place (stores the outputs nbval compares).
notebooks: install
	$(BIN)/python scripts/execute_notebooks.py notebooks

bench: install
	$(BIN)/python benchmarks/hessian.py --baseline 2aa92e6
	$(BIN)/python benchmarks/convention.py

clean:
	rm -rf _build .pytest_cache
