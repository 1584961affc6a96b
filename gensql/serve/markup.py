"""A small, safe reading view of a model's text: paragraphs, headings, lists, bold and italics; everything escaped first."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])")
_CODE = re.compile(r"`([^`]+)`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")


_OPERATORS = {"AND", "OR", "NOT"}


def search_terms(query: str | None) -> list[str]:
    """The words of a search query worth marking in a text: operators, signs, quotes and ``*`` dropped."""
    if not query:
        return []
    terms = []
    for word in re.findall(r"[\w'-]+\*?", query):
        if word in _OPERATORS:
            continue
        word = word.strip("'-").rstrip("*")
        if len(word) >= 2 and word.lower() not in terms:
            terms.append(word.lower())
    return terms


def _marker(query: str | None) -> re.Pattern | None:
    terms = search_terms(query)
    if not terms:
        return None
    # matched on the escaped text: a term never matches inside an entity (&amp;) and words match by prefix
    alternatives = "|".join(re.escape(str(escape(t))) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![&\w])((?:{alternatives})\w*)", re.IGNORECASE)


def highlight(text: str | None, query: str | None = None) -> Markup:
    """``text`` escaped, with the words of the search ``query`` in ``<mark>``: the raw view of a search hit."""
    out = str(escape(text or ""))
    marker = _marker(query)
    return Markup(marker.sub(r"<mark>\1</mark>", out) if marker else out)


def _inline(text: str, marker: re.Pattern | None = None) -> str:
    out = str(escape(text))  # escaped before any tag is added: the tags below are the only markup
    if marker is not None:
        out = marker.sub(r"<mark>\1</mark>", out)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _ITALIC.sub(r"<em>\1</em>", out)


def render_text(text: str | None, query: str | None = None) -> Markup:
    """``text`` as HTML blocks; no HTML from the text survives (``<script>`` shows as text). The words of a
    search ``query`` are marked, so a page opened from a search hit shows why it matched."""
    if not text:
        return Markup("")
    marker = _marker(query)
    blocks: list[str] = []
    para: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if para:
            blocks.append("<p>" + "<br>".join(_inline(line, marker) for line in para) + "</p>")
            para.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(i, marker)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        if not line.strip():
            flush()
            continue
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        if heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)
            blocks.append(f"<h{level}>{_inline(heading.group(2), marker)}</h{level}>")
        elif bullet:
            if para:
                flush()
            items.append(bullet.group(1))
        else:
            if items:
                flush()
            para.append(line)
    flush()
    return Markup("\n".join(blocks))
