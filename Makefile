# Two commands a newcomer needs: `make demo` and `make test`. Both build the
# virtual environment from the pinned pyproject.toml on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: lint chromium demo test crawl bench bench-requisites bench-extract bench-replay bench-all eval install clean schedule bench-incremental sites redis bench-distributed bench-topic bench-crash bench-hostile bench-scale settings-doc

# constraints.txt is the lock file: every package pinned to the version the suite passed with
# (pyproject.toml pins only the direct dependencies; justext, dateparser & co. change extraction output).
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,wacz]'
	@touch $(STAMP)

install: $(STAMP)

## demo: the full pipeline offline on the bundled fixture sites → data/demo/
demo: $(STAMP)
	$(PY) -m testbed.demo data/demo

## test: the whole hermetic test suite
test: $(STAMP) lint
	-@$(MAKE) --no-print-directory pywb || echo "pywb could not be installed: its tests will be skipped"
	-@$(MAKE) --no-print-directory chromium || echo "Chromium could not be installed: the browser tests will be skipped"
	$(PY) -m pytest -q $(PYTEST_ARGS)

## crawl: the same pipeline against the live sites, from the shipped seeds
crawl: $(STAMP)
	$(VENV)/bin/scrapy crawl news $(CRAWL_ARGS)

## bench: crawl throughput with WARC capture on/off, full pipeline, memory at 2,000/20,000 pages, extraction
bench: $(STAMP)
	$(PY) -m bench.run

## bench-requisites: default crawl (page requisites on) vs -a requisites=none, pages of 10 images each (also a row of `make bench`)
bench-requisites: $(STAMP)
	$(PY) -m bench.requisites

## bench-extract: extraction on one core and parallel re-extraction of a generated 10,000-article archive
bench-extract: $(STAMP)
	$(PY) -m bench.extract_speed

## bench-replay: index build, replay-crawl vs live crawl, lookups in a 100,000-record index
bench-replay: $(STAMP)
	$(PY) -m bench.replay_speed

## bench-all: every benchmark, one after the other (about an hour and a half on 2 cores)
bench-all: bench bench-extract bench-replay bench-incremental bench-topic bench-distributed bench-hostile bench-scale

## bench-scale: per-page cost as the corpus grows: the near-duplicate look-up on 10k/100k/1M-article
## synthetic indexes, and a default 20,000-page crawl (pages/s and peak RSS, first vs last 2,000)
bench-scale: $(STAMP)
	$(PY) -m bench.scale $(BENCH_SCALE_ARGS)

## bench-incremental: re-crawl of a 2,000-page site with 1 % edited: time, bytes and edits caught vs the first crawl
bench-incremental: $(STAMP)
	$(PY) -m bench.incremental

## schedule: print a cron line and systemd units for scheduled incremental crawls of this checkout (INTERVAL=6h|daily|weekly|30m|…)
INTERVAL ?= 6h
SCHEDULE_ARGS ?=
schedule:
	@$(PYTHON) -m crawler.schedule --interval '$(INTERVAL)' --dir '$(CURDIR)' $(if $(strip $(SCHEDULE_ARGS)),--args '$(SCHEDULE_ARGS)')

## bench-topic: topic-filtered crawl vs topic=none on two generated three-site webs, the old and the hard one (figures go in the README)
bench-topic: $(STAMP)
	$(PY) -m bench.topic

## settings-doc: regenerate docs/settings.md from crawler/settings.py (tests fail while it is stale)
settings-doc: $(STAMP)
	$(PY) -m crawler.settings_doc docs/settings.md

## sites: the supported sites, their entry points and what each profile provides
sites: $(STAMP)
	$(PY) -m archive.sites

## eval: extraction quality on the gold set and 88 real pages of unknown hosts (ours vs trafilatura vs jusText); fails below tests/eval_baseline.json
eval: $(STAMP)
	$(PY) -m archive eval $(EVAL_ARGS)

# pywb pins old dependencies (redis 2.10, gevent, brotlipy): its own virtual environment.
PYWB_VENV  := .venv-pywb
PYWB_STAMP := $(PYWB_VENV)/.installed
# data/warc once a crawl has closed a WARC file there, else the demo archive when `make demo` made one.
ARCHIVE    ?= $(if $(wildcard data/warc/*.warc.gz),data/warc,$(if $(wildcard data/demo/warc/*.warc.gz),data/demo/warc,data/warc))

$(PYWB_STAMP):
	@test -x $(PYWB_VENV)/bin/python || $(PYTHON) -m venv $(PYWB_VENV)
	$(PYWB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pywb==2.10.0
	@touch $(PYWB_STAMP)

pywb: $(PYWB_STAMP)

## serve: browse an archive in pywb on 127.0.0.1:8080 (ARCHIVE=DIR; default data/warc, or data/demo/warc while data/warc has no WARC file)
serve: $(STAMP) $(PYWB_STAMP)
	$(PY) -m archive serve $(ARCHIVE) $(SERVE_ARGS)

## screenshot: headless Chromium renders a replayed article of the demo archive → data/screenshot.png
screenshot: $(STAMP) $(PYWB_STAMP) chromium
	@test -d data/demo/warc || $(MAKE) --no-print-directory demo
	$(PY) -m archive serve data/demo/warc --port 0 --root data/demo/pywb --screenshot data/screenshot.png $(SCREENSHOT_ARGS)

## chromium: headless Chromium (Debian package) for `make screenshot` and the browser tests, installed when missing
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

## redis: a throwaway redis-server on 127.0.0.1:$(REDIS_PORT) for distributed crawls (installs it via apt-get when missing)
REDIS_PORT ?= 6379
REDIS_DIR  ?= $(or $(TMPDIR),/tmp)/vn-news-redis
redis:
	@command -v redis-server >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)
	@mkdir -p $(REDIS_DIR)
	redis-server --bind 127.0.0.1 --port $(REDIS_PORT) --dir $(REDIS_DIR) --save "" --appendonly no --daemonize yes
	@echo "export REDIS_URL=redis://127.0.0.1:$(REDIS_PORT)/0   # stop: redis-cli -p $(REDIS_PORT) shutdown"

## bench-hostile: a 200 MB gzip bomb, 300,000 links, a 200,000-deep page, SSRF pointers: peak RSS, seconds, what was recorded
bench-hostile: $(STAMP)
	$(PY) -m bench.hostile

## bench-distributed: pages/s of 1, 2, 3 crawler processes on one Redis (50 ms per request)
bench-distributed: $(STAMP)
	$(PY) -m bench.distributed

clean:
	rm -rf data/demo

## bench-crash: a crawl of 600 pages SIGKILLed 20 times (crawler / whole group), resumed each time; exits 1 on any loss
bench-crash: $(STAMP)
	$(PY) -m testbed.crash_loop --pages 600 --kills 20 $(BENCH_CRASH_ARGS)

## lint: ruff (syntax errors, undefined names, unused imports/variables); part of make test and CI
lint: $(STAMP)
	$(VENV)/bin/ruff check .
