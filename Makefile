# evaluatie — every target sets up what it needs from nothing (Python >= 3.11 on PATH).
#   make reports    synthetic data -> every notebook -> HTML reports in reports/
#   make test       the CI test suite (fast: slow Monte Carlo tests excluded)
#   make test-all   every test, including the slow Monte Carlo ones
#   make bench      benchmarks against pyfixest / linearmodels / diff-diff / moderndid
#   make lab        JupyterLab on the project's environment
#   make lint       ruff, mypy and the import-layer contracts (CI runs it before the tests)
#   make imported-modules   relist the modules whose bytecode `make setup` compiles

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
RUN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: setup reports test test-all bench lab lint clean imported-modules

# uv itself comes from PyPI into .uv/ (pip --target: no venv, no second pip process), so
# nothing is installed by hand; 1.9 s where a venv and `pip --python` took 3.3 s. Where
# the system's Python has no usable pip, a venv with its own pip installs it instead.
# The installed uv is kept in the user's store (below) for the next clone, which copies
# it: pip's lookup on the package index took 1.7-3 s of every fresh clone's setup.
PIP_QUIET := --quiet --disable-pip-version-check
# What later clones of this user reuse (uv here; the reports' bytecode and synthetic
# DiD's compiled solver, by evaluatie.install): EVALUATIE_STORE, else evaluatie/ in the
# user's cache folder; set EVALUATIE_STORE empty to keep nothing. Anything in it may be
# deleted at any time. A kept uv that cannot be copied is installed again.
EVALUATIE_STORE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/evaluatie
export EVALUATIE_STORE
UV_KEPT := $(if $(filter /%,$(EVALUATIE_STORE)),$(EVALUATIE_STORE)/uv-$(UV_VERSION)-$(shell uname -sm | tr ' ' '-'))
$(UV):
	@rm -rf .uv .uv.part
	@if [ -n "$(UV_KEPT)" ] && "$(UV_KEPT)/bin/uv" --version 2>/dev/null | grep -q "^uv $(UV_VERSION)\( \|$$\)" \
	    && cp -R "$(UV_KEPT)" .uv.part 2>/dev/null && mv .uv.part .uv; then \
	  echo "uv $(UV_VERSION) from $(UV_KEPT)"; \
	else \
	  rm -rf .uv.part; \
	  { $(PYTHON) -m pip install $(PIP_QUIET) --no-deps --target .uv uv==$(UV_VERSION) 2>/dev/null \
	    || { rm -rf .uv && $(PYTHON) -m venv .uv \
	         && .uv/bin/python -m pip install $(PIP_QUIET) uv==$(UV_VERSION); }; } || exit 1; \
	  if [ -n "$(UV_KEPT)" ]; then \
	    part="$(UV_KEPT).part$$$$"; \
	    mkdir -p "$$(dirname "$(UV_KEPT)")" 2>/dev/null && cp -R .uv "$$part" 2>/dev/null \
	      && { [ -e "$(UV_KEPT)" ] || mv "$$part" "$(UV_KEPT)"; }; rm -rf "$$part"; \
	  fi; \
	fi

# The environment is synced exactly to uv.lock (--locked fails if the lock is stale).
# uv installs no bytecode (compiling all 11,600 modules took 16 s); evaluatie.install
# then compiles the 2,435 that the reports import, once and on every core, where left to
# the imports every process of a fresh clone's first `make reports` compiled them anew.
# Python writes the bytecode of anything else on first import, also where
# PYTHONDONTWRITEBYTECODE is set in the environment (into .venv and __pycache__ folders,
# which git ignores).
unexport PYTHONDONTWRITEBYTECODE
$(VENV)/.synced: $(UV) uv.lock pyproject.toml src/evaluatie/imported_modules.txt
	$(UV) sync --locked --extra test --python $(PYTHON)
	$(RUN)/python -m evaluatie.install
	touch $@

# Rewrites src/evaluatie/imported_modules.txt after a dependency changed: a new
# environment without bytecode runs the reports, and what they imported is listed.
imported-modules: $(UV)
	rm -rf $(VENV) data/processed/cache
	find src -name __pycache__ -prune -exec rm -rf {} +
	$(UV) sync --locked --extra test --python $(PYTHON)
	$(RUN)/evaluatie all --force
	$(RUN)/python -m evaluatie.install --record
	touch $(VENV)/.synced

setup: $(VENV)/.synced

reports: setup
	$(RUN)/evaluatie all

test: setup
	$(RUN)/python -m pytest -m "not slow"

test-all: setup
	$(RUN)/python -m pytest

bench: setup
	for script in bench/*.py; do $(RUN)/python $$script || exit 1; done

# Registers the kernel in .venv and starts JupyterLab with kernels in the project folder
# (as under `evaluatie run`); `evaluatie lab --dry-run` shows what it would do.
lab: setup
	$(RUN)/evaluatie lab

# ruff (code, tests, bench and notebooks), mypy on src/, the import-layer contracts.
lint: setup
	$(RUN)/ruff check src tests bench notebooks
	$(RUN)/ruff format --check src tests bench notebooks
	$(RUN)/mypy
	$(RUN)/lint-imports

clean:
	rm -rf $(VENV) .uv reports/*.html reports/*.ipynb reports/*.json data/processed/*.parquet data/processed/cache
