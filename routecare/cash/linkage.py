"""Linkage encodings for cash de-duplication: a keyed Bloom-filter encoding of a person's
name parts and date of birth (Schnell, Bachteler and Reiher 2009, "Privacy-preserving record
linkage using Bloom filters", a *cryptographic long-term key* over all the fields), compared by
Dice similarity with ``anonlink``. ``docs/cash-dedup.md`` explains the method to a focal point.

The name and the date of birth exist only in the request that enrols a person: ``encode``
reads them and returns 256 bytes from which neither can be read back without the round's key.

Method, section by section:

1. **Normalisation** (``name_tokens``): accents removed (NFKD), lower case, anything that is not
   a letter is a separator; the particles *de, del, la, las, los, y, da, dos, van, von* dropped
   (people write "de la Cruz" and "Cruz"); a known nickname replaced by its name (Pepe → José,
   Chema → José María) so the encoding of one person does not depend on which they gave.
2. **Features** (``features``): each token's letter bigrams, padded (``_j jo os se e_``), as a
   set per part — given names or surnames, whatever their order, so swapped given names and a
   missing second surname keep most of the encoding; the first surname once more as a whole
   word and by its own bigrams (the paternal surname is the one people keep); the bigrams of
   each name's consonant skeleton (``skeleton``: Mohammad, Muhammad and Mohamed are all
   *mhmd*); the year of birth; the day and month as written and as an unordered pair (a
   swapped day and month keeps that), except on 1 January, which registrations write for an
   unknown date and so carries no evidence.
3. **Keyed hashing**: each feature sets ``k`` bits (its weight) chosen by BLAKE2b keyed with the
   round's key, tagged with the feature's part; without the key nobody can tell which bits a
   bigram sets, and the same person in two rounds gets unrelated encodings (keys rotate per
   round).
4. **Hardening** (``harden``): the filter is passed through the cellular automaton *rule 90*
   (each bit becomes the exclusive or of its two neighbours, Schnell, Borgs and Encarnação
   2017), then each bit is flipped at random with a small probability (*BLIP*, Schnell and Borgs
   2016). Rule 90 alone can be undone by anyone who knows it; the flips make undoing it turn
   the rest of each chain into noise (``attack.invert_rule_90``). Together they break the link
   between one bigram and a fixed set of bits that the published frequency and pattern-mining
   attacks rely on, at a small cost in similarity.

Blocking is not in the encoding: enrolments are compared only with those of the same sex (any,
when undisclosed) and a year of birth one year apart at most, so a check reads a small part of
a round, not all of it (``matching``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
import struct
import unicodedata
from dataclasses import dataclass

import numpy as np

# Twice the 1,000 bits of the original method: with every feature below, a 1,024-bit filter
# is a third full, which rule 90 turns into noise faster than it keeps similarity.
FILTER_BITS = 2048
FILTER_BYTES = FILTER_BITS // 8
# Bits set per feature: a name's bigrams weigh less each than the date's parts, which carry
# more of who a person is per feature.
K_GIVEN = 9
K_SURNAME = 9
K_FIRST_SURNAME = 20
K_FIRST_SURNAME_GRAMS = 6
K_YEAR = 20
K_SKELETON = 6
PLACEHOLDER_DATES = frozenset({(1, 1)})
K_DAY_MONTH = 40
K_DAY_MONTH_PAIR = 40
# Probability of flipping each bit after rule 90 (BLIP).
FLIP_PROBABILITY = 0.005

PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "y", "e", "da", "das", "do", "dos", "van", "von"}
)

# Nicknames people give instead of their name on the Americas route (folded, lower case).
NICKNAMES: dict[str, str] = {
    "pepe": "jose", "chepe": "jose", "pepito": "jose", "chema": "jose maria",
    "paco": "francisco", "pancho": "francisco", "kiko": "francisco", "frank": "francisco",
    "paquita": "francisca", "pancha": "francisca",
    "lupe": "guadalupe", "lupita": "guadalupe", "memo": "guillermo", "nacho": "ignacio",
    "chucho": "jesus", "chuy": "jesus", "lalo": "eduardo", "toño": "antonio", "tono": "antonio",
    "tony": "antonio", "quique": "enrique", "kike": "enrique", "manolo": "manuel",
    "manu": "manuel", "rafa": "rafael", "beto": "alberto", "tito": "alberto",
    "charo": "rosario", "chayo": "rosario", "chelo": "consuelo", "conchita": "concepcion",
    "concha": "concepcion", "lola": "dolores", "lolita": "dolores", "pili": "pilar",
    "nando": "fernando", "fer": "fernando", "alex": "alejandro", "santi": "santiago",
    "juancho": "juan", "juanito": "juan", "mayra": "maria", "maru": "maria eugenia",
    "goyo": "gregorio", "chente": "vicente", "nico": "nicolas", "licha": "alicia",
    "meche": "mercedes", "nena": "elena", "tere": "teresa", "vero": "veronica",
    "dani": "daniel", "gaby": "gabriela", "caro": "carolina", "mari": "maria",
}  # fmt: skip

_SEPARATORS = re.compile(r"[^a-z]+")


class EncodingError(ValueError):
    """The name or date cannot be encoded (the message says why, for the form)."""


@dataclass(frozen=True)
class Feature:
    part: str
    value: str
    k: int


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def name_tokens(text: str) -> list[str]:
    """The words of a name part, folded, without particles, nicknames expanded."""
    words = [w for w in _SEPARATORS.split(fold(text)) if w and w not in PARTICLES]
    tokens: list[str] = []
    for word in words:
        tokens.extend(NICKNAMES.get(word, word).split())
    return tokens


def skeleton(token: str) -> str:
    """The consonants, doubled ones once: what transliterations of one name share
    (mohammad, muhammad, mohamed: mhmd)."""
    consonants = [ch for ch in token if ch not in "aeiouy"]
    return "".join(ch for i, ch in enumerate(consonants) if i == 0 or ch != consonants[i - 1])


def bigrams(token: str) -> set[str]:
    padded = f"_{token}_"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def features(given_names: str, surnames: str, birth_date: dt.date) -> list[Feature]:
    given, family = name_tokens(given_names), name_tokens(surnames)
    if not given or not family or max(map(len, given + family)) < 2:
        raise EncodingError("given names and surnames of at least two letters are needed")
    found = [Feature("g", gram, K_GIVEN) for gram in sorted(set().union(*map(bigrams, given)))]
    found += [Feature("s", gram, K_SURNAME) for gram in sorted(set().union(*map(bigrams, family)))]
    found.append(Feature("s1", family[0], K_FIRST_SURNAME))
    found += [Feature("f", gram, K_FIRST_SURNAME_GRAMS) for gram in sorted(bigrams(family[0]))]
    found.append(Feature("y", str(birth_date.year), K_YEAR))
    for part, tokens in (("gk", given), ("sk", family)):
        grams = set().union(*(bigrams(skeleton(t)) for t in tokens if len(skeleton(t)) > 1))
        found += [Feature(part, gram, K_SKELETON) for gram in sorted(grams)]
    if (birth_date.day, birth_date.month) in PLACEHOLDER_DATES:
        return found
    day, month = f"{birth_date.day:02d}", f"{birth_date.month:02d}"
    found.append(Feature("dm", f"{day}{month}", K_DAY_MONTH))
    found.append(Feature("dm2", "".join(sorted((day, month))), K_DAY_MONTH_PAIR))
    return found


# Parts whose values are pairs of letters: they repeat from one person to the next, and one
# tells nothing about anyone, so their positions under a round's key are remembered by the
# process (``_remembered_positions``). Whole surnames and dates never are: they would stay in
# the server's memory.
LETTER_PAIR_PARTS = frozenset({"g", "s", "f", "gk", "sk"})


def _positions(key: bytes, feature: Feature, size: int = FILTER_BITS) -> tuple[int, ...]:
    if feature.part in LETTER_PAIR_PARTS:
        return _remembered_positions(key, feature.part, feature.value, feature.k, size)
    return _keyed_positions(key, feature.part, feature.value, feature.k, size)


@functools.lru_cache(maxsize=50_000)
def _remembered_positions(key: bytes, part: str, value: str, k: int, size: int) -> tuple[int, ...]:
    return _keyed_positions(key, part, value, k, size)


def forget_keys() -> None:
    """Drop every remembered position (with the keys they were computed with): a round closed
    or deleted leaves nothing of its key in this process."""
    _remembered_positions.cache_clear()


def _keyed_positions(key: bytes, part: str, value: str, k: int, size: int) -> tuple[int, ...]:
    """``k`` positions from BLAKE2b keyed with the round's key: 16-bit big-endian words of the
    digest, modulo the filter's size (a power of two, so without bias)."""
    positions: tuple[int, ...] = ()
    block = 0
    while len(positions) < k:
        digest = hashlib.blake2b(
            f"{part}\x1f{value}\x1f{block}".encode(), key=key, digest_size=64
        ).digest()
        positions += struct.unpack(">32H", digest)
        block += 1
    return tuple(word % size for word in positions[:k])


