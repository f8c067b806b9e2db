"""HTML error pages (a gateway's 404, a proxy's 502) told in one line of plain text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

SUMMARY_CHARS = 300


class _TextOf(HTMLParser):
    """The title and the visible text of an HTML page, scripts and styles left out."""

    def __init__(self):
        super().__init__()
        self.title: list[str] = []
        self.text: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("title", "script", "style", "head"):
            self._in.append(tag)

    def handle_endtag(self, tag):
        if tag in self._in:
            self._in.remove(tag)

    def handle_data(self, data):
        if "title" in self._in:
            self.title.append(data)
        elif not self._in:
            self.text.append(data)


def looks_like_html(text: str) -> bool:
    return bool(re.match(r"\s*<(!doctype html|html|head|body|title)\b", text[:500], re.IGNORECASE))


def html_summary(text: str) -> str:
    """An HTML error page in one line: its title, then the beginning of its visible text."""
    parser = _TextOf()
    parser.feed(text)
    parser.close()
    title = " ".join(" ".join(parser.title).split())
    words = " ".join(" ".join(parser.text).split())
    if title and words.startswith(title):
        words = words[len(title) :].strip()
    summary = f"{title}: {words}" if title and words else title or words
    return summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"
