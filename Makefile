# Two commands do all set-up on a fresh machine:
#   make demo   installs into .venv and runs the nightly flow offline against bundled sample feeds
#   make test   installs into .venv (with test extras) and runs the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench run train

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dealradar demo

run: $(STAMP)
	$(BIN)/dealradar run --config config.yaml

test: $(STAMP)
	$(BIN)/ruff check flows extractors warehouse alerts tests benchmarks
	$(BIN)/python -m pytest

# Rebuilds the shipped deal model (extractors/deals/trained/) from ../shared/deals: ~15-25 minutes on 2 cores.
train: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[train]'
	$(BIN)/python -m extractors.deals.train --shared ../shared/deals

bench: $(STAMP)
	$(BIN)/python benchmarks/deals.py
	$(BIN)/python benchmarks/warehouse.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/libraries.py
