# Two commands a newcomer needs: `make demo` and `make test`. Both build the
# virtual environment from the pinned pyproject.toml on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test crawl bench install clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## demo: the full pipeline offline on the bundled fixture sites → data/demo/
demo: $(STAMP)
	$(PY) -m tests.demo data/demo

## test: the whole hermetic test suite
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

## crawl: the same pipeline against the live sites, from the shipped seeds
crawl: $(STAMP)
	$(VENV)/bin/scrapy crawl news $(CRAWL_ARGS)

## bench: benchmarks (figures go in the README)
bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf data/demo
