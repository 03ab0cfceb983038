"""`CONTACT`: how a site's operator can reach whoever runs this crawler.

A polite crawler names a contact in its User-Agent. `USER_AGENT` in
crawler/settings.py holds a `{contact}` placeholder that this add-on fills
from `CONTACT` (an e-mail address or URL); without one the contact part is
left out, and a live crawl logs a warning saying how to set it. A
`USER_AGENT` given without the placeholder is used as it is.
"""
from __future__ import annotations

import logging

from scrapy.settings import Settings

logger = logging.getLogger(__name__)

PLACEHOLDER = "{contact}"


def user_agent(template: str, contact: str) -> str:
    """`template` with its `{contact}` filled, or with the `; contact: {contact}` part dropped."""
    contact = contact.strip()
    if contact:
        return template.replace(PLACEHOLDER, contact)
    return template.replace(f"; contact: {PLACEHOLDER}", "").replace(PLACEHOLDER, "")


class ContactAddon:
    def update_settings(self, settings: Settings) -> None:
        template = settings.get("USER_AGENT") or ""
        if PLACEHOLDER not in template:
            return
        contact = str(settings.get("CONTACT") or "")
        settings.set("USER_AGENT", user_agent(template, contact), settings.getpriority("USER_AGENT"))
        if not contact.strip() and not settings.get("ARCHIVE_REPLAY"):
            logger.warning("CONTACT is not set, so the User-Agent gives the sites no way to reach you: "
                           "pass -s CONTACT=you@example.org (or export SCRAPY_CONTACT=…)")
