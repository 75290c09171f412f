"""The text of an HTML page as a reader without scripts sees it (what a mail client shows)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    """The page's text without <script> and <style>, whitespace collapsed to single spaces."""
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())
