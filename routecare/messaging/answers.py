"""Automatic answers from RouteCare's own data: the public directory (what the public pages of
the channel's country show, the same precomputed entries and the same ``next_along``) and the
network's public FAQ entries, in the person's language.

Free text is matched word by word (``words.fold``): against the services' names in the
person's language and in English (and the few everyday words of ``words.SERVICE_WORDS``),
against the points' names and addresses, and against the FAQ's full-text index. Nothing is
guessed beyond that: what matches nothing goes to a person (``engine``). Answers fit a phone
screen (three points at most) and say when the information was checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from routecare.core import person_texts
from routecare.directory import selectors as directory
from routecare.directory.entries import PublicPoint
from routecare.directory.hours import opening_line, opening_state
from routecare.feedback.selectors import public_faq
from routecare.messaging import words
from routecare.messaging.models import Channel
from routecare.orgs.taxonomy import Service

SHOWN = 3
# Words of five letters or more in services' names that name no service.
NAME_FILLERS = frozenset({"sobre", "entre", "desde", "their", "other", "autre", "autres"})
FAQ_ANSWER_CHARACTERS = 900


@dataclass(frozen=True)
class Understood:
    """What a message asks for: services by code, and points whose place it names."""

    services: list[str]
    places: list[PublicPoint]
    asks_open: bool


def _similar(word: str, known: str) -> bool:
    """The same word, or one the other starts with (plurals, "medicina" / "medicamentos")."""
    if word == known:
        return len(word) >= 2
    shorter = min(len(word), len(known))
    if shorter < 5:
        return False
    prefix = 0
    for a, b in zip(word, known, strict=False):
        if a != b:
            break
        prefix += 1
    return prefix >= min(5, shorter)


@cache
def _service_words(language: str) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for code in Service.values:
        names = {person_texts.service_name(code, lang) for lang in {language, "en"}}
        extra = words.SERVICE_WORDS.get(code, {})
        listed = {*extra.get(language, ()), *extra.get("en", ())}
        from_names = {w for name in names for w in words.fold(name).split()}
        # "and", "para", "with": short words of a name say nothing alone; listed words count
        # whatever their length ("آب", "dlo").
        found[code] = frozenset(
            {w for w in from_names if len(w) >= 5 and w not in NAME_FILLERS} | _short(listed)
        )
    return found


def _short(listed: set[str]) -> set[str]:
    return {words.fold(word) for word in listed}


def _point_words(point: PublicPoint, language: str) -> frozenset[str]:
    return _words_of(
        tuple(
            point.public_text(field, lang)
            for field in ("name", "address")
            for lang in (language, "")
        )
    )


@lru_cache(maxsize=8192)
def _words_of(texts: tuple[str, ...]) -> frozenset[str]:
    """Folded once per text: a message is compared with every public point of a network."""
    return frozenset(w for text in texts for w in words.fold(text).split() if len(w) >= 3)


def public_points(channel: Channel) -> list[PublicPoint]:
    """What the public pages of the channel's country show (its own points, and the onward
    ones of its network where its society allows it)."""
    return directory.public_point_list(channel.national_society.country_code)


def understand(text: str, language: str, points: Iterable[PublicPoint]) -> Understood:
    said = words.fold(text).split()
    scored: list[tuple[int, str]] = []
    used: set[str] = set()
    for code, known in _service_words(language).items():
        hits = {w for w in said if any(_similar(w, k) for k in known)}
        if hits:
            # A word written as the service is named beats one that only begins the same.
            scored.append((-sum(2 if w in known else 1 for w in hits), code))
            used |= hits
    services = [code for _score, code in sorted(scored)]
    rest = {w for w in said if w not in used and len(w) >= 3}
    best: list[PublicPoint] = []
    score = 0
    for point in points:
        matched = len(rest & _point_words(point, language))
        if matched > score:
            best, score = [point], matched
        elif matched and matched == score:
            best.append(point)
    return Understood(services, best, words.mentions(words.OPEN_WORDS, language, text))


def _map(point: PublicPoint) -> str:
    lat, lon = point.latitude, point.longitude
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


def _lines(
    point: PublicPoint, language: str, now: dt.datetime, texts: dict[str, str], distance: str
) -> str:
    state = opening_state(point, now)
    status = opening_line(state, texts) or texts[f"status_{point.status.replace('-', '_')}"]
    lines = [f"• {point.public_text('name', language)}", status]
    if distance:
        lines.append(distance)
    lines.append(_map(point))
    if point.last_verified:
        lines.append(person_texts.text("bot_checked", language, date=point.last_verified))
    return "\n".join(lines)


def _footer(points: list[PublicPoint], language: str, now: dt.datetime) -> str:
    at = opening_state(points[0], now).at
    return person_texts.text("state_taken_at", language, time=at.strftime("%H:%M"))


def _answer(heading: str, shown: list[tuple[PublicPoint, str]], language: str,
            now: dt.datetime) -> str:  # fmt: skip
    texts = person_texts.texts_for(language)
    parts = [heading]
    parts += [_lines(point, language, now, texts, distance) for point, distance in shown]
    parts.append(_footer([point for point, _ in shown], language, now))
    return "\n\n".join(parts)


def _offers(point: PublicPoint, services: list[str]) -> bool:
    return not services or any(code in point.services for code in services)


def along(understood: Understood, language: str, now: dt.datetime) -> str | None:
    """The points of the named place that offer the service, then the next ones along the
    route from there (hours and km), nearest first; the best-matched service first."""
    for service in understood.services:
        found = _along(understood.places, service, language, now)
        if found:
            return found
    return None


def _along(places: list[PublicPoint], service: str, language: str, now: dt.datetime) -> str | None:
    start = places[0]
    shown: list[tuple[PublicPoint, str]] = [
        (point, "") for point in places if service in point.services
    ][:SHOWN]
    if len(shown) < SHOWN:
        for step in directory.public_next_along(start, service=service):
            if all(step.point.pk != point.pk for point, _ in shown):
                distance = person_texts.text(
                    "bot_km_hours", language, km=step.km, hours=_hours(step.hours)
                )
                shown.append((step.point, distance))
            if len(shown) == SHOWN:
                break
    if not shown:
        return None
    heading = person_texts.text(
        "bot_found_along",
        language,
        service=person_texts.service_name(service, language),
        place=start.public_text("name", language),
    )
    return _answer(heading, shown, language, now)


def _hours(value: object) -> str:
    hours = float(str(value))
    return f"{hours:.0f}" if hours >= 10 else f"{hours:.1f}".rstrip("0").rstrip(".")


def at_place(understood: Understood, language: str, now: dt.datetime) -> str:
    """Whether the points of a named place are open now (and when they open)."""
    place = understood.places[0].public_text("name", language)
    heading = person_texts.text("bot_found_at", language, place=place)
    shown = [(point, "") for point in understood.places[:SHOWN]]
    return _answer(heading, shown, language, now)


def _km(lat: float, lon: float, point: PublicPoint) -> float:
    return directory.km_between((lat, lon), (float(point.latitude), float(point.longitude)))


def nearest(
    channel: Channel, at: tuple[float, float], services: list[str], language: str,
    now: dt.datetime,
) -> str | None:  # fmt: skip
    """The points nearest a shared location (as the crow flies), offering the service asked
    for before if any. The location itself is dropped by the caller once this is written."""
    candidates = [point for point in public_points(channel) if _offers(point, services)]
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda point: _km(at[0], at[1], point))[:SHOWN]
    # Nearest first, without the distances: the answer is kept with the conversation, and
    # distances to three known points would say where the person was.
    shown = [(point, "") for point in ranked]
    return _answer(person_texts.text("bot_found_near", language), shown, language, now)


def faq(channel: Channel, text: str, language: str) -> str | None:
    """The best public FAQ answer of the network in the person's language."""
    hits = public_faq(channel.national_society.network, language, text)
    if not hits:
        return None
    best = hits[0].text
    answer = best.answer
    if len(answer) > FAQ_ANSWER_CHARACTERS:
        answer = answer[: FAQ_ANSWER_CHARACTERS - 1].rsplit(" ", 1)[0] + "…"
    return f"{best.question}\n\n{answer}\n\n{person_texts.text('bot_faq_more', language)}"
