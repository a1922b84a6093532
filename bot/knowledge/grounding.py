"""Grounding: every figure a reply states must stand in the source it cites.

Used by `citizen-bot check` (curated answers against their quotes) and by the tests (every reply the
bot produces against the sources it returns).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from bot.understanding.text import to_simplified

# Arabic figures with their decimals (25029, 4.6). The briefings use "," as a Chinese comma, never as a
# thousands separator, so a comma ends a figure.
_ARABIC = re.compile(r"([A-Za-z]*)(\d+(?:\.\d+)*)([A-Za-z]*)")
# Chinese-numeral quantities ("三个月", "一万多元"): the numeral run plus the measure word after it.
_CHINESE = re.compile(r"(?<![\d.])[一二两三四五六七八九十][一二两三四五六七八九十百千万亿]*(?:多|余)?"
                      r"(?:个月|[个月年天元人户所家次名件座辆台条倍])")
# Figures a reply may state without a briefing behind them: the national government-service hotline.
ALWAYS_ALLOWED = frozenset({"12345"})


def figures(text: str) -> set[str]:
    """The figures a text states, as written (Arabic runs, and Chinese numeral quantities)."""
    text = to_simplified(text)
    found = {m.group(2) for m in _ARABIC.finditer(text) if not _is_name(m)}
    return found | {m.group(0) for m in _CHINESE.finditer(text)}


def _is_name(m: re.Match) -> bool:
    """Digits inside a name are no figure: G508 (a road), 5G; but 1633.4kg is."""
    before, after = m.group(1), m.group(3)
    return bool(before) or (len(after) == 1 and after.isupper())


def _stands_in(figure: str, source: str) -> bool:
    if not figure[:1].isdigit():
        return figure in source
    return re.search(r"(?<![\d.])" + re.escape(figure) + r"(?![\d]|\.\d)", source) is not None


def ungrounded(text: str, sources: Iterable[str]) -> list[str]:
    """Figures in `text` that none of `sources` contains (a figure must stand whole, not inside 2021)."""
    source = to_simplified("\n".join(sources))
    return sorted(f for f in figures(text) if f not in ALWAYS_ALLOWED and not _stands_in(f, source))
