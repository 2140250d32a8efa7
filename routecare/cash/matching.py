"""Comparing linkage encodings (``linkage``) by Dice similarity with ``anonlink``, and what a
similarity means for a payment.

Blocking: an encoding is compared only with enrolments of the same sex (all of them when the
sex is undisclosed or other) whose year of birth is at most one year apart; the candidates are
read by an index on (round, sex, year of birth), so a check's cost grows with its block, not
with the round.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import anonlink
from bitarray import bitarray

# Chosen on synthetic rounds of the Americas route (``synthetic``, seeds 2 and 7; the bench
# measures others): at 0.80 a block is wrong about once in a thousand, at 0.72 the flagged pairs
# balance missed duplicates and needless reviews best (docs/cash-dedup.md).
PROBABLE_AT = 0.80
POSSIBLE_AT = 0.72


class Verdict(enum.StrEnum):
    NO_MATCH = "no-match"
    POSSIBLE = "possible-duplicate"
    PROBABLE = "probable-duplicate"


def verdict(similarity: float) -> Verdict:
    if similarity >= PROBABLE_AT:
        return Verdict.PROBABLE
    if similarity >= POSSIBLE_AT:
        return Verdict.POSSIBLE
    return Verdict.NO_MATCH


def _bits(encoding: bytes) -> bitarray:
    bits = bitarray(endian="big")
    bits.frombytes(encoding)
    return bits


def best_match(encoding: bytes, candidates: Sequence[bytes]) -> tuple[float, int | None]:
    """The highest Dice similarity of ``encoding`` with ``candidates`` and that candidate's
    index (``(0.0, None)`` when there is none above the lower threshold)."""
    if not candidates:
        return 0.0, None
    scores, (_mine, theirs) = anonlink.similarities.dice_coefficient_accelerated(
        [[_bits(encoding)], [_bits(c) for c in candidates]], POSSIBLE_AT, k=1
    )
    if not scores:
        return 0.0, None
    return float(scores[0]), int(theirs[0])


@dataclass(frozen=True)
class Blocked:
    """An encoding with its blocking key, for comparing a whole round (``pairs``)."""

    sex: str
    year: int
    encoding: bytes


def comparable(sex: str, other: str) -> bool:
    """Blocking on sex: the same, or either one not told."""
    return sex == other or sex not in BINARY or other not in BINARY


BINARY = ("female", "male")


def pairs(records: Sequence[Blocked], threshold: float) -> Iterable[tuple[int, int, float]]:
    """Every pair of records of ``records`` in comparable blocks with a similarity of at least
    ``threshold``, as (index, index, similarity) with the smaller index first, each once."""
    blocks: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        blocks[record.sex, record.year].append(index)
    bits = [_bits(record.encoding) for record in records]
    seen: set[tuple[int, int]] = set()
    for (sex, year), members in blocks.items():
        others = [
            i
            for (other_sex, other_year), block in blocks.items()
            if other_year in (year, year + 1) and comparable(sex, other_sex)
            for i in block
        ]
        scores, (left, right) = anonlink.similarities.dice_coefficient_accelerated(
            [[bits[i] for i in members], [bits[j] for j in others]], threshold
        )
        for score, a, b in zip(scores, left, right, strict=True):
            pair = (min(members[a], others[b]), max(members[a], others[b]))
            if pair[0] != pair[1] and pair not in seen:
                seen.add(pair)
                yield pair[0], pair[1], float(score)
