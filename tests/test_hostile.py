"""The real `scrapy crawl news` against hostile pages (issue #22), all served from 127.0.0.1.

Every request goes to a local recording server that forwards nothing: the
fixture proxy with a `HostileSite`, or, for direct connections, a local server
reached through a stub resolver (tests/stub_resolver.py) that maps
public-looking names to 127.0.0.1. So a check that fails shows up as a
recorded hit, never as a connection to 169.254.169.254 or a private network.
"""
import json
import re
from dataclasses import replace

import pytest

from archive.cli import main as archive_main
from archive.warc.reader import iter_responses
from bench.hostile_site import HostileSite, gzip_bomb, html, meta_refresh, redirect
from tests.conftest import run_crawl
from testbed.fixtureserver import FixtureServer, Reply

ND = "http://nhandan.vn"
INTERNAL_HOSTS = ("169.254.169.254", "127.0.0.1", "localhost", "10.0.0.7", "fd00::1", "0x7f000001")
NO_PROXY = {"http_proxy": "", "https_proxy": "", "HTTP_PROXY": "", "HTTPS_PROXY": ""}


def _text(body: str, content_type: str) -> Reply:
    return Reply(body=body.encode(), headers=[("Content-Type", content_type)], encoding="identity")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """One crawl through a recording proxy of pages that point at internal addresses every way
    the issue lists, plus a gzip bomb."""
    site = HostileSite()
    seeds = [
        site.add(f"{ND}/chuyen-huong-post1.html", redirect("http://169.254.169.254/latest/meta-data/iam/")),
        site.add(f"{ND}/lam-moi-post2.html", meta_refresh("http://127.0.0.1:6379/")),
        site.add(f"{ND}/redis-post3.html", redirect("http://localhost:6379/", status=302)),
        site.add(f"{ND}/so-hex-post4.html", redirect("http://0x7f000001/admin")),
        site.add(f"{ND}/bom-post5.html", gzip_bomb(64 * 1024 * 1024)),
    ]
    # Discovery (-a since=all) reads robots.txt and the sitemaps of the seeds' site.
    site.add("https://nhandan.vn/robots.txt", _text(
        "User-agent: *\nAllow: /\nSitemap: http://169.254.169.254/latest/meta-data/sitemap.xml\n", "text/plain"))
    site.add("https://nhandan.vn/sitemaps.xml", _text(
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>http://10.0.0.7/sitemap-1.xml</loc></sitemap>"
        "<sitemap><loc>http://[fd00::1]/sitemap-2.xml</loc></sitemap></sitemapindex>", "application/xml"))
    server = FixtureServer(site).start_background()
    out = tmp_path_factory.mktemp("hostile") / "run"
    try:
        run = run_crawl(out, f"urls={','.join(seeds)}", "depth=1", "topic=none", "since=all", server=server,
                        # The fixture has no listing pages for discovery's entry points (404s): this test is
                        # about refusals, not about the exit code those would give (tests/test_exit_codes.py).
                        settings={"CORPUS_SEEDS": "", "CRAWL_STATE": "", "CRAWL_REPORT": out / "runs.jsonl",
                                  "CRAWL_FAIL_RATIO": 1.0})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    return site, run


def test_no_request_reaches_an_internal_address(proxied):
    site, run = proxied
    for host in INTERNAL_HOSTS:
        assert site.hits_on(host) == [], host
    assert f"{ND}/chuyen-huong-post1.html" in site.hits  # the pages that point there were fetched
    assert "https://nhandan.vn/sitemaps.xml" in site.hits


def test_every_path_is_refused_counted_and_logged_once_per_host(proxied):
    _, run = proxied
    log = run.log()
    # redirect, meta refresh, redirect to a local name, to a hex IP literal, robots.txt Sitemap:, two index entries
    assert run.stats["refused/non_public_address"] == 7
    for host in ("169.254.169.254", "127.0.0.1", "localhost", "0x7f000001", "10.0.0.7", "fd00::1"):
        assert len(re.findall(rf"refused: non-public address: {re.escape(host)} ", log)) == 1, host
    assert not re.search(r"download failed: .*(169\.254|127\.0\.0\.1|localhost|10\.0\.0\.7)", log)
    assert "download errors   0" in run.stdout  # a refusal is not a download error
    [report] = [json.loads(line) for line in (run.out / "runs.jsonl").read_text().splitlines()]
    assert not [kind for kind in report["errors"] if "Refused" in kind or "TooLarge" in kind]


