"""The `news` spider: seeds → article → related pages, within depth and a page cap.

Which links count as related, which pages are articles and which are listings
is per-site data in archive/sites/; this module only walks the graph. Without
a topic (`-a topic=none`), `-a depth` counts hops from a start URL. With one,
it counts off-topic pages in a row since the last on-topic one (tunnelling):
a chain of on-topic articles is followed as far as it goes, and `max_pages`
is what bounds the crawl. Which links a page passes on is crawler/relevance.py's.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from itertools import compress, count
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.utils.response import get_base_url

from archive.extract.article import markup_refusal
from archive.extract.pool import ExtractionTimedOut, WorkerDied
from archive.extract.links import PageReading, ReadSpec, read_page
from archive.extract.sent_links import link_urls, links_at
from archive.urls import site_of
from archive.warc.httpcodec import declared_charset
from archive.extract.topic import TopicError, load_topic
from crawler.downloadermiddlewares.address_policy import URL_NAMED
from crawler.archived_pages import NeverExtracted
from crawler.arguments import DEFAULT_SEEDS, parse_crawl_arguments
from crawler.distributed.addon import redis_url
from crawler.discovery import Discovery
from crawler.dupefilter import PAGE, TOPIC_RULE
from crawler.items import ArticlePage
from crawler.refusals import Refused
from crawler.relevance import TopicGate, continues_series
from crawler.topic_series import SeriesParts
from crawler.topic_idle import (RESERVE, TOPIC_ANCHORS, TOPIC_HELD, TOPIC_HOPS, TOPIC_PARENT_TITLE, TOPIC_PROBED,
                                IdleRelease)
from crawler.requisites import Requisites
from crawler.downloadermiddlewares.topic_recheck import RECHECK_ANCHOR
from archive.sites import profile_for, profiles
from archive.sites.generic import is_article_page, is_crawlable
from crawler.pipelines.corpus import REACHED_AT
from crawler.pipelines.workers import extraction_pool, wait_for
from crawler.downloadermiddlewares.incremental import META as INCREMENTAL_OUTCOME, NOT_EXTRACTED, PICKED_UP

NOTHING = ReadSpec()  # a page whose text and links no decision needs


def header_charset(response: Response) -> str | None:
    """The `charset` of the response's Content-Type header as sent, for extraction: decoding.py reads it
    as a browser does (`latin1` is windows-1252, an unknown label is ignored, and then the page's own
    `<meta>` decides), as re-extraction reads the one in the WARC. Not Scrapy's `response.encoding`: with
    no charset in the header that is a guess from the body (`cp1252` for a UTF-8 page with one bad byte:
    cp1252 decodes anything), and otherwise a Python codec name from w3lib's own table (`big5hkscs`,
    `cp874`: not labels a browser knows)."""
    content_type = response.headers.get(b"Content-Type")
    return declared_charset(content_type.decode("latin-1")) if content_type else None


def _never(url: str) -> bool:
    return False


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, urls=None, seeds=None, depth=None, max_pages=None,
                 since=None, topic=None, requisites=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seeds_arg = seeds
        self._default_start = urls is None and seeds is None  # distributed mode then reads Redis only
        self.args = parse_crawl_arguments(urls=urls, seeds=seeds, depth=depth,
                                          max_pages=max_pages, topic=topic, since=since,
                                          requisites=requisites)
        self.start_urls = self.args.start_urls
        self.max_depth = self.args.depth
        self.max_pages = self.args.max_pages
        self.supported_hosts = {h for p in profiles() for h in p.hosts}

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    async def start(self):
        distributed = bool(redis_url(self.settings))  # REDIS_URL: crawler/distributed/addon.py
        # Distributed without -a urls/seeds: start URLs come from Redis only, not the shipped seeds.
        start_urls = [] if distributed and self._default_start else self.start_urls
        for path in self.args.seeds_without_url if start_urls is self.start_urls else ():
            self.logger.warning("seed has no URL (Nguồn:/Đường dẫn bài viết:), not crawled: %s", path)
            self.crawler.stats.inc_value("seeds/without_url")
        for line in self.args.invalid_seed_lines:
            self.logger.warning("invalid seed line skipped: %s", line)
            self.crawler.stats.inc_value("seeds/invalid")
        for request in self.requisites.resumed(self.parse_requisite, self.requisite_failed):  # after a crash
            yield request
        for url in start_urls:
            yield self._request(url, found_from=None)
        if self.args.discover:  # `-a since=…`: sitemaps, feeds, listings (crawler/discovery.py)
            self.discovery = Discovery(self, self.args.since)
            for request in self.discovery.entry_requests():
                yield request
        # Pages an earlier run archived but never extracted, served from the archive (crawler/archived_pages.py).
        async for request in NeverExtracted(self.crawler).requests(self._picked_up):
            yield request
        if distributed:  # start URLs pushed by `python -m crawler enqueue`; waits while other processes work
            from crawler.distributed.redis import queued_start_urls  # scrapy-redis: only in this mode

            async for url in queued_start_urls(self.crawler):
                # The user named it: the address policy allows its host (crawler/downloadermiddlewares/address_policy.py).
                self.crawler.signals.send_catch_log(signal=URL_NAMED, url=url)
                yield self._request(url, found_from=None)

    @cached_property
    def requisites(self) -> Requisites:
        """Page requisites (`-a requisites`): crawler/requisites.py."""
        return Requisites(self.crawler, self.args.requisites)

    async def parse_discovery(self, response: Response):
        """Callback of robots.txt, sitemaps, feeds and listing pages found by discovery; a spider
        method so JOBDIR can store it."""
        kind, body = self.discovery.classify(response)
        if kind is None:  # a listing page (an entry point)
            async for element in self.parse(response):
                yield element
            return
        for element in self.discovery.parse(response, kind, body):
            yield element

    def _request(self, url: str, found_from: str | None, priority: int = 0) -> scrapy.Request:
        """A request for a page. The scheduler's dupe filter drops it when its canonical URL was
        requested already, and counts it against `max_pages` when not (crawler/dupefilter.py)."""
        return scrapy.Request(url, callback=self.parse, errback=self.on_error,
                              priority=priority, meta={"found_from": found_from, PAGE: True})

    def _picked_up(self, url: str) -> scrapy.Request:
        """A page picked up from the crawl state: extracted and judged, its links not followed (they
        were read when it was fetched, unless the run was killed first), not counted against max_pages
        (no site is asked for it), not a start URL."""
        request = self._request(url, found_from=None)
        del request.meta[PAGE]
        request.meta["depth"] = self.max_depth
        return request

    def _dupe_filter_asks(self, name: str):
        """The scheduler's dupe filter's method `name` (crawler/dupefilter.py), None when there is
        none to ask (no engine; distributed mode's filter has neither)."""
        scheduler = self.crawler.engine.scheduler if self.crawler.engine else None
        return getattr(getattr(scheduler, "df", None), name, None)

    def _requested(self) -> Callable[[str], bool]:
        """Whether a URL was admitted by the scheduler's dupe filter already in this run; always
        False when the dupe filter cannot say, and for a request still on its way. Looked up once a
        page: a generic page has ~140 links."""
        return self._dupe_filter_asks("url_seen") or _never

    def _unseen(self) -> Callable[[Collection[str]], set[str]]:
        """The URLs not admitted by the scheduler's dupe filter yet, of those given: all of them when it
        cannot say, as `_requested` says."""
        return self._dupe_filter_asks("unseen") or set

    @cached_property
    def topic_gate(self) -> TopicGate | None:
        """The topic filter (`-a topic`); `auto` reads the crawl's seed directory,
        else `CORPUS_SEEDS`, else the shipped seeds."""
        seeds = self.args_seeds_dir or self.settings.get("CORPUS_SEEDS") or DEFAULT_SEEDS
        try:
            topic = load_topic(self.args.topic, seeds)
        except TopicError as exc:  # auto on a seed directory with no usable text
            self.logger.warning("%s; topic profile from the shipped seeds instead", exc)
            topic = load_topic(self.args.topic, DEFAULT_SEEDS)
        if topic is None:
            return None
        topic = replace(topic, threshold=self.settings.getfloat("TOPIC_THRESHOLD", topic.threshold),
                        anchor_threshold=self.settings.getfloat("TOPIC_ANCHOR_THRESHOLD",
                                                                topic.anchor_threshold))
        self.logger.info("topic profile from %s (threshold %.2f, anchors %.2f): %s", topic.source,
                         topic.threshold, topic.anchor_threshold,
                         ", ".join(t for t, _ in topic.top_terms(12)))
        return TopicGate(topic, hold_seen_teasers=self.settings.getbool("TOPIC_HOLD_SEEN_TEASERS"))

    @property
    def args_seeds_dir(self) -> str | None:
        seeds = getattr(self, "_seeds_arg", None)
        return seeds if seeds and Path(seeds).is_dir() else None

    async def parse(self, response: Response):
        profile = profile_for(response.url)
        depth = response.meta.get("depth", 0)
        self.crawler.stats.inc_value(f"news/pages/{profile.name}")
        if not isinstance(response, TextResponse):
            self.logger.info("not a text page, archived only: %s", response.url)
            return
        unread = markup_refusal(response.body)  # before anything parses it, here or in a worker
        if unread is not None:
            self._not_parsed(response, unread)
            return
        # A generic site's page type is decided from the page: by the page gate in the worker that
        # parses it anyway (None until then), or here when there are no workers.
        generic = profile.name.startswith("generic:")
        if generic:
            is_article = None if extraction_pool(self.crawler) is not None else \
                is_article_page(response.url, response.selector)
        else:
            is_article = profile.is_article_url(response.url)
        if is_article is False:
            self.crawler.stats.inc_value("news/listing_pages")
        # The corpus order is the record's WARC-Date, then the URL (archive/corpus/ordering.py),
        # not the order pages come back from the workers.
        article, fingerprint, reading = await self._read(response, profile, depth, is_article, generic)
        if reading.unread is not None:
            return
        if is_article is None:  # a generic page: the worker's page gate decided
            is_article = bool(reading.is_article)
            if not is_article:
                self.crawler.stats.inc_value("news/listing_pages")
        # Recorded pending in the crawl state before the item lets the page count as done (crash safety).
        requisites = self.requisites.requests(reading.requisites, 0, self.parse_requisite, self.requisite_failed)
        for element in self._decide_and_follow(response, profile, depth, is_article, reading, article,
                                               fingerprint):
            yield element
        for request in requisites:
            yield request

    def _read_spec(self, profile, is_article: bool, depth: int) -> ReadSpec:
        """What the decisions on this page need read: the topic gate's text and the links, and
        what the page embeds when its requisites are archived. `is_article` None: the page gate
        decides, reading the listing's spec if it finds no article."""
        if is_article is None:
            return replace(self._read_spec(profile, True, depth), listing=self._read_spec(profile, False, depth))
        spec = self._decision_spec(profile, is_article, depth)
        return replace(spec, requisites=True) if self.requisites.wanted(is_article) else spec

    def _decision_spec(self, profile, is_article: bool, depth: int) -> ReadSpec:
        gated = self.topic_gate is not None
        # Without a topic, depth counts hops from a start URL; with one, off-topic hops in a row,
        # known only once the page is judged, so its links are read unless nothing is ever followed.
        if self.max_depth == 0 or (not gated and depth >= self.max_depth):
            return ReadSpec(text="article" if gated and is_article else "")
        if is_article:
            return ReadSpec(text="article" if gated else "", links=profile.related_links, anchors=gated,
                            max_links=self.max_links)
        return ReadSpec(text="listing" if gated else "", links=profile.listing_links,
                        next_pages=profile.pagination_links, anchors=gated, max_links=self.max_links)

    @cached_property
    def max_links(self) -> int:
        """`PAGE_MAX_LINKS`: links read from one page at most (0: no cap)."""
        return max(0, self.settings.getint("PAGE_MAX_LINKS", 0))

    async def _read(self, response: TextResponse, profile, depth: int, is_article: bool, generic: bool):
        """`(article, fingerprint, reading)`: from one parse in an extraction worker (crawler/pipelines/workers.py)
        when there is a pool, else `(None, None, reading)` read here, by the same readers."""
        article, fingerprint, reading = await self._read_page(response, profile, depth, is_article, generic)
        if reading.unread is not None:
            self._not_parsed(response, reading.unread)
        elif reading.links_capped:
            self.crawler.stats.inc_value("pages/links_capped")
            self.logger.warning("more than %d links on %s: the first %d read", self.max_links, response.url,
                                self.max_links)
        return article, fingerprint, reading

    async def _read_page(self, response: TextResponse, profile, depth: int, is_article: bool, generic: bool):
        spec = self._read_spec(profile, is_article, depth)
        # An unchanged page's article is already in the corpus (crawler/downloadermiddlewares/incremental.py drops it).
        extract = is_article is not False and response.meta.get(INCREMENTAL_OUTCOME) not in ("unchanged",
                                                                                           "not-modified")
        pool = extraction_pool(self.crawler)
        if pool is not None and (extract or spec != NOTHING):
            try:
                # With a topic gate, the worker also measures the page's text and anchors against it.
                topic = self.topic_gate.topic if self.topic_gate is not None else None
                return await wait_for(pool.submit_page(response.body, response.url, profile.extraction,
                                                       header_charset(response), spec, extract=extract,
                                                       topic=topic))
            except (ExtractionTimedOut, WorkerDied) as exc:
                # The page itself stopped the worker: reading it here would stop the crawl instead.
                what = "extraction timed out" if isinstance(exc, ExtractionTimedOut) else "extraction worker died"
                self.crawler.stats.inc_value(f"pages/{what.replace(' ', '_')}")
                response.meta[NOT_EXTRACTED] = True  # the crawl state keeps it "never extracted": the next run tries again
                return None, None, PageReading(unread=f"{what}: {exc}")
            except Exception as exc:  # a failed worker: read here; the extraction pipeline tries again
                self.crawler.stats.inc_value("news/analyse_failed")
                self.logger.warning("could not analyse %s in a worker (%s: %s)", response.url,
                                    type(exc).__name__, exc)
        if spec == NOTHING:  # don't parse the page for nothing
            return None, None, PageReading()
        return None, None, read_page(response.selector, get_base_url(response), spec, profile.extraction)

    def _decide_and_follow(self, response: TextResponse, profile, depth: int, is_article: bool,
                           reading: PageReading, article=None, fingerprint=None):
        """The article item unless the topic gate drops it, then the requests for the links to
        follow: the same decisions whether a worker or this thread read the page."""
        gate = self.topic_gate
        if gate is None:
            if is_article:
                yield self._article_page(response, profile, depth, None, article, fingerprint)
            if depth < self.max_depth:
                yield from self._requests_for(response.url, (
                    (url, 1 if profile_for(url).is_article_url(url) else 0, None) for url in link_urls(reading.links)))
            return
        picked_up = response.meta.get(PICKED_UP, False)
        start = response.meta.get("found_from") is None and not picked_up
        if is_article:
            # Start URLs are kept whatever they say; pages from sitemaps/feeds (no link rule) are judged.
            guess = self.held.guess(gate, response.meta, response.url)  # before the verdict teaches the gate
            parent_title = response.meta.get(TOPIC_PARENT_TITLE)
            if not continues_series(reading.text, parent_title):  # a kept part it links to as its neighbour
                parent_title = self.series_parts.neighbour_title(reading.text, reading.links) or parent_title
            verdict = gate.judge_page(reading.text, response.meta.get(TOPIC_RULE) or _reached_by(start, picked_up),
                                      anchors=response.meta.get(TOPIC_ANCHORS, ()), parent_title=parent_title)
            self.crawler.stats.inc_value(f"topic/{'kept' if verdict.keep else 'off_topic'}")
            if verdict.rule != "unjudged":
                self.held.learn(guess, verdict.on_topic, response.url)
            if response.meta.get(TOPIC_HELD):
                self.held.links.judged(verdict.on_topic, reserve=response.meta[TOPIC_HELD] == RESERVE)
            if response.meta.get(TOPIC_PROBED) and verdict.rule != "unjudged":  # what such listings' links are worth
                self.held.listings.member_judged(verdict.on_topic)
                self.crawler.stats.inc_value(f"topic/probed_links/{'on' if verdict.on_topic else 'off'}_topic")
            if verdict.keep:
                yield self._article_page(response, profile, depth, verdict, article, fingerprint)
                if verdict.on_topic:
                    self.series_parts.kept(response.url, reading.text)
            else:
                self.logger.info("%s, archived only: %s", verdict.reason, response.url)
            self._spent(response, "kept" if verdict.keep else "off_topic")
            on_topic, score, mode = verdict.on_topic, verdict.score, "related" if verdict.on_topic else "tunnel"
            if verdict.rule != "unjudged":  # a start URL too: on topic by the user's word, its listings count it
                listings = [(url, anchor) for url, anchor, _ in links_at(reading.links, compress(
                    count(), map(_leads_to_listing, link_urls(reading.links))))]
                self.held.listings.judged_article(response.url, [url for url, _ in listings], on_topic,
                                                  follows_links=self.max_depth > 0 and not picked_up)
                self.held.saw_listing_links(listings)
        else:
            topical, score = gate.listing_is_topical(reading.text)
            on_topic, mode = topical or start, "topic-listing" if topical else "listing"
            if mode == "listing" and response.meta.get(TOPIC_RULE) == "listing":
                mode = "probe"
            self._spent(response, "listing")
            self.held.listings.listed(response.url, sum(1 for url, _, is_next in reading.links
                                                       if not is_next and not _leads_to_listing(url)))
        if picked_up:  # its links were read when it was fetched
            return
        # Tunnelling: depth counts the off-topic pages in a row since the last on-topic one.
        hops = 0 if on_topic else response.meta.get(TOPIC_HOPS, 0) + 1
        if hops >= self.max_depth:
            if self.max_depth:
                self.crawler.stats.inc_value("topic/tunnel_ends")
            return
        gate.read_links(reading.links)
        if mode in ("related", "tunnel", "probe"):  # links already requested need no judging
            candidates = _unrequested(reading.links, self._unseen())  # (a listing's choice depends on them)
        else:
            candidates = list(reading.links)
        # The series rule (crawler/relevance.py) compares a page's title with its on-topic parent's.
        title = reading.text.split("\n", 1)[0] if is_article and on_topic and reading.text else None
        links = gate.choose_links(candidates, mode, score, is_listing=_leads_to_listing, page_title=title or "")
        if mode == "probe":
            # Its yield: the links it passed on to be fetched (a held teaser is not one yet).
            self.held.listings.yielded(response.url, sum(1 for link in links
                                                         if not link.held and not _leads_to_listing(link.url)))
        requested = self._requested()
        for link in links:
            if link.listing:
                self.held.listings.hold(link.url, response.url, hops, link.anchor)
            elif link.held and not requested(link.url):  # (a listing's links were not filtered above)
                self.held.links.hold(link.url, link.anchor, response.url, hops, title)
        links = [link for link in links if not link.held]
        if not on_topic and links:  # past the ceiling, an off-topic page's links wait like idle releases do
            links = self._within_ceiling(links, response.request)
        anchors = {link.url: link.anchor for link in links}
        rechecked = {link.url for link in links if link.recheck}
        for request in self._requests_for(response.url, ((link.url, link.priority, link.rule) for link in links),
                                          hops):
            if anchors.get(request.url):
                request.meta[TOPIC_ANCHORS] = [anchors[request.url]]
            if request.url in rechecked:
                request.meta[RECHECK_ANCHOR] = anchors[request.url]
            if title:
                request.meta[TOPIC_PARENT_TITLE] = title
            if mode == "probe":
                request.meta[TOPIC_PROBED] = True
            yield request

    def _within_ceiling(self, links: list, request) -> list:
        """The best of an off-topic page's or listing's links that the page ceiling leaves room for
        (crawler/topic_idle.py, `room_to_follow`); stat `topic/ceiling_cut` counts the others. A kept
        article's links are all followed: each kept article adds to the room."""
        room = self.held.room_to_follow(request)
        if len(links) <= room:
            return links
        kept = sorted(links, key=lambda link: -link.priority)[:max(0, int(room))]
        self.crawler.stats.inc_value("topic/ceiling_cut", len(links) - len(kept))
        return kept

    def _spent(self, response: Response, kind: str) -> None:
        """Where a topic crawl's pages go: stat `topic/pages/<kept|off_topic|listing>/<how reached>`
        (the rule its link was followed by; `held`: released when the crawl was idle)."""
        held = response.meta.get(TOPIC_HELD)
        picked_up = response.meta.get(PICKED_UP, False)
        how = (RESERVE if held == RESERVE else "held") if held else response.meta.get(TOPIC_RULE) or _reached_by(
            response.meta.get("found_from") is None and not picked_up, picked_up)
        self.crawler.stats.inc_value(f"topic/pages/{kind}/{how}")

    @cached_property
    def series_parts(self) -> SeriesParts:
        """The series parts a topic crawl kept (crawler/topic_series.py)."""
        return SeriesParts()

    @cached_property
    def held(self) -> IdleRelease:
        """A topic crawl's links and listings without evidence yet, spent when it is idle."""
        return IdleRelease(self.crawler, self._requests_for)

    def _on_idle(self):
        if self.topic_gate is not None:
            self.held.on_idle(self.topic_gate)

    def _article_page(self, response, profile, depth: int, verdict, article,
                      fingerprint) -> ArticlePage:
        """The item; with the worker's article (then the body is not needed) and topic verdict."""
        extra = {} if verdict is None else {"score": verdict.score, "rule": verdict.rule}
        if article is not None:
            extra["fingerprint"] = fingerprint
        return ArticlePage(
            url=response.url,
            site=site_of(response.url),
            body=b"" if article is not None else response.body,
            encoding=header_charset(response) if article is None else None,
            status=response.status,
            depth=depth,
            found_from=response.meta.get("found_from"),
            fetched_at=self._fetched_at(response),
            warc_record_id=response.meta.get("warc_record_id"),
            warc_location=response.meta.get("warc_location"),
            warc_date=response.meta.get("archived_at"),
            reached_at=response.meta.get(REACHED_AT),
            article=article,
            extra=extra,
        )

    def _requests_for(self, from_url: str, links, hops: int = 0):
        """Requests for `(url, priority, topic rule or None)` links; `hops`: the off-topic pages in a
        row up to and including the linking page (topic crawls)."""
        for url, priority, rule in links:
            if not self._may_follow(from_url, url):
                continue
            request = self._request(url, found_from=from_url, priority=priority)
            if rule is not None:  # counted as `topic/followed/<rule>` once admitted (crawler/dupefilter.py)
                request.meta[TOPIC_RULE] = rule
                request.meta[TOPIC_HOPS] = hops
            yield request

    def _may_follow(self, from_url: str, to_url: str) -> bool:
        """Stay on supported sites, or on the same (generic) site we are on."""
        if not to_url.startswith(("http://", "https://")):
            return False
        target = profile_for(to_url)
        if bool(set(target.hosts) & self.supported_hosts):
            return True
        return target == profile_for(from_url) and is_crawlable(to_url)

    @staticmethod
    def _fetched_at(response) -> str:
        """When the page was captured: its record's WARC-Date (live or replayed), else now."""
        archived = response.meta.get("archived_at")
        if archived:
            return datetime.fromisoformat(archived).astimezone(timezone.utc).isoformat(timespec="seconds")
        return datetime.now(timezone.utc).isoformat(timespec="seconds")

    def _not_parsed(self, response: Response, reason: str) -> None:
        """A page archived but neither extracted nor followed (`pages/not_parsed` in the stats)."""
        self.crawler.stats.inc_value("pages/not_parsed")
        self.logger.warning("not parsed (%s), archived only: %s", reason, response.url)

    def parse_requisite(self, response: Response):
        """A page requisite's response (archived by then): only a stylesheet leads further."""
        yield from self.requisites.answered(response, self.parse_requisite, self.requisite_failed)

    def requisite_failed(self, failure):
        self.requisites.failed(failure)

    def on_error(self, failure):
        if failure.check(Refused):  # counted and logged where it was refused (crawler/refusals.py)
            return
        request = failure.request
        self.crawler.stats.inc_value(f"news/errors/{failure.type.__name__}")
        self.logger.warning("download failed: %s (%s: %s)", request.url,
                            failure.type.__name__, failure.getErrorMessage())


def _reached_by(start: bool, picked_up: bool) -> str:
    """How a page no link rule led to was reached: a start URL, picked up from the crawl state
    (crawler/archived_pages.py), or discovered (a sitemap or feed)."""
    return "start" if start else "archived" if picked_up else "discovered"


def _unrequested(links, unseen: Callable[[Collection[str]], set[str]]) -> list:
    """The links whose URL was not requested, in order. `unseen` (the dupe filter's, which changes
    nothing) is asked once, of the URLs the links name, each once; only the links returned are
    built (archive/extract/sent_links.py `links_at`: a page from a worker makes its anchors when read)."""
    urls = link_urls(links)
    fresh = unseen(dict.fromkeys(urls))
    return links_at(links, compress(count(), map(fresh.__contains__, urls)))


@lru_cache(maxsize=1 << 16)
def _leads_to_listing(url: str) -> bool:
    """A tag, section or home page by its site's URL patterns (a generic host's are guesses: no).
    Cached: a topic crawl asks it of every link of every judged page, and links repeat."""
    profile = profile_for(url)
    return not profile.name.startswith("generic:") and profile.is_listing_url(url)
