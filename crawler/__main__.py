"""`python -m crawler enqueue|status|reset|args`: the Redis side of a distributed crawl, and help.

  enqueue URL… | --seeds PATH   push start URLs to `news:start_urls`
  status                         queue length, start URLs waiting, workers and their in-flight requests
  reset                          delete the crawl's keys (queue, dupe filter, start list, workers)
  args                           the spider arguments of `scrapy crawl news`, with their defaults

The Redis server is `--redis-url`, else REDIS_URL from the environment, else
the project setting. Errors end with one `error: …` line and exit code 2.
"""
from __future__ import annotations

import argparse
import os
import sys


def _program(module_form: str) -> str:
    """`python -m crawler`, or the console script's name (`vn-crawler`) when run as one."""
    name = os.path.basename(sys.argv[0] or "")
    return module_form if name in ("", "__main__.py", "-c") else name


def _server(url_arg: str | None):
    import redis

    from crawler.distributed.addon import redis_url

    url = url_arg or redis_url(_project_settings())
    if not url:
        raise SystemExit("error: no Redis: pass --redis-url or set REDIS_URL")
    server = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        server.ping()
    except redis.RedisError as exc:
        raise SystemExit(f"error: cannot reach Redis at {url}: {exc}") from None
    return server


def _project_settings():
    from scrapy.utils.project import get_project_settings

    return get_project_settings()


def enqueue(args) -> int:
    from crawler.arguments import ArgumentError, parse_crawl_arguments
    from crawler.distributed.addon import keys_for, start_url_data

    if not args.urls and not args.seeds:
        raise SystemExit("error: give URLs or --seeds PATH")
    try:
        parsed = parse_crawl_arguments(urls=",".join(args.urls) if args.urls else None, seeds=args.seeds)
    except ArgumentError as exc:
        raise SystemExit(f"error: {exc}") from None
    for line in parsed.invalid_seed_lines:
        print(f"warning: invalid seed line skipped: {line}", file=sys.stderr)
    for path in parsed.seeds_without_url:
        print(f"warning: seed has no URL, not enqueued: {path}", file=sys.stderr)
    server = _server(args.redis_url)
    key = keys_for(args.spider)["start_urls"]
    if parsed.start_urls:
        server.lpush(key, *(start_url_data(u) for u in parsed.start_urls))
    print(f"{len(parsed.start_urls)} start URLs pushed to {key} ({server.llen(key)} waiting)")
    return 0


def status(args) -> int:
    from crawler.distributed.addon import keys_for

    server = _server(args.redis_url)
    keys = keys_for(args.spider)
    print(f"queued requests: {server.zcard(keys['queue'])}")
    print(f"start URLs waiting: {server.llen(keys['start_urls'])}")
    print(f"fingerprints seen: {server.scard(keys['dupefilter'])}")
    seconds, micros = server.time()
    now_ms = seconds * 1000 + micros // 1000
    for worker, beat in server.zrange(keys["workers"], 0, -1, withscores=True):
        name = worker.decode()
        in_flight = server.hlen(keys["inflight"] + name)
        print(f"worker {name}: last heartbeat {(now_ms - beat) / 1000:.1f} s ago, {in_flight} in flight")
    return 0


def reset(args) -> int:
    from crawler.distributed.addon import keys_for

    server = _server(args.redis_url)
    keys = keys_for(args.spider)
    workers = [w.decode() for w in server.zrange(keys["workers"], 0, -1)]
    doomed = [keys[k] for k in ("queue", "dupefilter", "start_urls", "workers", "tokens")]
    doomed += [keys["inflight"] + w for w in workers]
    doomed += [k.decode() for k in server.scan_iter(match=keys["inflight"] + "*")]
    deleted = server.delete(*set(doomed))
    print(f"deleted {deleted} keys of spider {args.spider!r}")
    return 0


def spider_arguments(args) -> int:
    from crawler.arguments import arguments_help

    print(arguments_help())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=_program("python -m crawler"), description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="Redis server (default: REDIS_URL)")
    parser.add_argument("--spider", default="news", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("enqueue", help="push start URLs to the Redis start queue")
    command.add_argument("urls", nargs="*", metavar="URL")
    command.add_argument("--seeds", metavar="PATH",
                         help="a file of URLs (one a line) or a directory of seed-format .txt files")
    command.add_argument("--redis-url", default=argparse.SUPPRESS, help="Redis server (default: REDIS_URL)")
    command.set_defaults(run=enqueue)
    for name, run, text in (("status", status, "show the shared frontier and the workers"),
                            ("reset", reset, "delete the crawl's queue, dupe filter, start list and workers")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--redis-url", default=argparse.SUPPRESS, help="Redis server (default: REDIS_URL)")
        command.set_defaults(run=run)
    sub.add_parser("args", help="list the spider arguments of `scrapy crawl news` with their defaults"
                   ).set_defaults(run=spider_arguments)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
