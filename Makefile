# Two commands a newcomer needs: `make demo` and `make test`. Both build the
# virtual environment from the pinned pyproject.toml on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test crawl bench eval install clean

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
	-@$(MAKE) --no-print-directory pywb || echo "pywb could not be installed: its tests will be skipped"
	$(PY) -m pytest -q $(PYTEST_ARGS)

## crawl: the same pipeline against the live sites, from the shipped seeds
crawl: $(STAMP)
	$(VENV)/bin/scrapy crawl news $(CRAWL_ARGS)

## bench: benchmarks (figures go in the README)
bench: $(STAMP)
	$(PY) -m bench.run

## eval: extraction quality on the gold set (ours vs trafilatura vs jusText); fails below tests/eval_baseline.json
eval: $(STAMP)
	$(PY) -m archive eval $(EVAL_ARGS)

# pywb pins old dependencies (redis 2.10, gevent, brotlipy): its own virtual environment.
PYWB_VENV  := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
ARCHIVE    ?= data/warc

$(PYWB_STAMP):
	@test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pywb==2.10.0
	@touch $(PYWB_STAMP)

pywb: $(PYWB_STAMP)

## serve: browse an archive in pywb on 127.0.0.1:8080 (ARCHIVE=DIR, default data/warc)
serve: $(STAMP) $(PYWB_STAMP)
	$(PY) -m archive serve $(ARCHIVE) $(SERVE_ARGS)

## screenshot: headless Chromium renders a replayed article of the demo archive → data/screenshot.png
screenshot: $(STAMP) $(PYWB_STAMP)
	@test -d data/demo/warc || $(MAKE) --no-print-directory demo
	$(PY) -m archive serve data/demo/warc --port 0 --root data/demo/pywb --screenshot data/screenshot.png $(SCREENSHOT_ARGS)

clean:
	rm -rf data/demo
