"""Defaults for the news crawler: polite, archiving, extracting.

Every component is switched and configured here by name; `-s NAME=value`
overrides any of them for one run.
"""
from archive import paths  # a module, not a name: every uppercase name here is a setting

BOT_NAME = "vn-news-archiver"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
COMMANDS_MODULE = "crawler.commands"

# Who the sites can reach about this crawler (an e-mail address or URL): set it for live crawls.
# crawler/contact.py puts it where USER_AGENT says {contact}; empty leaves that part out.
CONTACT = ""
USER_AGENT = "vn-news-archiver/0.1 (+research corpus; contact: {contact})"

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
# Scrapy starts this many asyncio tasks (and queues as many end markers) for every response's
# output, three responses a page with requisites. A page yields one item at most, which waits on
# its worker and the corpus writer, and links, which are handled at once: two tasks do it all
# (the default 100 cost ~10 % of a crawl's reactor; 16, ~5 %).
CONCURRENT_ITEMS = 2
RETRY_TIMES = 2
COOKIES_ENABLED = False  # news pages need no session; also avoids tldextract's online suffix fetch
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control: an HTTP server on localhost that runs Python code sent to it inside
# the crawler, its port and bearer token written to a job file in the user's state directory
# (~/.local/state/scrapy/job_files) and left there by every crawl that is killed (572 such files
# after this project's crash loops). A scheduled archiving crawl needs no live code execution: off,
# as the Telnet console is.
REMOTE_CONTROL_ENABLED = False

# --- archive: WARC capture ---------------------------------------------------
WARC_ENABLED = True  # capture every exchange into WARC files; False: crawl and extract only
WARC_DIR = "data/warc"  # where WARC files (and their CDXJ indexes) go
WARC_MAX_SIZE = 1_000_000_000  # bytes: a file this large is closed and the next one started
WARC_PREFIX = "news"  # file names are <prefix>-<UTC time>-<serial>-<host>-<pid>.warc.gz
WARC_CRAWL_ID = ""  # empty: "<bot>-<UTC time>-<pid>"
# gzip level of WARC records: most of the WARC writer's CPU. With the records gzipped in the crawler
# process (before the writer process), level 1 crawled ~25 % faster than 6 on the bench site for files
# ~4 % larger. On the fixture pages, 1 compresses identity-encoded HTML 1.3x faster than 6 for ~9 %
# more bytes. A response body that arrives content-encoded (gzip, br, ...) or of a compressed type
# (JPEG, WOFF2, ...) is stored at level 0 whatever this says: level 1 took ~4 % off a gzip-6 page for
# ~0.11 ms of the writer's CPU a page (docs/performance.md, session 14).
WARC_COMPRESS_LEVEL = 1
# process: records are built, gzipped and written in a child process (archive/warc/process.py); thread: in this one
WARC_WRITER = "process"
# Which bytes WARC-Payload-Digest covers for a chunked response. "stored" (the
# body as stored, still chunked) is what warcio check and pywb expect, so every
# file passes the standard tools; "entity" is the de-chunked entity the WARC
# 1.1 text and IIPC guidance call for, which warcio 1.8.1 reports as a failure
# (webrecorder/warcio#74). Both are identical for unchunked responses.
WARC_PAYLOAD_DIGEST = "stored"
WARC_INDEX = True  # write NAME.cdxj beside each closed WARC file
# fsync each batch of records before the crawl state or the corpus may point at them (the
# crash-safety invariant, docs/crash-safety.md). False only to measure what it costs.
WARC_FSYNC = True
# Our own HTTP/1.1 client keeps the bytes as it reads them off the wire (exact status line and
# headers, body still chunked/compressed as sent) and costs the event loop less than Scrapy's
# Twisted client (crawler/downloadhandlers/wire.py; docs/performance.md, session 16).
# "crawler.downloadhandlers.capture.CapturingHTTP11DownloadHandler" is the tee of Scrapy's Twisted
# handler it replaced, with the same records.
DOWNLOAD_HANDLERS = {
    "http": "crawler.downloadhandlers.wire.WireHTTP11DownloadHandler",
    "https": "crawler.downloadhandlers.wire.WireHTTP11DownloadHandler",
}
# 950: sees responses before HttpCompressionMiddleware (590) decodes them and
# before RedirectMiddleware (600) turns 3xx into new requests.
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite filter keeps a spider to its `allowed_domains`; the news spider has none (it scopes
    # links itself, and requisites live on CDN hosts), so it let every request through, at a middleware call
    # and a `request_scheduled` receiver per request (docs/performance.md, session 14: the loop).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    # 40: a page picked up from the crawl state, served from its archived record before anything would
    # contact its site; its process_response runs last (crawler/downloadermiddlewares/archived_pages.py).
    "crawler.downloadermiddlewares.archived_pages.ArchivedPageMiddleware": 40,
    # 45: before robots.txt (100) and everything else; redirects and meta refreshes come back through it.
    "crawler.downloadermiddlewares.address_policy.AddressPolicyMiddleware": 45,
    # 50: drops a tentative topic link that now looks off topic (crawler/downloadermiddlewares/topic_recheck.py).
    "crawler.downloadermiddlewares.topic_recheck.TopicRecheckMiddleware": 50,
    # Scrapy's decompression, with its size refusals counted (crawler/downloadermiddlewares/pagesize.py).
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.downloadermiddlewares.pagesize.BoundedCompressionMiddleware": 590,
    # Scrapy's meta refresh, decoding only the 4 KB of a page it reads (crawler/downloadermiddlewares/meta_refresh.py).
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.downloadermiddlewares.meta_refresh.HeadMetaRefreshMiddleware": 580,
    # Scrapy's proxy middleware, `no_proxy` asked once per host (crawler/downloadermiddlewares/proxy.py).
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "crawler.downloadermiddlewares.proxy.HostCachedProxyMiddleware": 750,
    # Scrapy's downloader stats, each request's bytes summed rather than built as bytes to take their length
    # (crawler/downloadermiddlewares/downloader_stats.py): the same stats, at Scrapy's place.
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
    "crawler.downloadermiddlewares.downloader_stats.SummedDownloaderStats": 850,
    "crawler.downloadermiddlewares.warc_capture.WarcCaptureMiddleware": 950,
    # 960: outside capture, so it classifies each response (and sets warc_revisit_of) first.
    "crawler.downloadermiddlewares.incremental.IncrementalDownloaderMiddleware": 960,
    # 540: just inside RetryMiddleware (550), so it sees each URL's final outcome once (crawler/extensions/outcomes.py).
    "crawler.extensions.outcomes.UrlOutcomes": 540,
}
SPIDER_MIDDLEWARES = {
    # Scrapy's check that a spider did not copy internal keys (retry_times, redirect_urls, ...) from
    # response.meta into new requests only logs a warning; it never changes a request, yet puts one more
    # async generator layer round every element of every response's output (docs/performance.md,
    # session 14: the loop). tests/test_loop_settings.py checks the news spider copies none of them.
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
    "crawler.downloadermiddlewares.incremental.IncrementalSpiderMiddleware": 920,  # drops not-due articles and unchanged items
}