def test_refused_requests_are_never_archived(proxied):
    _, run = proxied
    archived = {r.url for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz")))}
    assert f"{ND}/chuyen-huong-post1.html" in archived
    assert not [url for url in archived if any(host in url for host in INTERNAL_HOSTS)]


def test_a_gzip_bomb_is_archived_as_sent_and_refused(proxied):
    site, run = proxied
    assert run.stats["refused/too_large"] == 1
    [bomb] = [r for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz")), max_body=0)
              if r.url.endswith("/bom-post5.html")]
    assert bomb.header("Content-Encoding") == "gzip"
    sent = site.pages["nhandan.vn/bom-post5.html"].body
    assert len(sent) < 200_000 and len(bomb.payload) > 64_000_000  # decoded here only with max_body=0
    assert archive_main(["check", str(run.warc_dir)]) == 0
    assert "refused: too large: http://nhandan.vn/bom-post5.html decompresses to more than 33,554,432" in run.log()


def test_refusals_are_in_the_summary_and_the_run_report(proxied):
    _, run = proxied
    assert "refused           non-public address 7, too large 1" in run.stdout
    [report] = [json.loads(line) for line in (run.out / "runs.jsonl").read_text().splitlines()]
    assert report["refused"] == {"non-public address": 7, "too large": 1}


# --- direct connections: the resolved address is checked at connect time -----------------------

@pytest.fixture()
def direct(tmp_path):
    """A generic news site on 127.0.0.1:<port> reached as `news.example.com`, and an "internal"
    server on another port that must get nothing; names resolve through the stub resolver."""
    site, internal = HostileSite(), HostileSite()
    site_server, internal_server = FixtureServer(site).start_background(), FixtureServer(internal).start_background()
    port, internal_port = site_server.server_address[1], internal_server.server_address[1]
    home = site.add(f"http://news.example.com:{port}/", html(
        f'<main><a href="http://news.example.com:{internal_port}/tin/bai-mot.html">Bài một</a>'
        f'<a href="http://news.example.com:{port}/tin/bai-hai.html">Bài hai</a></main>'))
    site.add(f"http://news.example.com:{port}/tin/bai-hai.html", html("<p>Bài hai.</p>"))
    moved = site.add(f"http://news.example.com:{port}/chuyen-trang.html",
                     redirect(f"http://intranet.example.com:{internal_port}/noi-bo.html"))
    internal.add(f"http://intranet.example.com:{internal_port}/noi-bo.html", html("<p>Nội bộ.</p>"))
    stub = tmp_path / "dns.json"
    stub.write_text(json.dumps({"answers": {"news.example.com": "127.0.0.1", "intranet.example.com": "127.0.0.1"},
                                "log": str(tmp_path / "dns.log")}))

    def crawl(name: str, **settings):
        return run_crawl(tmp_path / name, f"urls={home},{moved}", "depth=1", "topic=none",
                         env={**NO_PROXY, "STUB_DNS": str(stub)},
                         settings={"CORPUS_SEEDS": "", "CRAWL_STATE": "", "RETRY_TIMES": 2,
                                   "TWISTED_DNS_RESOLVER": "tests.stub_resolver.StubResolver", **settings})
    yield crawl, site, internal, tmp_path / "dns.log"
    site_server.shutdown()
    internal_server.shutdown()


def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused_at_connect(direct):
    crawl, site, internal, dns_log = direct
    run = crawl("run")
    assert run.returncode == 0, run.stderr
    assert internal.hits == []  # neither the link to another port nor the redirect got through
    assert "intranet.example.com" in dns_log.read_text().split()  # refused on its resolved address
    assert any(hit.endswith("/tin/bai-hai.html") for hit in site.hits)  # the named host itself works
    # the link; the redirect target's robots.txt (at connect), then the redirect itself (on its retry)
    assert run.stats["refused/non_public_address"] == 3
    log = run.log()
    assert "refused: non-public address: intranet.example.com (intranet.example.com resolves to loopback" in log
    assert "named at port" in log  # news.example.com at the internal server's port


def test_allowed_networks_open_what_the_policy_refuses(direct):
    crawl, _, internal, _ = direct
    run = crawl("allowed", ADDRESS_ALLOWED_NETWORKS="127.0.0.0/8")
    assert run.returncode == 0, run.stderr
    assert any(hit.endswith("/noi-bo.html") for hit in internal.hits)
    assert "refused/non_public_address" not in run.stats


def test_a_bad_allowed_network_is_one_error_line(tmp_path):
    run = run_crawl(tmp_path, "urls=https://nhandan.vn/x-post1.html", settings={"ADDRESS_ALLOWED_NETWORKS": "10.0.0.0/33"})
    assert run.returncode == 2
    assert run.stderr.strip() == "error: ADDRESS_ALLOWED_NETWORKS: not an IP network: '10.0.0.0/33' " \
                                 "(expected e.g. 10.1.0.0/16 or fd00::/8)"


# --- extraction time budget ---------------------------------------------------------------------

def test_a_page_over_the_extraction_budget_is_archived_only(crawl):
    seed = ("https://nhandan.vn/quyet-tam-gin-giu-vun-dap-quan-he-viet-nam-lao-mai-mai-xanh-tuoi-"
            "lien-tuc-phat-trien-post830183.html")
    run = crawl(f"urls={seed}", "depth=0", "topic=none",
                settings={"CORPUS_SEEDS": "", "CRAWL_STATE": "", "EXTRACT_TIME_BUDGET": 0.001, "EXTRACT_WORKERS": 1})
    assert run.returncode == 0, run.stderr
    assert run.stats["pages/extraction_timed_out"] == 1 and run.stats["pages/not_parsed"] == 1
    assert run.manifest() == []
    assert seed in {r.url for r in iter_responses(sorted(run.warc_dir.glob("*.warc.gz")))}
    assert "not parsed (extraction timed out: timed out after" in run.log()
    assert "of which extraction timed out 1" in run.stdout


def test_a_body_too_large_on_the_wire_is_refused_whether_announced_or_not(tmp_path):
    site = HostileSite()
    big = html("<p>" + "x" * 2_000_000 + "</p>")
    announced = site.add(f"{ND}/lon-post1.html", big)  # Content-Length says so: cancelled before the body
    streamed = site.add(f"{ND}/lon-chunked-post2.html", replace(big, chunked=True))  # found out on the way
    server = FixtureServer(site).start_background()
    try:
        run = run_crawl(tmp_path, f"urls={announced},{streamed}", "depth=0", server=server,
                        settings={"DOWNLOAD_MAXSIZE": 1_000_000, "CORPUS_SEEDS": "", "CRAWL_STATE": ""})
    finally:
        server.shutdown()
    assert run.returncode == 0, run.stderr
    assert run.stats["refused/too_large"] == 2
    assert f"refused: too large: {streamed} larger than 1,000,000 bytes as sent" in run.log()


def test_a_crawl_runs_no_remote_code_server_and_leaves_no_job_file(crawl, tmp_path):
    """Scrapy's remote control (an HTTP server running Python sent to it, its token in a job file in
    the user's state directory, left behind by every killed crawl) is off by the project's settings."""
    jobs = tmp_path / "job_files"
    run = crawl("urls=https://nhandan.vn/tin-moi.html", "depth=0", settings={"REMOTE_CONTROL_JOBS_DIR": jobs})
    assert run.returncode == 0, run.stderr
    assert "Remote control HTTP server" not in run.log()
    assert not jobs.exists() or not any(jobs.iterdir())
