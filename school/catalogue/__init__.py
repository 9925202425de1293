"""One catalogue of what the server tells people when it refuses something, in Vietnamese and
English: the API keeps stable machine codes (`reason`, field `code`) and field names, and renders
the sentence in the asker's language (`Accept-Language`; the web pages send the UI's language).

Entries are `code -> {"vi": ..., "en": ...}` with `{name}` placeholders filled from the error's
params. A field may have its own wording: the key `field:code` (e.g. `username:bad_format`) is
tried before `code`. Each area keeps its entries in its own module."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from school.catalogue import accounts, assignments, attendance, common, materials, online_tests, parents, rolls, settings, structure, timetable

LANGS = ("vi", "en")
DEFAULT_LANG = "en"
"""Without an Accept-Language (scripts, integrations) the API speaks English."""

Entry = Mapping[str, str]
CATALOGUE: dict[str, Entry] = {}
for _module in (common, accounts, structure, timetable, rolls, settings, attendance, assignments, materials, parents, online_tests):
    for _key, _entry in _module.MESSAGES.items():
        if _key in CATALOGUE:
            raise RuntimeError(f"catalogue entry {_key!r} is defined twice")
        if set(_entry) != set(LANGS):
            raise RuntimeError(f"catalogue entry {_key!r} must have exactly {LANGS}")
        CATALOGUE[_key] = _entry


def negotiate(header: str | None) -> str:
    """The language to answer in, from an Accept-Language header ("vi-VN,vi;q=0.9,en;q=0.8")."""
    best, best_q = DEFAULT_LANG, -1.0
    for part in (header or "").split(","):
        tag, _, rest = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGS:
            continue
        q = 1.0
        rest = rest.strip()
        if rest.startswith("q="):
            try:
                q = float(rest[2:])
            except ValueError:
                q = 0.0
        if q > best_q:
            best, best_q = lang, q
    return best


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def has(code: str, field: str | None = None) -> bool:
    return (field is not None and f"{field}:{code}" in CATALOGUE) or code in CATALOGUE


def text(code: str, lang: str, params: Mapping[str, Any] | None = None, field: str | None = None) -> str | None:
    """The sentence for `code` (or `field:code`) in `lang`, params filled in; None when unknown."""
    entry = (CATALOGUE.get(f"{field}:{code}") if field else None) or CATALOGUE.get(code)
    if entry is None:
        return None
    template = entry.get(lang) or entry[DEFAULT_LANG]
    return template.format_map(_Keep({k: v for k, v in (params or {}).items()}))


def entries(lang: str) -> dict[str, str]:
    """Every sentence in `lang` (for pages that check input before sending it)."""
    return {key: entry[lang] for key, entry in CATALOGUE.items()}