def bloom(key: bytes, found: list[Feature], size: int = FILTER_BITS) -> np.ndarray:
    """The filter as ``size`` booleans (index = position)."""
    bits = np.zeros(size, dtype=bool)
    bits[[position for feature in found for position in _positions(key, feature, size)]] = True
    return bits


def rule_90(bits: np.ndarray) -> np.ndarray:
    """Each bit becomes the exclusive or of its two neighbours (cyclic)."""
    rolled: np.ndarray = np.roll(bits, 1) ^ np.roll(bits, -1)
    return rolled


def harden(bits: np.ndarray, flip_probability: float = FLIP_PROBABILITY) -> np.ndarray:
    bits = rule_90(bits)
    if flip_probability > 0:
        # Fresh entropy for each encoding: the flips must not be predictable from another.
        generator = np.random.default_rng(int.from_bytes(os.urandom(16), "big"))
        bits = bits ^ (generator.random(len(bits)) < flip_probability)
    return bits


def to_bytes(bits: np.ndarray) -> bytes:
    """Position 0 is the most significant bit of the first byte."""
    return np.packbits(bits).tobytes()


def encode(key: bytes, given_names: str, surnames: str, birth_date: dt.date) -> bytes:
    """The round's encoding of one person: ``FILTER_BYTES`` bytes (``to_bytes``)."""
    return to_bytes(harden(bloom(key, features(given_names, surnames, birth_date))))
