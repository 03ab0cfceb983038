"""Checks run before a crawl starts, so a wrong path fails early and clearly."""
from __future__ import annotations

import os
from pathlib import Path

from archive.writable import ensure_writable_dir


class PreflightError(RuntimeError):
    pass


def writable_or_fail(path: Path, what: str) -> None:
    try:
        ensure_writable_dir(path)
    except OSError as exc:
        raise PreflightError(f"{what} {str(path)!r} is not writable: {exc.strerror or exc}") from None


def check_output_dirs(settings) -> None:
    replay = settings.get("ARCHIVE_REPLAY")
    if replay:
        from archive.warc.replay import ArchiveNotFound, check_archive_dir
        try:
            check_archive_dir(replay)
        except ArchiveNotFound as exc:
            raise PreflightError(f"ARCHIVE_REPLAY: {exc}") from None
    elif settings.getbool("WARC_ENABLED"):
        writable_or_fail(Path(settings.get("WARC_DIR")), "WARC_DIR")
        from crawler.downloadermiddlewares.warc_capture import warc_writer_mode
        try:
            warc_writer_mode(settings)
        except ValueError as exc:
            raise PreflightError(str(exc)) from None
    if settings.getbool("EXTRACT_ENABLED"):
        writable_or_fail(Path(settings.get("CORPUS_DIR")), "CORPUS_DIR")
        seeds = settings.get("CORPUS_SEEDS")
        if seeds and not os.path.isdir(seeds):
            raise PreflightError(f"CORPUS_SEEDS {seeds!r} is not a directory")


def check_revisit_settings(settings) -> None:
    """The revisit schedule and `REVISIT_LASTMOD`, read by the incremental middlewares once the
    engine runs, where a bad value would end in a traceback."""
    from archive.state.store import parse_duration
    from crawler.downloadermiddlewares.incremental import lastmod_mode
    for name in ("REVISIT_FRESH_AGE", "REVISIT_FRESH_EVERY", "REVISIT_OLD_EVERY"):
        if settings.get(name) is not None:
            try:
                parse_duration(settings.get(name))
            except ValueError as exc:
                raise PreflightError(f"{name}: {exc}") from None
    try:
        lastmod_mode(settings)
    except ValueError as exc:
        raise PreflightError(str(exc)) from None


def check_address_settings(settings) -> None:
    """`ADDRESS_ALLOWED_NETWORKS`, read when the resolver is installed, where a bad value would end
    in a traceback."""
    from crawler.downloadermiddlewares.address_policy import allowed_networks
    try:
        allowed_networks(settings)
    except ValueError as exc:
        raise PreflightError(f"ADDRESS_ALLOWED_NETWORKS: {exc}") from None