# Scrapy's default referrer policy ("scrapy-default"), each page's stripped URL worked out once for all the
# requests it yields, not parsed again for each (crawler/referrer_policy.py): the same Referer headers.
REFERRER_POLICY = "crawler.referrer_policy.MemoDefaultReferrerPolicy"

# URL dedupe in every mode: the scheduler's dupe filter keyed by canonical URL, which also applies
# `-a max_pages` to the new pages it admits (crawler/dupefilter.py, crawler/fingerprint.py).
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.CanonicalURLFingerprinter"
DUPEFILTER_CLASS = "crawler.dupefilter.CanonicalDupeFilter"

# --- hostile pages: addresses, sizes, time (docs/security.md) -----------------
# Refuse requests to loopback, private, link-local (169.254.169.254), CGNAT, unique-local, multicast
# and reserved addresses and local names, as written in the URL and as resolved at connect time
# (crawler/downloadermiddlewares/address_policy.py). Hosts of the crawl's own start URLs are always allowed.
ADDRESS_POLICY_ENABLED = True
ADDRESS_ALLOWED_NETWORKS = []  # e.g. ["10.20.0.0/16", "fd00::/8"], or one string "10.20.0.0/16, fd00::/8"
TWISTED_DNS_RESOLVER = "crawler.downloadermiddlewares.address_policy.PublicAddressResolver"
# One response, on the wire and once decompressed (checked while decompressing): news HTML is < 1 MB.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# robots.txt, sitemaps and feeds: the sitemaps.org limit for one uncompressed sitemap.
SITEMAP_MAXSIZE = 50 * 1024 * 1024
# Seconds one page may take in an extraction worker; the worker is then replaced and the page is
# archived only ("extraction timed out"). Links read from one page are capped too.
EXTRACT_TIME_BUDGET = 5.0
PAGE_MAX_LINKS = 5000  # links read from one page at most (0: no cap)

