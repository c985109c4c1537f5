"""Translations for the dashboard: one flat JSON file per language in ``frontend/locales`` (and in the
``locales/`` folder of each integration that adds dashboard pages).

Templates and scripts use the same keys (``nav.overview``, ``health.level.offline``): the page embeds the
strings of its language, so ``t()`` in JavaScript reads exactly what jinja2's ``t()`` reads. The language is the
``lang`` cookie (set by the header's switcher), else the best match of ``Accept-Language``, else English.
Placeholders are ``{name}``; a key missing from a language falls back to English, then to the key itself, so a
forgotten string shows up as its key instead of breaking the page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LANG_COOKIE", "Catalog", "Translator", "best_language", "negotiate"]

DEFAULT_LANGUAGE = "en"
#: Languages the dashboard speaks, with their names as their speakers write them (for the switcher).
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français"}
LANG_COOKIE = "lang"


class Translator:
    """``t(key, **params)`` for one language; callable from jinja2 templates."""

    __slots__ = ("language", "strings")

    def __init__(self, language: str, strings: Mapping[str, str]) -> None:
        self.language = language
        self.strings = strings

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.strings.get(key, key)
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def get(self, key: str, default: str) -> str:
        """The string for ``key``, or ``default`` (an event type or state we have no word for reads as itself)."""
        return self.strings.get(key, default)


class Catalog:
    """Every language's strings, read once; English fills the gaps of the others.

    ``directory`` holds the core's files; ``add`` merges an integration's own ``locales/`` folder (its keys are
    prefixed with its domain, ``tm20.terminals.title``, so they never shadow the core's).
    """

    def __init__(self, directory: Path) -> None:
        self._directories = [directory]
        self.translators: dict[str, Translator] = {}
        self._build()

    def add(self, directory: Path) -> None:
        self._directories.append(directory)
        self._build()

    def _build(self) -> None:
        base = {key: value for folder in self._directories for key, value in _load(folder / "en.json").items()}
        self.translators = {DEFAULT_LANGUAGE: Translator(DEFAULT_LANGUAGE, base)}
        for language in LANGUAGES:
            paths = [folder / f"{language}.json" for folder in self._directories]
            if language != DEFAULT_LANGUAGE and any(path.is_file() for path in paths):
                strings = {key: value for path in paths for key, value in _load(path).items()}
                self.translators[language] = Translator(language, {**base, **strings})

    def translator(self, language: str) -> Translator:
        return self.translators.get(language) or self.translators[DEFAULT_LANGUAGE]

    def for_request(self, request: web.Request) -> Translator:
        return self.translator(negotiate(request, tuple(self.translators)))


def _load(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object of strings")
    return {str(key): str(value) for key, value in data.items()}


def negotiate(request: web.Request, available: tuple[str, ...] = tuple(LANGUAGES)) -> str:
    """The ``lang`` cookie when it names a language we have, else the best of ``Accept-Language``."""
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in available:
        return cookie
    return best_language(request.headers.get("Accept-Language", ""), available)


def best_language(header: str, available: tuple[str, ...] = tuple(LANGUAGES)) -> str:
    """``fr-CA,fr;q=0.9,en;q=0.8`` -> ``fr``: the highest quality whose primary tag we speak."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in available and quality > 0:
            choices.append((-quality, position, primary))
    return min(choices)[2] if choices else DEFAULT_LANGUAGE
