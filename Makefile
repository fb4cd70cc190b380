# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Project-local Dagster instance: telemetry off, one writer on the DuckDB pool.
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo test fuzz dev bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Byte-compiled as a wheel install would be: with PYTHONDONTWRITEBYTECODE set (as in some CI and
# sandbox images) every `hub` command would otherwise compile the hub's own modules again, about
# 0.2 s each time. Only changed files are compiled again; a stale cache is never used.
install: $(STAMP)
	$(BIN)/python -m compileall -q hub connectors warehouse pipelines

demo: install
	$(BIN)/hub demo

test: install
	$(BIN)/python -m pytest

# The long fuzzing run, about half an hour on 2 cores (`make test` has a one-minute one): Hypothesis
# with its "fuzz" profile (2,000 damaged inputs per test instead of 40; failing ones kept in
# .hypothesis/), then Atheris, coverage-guided, FUZZ_SECONDS per parser (where atheris installs).
# Both print the inputs tried per parser, the crashes and the slowest input.
FUZZ_SECONDS ?= 120
fuzz: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'atheris>=2.3,<4' \
		|| echo "atheris does not install here: Hypothesis only"
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz_parsers.py
	$(BIN)/python tests/fuzz/atheris_fuzz.py --seconds $(FUZZ_SECONDS)

dev: install
	mkdir -p $(DAGSTER_HOME) && cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m pipelines.definitions -h 127.0.0.1 -p 3000

# whatstk (the comparison) gets a venv of its own, so the hub is measured as users install it.
WHATSTK := bench/.venv-whatstk/bin/python
$(WHATSTK):
	$(PYTHON) -m venv bench/.venv-whatstk
	$(WHATSTK) -m pip install --quiet --disable-pip-version-check 'whatstk>=0.9,<1'

bench: install $(WHATSTK)
	$(BIN)/python bench/whatsapp.py --whatstk-python $(WHATSTK)
	$(BIN)/python bench/slack.py
	$(BIN)/python bench/telegram.py
	$(BIN)/python bench/scoring.py
	$(BIN)/python bench/planted.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) data .dagster_home build *.egg-info .hypothesis .fuzz