# --- incremental crawls (crawler/downloadermiddlewares/incremental.py, archive/state/store.py) -------------
# SQLite state: None = state.sqlite beside WARC_DIR (data/state.sqlite), when capture is on; "" = off.
CRAWL_STATE = None
# Revisit policy for known articles: fresh ones (published < REVISIT_FRESH_AGE ago) every
# REVISIT_FRESH_EVERY, older ones every REVISIT_OLD_EVERY. Listings, feeds, sitemaps: always.
REVISIT_POLICY = "crawler.downloadermiddlewares.incremental.AgeRevisitPolicy"
REVISIT_FRESH_AGE = "2d"
REVISIT_FRESH_EVERY = "6h"
REVISIT_OLD_EVERY = "30d"
# A known article's sitemap <lastmod> / feed <updated> vs the one stored at our last fetch:
# trust = it decides (newer: due now, same: skipped), hint = newer makes it due too, ignore = policy only.
REVISIT_LASTMOD = "trust"
# One JSON line per run: None = runs.jsonl beside the state file (data/runs.jsonl); "" = off.
CRAWL_REPORT = None

# --- what a run reports (crawler/exitcodes.py, crawler/extensions/outcomes.py, crawler/logfile.py) ---
# Exit code 4 when nothing was fetched or more than this share of the URLs failed (after retries).
CRAWL_FAIL_RATIO = 0.5
# A host that failed on the network (DNS, connect, timeout) and never answered: its other URLs fail at once.
CRAWL_SKIP_UNREACHABLE = True
CRAWL_STATS_FILE = ""  # write the final stats as JSON here
# With LOG_FILE: a log larger than this at the start of a run is rotated to LOG_FILE.1 … .N first.
CRAWL_LOG_MAX_BYTES = 10_000_000
CRAWL_LOG_BACKUPS = 5  # rotated logs kept (LOG_FILE.1 … .N)

# --- topic filter (crawler/relevance.py); None = archive/extract/topic.py's defaults (0.18, 0.12) ---
TOPIC_THRESHOLD = None  # the topic score an article's text must reach to be kept
TOPIC_ANCHOR_THRESHOLD = None  # the score a link's anchor text must reach
# A topic link chosen by its anchor is re-judged when the scheduler hands it out, with what the
# crawl has learned since (links without evidence are held instead: crawler/topic_frontier.py).
TOPIC_RECHECK = True
# Pages a topic crawl may fetch per article it keeps: under it, when both frontiers are spent, it
# fetches what they dropped or judged not worth a page, best first (crawler/topic_idle.py); 0: never.
TOPIC_PAGES_PER_ARTICLE = 1.4
# The hard ceiling on pages fetched per article kept: no held link or listing is released at idle past
# it once the crawl has kept CEILING_MIN_KEPT (20) articles (crawler/topic_idle.py); 0: no ceiling.
TOPIC_MAX_PAGES_PER_ARTICLE = 1.5
# Rank the held links released at idle by a model learned within the crawl from the outcomes of the links
# it fetched (crawler/topic_learner.py); off: by their anchors' log-odds (docs/topic.md ninth pass: on, it
# found more on unseen webs but fewer on the bench's hard web).
TOPIC_LEARNED_RANKING = False
# Hold an article link without topic evidence found on a listing or an off-topic article (a teaser on a
# section page) when the pages the crawl judged lean its anchor on topic, as a kept article's teaser is
# held (crawler/relevance.py; docs/topic.md, session 14); off: such links are not followed.
TOPIC_HOLD_SEEN_TEASERS = True
# Guess a site's section page the crawl never saw, named as a section of another site whose judged articles
# were mostly on topic, spelled as the site spells its sections' URLs (crawler/topic_sections.py; docs/topic.md,
# session 15); it is held as a listing worth what its namesakes' members say. Off: only sections seen are held.
TOPIC_GUESS_SECTIONS = True
# At idle, weigh a held listing against the held teaser links by the on-topic articles a page fetched its
# expected new links make (its page and theirs, at the rate such listings' links were on topic), as the
# links' own rate is (crawler/topic_listings.py; docs/topic.md, session 16). Off: by its expected new links
# a page, as before. Off by default: the bench's hard web keeps 63 of 65 without it and 60 with it (below
# issue #19's 0.95), its development webs 8100–8139 gained 0.941 -> 0.947–0.950, and sixteen webs nobody had
# tuned on (8600–8615) read 847/913 with it against 849/913 without (docs/topic.md, session 16).
TOPIC_IDLE_ONE_SCALE = False

# --- page requisites (crawler/requisites.py, docs/requisites.md; `-a requisites=article|all|none`) ---
# Size cap per resource by kind (bytes, Scrapy's download_maxsize per request); a larger one is refused.
REQUISITES_MAX_BYTES = {"image": 10_000_000, "font": 10_000_000, "style": 5_000_000,
                        "script": 5_000_000, "media": 50_000_000}
