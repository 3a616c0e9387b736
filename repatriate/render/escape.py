"""Make untrusted text inert: control characters out at load, Markdown and links escaped at output.

Data files and options are untrusted bytes; every renderer lays them out through these helpers.
"""

from __future__ import annotations

import re

# ESC sequences first (so that an OSC-8 link loses its target, not just its ESC), then the
# remaining C0/C1 controls, DEL and the bidi overrides that reorder what a reader sees.
_ESCAPES = re.compile(
    r"(?:\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST (hyperlinks, titles)
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # the same with the 8-bit OSC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI: colours, cursor moves, clear screen
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]?)"  # any other ESC sequence
)
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROLS_ONE_LINE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, multiline: bool = True) -> str:
    """``text`` without ESC sequences and control characters; a tab becomes a space.

    Newlines stay when ``multiline`` (``\\r\\n`` and ``\\r`` become ``\\n``); otherwise every line
    break becomes a space.
    """
    if text.isprintable():  # the common case: nothing to do
        return text
    text = _ESCAPES.sub("", text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return (_CONTROLS if multiline else _CONTROLS_ONE_LINE).sub("", text)


_MD_SPECIAL = re.compile(r"[\\`*\[\]~|]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_ENTITY_START = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_MD_LINE_START = re.compile(r"^(\s*)(#+|[+-]|\d+[.)])(?=\s|$)")


def md_escape(text: object) -> str:
    """Running Markdown text that stays text: no HTML, no links, no emphasis, one line.

    ``<`` ``>`` ``&`` become entities; ``\\ ` * [ ] ~ |`` and word-edge ``_`` are backslash
    escaped, so ``[x](javascript:…)`` stays inert; line breaks fold into one space, and a
    leading ``#``, ``-``, ``+`` or ``1.`` is escaped, so no data can start a heading or a list.
    """
    s = _inline(text)
    return _MD_LINE_START.sub(_escape_start, s, count=1)


def _escape_start(m: re.Match) -> str:
    mark = m.group(2)
    # "1." becomes "1\.": a backslash escapes punctuation only, never a digit
    return m.group(1) + (mark[:-1] + "\\" + mark[-1] if mark[0].isdigit() else "\\" + mark)


def _inline(text: object) -> str:
    s = clean_text(str(text), multiline=False)
    # "&" stays "&" (A & B reads as typed in the raw file); only an "&" that would start an
    # entity ("&lt;", "&#60;") is escaped, so no data can spell a tag through one.
    s = _ENTITY_START.sub("&amp;", s).replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), s)
    return re.sub(r"\s{2,}", " ", s)


def md_cell(text: object) -> str:
    """A GitHub table cell: inline text escaped as ``md_escape`` (pipes included), trimmed.

    Block syntax (headings, lists) means nothing inside a cell, so a leading ``#`` stays.
    """
    return _inline(text).strip()


def md_code(text: object) -> str:
    """An id as inline code, or as escaped text when it could break out of the code span."""
    s = clean_text(str(text), multiline=False)
    return f"`{s}`" if s and "`" not in s and s.strip() == s else md_escape(s)


def safe_url(url: object) -> str | None:
    """``url`` when it is an http(s) address that can be printed as a link as it is; else None."""
    if not isinstance(url, str):
        return None
    s = url.strip()
    low = s.lower()
    if not (low.startswith("https://") or low.startswith("http://")):
        return None
    host = s.split("://", 1)[1].split("/", 1)[0]
    if not host or any(c.isspace() or not c.isprintable() or c in '<>"`\\' for c in s):
        return None
    return s


def md_link_text(text: str, url: str | None) -> str:
    """``text`` escaped, with ``url`` in it written as a link when it is http(s), else left as text."""
    link = safe_url(url)
    if link is None or url is None or url not in text:
        return md_escape(text)
    head, tail = text.split(url, 1)
    return f"{md_escape(head)}<{link}>{md_escape(tail)}"
