"""Small text helpers shared by the renderers.

Everything a report shows may come from a student's program (its output, its
name, its files), so each output format needs the same few defences: make
control characters visible, keep markdown from being re-interpreted, keep XML
well-formed. They live here once so every renderer applies them the same way.
"""
from __future__ import annotations

import re

# C0/C1 controls (except tab and newline), DEL, bidi overrides, lone surrogates.
# Raw, they can rewrite a terminal, hide text (Trojan-source style) or break encoders.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Characters XML 1.0 forbids outright; ElementTree would emit them and produce a broken file.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!])")


def visible(text: str) -> str:
    """Show control characters as escapes (`\\x07`) so a student sees what they printed."""
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                          else f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    """Names go into headings, table cells and attributes, where a newline breaks layout."""
    return " ".join(visible(text).split())


def md_inline(text: str) -> str:
    """Escape text for a single line of markdown (headings, table cells)."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def fence(text: str, lang: str = "text") -> str:
    """A fenced code block whose fence is longer than any backtick run inside, so it cannot be closed early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    bar = "`" * max(3, longest + 1)
    return f"{bar}{lang}\n{text.rstrip(chr(10))}\n{bar}"


def xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry; escaping is left to ElementTree."""
    return _XML_ILLEGAL.sub("", text)


def points(value: float) -> str:
    """3.0 -> '3', 2.5 -> '2.5', 0.1+0.2 -> '0.3': readable without float noise."""
    return f"{value:g}"


def number(value: float) -> int | float:
    """JSON number without float noise; integral values stay integers."""
    rounded = round(value, 4)
    return int(rounded) if rounded == int(rounded) else rounded
