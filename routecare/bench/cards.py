"""Care card figures: QR sizes over many synthetic summaries, encode and decode times.

The summaries follow what the field research describes at service points: most people carry
one to three visits, a minority allergies, chronic medicines, a pregnancy or a follow-up.
Database-independent: measured once per ``make bench`` with throw-away keys.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import time
from collections import Counter
from functools import cache
from typing import Any

import segno

from routecare.bench.stats import percentile, summarise
from routecare.cards import format
from routecare.cards.build import MAX_QR_VERSION, TYPICAL_QR_VERSION, fit
from routecare.cards.format import CardKeyMaterial, SigningKeyMaterial
from routecare.cards.summary import CardSummary, read_text, to_record
from routecare.people import shortcode

# Issue 18: every hostile text is answered (refused or read) in at most this long.
HOSTILE_DECODE_MAX_MS = 10

POINTS = [
    "col-necocli", "pan-lajas-blancas", "pan-san-vicente", "cri-paso-canoas", "hnd-las-manos",
    "hnd-danli", "hnd-el-paraiso", "gtm-agua-caliente", "gtm-esquipulas", "gtm-tecun-uman",
    "mex-tapachula", "grc-athens", "mkd-gevgelija", "mkd-tabanovce", "srb-belgrade",
    "svn-ljubljana",
]  # fmt: skip
SERVICES = [
    "first-aid", "water", "food", "information", "connectivity", "health-primary", "medicines",
    "wash-hygiene", "nfi", "psychosocial-support", "rfl", "dignity-kit", "shelter",
]  # fmt: skip
ALLERGIES = ["penicillin", "amoxicillin", "sulfa drugs", "aspirin", "ibuprofen", "peanuts",
             "latex", "shellfish", "eggs", "cotrimoxazole"]  # fmt: skip
CONDITIONS = ["type 1 diabetes", "type 2 diabetes", "hypertension", "asthma", "epilepsy", "HIV",
              "tuberculosis (on treatment)", "sickle cell disease", "heart failure"]  # fmt: skip
MEDICINES = [("insulin glargine", "20 units nightly"), ("metformin", "500 mg twice daily"),
             ("salbutamol inhaler", "2 puffs when needed"), ("amlodipine", "5 mg daily"),
             ("carbamazepine", "200 mg twice daily"), ("ferrous sulfate", "200 mg daily"),
             ("dolutegravir/lamivudine/tenofovir", "1 tablet daily")]  # fmt: skip
FOLLOW_UPS = [
    "Re-check wound dressing in 48 h", "Needs insulin refill within 3 days",
    "Antenatal check at next point", "Blood pressure check", "Refer to protection: travelling "
    "alone with two children", "Test results pending: ask the person to call the HSP in Danlí",
    "Child with diarrhoea: check hydration and weight", "Blisters on both feet, re-dress",
]  # fmt: skip
LANGUAGES = ["es", "es", "es", "en", "fr", "ht", "ar", "fa", "ps", "ur", "pt"]


@cache
def _capacities() -> list[int]:
    """Alphanumeric characters each QR version holds at level M (index = version)."""
    sizes = [0]
    for version in range(1, 41):
        low, high = 1, 4296
        while low < high:
            middle = (low + high + 1) // 2
            try:
                segno.make_qr("A" * middle, version=version, error="m", boost_error=False)
                low = middle
            except segno.DataOverflowError:
                high = middle - 1
        sizes.append(low)
    return sizes


def qr_version(text: str) -> int:
    """The smallest version at level M for a card text (all alphanumeric, one segment)."""
    return next(v for v, size in enumerate(_capacities()) if v and len(text) <= size)


def _weighted(rng: random.Random, choices: list[tuple[int, float]]) -> int:
    values = [value for value, _weight in choices]
    weights = [weight for _value, weight in choices]
    return rng.choices(values, weights)[0]


def synthetic_summary(rng: random.Random, issued_at: dt.datetime) -> CardSummary:
    body = "".join(rng.choice(shortcode.ALPHABET) for _ in range(shortcode.BODY_LENGTH))
    base: dict[str, Any] = {
        "short_code": shortcode.format_code(body + shortcode.check_symbol(body)),
        "serial": rng.randbytes(8).hex(),
        "issued_at": issued_at,
        "issued_at_point": rng.choice(POINTS),
        "consents": ["care"],
    }
    if rng.random() < 0.2:
        return CardSummary.model_validate(base)  # no consent to share: the code only
    base["consents"] = ["care", "share-network"] + (["share-partners"] * (rng.random() < 0.5))
    age_band = rng.choices(["0-4", "5-11", "12-17", "18-59", "60+"], [10, 12, 10, 60, 8])[0]
    sex = rng.choices(["female", "male", "other", "undisclosed"], [45, 52, 1, 2])[0]
    today = issued_at.date()
    visits = _weighted(rng, [(1, 45), (2, 30), (3, 15), (4, 5), (5, 3), (6, 2)])
    base.update(
        sex=sex,
        age_band=age_band,
        birth_year=(today.year - rng.randint(0, 70)) if rng.random() < 0.5 else None,
        languages=rng.sample(LANGUAGES, _weighted(rng, [(1, 70), (2, 30)])),
        allergies=rng.sample(ALLERGIES, _weighted(rng, [(0, 75), (1, 18), (2, 6), (3, 1)])),
        conditions=rng.sample(CONDITIONS, _weighted(rng, [(0, 80), (1, 15), (2, 5)])),
        medicines=[
            {"name": name, "dose": dose, "days_left": rng.randint(1, 30)}
            for name, dose in rng.sample(
                MEDICINES, _weighted(rng, [(0, 75), (1, 18), (2, 6), (3, 1)])
            )
        ],
        triage=rng.choice(["green", "green", "yellow", "red"]) if rng.random() < 0.7 else None,
        encounters=[
            {
                "date": today - dt.timedelta(days=3 * n + rng.randint(0, 2)),
                "service_point": rng.choice(POINTS),
                "services": sorted(rng.sample(SERVICES, rng.randint(1, 4))),
            }
            for n in range(visits)
        ],
        follow_ups=[
            {
                "text": rng.choice(FOLLOW_UPS),
                "due": today + dt.timedelta(days=rng.randint(1, 7)),
                "urgency": rng.choice(["routine", "priority", "emergency"]),
            }
            for _ in range(_weighted(rng, [(0, 70), (1, 25), (2, 5)]))
        ],
    )
    if sex == "female" and age_band == "18-59" and rng.random() < 0.12:
        base["pregnancy"] = {
            "weeks": rng.randint(6, 40),
            "expected_date": today + dt.timedelta(weeks=rng.randint(1, 34)),
        }
    if age_band == "0-4":
        if rng.random() < 0.6:
            base["child_growth"] = {
                "measured_on": today,
                "weight_kg": round(rng.uniform(3, 18), 1),
                "height_cm": round(rng.uniform(50, 110), 1),
                "muac_mm": rng.randint(105, 160),
            }
        if rng.random() < 0.4:
            base["vaccinations"] = [
                {"vaccine": vaccine, "given_on": today - dt.timedelta(days=rng.randint(0, 90))}
                for vaccine in rng.sample(["MMR", "OPV", "pentavalent", "BCG"], rng.randint(1, 3))
            ]
    return CardSummary.model_validate(base)


def measure_cards(count: int = 10_000, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    card_key = CardKeyMaterial(os.urandom(4), os.urandom(32))
    signing_key = SigningKeyMaterial(os.urandom(4), os.urandom(32))

    class Keys:
        def card_key(self, network: int, kid: bytes) -> bytes:
            return card_key.secret

        def verify_key(self, network: int, kid: bytes) -> bytes:
            return public

    public = signing_key.public_bytes()
    keys = Keys()

    def seal(summary: CardSummary) -> str:
        return format.seal(
            to_record(summary), network=1, card_key=card_key, signing_key=signing_key
        )

    issued_at = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
    summaries = [synthetic_summary(rng, issued_at) for _ in range(count)]
    versions: list[int] = []
    encode_ms: list[float] = []
    decode_ms: list[float] = []
    trimmed = 0
    for summary in summaries:
        started = time.perf_counter()
        fitted, text = fit(summary, seal)
        encode_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        read_text(text, keys)
        decode_ms.append((time.perf_counter() - started) * 1000)
        versions.append(qr_version(text))
        trimmed += bool(fitted.dropped)
    p50, p95 = int(percentile(versions, 50)), int(percentile(versions, 95))
    largest = max(versions)
    return {
        "summaries": count,
        "qr_version_m": {"p50": p50, "p95": p95, "max": largest},
        "qr_version_histogram": {str(v): n for v, n in sorted(Counter(versions).items())},
        "trimmed_to_fit": trimmed,
        "encode_ms": summarise(encode_ms),
        "decode_ms": summarise(decode_ms),
        "meets_targets": p50 <= TYPICAL_QR_VERSION and largest <= MAX_QR_VERSION,
    }


def measure_hostile_cards(examples: int, seed: int) -> dict[str, Any]:
    """The card property test (cards.fuzzing) at a larger budget: how many hostile texts were
    tried, how each ended, and the slowest read. A text that breaks the property is reported,
    not raised: the other figures still count."""
    from routecare.cards import fuzzing  # hypothesis: a development dependency

    report = fuzzing.Exploration()
    violation = None
    try:
        report = fuzzing.explore(examples, seed=seed)
    except fuzzing.PropertyError as error:
        violation = str(error)[:500]
    return {
        "cases": report.cases,
        "read": report.read,
        "reasons": dict(sorted(report.reasons.items())),
        "decode_ms": summarise(report.times_ms) if report.times_ms else None,
        "decode_max_ms": round(report.max_ms, 3),
        "violation": violation,
        "meets_targets": violation is None
        and report.cases == examples
        and report.max_ms <= HOSTILE_DECODE_MAX_MS,
    }
