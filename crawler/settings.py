"""Defaults for the news crawler: polite, archiving, extracting.

Every component is switched and configured here by name; `-s NAME=value`
overrides any of them for one run.
"""
from pathlib import Path

BOT_NAME = "vn-news-archiver"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

USER_AGENT = "vn-news-archiver/0.1 (+research corpus; contact: see README)"

# --- politeness -------------------------------------------------------------
ROBOTSTXT_OBEY = True
ROBOTSTXT_PARSER = "scrapy.robotstxt.ProtegoRobotParser"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_TIMEOUT = 30
# Scrapy starts this many asyncio tasks for every response's output; a page
# yields a few dozen links at most, and the default 100 cost ~10 % of a crawl.
CONCURRENT_ITEMS = 16
RETRY_TIMES = 2
COOKIES_ENABLED = False  # news pages need no session; also avoids tldextract's online suffix fetch
TELNETCONSOLE_ENABLED = False

# --- archive: WARC capture ---------------------------------------------------
WARC_ENABLED = True
WARC_DIR = "data/warc"
WARC_MAX_SIZE = 1_000_000_000
WARC_PREFIX = "news"
WARC_CRAWL_ID = ""  # empty: "<bot>-<UTC time>-<pid>"
# gzip level of WARC records: most of the capture cost. Level 1 crawled ~25 % faster
# than 6 on the bench site for files only ~4 % larger (pages arrive gzip-encoded already).
WARC_COMPRESS_LEVEL = 1
# process: records are built, gzipped and written in a child process (archive/warc_process.py); thread: in this one
WARC_WRITER = "process"
# Which bytes WARC-Payload-Digest covers for a chunked response. "stored" (the
# body as stored, still chunked) is what warcio check and pywb expect, so every
# file passes the standard tools; "entity" is the de-chunked entity the WARC
# 1.1 text and IIPC guidance call for, which warcio 1.8.1 reports as a failure
# (webrecorder/warcio#74). Both are identical for unchunked responses.
WARC_PAYLOAD_DIGEST = "stored"
WARC_INDEX = True  # write NAME.cdxj beside each closed WARC file
# The capturing handler tees the bytes off the wire (exact status line and
# headers, body still chunked/compressed as sent); see crawler/capture.py.
DOWNLOAD_HANDLERS = {
    "http": "crawler.capture.CapturingHTTP11DownloadHandler",
    "https": "crawler.capture.CapturingHTTP11DownloadHandler",
}
# 950: sees responses before HttpCompressionMiddleware (590) decodes them and
# before RedirectMiddleware (600) turns 3xx into new requests.
DOWNLOADER_MIDDLEWARES = {
    # 50: before robots.txt (100) and everything else; redirects and meta refreshes come back through it.
    "crawler.addresspolicy.AddressPolicyMiddleware": 50,
    # Scrapy's decompression, with its size refusals counted (crawler/pagesize.py).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.pagesize.BoundedCompressionMiddleware": 590,
    "crawler.middlewares.WarcCaptureMiddleware": 950,
    # 960: outside capture, so it classifies each response (and sets warc_revisit_of) first.
    "crawler.incremental.IncrementalDownloaderMiddleware": 960,
}
SPIDER_MIDDLEWARES = {
    "crawler.incremental.IncrementalSpiderMiddleware": 920,  # drops not-due articles and unchanged items
}

# --- hostile pages: addresses, sizes, time (docs/security.md) -----------------
# Refuse requests to loopback, private, link-local (169.254.169.254), CGNAT, unique-local, multicast
# and reserved addresses and local names, as written in the URL and as resolved at connect time
# (crawler/addresspolicy.py). Hosts of the crawl's own start URLs are always allowed.
ADDRESS_POLICY_ENABLED = True
ADDRESS_ALLOWED_NETWORKS = []  # e.g. ["10.20.0.0/16", "fd00::/8"], or one string "10.20.0.0/16, fd00::/8"
TWISTED_DNS_RESOLVER = "crawler.addresspolicy.PublicAddressResolver"
# One response, on the wire and once decompressed (checked while decompressing): news HTML is < 1 MB.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# robots.txt, sitemaps and feeds: the sitemaps.org limit for one uncompressed sitemap.
SITEMAP_MAXSIZE = 50 * 1024 * 1024
# Seconds one page may take in an extraction worker; the worker is then replaced and the page is
# archived only ("extraction timed out"). Links read from one page are capped too.
EXTRACT_TIME_BUDGET = 5.0
PAGE_MAX_LINKS = 5000

# --- incremental crawls (crawler/incremental.py, archive/state.py) -------------
# SQLite state: None = state.sqlite beside WARC_DIR (data/state.sqlite), when capture is on; "" = off.
CRAWL_STATE = None
# Revisit policy for known articles: fresh ones (published < REVISIT_FRESH_AGE ago) every
# REVISIT_FRESH_EVERY, older ones every REVISIT_OLD_EVERY. Listings, feeds, sitemaps: always.
REVISIT_POLICY = "crawler.incremental.AgeRevisitPolicy"
REVISIT_FRESH_AGE = "2d"
REVISIT_FRESH_EVERY = "6h"
REVISIT_OLD_EVERY = "30d"
# A known article's sitemap <lastmod> / feed <updated> vs the one stored at our last fetch:
# trust = it decides (newer: due now, same: skipped), hint = newer makes it due too, ignore = policy only.
REVISIT_LASTMOD = "trust"
# One JSON line per run: None = runs.jsonl beside the state file (data/runs.jsonl); "" = off.
CRAWL_REPORT = None

# --- extraction and corpus ---------------------------------------------------
EXTRACT_ENABLED = True
EXTRACT_WORKERS = None  # worker processes for extraction; None = one per core, 0 = inline
CORPUS_DIR = "data/corpus"
CORPUS_SEEDS = str(Path(__file__).resolve().parent.parent / "seeds")
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractionPipeline": 300,
    "crawler.pipelines.CorpusPipeline": 800,
}
EXTENSIONS = {
    "crawler.extensions.CrawlSummary": 500,
    "crawler.report.CrawlReport": 510,
}
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"  # a duplicate or a hub page is routine, not a warning

# --- replay / distributed (later issues) -------------------------------------
# ARCHIVE_REPLAY=DIR: crawl from that archive, no network; the addon swaps the
# download handlers and turns WARC capture off (crawler/replay.py).
ARCHIVE_REPLAY = ""
ARCHIVE_REPLAY_AT = ""  # serve captures nearest this time (YYYYMMDDhhmmss) instead of the latest
ADDONS = {"crawler.replay.ArchiveReplayAddon": 0, "crawler.distributed.DistributedCrawlAddon": 0}
# REDIS_URL (or the environment's REDIS_URL): scrapy-redis frontier and dupe filter shared by
# every process on that Redis; the addon does nothing without it (crawler/distributed.py).
REDIS_URL = ""
REDIS_IDLE_TIMEOUT = 10.0  # s the shared frontier stays empty before a process finishes; < 0: wait forever
REDIS_WORKER_TIMEOUT = 30.0  # s without a heartbeat before a process counts as dead and its requests are requeued
REDIS_HEARTBEAT_INTERVAL = 2.0
REDIS_CORPUS_SHARDS = True  # each process writes CORPUS_DIR/<host>-<pid>; merge with `python -m archive extract`

FEED_EXPORT_ENCODING = "utf-8"
