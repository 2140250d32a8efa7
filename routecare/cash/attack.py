"""A frequency attack on a round's encodings, to measure what a stolen set gives away
(``make bench``, docs/threat-model.md).

The attacker has every encoding of a round, knows the method (``linkage``: features, bits per
feature, hardening) and the population's name frequencies (``synthetic.NAMES``), but not the
round's key. This is the pattern-mining attack of Christen, Schnell, Vatsalan and Ranbaduge
("Efficient cryptanalysis of Bloom filters for privacy-preserving record linkage", PAKDD 2017)
in the form that suits record-level encodings:

1. *Mine*: bits set by the same frequent feature (a common surname, a frequent bigram) are set
   together in every record holding it, so they co-occur far more often than their frequencies
   predict. Bits are grouped by that lift; a group of about ``k`` bits is one feature.
2. *Align*: the records holding a group are those with (almost) all its bits set; the share of
   records holding it is compared with the expected frequencies of the features of that size
   (whole first surnames for groups of ``K_FIRST_SURNAME`` bits, bigrams for ``K_GIVEN``) and
   each group gets the feature of the nearest frequency not yet taken.
3. *Re-identify*: for each record, the aligned surname it holds, and the given name from the
   attacker's list whose bigrams best agree with the aligned bigram groups the record holds
   and does not hold. A record is re-identified when both its first given name and its first
   surname are guessed right.

Against plain keyed Bloom filters this recovers common surnames and names (``unhardened``);
the hardening of ``linkage.harden`` is meant to leave it nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routecare.cash import linkage, synthetic

# Bits whose co-occurrence with another exceeds this lift are taken as one feature's.
MIN_LIFT = 1.6
# A record holds a mined group when at least this share of its bits are set.
HOLDS_SHARE = 0.9


@dataclass(frozen=True)
class Outcome:
    records: int
    groups_mined: int
    surnames_right: int
    reidentified: int

    @property
    def rate(self) -> float:
        return self.reidentified / self.records if self.records else 0.0


def names_only(enrolment: synthetic.Enrolment) -> list[linkage.Feature]:
    """The features of a weak design, for showing what the attack does: the given names' bigrams
    and the first surname as a word, nothing else."""
    found = linkage.features(enrolment.given_names, enrolment.surnames, enrolment.birth_date)
    return [feature for feature in found if feature.part in ("g", "s1")]


def _matrix(encodings: Sequence[bytes]) -> np.ndarray:
    raw = np.frombuffer(b"".join(encodings), dtype=np.uint8).reshape(len(encodings), -1)
    return np.unpackbits(raw, axis=1).astype(np.float32)


def invert_rule_90(bits: np.ndarray) -> np.ndarray:
    """What an attacker who knows the method does first: undo rule 90 (``y[i] = x[i-1] ^
    x[i+1]``) by running each parity chain from an assumed first bit, taking the complement
    when that gives the sparser filter. Exact without noise; each flipped bit (BLIP) turns the
    rest of its chain into its complement, which is what defeats it."""
    y = bits.astype(bool)
    x = np.zeros_like(y)
    x[:, 3::2] = np.bitwise_xor.accumulate(y[:, 2:-1:2], axis=1)
    x[:, 2::2] = np.bitwise_xor.accumulate(y[:, 1:-1:2], axis=1)
    for chain in (slice(0, None, 2), slice(1, None, 2)):
        dense = x[:, chain].mean(axis=1) > 0.5
        x[dense, chain] = ~x[dense, chain]
    return x.astype(np.float32)


def mine(bits: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    """Groups of co-occurring bits (as index arrays) of about one of ``sizes`` bits."""
    support = bits.mean(axis=0)
    together = (bits.T @ bits) / len(bits)
    expected = np.outer(support, support)
    lift = np.divide(together, expected, out=np.zeros_like(together), where=expected > 0)
    np.fill_diagonal(lift, 0)
    unused = np.ones(bits.shape[1], dtype=bool)
    groups: list[np.ndarray] = []
    smallest, largest = min(sizes) * 0.6, max(sizes) * 1.4
    for seed in np.argsort(-lift.max(axis=1)):
        if not unused[seed] or lift[seed].max() < MIN_LIFT:
            continue
        members = [int(seed)]
        candidates = np.where(unused & (lift[seed] >= MIN_LIFT))[0]
        for candidate in candidates[np.argsort(-lift[seed, candidates])]:
            if candidate != seed and all(lift[candidate, m] >= MIN_LIFT for m in members):
                members.append(int(candidate))
            if len(members) >= largest:
                break
        if smallest <= len(members):
            group = np.array(members)
            unused[group] = False
            groups.append(group)
    return groups


def _expected_frequencies(
    population_model: synthetic.Generator,
) -> tuple[Counter[str], Counter[str]]:
    """What the attacker knows: how common each first surname and each set of given names is,
    from people drawn by the round's name frequencies (not the round's people)."""
    population = population_model.round(20_000, duplicate_share=0)
    size = len(population)
    surnames = Counter(linkage.name_tokens(p.surnames)[0] for p in population)
    given = Counter(" ".join(linkage.name_tokens(p.given_names)) for p in population)
    return (
        Counter({k: v / size for k, v in surnames.items()}),
        Counter({k: v / size for k, v in given.items()}),
    )


def _align(groups: list[np.ndarray], held: np.ndarray, expected: Counter[str]) -> dict[int, str]:
    shares = held.mean(axis=0)
    free = dict(expected)
    aligned: dict[int, str] = {}
    for index in np.argsort(-shares):
        if not free:
            break
        feature = min(free, key=lambda name: abs(free[name] - shares[index]))
        aligned[int(index)] = feature
        del free[feature]
    return aligned


def attack(
    encodings: Sequence[bytes],
    truth: Sequence[synthetic.Enrolment],
    population_model: synthetic.Generator,
) -> Outcome:
    """``population_model`` draws people by the name frequencies the attacker knows (another
    seed than the round's)."""
    sizes = (linkage.K_GIVEN, linkage.K_FIRST_SURNAME)
    # The attacker mines the encodings as they are and with rule 90 undone, and keeps the
    # reading that yields more groups.
    readings = [_matrix(encodings), invert_rule_90(_matrix(encodings))]
    mined = [mine(reading, sizes) for reading in readings]
    best = int(np.argmax([len(groups) for groups in mined]))
    bits, groups = readings[best], mined[best]
    surname_freq, given_freq = _expected_frequencies(population_model)
    middle = (linkage.K_GIVEN + linkage.K_FIRST_SURNAME) / 2
    surname_groups = [g for g in groups if len(g) > middle]
    gram_groups = [g for g in groups if len(g) <= middle]

    def holds(found: list[np.ndarray]) -> np.ndarray:
        if not found:
            return np.zeros((len(bits), 0), dtype=bool)
        return np.stack([bits[:, g].mean(axis=1) >= HOLDS_SHARE for g in found], axis=1)

    surname_held, gram_held = holds(surname_groups), holds(gram_groups)
    surname_of = _align(surname_groups, surname_held, surname_freq)
    # People with the same given names hold the same bigram groups: the commonest sets of held
    # groups are the commonest given names, in the same order.
    signatures = [frozenset(np.where(gram_held[row])[0].tolist()) for row in range(len(bits))]
    ranked = [signature for signature, _n in Counter(signatures).most_common() if signature]
    given_of = dict(zip(ranked, [name for name, _n in given_freq.most_common()], strict=False))
    surnames_right = reidentified = 0
    for row, person in enumerate(truth):
        true_surname = linkage.name_tokens(person.surnames)[0]
        held_surnames = [surname_of[i] for i in np.where(surname_held[row])[0] if i in surname_of]
        if len(held_surnames) != 1 or held_surnames[0] != true_surname:
            continue
        surnames_right += 1
        if given_of.get(signatures[row]) == " ".join(linkage.name_tokens(person.given_names)):
            reidentified += 1
    return Outcome(len(truth), len(groups), surnames_right, reidentified)