REQUISITES_MEDIA = False  # also fetch video/audio (mp4, webm, mp3, …): off, they are large
REQUISITES_CSS_DEPTH = 2  # @import / url(…) levels followed from a page's stylesheets
REQUISITES_PRIORITY = -10  # scheduler priority: below every page (0, 1), so pages are not delayed
# Places in the downloader (of CONCURRENT_REQUESTS) page requisites may hold at once; pages keep the
# rest and are handed out first (crawler/requisite_queue.py), so requisites go beside pages, not in line.
REQUISITES_CONCURRENT_REQUESTS = 8
# Requisites waiting in the scheduler past which they go first and pages wait for them (unless hosts other
# than the next page's hold them back): the bound on the requisites' backlog, so they keep pace with the pages.
REQUISITES_BACKLOG = 256
SCHEDULER_PRIORITY_QUEUE = "crawler.requisite_queue.PagesFirstPriorityQueue"
# Scrapy's scheduler, fetching the requisites that lead nowhere (all but stylesheets) itself through the
# engine's download path, so their responses skip the spider middlewares' chains (crawler/requisite_scheduler.py).
SCHEDULER = "crawler.requisite_scheduler.RequisiteFetchingScheduler"

# --- extraction and corpus ---------------------------------------------------
EXTRACT_ENABLED = True  # run the extraction and corpus pipelines; False: archive only
EXTRACT_WORKERS = None  # worker processes for extraction; None = one per core, 0 = inline
CORPUS_DIR = "data/corpus"  # the seed-format corpus and its manifest.jsonl
CORPUS_SEEDS = str(paths.SHIPPED_SEEDS)  # seed directory a new corpus starts with (the shipped seeds/); "" = empty
# Seconds a request in flight may hold back the corpus writes of pages sent after it (corpus order:
# WARC-Date, then URL; docs/corpus-determinism.md). A page arriving later is written when it arrives.
CORPUS_ORDER_WAIT = 60.0
ITEM_PIPELINES = {
    "crawler.pipelines.corpus.ExtractionPipeline": 300,
    "crawler.pipelines.corpus.CorpusPipeline": 800,
}
EXTENSIONS = {
    # First: repairs .open files and rolls back state/corpus rows the archive does not hold,
    # before any other component opens them (crawler/extensions/recovery.py).
    "crawler.extensions.recovery.ResumeReconciliation": 0,
    # Shared resources, fetched from the crawler by the components that use them (crawler.get_extension).
    "crawler.pipelines.workers.ExtractionWorkers": 100,
    "crawler.extensions.summary.CrawlSummary": 500,
    "crawler.extensions.report.CrawlReport": 510,
    "crawler.extensions.gc_freeze.GcFreeze": 520,
}
# Full garbage collections walk only what was promoted since the last one, the whole heap once it may
# have doubled, so their cost a page does not grow with the crawl or the corpus (crawler/extensions/gc_freeze.py).
GC_FREEZE = True
# The youngest generation is collected once this many more objects were allocated than freed (Python's 700 was
# passed every other page of a crawl, each collection walking every page in flight); 0: Python's own (crawler/extensions/gc_freeze.py).
GC_YOUNG_THRESHOLD = 10_000
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"  # a duplicate or a hub page is routine, not a warning
# Items are logged by URL and verdict, never their contents (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.UrlLogFormatter"
# Scrapy's in-memory stats without its per-attribute deprecation shim (~7 µs a stats call: crawler/stats.py).
STATS_CLASS = "crawler.stats.DirectStatsCollector"
LOG_LEVEL = "INFO"

# --- replay / distributed -----------------------------------------------------
# ARCHIVE_REPLAY=DIR: crawl from that archive, no network; the addon swaps the
# download handlers and turns WARC capture off (crawler/downloadhandlers/replay.py).
ARCHIVE_REPLAY = ""
ARCHIVE_REPLAY_AT = ""  # serve captures nearest this time (YYYYMMDDhhmmss) instead of the latest
ADDONS = {"crawler.downloadhandlers.replay.ArchiveReplayAddon": 0, "crawler.distributed.addon.DistributedCrawlAddon": 0,
          "crawler.contact.ContactAddon": 0}
# REDIS_URL (or the environment's REDIS_URL): scrapy-redis frontier and dupe filter shared by
# every process on that Redis; the addon does nothing without it, and scrapy-redis is not imported (crawler/distributed/addon.py).
REDIS_URL = ""
REDIS_IDLE_TIMEOUT = 10.0  # s the shared frontier stays empty before a process finishes; < 0: wait forever
REDIS_WORKER_TIMEOUT = 30.0  # s without a heartbeat before a process counts as dead and its requests are requeued
REDIS_HEARTBEAT_INTERVAL = 2.0  # s between a process's heartbeats (and its in-flight bookkeeping)
REDIS_CORPUS_SHARDS = True  # each process writes CORPUS_DIR/<host>-<pid>; merge with `python -m archive extract`

FEED_EXPORT_ENCODING = "utf-8"
