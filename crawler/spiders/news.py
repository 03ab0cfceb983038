"""The `news` spider: seeds → article → related pages, within depth and a page cap.

Which links count as related, which pages are articles and which are listings
is per-site data in crawler/sites/; this module only walks the graph.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.response import get_base_url

from archive.reading import PageReading, ReadSpec, read_page
from archive.urls import canonical_url
from archive.topic import TopicError, load_topic
from crawler.arguments import DEFAULT_SEEDS, parse_crawl_arguments
from crawler.distributed import queued_start_urls, redis_url
from crawler.discovery import Discovery
from crawler.items import SEQ_RELEASED, ArticlePage
from crawler.relevance import TopicGate
from crawler.sites import profile_for, profiles
from crawler.sites.generic import is_article_page, is_crawlable
from crawler.workers import extraction_pool, wait_for
from crawler.incremental import META as INCREMENTAL_OUTCOME

NOTHING = ReadSpec()  # a page whose text and links no decision needs


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, urls=None, seeds=None, depth=None, max_pages=None,
                 since=None, topic=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seeds_arg = seeds
        self._default_start = urls is None and seeds is None  # distributed mode then reads Redis only
        self.args = parse_crawl_arguments(urls=urls, seeds=seeds, depth=depth,
                                          max_pages=max_pages, topic=topic, since=since)
        self.start_urls = self.args.start_urls
        self.max_depth = self.args.depth
        self.max_pages = self.args.max_pages
        self._seen: set[str] = set()  # canonical URLs requested in this run: grows with the run, not the corpus
        self._scheduled = 0
        self._items = 0
        self.supported_hosts = {h for p in profiles() for h in p.hosts}

    async def start(self):
        distributed = bool(redis_url(self.settings))  # REDIS_URL: crawler/distributed.py
        # Distributed without -a urls/seeds: start URLs come from Redis only, not the shipped seeds.
        start_urls = [] if distributed and self._default_start else self.start_urls
        for path in self.args.seeds_without_url if start_urls is self.start_urls else ():
            self.logger.warning("seed has no URL (Nguồn:/Đường dẫn bài viết:), not crawled: %s", path)
            self.crawler.stats.inc_value("seeds/without_url")
        for line in self.args.invalid_seed_lines:
            self.logger.warning("invalid seed line skipped: %s", line)
            self.crawler.stats.inc_value("seeds/invalid")
        for url in start_urls:
            request = self._request(url, found_from=None)
            if request is not None:
                yield request
        if self.args.discover:  # `-a since=…`: sitemaps, feeds, listings (crawler/discovery.py)
            self.discovery = Discovery(self, self.args.since)
            for request in self.discovery.entry_requests():
                yield request
        if distributed:  # start URLs pushed by `python -m crawler enqueue`; waits while other processes work
            async for url in queued_start_urls(self.crawler):
                request = self._request(url, found_from=None)
                if request is not None:
                    yield request

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

    def _request(self, url: str, found_from: str | None, priority: int = 0):
        """A request for url unless it was already scheduled or the page cap is reached.

        Seen-checks use the canonical URL, so http/https, tracking parameters,
        trailing slashes and amp variants of one page are fetched once.
        """
        key = canonical_url(url)
        if key in self._seen:
            return None
        if self.max_pages is not None and self._scheduled >= self.max_pages:
            self.crawler.stats.inc_value("news/skipped_max_pages")
            return None
        self._seen.add(key)
        self._scheduled += 1
        return scrapy.Request(url, callback=self.parse, errback=self.on_error,
                              priority=priority, meta={"found_from": found_from})

    def forget(self, url: str) -> None:
        """Undo `_request` for a request dropped before scheduling (crawler/incremental.py: not
        due): it was never requested, so it does not count against max_pages, and a later link
        to it (a sitemap entry whose lastmod says it changed) can still be requested."""
        key = canonical_url(url)
        if key in self._seen:
            self._seen.discard(key)
            self._scheduled -= 1

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
        return TopicGate(topic)

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
        # A generic site's page type is guessed from the page, so its page is read here.
        generic = profile.name.startswith("generic:")
        is_article = profile.is_article_url(response.url) or (
            generic and is_article_page(response.url, response.selector))
        if not is_article:
            self.crawler.stats.inc_value("news/listing_pages")
        # Numbered now, in response order, before the worker's await lets other pages run, so the
        # corpus order does not depend on which worker finishes first; a page that is then not
        # emitted (off topic) gives its number back, else the corpus writer would wait for it.
        seq = self._next_seq() if is_article else None
        emitted = False
        try:
            article, fingerprint, reading = await self._read(response, profile, depth, is_article, generic)
            for element in self._decide_and_follow(response, profile, depth, seq, reading, article,
                                                   fingerprint):
                emitted = emitted or isinstance(element, ArticlePage)
                yield element
        finally:
            if seq is not None and not emitted:
                self.crawler.signals.send_catch_log(signal=SEQ_RELEASED, seq=seq)

    def _next_seq(self) -> int:
        seq, self._items = self._items, self._items + 1
        return seq

    def _read_spec(self, profile, is_article: bool, depth: int) -> ReadSpec:
        """What the decisions on this page need read: the topic gate's text and the links."""
        gated = self.topic_gate is not None
        if depth >= self.max_depth:  # no links followed; an article still needs judging
            return ReadSpec(text="article" if gated and is_article else "")
        if is_article:
            return ReadSpec(text="article" if gated else "", links=profile.related_links, anchors=gated)
        return ReadSpec(text="listing" if gated else "", links=profile.listing_links,
                        next_pages=profile.pagination_links, anchors=gated)

    async def _read(self, response: TextResponse, profile, depth: int, is_article: bool, generic: bool):
        """`(article, fingerprint, reading)`: from one parse in an extraction worker (crawler/workers.py)
        when there is a pool, else `(None, None, reading)` read here, by the same readers."""
        spec = self._read_spec(profile, is_article, depth)
        # An unchanged page's article is already in the corpus (crawler/incremental.py drops it).
        extract = is_article and response.meta.get(INCREMENTAL_OUTCOME) not in ("unchanged", "not-modified")
        pool = extraction_pool(self.crawler)
        if pool is not None and not generic and (extract or spec != NOTHING):
            try:
                return await wait_for(pool.submit_page(response.body, response.url, profile.extraction,
                                                       response.encoding, spec, extract=extract))
            except Exception as exc:  # a crashed worker: read here; the extraction pipeline tries again
                self.crawler.stats.inc_value("news/analyse_failed")
                self.logger.warning("could not analyse %s in a worker (%s: %s)", response.url,
                                    type(exc).__name__, exc)
        if spec == NOTHING:  # don't parse the page for nothing
            return None, None, PageReading()
        return None, None, read_page(response.selector, get_base_url(response), spec, profile.extraction)

    def _decide_and_follow(self, response: TextResponse, profile, depth: int, seq: int | None,
                           reading: PageReading, article=None, fingerprint=None):
        """The article item unless the topic gate drops it, then the requests for the links to
        follow: the same decisions whether a worker or this thread read the page."""
        gate = self.topic_gate
        verdict = None
        if seq is not None and gate is not None:
            # Start URLs are kept whatever they say; pages from sitemaps/feeds (no link rule) are judged.
            reached_by = response.meta.get("topic_rule") or (
                "start" if response.meta.get("found_from") is None else "discovered")
            verdict = gate.judge_page(reading.text, reached_by)
            self.crawler.stats.inc_value(f"topic/{'kept' if verdict.keep else 'off_topic'}")
            if not verdict.keep:
                self.logger.info("%s, archived only: %s", verdict.reason, response.url)
                return  # links of an off-topic page are not followed
        if seq is not None:
            yield self._article_page(response, profile, depth, seq, verdict, article, fingerprint)
        if depth >= self.max_depth or (verdict is not None and not verdict.follow):
            return
        if gate is None:
            links = ((url, 1 if profile_for(url).is_article_url(url) else 0, None)
                     for url, _, _ in reading.links)
        else:
            links = ((link.url, link.priority, link.rule)
                     for link in self._chosen_links(gate, reading, seq is not None, verdict))
        yield from self._requests_for(response.url, links)

    @staticmethod
    def _chosen_links(gate: TopicGate, reading: PageReading, is_article: bool, verdict):
        """The links `gate` lets through, with the rule and the priority (their topic score)."""
        if is_article:
            return gate.choose_links(list(reading.links), "related", verdict.score)
        topical, page_score = gate.listing_is_topical(reading.text)
        return gate.choose_links(list(reading.links), "topic-listing" if topical else "listing", page_score)

    def _article_page(self, response, profile, depth: int, seq: int, verdict, article,
                      fingerprint) -> ArticlePage:
        """The item; with the worker's article (then the body is not needed) and topic verdict."""
        extra = {} if verdict is None else {"score": verdict.score, "rule": verdict.rule}
        if article is not None:
            extra["fingerprint"] = fingerprint
        return ArticlePage(
            url=response.url,
            site=profile.name,
            body=b"" if article is not None else response.body,
            encoding=response.encoding,
            status=response.status,
            depth=depth,
            found_from=response.meta.get("found_from"),
            fetched_at=self._fetched_at(response),
            warc_record_id=response.meta.get("warc_record_id"),
            warc_location=response.meta.get("warc_location"),
            seq=seq,
            article=article,
            extra=extra,
        )

    def _requests_for(self, from_url: str, links):
        """Requests for `(url, priority, topic rule or None)` links not yet requested."""
        for url, priority, rule in links:
            if not self._may_follow(from_url, url):
                continue
            request = self._request(url, found_from=from_url, priority=priority)
            if request is None:
                continue
            if rule is not None:
                request.meta["topic_rule"] = rule
                self.crawler.stats.inc_value(f"topic/followed/{rule}")
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
        """When the page was captured: the WARC-Date when replaying an archive, else now."""
        archived = response.meta.get("archived_at")
        if archived:
            return datetime.fromisoformat(archived).astimezone(timezone.utc).isoformat(timespec="seconds")
        return datetime.now(timezone.utc).isoformat(timespec="seconds")

    def on_error(self, failure):
        request = failure.request
        self.crawler.stats.inc_value(f"news/errors/{failure.type.__name__}")
        self.logger.warning("download failed: %s (%s: %s)", request.url,
                            failure.type.__name__, failure.getErrorMessage())
