"""Synthetic cash enrolments with the errors people and volunteers make, for the tests, the
bench and the privacy attack (never real people).

Names come in the order of published national frequency lists (the most common given names
and surnames of Honduras, Guatemala, El Salvador, Mexico, Venezuela and Haiti for the Americas
route; of Afghanistan, Pakistan, Syria and Iraq in Latin transliteration for the Western Balkans
route), with frequencies by rank following a Zipf–Mandelbrot law fitted to the lists' published
shares of the most common names (see SURNAME_OFFSET).

A duplicate is the same person enrolled again, written the way people really write it:
accents dropped, the second surname missing or added, "de / del / de la" dropped, given names
swapped, a nickname instead of the name (José / Pepe), a typo, day and month swapped; on the
Balkan route, a transliteration variant (Mohammad / Muhammad) and 1 January for an unknown
birth date (as many registration systems record it).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

# By rank, most common first (see the module's docstring).
NAMES: dict[str, dict[str, list[str]]] = json.loads(
    (Path(__file__).parent / "names.json").read_text(encoding="utf-8")
)
PARTICLE_SURNAMES = ("de la Cruz", "de León", "de Jesús", "del Cid", "de la Rosa", "de Paz")
PARTICLE_WORDS = frozenset({"de", "del", "la"})

# Transliterations people write for the same name.
TRANSLITERATIONS: dict[str, tuple[str, ...]] = {
    "Mohammad": ("Muhammad", "Mohammed", "Mohamad", "Mohamed"),
    "Ahmad": ("Ahmed",),
    "Hussain": ("Hussein", "Husain", "Hossain"),
    "Mahmood": ("Mahmoud", "Mahmud"),
    "Yusuf": ("Yousef", "Youssef"),
    "Omar": ("Umar",),
    "Fatima": ("Fatemeh", "Fatma"),
    "Maryam": ("Mariam",),
    "Zainab": ("Zeinab",),
    "Aisha": ("Ayesha", "Aicha"),
    "Hosseini": ("Husseini", "Hussaini"),
    "Rezaei": ("Rezai",),
    "Ahmadi": ("Ahmady",),
    "Mohammadi": ("Muhammadi", "Mohamadi"),
    "Noori": ("Nouri", "Nuri"),
    "Khalil": ("Khaleel",),
    "Ibrahim": ("Ebrahim",),
    "Yasmin": ("Yasmine", "Jasmin"),
}
NICKNAMES_OF: dict[str, tuple[str, ...]] = {
    "José": ("Pepe", "Chepe"),
    "Francisco": ("Paco", "Pancho"),
    "Guadalupe": ("Lupe",),
    "Guillermo": ("Memo",),
    "Ignacio": ("Nacho",),
    "Jesús": ("Chucho", "Chuy"),
    "Eduardo": ("Lalo",),
    "Antonio": ("Toño", "Tony"),
    "Enrique": ("Quique",),
    "Manuel": ("Manolo",),
    "Rafael": ("Rafa",),
    "Alberto": ("Beto",),
    "Rosario": ("Charo",),
    "Consuelo": ("Chelo",),
    "Concepción": ("Conchita",),
    "Dolores": ("Lola",),
    "Fernando": ("Nando",),
    "Alejandro": ("Alex",),
    "Francisca": ("Paquita",),
    "Teresa": ("Tere",),
    "Verónica": ("Vero",),
    "Gabriela": ("Gaby",),
    "Carolina": ("Caro",),
}
VARIANTS = ("americas", "balkans")
# Zipf–Mandelbrot offsets fitted to the published shares: the most common surname is about 3 %
# of people (Hernández in Mexico 3.7 %, López in Honduras 3.5 %), the most common given name of
# women and of men about 6 % (María, José as first given names).
SURNAME_OFFSET = 12
GIVEN_NAME_OFFSET = 5


@dataclass(frozen=True)
class Enrolment:
    """One enrolment as a volunteer would type it; ``person`` is the truth, for scoring."""

    person: int
    given_names: str
    surnames: str
    birth_date: dt.date
    sex: str  # "female" or "male"
    society: int


def _zipf(names: list[str] | tuple[str, ...], offset: int) -> list[float]:
    """Zipf–Mandelbrot weights by rank: 1 / (rank + offset)."""
    return [1.0 / (rank + offset) for rank in range(1, len(names) + 1)]


class Generator:
    def __init__(
        self,
        variant: str = "americas",
        seed: int = 0,
        surname_offset: int = SURNAME_OFFSET,
        given_name_offset: int = GIVEN_NAME_OFFSET,
    ) -> None:
        """Offsets of 0 give the plain Zipf law: a few names far more common than in the
        published lists (the worst case for a frequency attack, ``attack``)."""
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        self.variant, self.random = variant, random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
        names = NAMES[variant]
        self.male, self.female, self.surnames = names["male"], names["female"], names["surnames"]
        self._weights = {
            id(self.male): _zipf(self.male, given_name_offset),
            id(self.female): _zipf(self.female, given_name_offset),
            id(self.surnames): _zipf(self.surnames, surname_offset),
        }

    def _pick(self, names: list[str]) -> str:
        return self.random.choices(names, weights=self._weights[id(names)])[0]

    def person(self, person: int, society: int) -> Enrolment:
        rng = self.random
        sex = rng.choice(("female", "male"))
        names = self.female if sex == "female" else self.male
        given = [self._pick(names)]
        if rng.random() < (0.55 if self.variant == "americas" else 0.2):
            second = self._pick(names)
            if second != given[0]:
                given.append(second)
        if self.variant == "americas":
            first = (
                rng.choice(PARTICLE_SURNAMES) if rng.random() < 0.03 else self._pick(self.surnames)
            )
            surnames = [first, self._pick(self.surnames)]
        else:
            surnames = [self._pick(self.surnames)]
        year = rng.randint(1950, 2008)
        if self.variant == "balkans" and rng.random() < 0.25:
            born = dt.date(year, 1, 1)
        else:
            born = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        return Enrolment(person, " ".join(given), " ".join(surnames), born, sex, society)

    def duplicate(self, original: Enrolment, society: int) -> Enrolment:
        """The same person enrolled again, with one to three of the usual differences."""
        rng = self.random
        given, surnames, born = original.given_names.split(), original.surnames, original.birth_date
        changes = rng.sample(self._changes(), k=rng.choice((1, 1, 2, 2, 3)))
        for change in changes:
            given, surnames, born = change(given, surnames, born)
        return replace(
            original,
            given_names=" ".join(given),
            surnames=surnames,
            birth_date=born,
            society=society,
        )

    def _changes(self) -> list[_Change]:
        common: list[_Change] = [self._no_accents, self._typo, self._swap_day_month, self._case]
        if self.variant == "americas":
            return [
                *common,
                self._drop_second_surname,
                self._particle,
                self._swap_given,
                self._nickname,
            ]
        return [*common, self._transliterate, self._swap_given, self._january_first]

    def _no_accents(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        def strip(text: str) -> str:
            decomposed = unicodedata.normalize("NFKD", text)
            return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

        return [strip(g) for g in given], strip(surnames), born

    def _typo(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        rng = self.random
        in_surname = rng.random() < 0.5
        word = surnames if in_surname else given[0]
        if len(word) < 4:
            return given, surnames, born
        i = rng.randrange(1, len(word) - 1)
        kind = rng.choice(("substitute", "delete", "insert", "transpose"))
        letter = rng.choice("aeiourslnmtcdbgvyz")
        if kind == "substitute":
            word = word[:i] + letter + word[i + 1 :]
        elif kind == "delete":
            word = word[:i] + word[i + 1 :]
        elif kind == "insert":
            word = word[:i] + letter + word[i:]
        else:
            word = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if in_surname:
            return given, word, born
        return [word, *given[1:]], surnames, born

    def _swap_day_month(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        if born.day <= 12 and born.day != born.month:
            born = dt.date(born.year, born.day, born.month)
        return given, surnames, born

    def _case(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        return [g.upper() for g in given], surnames.upper(), born

    def _drop_second_surname(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        words = surnames.split()
        first = next(i for i, word in enumerate(words) if word.lower() not in PARTICLE_WORDS)
        return given, " ".join(words[: first + 1]), born

    def _particle(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        for particle in PARTICLE_SURNAMES:
            if surnames.startswith(particle):
                return given, surnames.replace(particle, particle.split()[-1], 1), born
        return given, "de " + surnames, born

    def _swap_given(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        return list(reversed(given)), surnames, born

    def _nickname(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        nicknames = NICKNAMES_OF.get(given[0])
        if nicknames:
            return [self.random.choice(nicknames), *given[1:]], surnames, born
        return given[:1], surnames, born  # only the first given name

    def _transliterate(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        def variant(word: str) -> str:
            return self.random.choice(TRANSLITERATIONS[word]) if word in TRANSLITERATIONS else word

        return [variant(g) for g in given], " ".join(map(variant, surnames.split())), born

    def _january_first(self, given: list[str], surnames: str, born: dt.date) -> _Parts:
        return given, surnames, dt.date(born.year, 1, 1)

    def round(self, size: int, duplicate_share: float = 0.1, societies: int = 3) -> list[Enrolment]:
        """``size`` enrolments of which ``duplicate_share`` re-enrol an earlier person, at
        another society's point (or the same one), shuffled."""
        rng = self.random
        originals = [
            self.person(n, rng.randrange(societies))
            for n in range(size - int(size * duplicate_share))
        ]
        duplicates = [
            self.duplicate(rng.choice(originals), rng.randrange(societies))
            for _ in range(int(size * duplicate_share))
        ]
        enrolments = originals + duplicates
        rng.shuffle(enrolments)
        return enrolments


_Parts = tuple[list[str], str, dt.date]
_Change = Callable[[list[str], str, dt.date], _Parts]
