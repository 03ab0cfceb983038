"""`make schedule [INTERVAL=6h|daily|…]`: a cron line and systemd units for scheduled crawls.

Both forms run the same incremental crawl of this checkout, every INTERVAL,
and both treat a failed crawl as a failure the operator hears about:

- cron: `MAILTO` gets the run's summary (with the failure causes and hint)
  when the exit code is neither 0 nor 3 (3: the previous run still holds the
  crawl state, which is normal when a crawl takes longer than the interval);
- systemd: exit codes other than 0, 3 and 130 (stopped) mark the service
  failed and `OnFailure=` starts a unit that mails its journal.

The crawl log goes to `data/logs/crawl.log`, rotated by size at the start of
each run (crawler/logfile.py). Standard library only: it runs before
`make install`.
"""
from __future__ import annotations

import argparse
import os
import pwd
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

LOG_FILE = "data/logs/crawl.log"
LAST_RUN = "data/logs/last-run.txt"
UNIT = "vn-news-crawl"
_NAMED = {"hourly": "1h", "daily": "1d", "weekly": "1w"}
_SPAN = re.compile(r"^(\d+)([mhdw])$")
_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True)
class Interval:
    text: str  # as the user wrote it
    cron: str  # the five time fields
    calendar: str  # systemd OnCalendar=
    words: str  # "every 6 hours"
    seconds: int


def parse_interval(raw: str) -> Interval:
    """`30m`, `6h` (a divisor of 24 hours), `daily`/`1d`, `weekly`/`1w`; ScheduleError otherwise."""
    text = raw.strip().lower()
    match = _SPAN.match(_NAMED.get(text, text))
    if not match:
        raise ScheduleError(f"INTERVAL={raw!r}: expected hourly, daily, weekly, or Nm / Nh / 1d / 1w "
                            "(e.g. 30m, 6h)")
    count, unit = int(match.group(1)), match.group(2)
    seconds = count * _SECONDS[unit]
    plural = "" if count == 1 else "s"
    if unit == "m" and count and 60 % count == 0:
        return Interval(raw, f"*/{count} * * * *", f"*-*-* *:00/{count}:00", f"every {count} minute{plural}",
                        seconds)
    if unit == "h" and count and 24 % count == 0:
        if count == 24:
            return parse_interval("1d")
        return Interval(raw, f"0 */{count} * * *" if count > 1 else "0 * * * *",
                        f"*-*-* 00/{count}:00:00", f"every {count} hour{plural}", seconds)
    if (unit, count) == ("d", 1):
        return Interval(raw, "0 2 * * *", "*-*-* 02:00:00", "every day at 02:00", seconds)
    if (unit, count) in (("w", 1), ("d", 7)):
        return Interval(raw, "0 2 * * 1", "Mon *-*-* 02:00:00", "every Monday at 02:00", seconds)
    raise ScheduleError(f"INTERVAL={raw!r}: cron and systemd calendars can only repeat evenly within an "
                        "hour (minutes dividing 60), a day (hours dividing 24), daily or weekly")


def default_since(interval: Interval) -> str:
    """The discovery window: twice the interval, never under 3 days (a missed run or two is caught up)."""
    days = max(3, -(-2 * interval.seconds // 86400))
    return f"{days // 7}w" if days % 7 == 0 else f"{days}d"


def run_user() -> str:
    """The user the units run as: $USER, else the account of this process (`id -un`)."""
    return os.environ.get("USER") or pwd.getpwuid(os.geteuid()).pw_name


def render(interval: Interval, checkout: Path, crawl_args: str | None, user: str) -> str:
    checkout = checkout.resolve()
    args = crawl_args.strip() if crawl_args and crawl_args.strip() else f"-a since={default_since(interval)}"
    if "LOG_FILE" not in args:
        args += f" -s LOG_FILE={LOG_FILE}"
    scrapy = shlex.quote(str(checkout / ".venv" / "bin" / "scrapy"))
    cron_command = (
        f"cd {shlex.quote(str(checkout))} && mkdir -p data/logs && "
        f"{{ {scrapy} crawl news {args} > {LAST_RUN} 2>&1; rc=$?; "
        f"[ $rc -eq 0 ] || [ $rc -eq 3 ] || {{ echo \"vn-news crawl failed (exit $rc):\"; cat {LAST_RUN}; }}; }}")
    return "\n".join([
        f"# crontab -e: {interval.words}, incremental crawl with discovery. cron mails what a job prints",
        "# to MAILTO: here only a failed run's summary (exit 3, the previous run still going, is not a failure).",
        "MAILTO=you@example.org",
        f"{interval.cron} {cron_command}",
        "",
        f"# /etc/systemd/system/{UNIT}.service",
        "[Unit]",
        "Description=vn-news-archiver incremental crawl",
        "After=network-online.target",
        "Wants=network-online.target",
        f"OnFailure={UNIT}-failed.service",
        "[Service]",
        "Type=oneshot",
        f"User={user}",
        f"WorkingDirectory={checkout}",
        f"ExecStartPre=/bin/mkdir -p {checkout / 'data' / 'logs'}",
        f"ExecStart={checkout / '.venv' / 'bin' / 'scrapy'} crawl news {args}",
        "# 3: the previous run still holds the crawl state; 130: stopped (systemctl stop). 1, 2, 4 fail.",
        "SuccessExitStatus=3 130",
        "",
        f"# /etc/systemd/system/{UNIT}-failed.service  (started by OnFailure=; needs a working `mail`,",
        "# e.g. apt-get install bsd-mailx, or replace the command with your alerting)",
        "[Unit]",
        "Description=report a failed vn-news-archiver crawl",
        "[Service]",
        "Type=oneshot",
        f"ExecStart=/bin/sh -c 'journalctl -u {UNIT}.service -n 40 --no-pager"
        f" | mail -s \"vn-news crawl failed on %H\" root'",
        "",
        f"# /etc/systemd/system/{UNIT}.timer  (then: systemctl daemon-reload && systemctl enable --now {UNIT}.timer)",
        "[Unit]",
        f"Description=vn-news-archiver incremental crawl, {interval.words}",
        "[Timer]",
        f"OnCalendar={interval.calendar}",
        "RandomizedDelaySec=10min" if interval.seconds >= 3600 else "RandomizedDelaySec=1min",
        "Persistent=true",
        "[Install]",
        "WantedBy=timers.target",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make schedule", description=__doc__.splitlines()[0])
    parser.add_argument("--interval", default="6h", help="6h (default), hourly, daily, weekly, 30m, …")
    parser.add_argument("--args", default=None,
                        help="spider arguments and settings (default: -a since=<2 × interval, at least 3d>)")
    parser.add_argument("--dir", type=Path, default=Path.cwd(), help="the checkout (default: here)")
    args = parser.parse_args(argv)
    try:
        interval = parse_interval(args.interval)
    except ScheduleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(interval, args.dir, args.args, run_user()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
