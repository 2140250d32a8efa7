"""A person's whole record in their own language: what a data-subject request shows them.

Labels come from the person-facing catalogue (``core.person_texts``), so the report reads in
Farsi, Pashto, Urdu or Haitian Creole as well as the staff interface's languages; values a
person wrote or staff typed (notes, allergies) are shown as they were recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from babel import Locale, UnknownLocaleError
from babel.dates import format_date

from routecare.core import person_texts
from routecare.core.languages import country_name_in, language_name_in
from routecare.orgs.models import NationalSociety
from routecare.retention.selectors import HeldAbout


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Report:
    language: str
    rtl: bool
    title: str
    intro: str
    printed: str
    sections: list[Section]
    erase_note: str


def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


class _Writer:
    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = _locale(language)

    def text(self, key: str, **values: object) -> str:
        return person_texts.text(key, self.language, **values)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return ""
        day = value.date() if isinstance(value, dt.datetime) else value
        if self.locale is None:
            return day.isoformat()
        return format_date(day, format="long", locale=self.locale)

    def choice(self, prefix: str, value: str) -> str:
        key = f"{prefix}_{value.replace('-', '_')}"
        return self.text(key) if key in person_texts.TEXTS else value


def _about(held: HeldAbout, w: _Writer) -> Section:
    person = held.person
    lines = [
        w.text(
            "held_registered",
            date=w.date(person.created_at),
            point=person.registered_at_point.name,
        ),
        f"{w.text('held_sex')}: {w.choice('sex', person.sex)}",
        f"{w.text('held_age')}: {w.text('held_age_years', band=person.age_band)}",
    ]
    if person.birth_year:
        lines.append(f"{w.text('held_birth_year')}: {person.birth_year}")
    if person.alias:
        lines.append(f"{w.text('held_alias')}: {person.alias}")
    if person.nationality:
        lines.append(
            f"{w.text('held_nationality')}: {country_name_in(person.nationality, w.language)}"
        )
    if person.languages:
        names = ", ".join(language_name_in(code, w.language) for code in person.languages)
        lines.append(f"{w.text('held_languages')}: {names}")
    lines.append(f"{w.text('held_travel')}: {w.choice('travel', person.travel_group)}")
    if held.household_members:
        lines.append(w.text("held_household", count=held.household_members))
    lines.append(f"{w.text('held_group')}: {w.choice('group', person.population_group)}")
    if person.vulnerabilities:
        needs = ", ".join(w.choice("need", need) for need in person.vulnerabilities)
        lines.append(f"{w.text('held_needs')}: {needs}")
    return Section(w.text("held_about_you"), lines)


def _health(held: HeldAbout, w: _Writer) -> Section:
    health = held.health
    lines = []
    for key in ("allergies", "conditions"):
        values = getattr(health, key) or []
        if values:
            lines.append(f"{w.text(key)}: {', '.join(str(value) for value in values)}")
    for medicine in health.medicines or []:
        parts = [str(medicine.get(part, "")) for part in ("name", "dose") if medicine.get(part)]
        lines.append(f"{w.text('medicines')}: {' '.join(parts)}")
    if health.pregnancy:
        weeks = health.pregnancy.get("weeks")
        expected = health.pregnancy.get("expected_date")
        line = w.text("pregnancy")
        if weeks:
            line += ": " + w.text("weeks", weeks=weeks)
        if expected:
            line += f" ({w.text('expected_date')}: {expected})"
        lines.append(line)
    for growth in health.child_growth or []:
        measures = [
            f"{w.text(label)} {growth[part]}{unit}"
            for part, label, unit in (
                ("weight_kg", "weight", " kg"),
                ("height_cm", "height", " cm"),
                ("muac_mm", "muac", " mm"),
            )
            if growth.get(part)
        ]
        lines.append(
            f"{w.text('child_growth')} {growth.get('measured_on', '')}: " + ", ".join(measures)
        )
    for vaccination in health.vaccinations or []:
        lines.append(
            f"{w.text('vaccinations')}: {vaccination.get('vaccine', '')} "
            f"{vaccination.get('given_on', '')}".strip()
        )
    return Section(w.text("held_health"), lines or [w.text("nothing")])


def _visits(held: HeldAbout, w: _Writer) -> Section:
    lines = []
    for encounter in held.encounters:
        services = ", ".join(
            person_texts.service_name(line.service, w.language)
            + (f" × {line.quantity}" if line.quantity > 1 else "")
            for line in encounter.service_lines()
        )
        line = w.text(
            "held_visit", date=w.date(encounter.occurred_at), point=encounter.service_point.name
        )
        lines.append(f"{line}: {services}")
        if encounter.notes:
            lines.append(f"    {w.text('held_notes')}: {encounter.notes}")
    return Section(w.text("visits"), lines or [w.text("nothing")])


def _follow_ups(held: HeldAbout, w: _Writer) -> Section:
    lines = [f"{w.date(follow_up.created_at)}: {follow_up.text}" for follow_up in held.follow_ups]
    return Section(w.text("for_next_point"), lines or [w.text("nothing")])


def _consents(held: HeldAbout, w: _Writer) -> Section:
    lines = []
    for consent in held.consents:
        given = w.text("held_given", date=w.date(consent.recorded_at))
        line = f"{w.choice('consent', consent.purpose)}: {given}"
        if consent.withdrawn_at:
            line += "; " + w.text("held_withdrawn", date=w.date(consent.withdrawn_at))
        lines.append(line)
    return Section(w.text("held_consents"), lines or [w.text("nothing")])


def _referrals(held: HeldAbout, w: _Writer) -> Section:
    lines = []
    for referral in held.referrals:
        if referral.to_point is not None:
            place = referral.to_point.name
        elif referral.partner_name:
            place = referral.partner_name
        else:
            society = referral.to_society.name if referral.to_society else ""
            place = w.text("held_family_links_team", society=society)
        lines.append(
            w.text(
                "held_referral",
                date=w.date(referral.created_at),
                service=person_texts.service_name(referral.service, w.language),
                place=place,
            )
        )
        if referral.restricted:
            lines.append("    " + w.text("held_referral_restricted"))
        elif referral.reason:
            lines.append(f"    {referral.reason}")
    return Section(w.text("held_referrals"), lines or [w.text("nothing")])


def _cards(held: HeldAbout, w: _Writer) -> Section:
    lines = []
    for card in held.cards:
        line = w.text("held_card", date=w.date(card.issued_at), point=card.issued_at_point.name)
        if card.ended_at:
            line += f" ({w.text('held_card_ended')})"
        lines.append(line)
    for carried in held.carried_cards:
        lines.append(w.text("held_card_carried", society=carried.issuer.name))
    return Section(w.text("held_cards"), lines or [w.text("nothing")])


# The platforms by their own names; the web chat in the person's language.
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "telegram": "Telegram"}


def _messages(held: HeldAbout, w: _Writer) -> Section:
    lines = [
        w.text("held_helpdesk_line", channel=CHANNEL_NAMES.get(m.channel) or w.text("channel_web"),
               count=m.count, first=w.date(m.first), last=w.date(m.last))
        for m in held.messages
    ]  # fmt: skip
    return Section(w.text("held_helpdesk"), lines or [w.text("nothing")])


def _cash(held: HeldAbout, w: _Writer) -> Section:
    lines = []
    for enrolment in held.cash:
        lines.append(
            w.text(
                "held_cash_enrolment", round=enrolment.round_name,
                starts=w.date(enrolment.starts_on), ends=w.date(enrolment.ends_on),
                date=w.date(enrolment.enrolled_at), point=enrolment.service_point,
            )
        )  # fmt: skip
        lines.append("    " + w.choice("cash_status", enrolment.status))
    if not lines:
        return Section(w.text("held_cash"), [w.text("nothing")])
    return Section(w.text("held_cash"), [*lines, w.text("held_cash_coded")])


def build(held: HeldAbout, language: str, today: dt.date) -> Report:
    """The report in ``language`` (one of the person-facing languages; English otherwise)."""
    if language not in person_texts.PERSON_LANGUAGES:
        language = "en"
    w = _Writer(language)
    society = NationalSociety.objects.get(pk=held.person.national_society_id)
    sections = [
        _about(held, w),
        _health(held, w),
        _visits(held, w),
        _follow_ups(held, w),
        _consents(held, w),
        _referrals(held, w),
        _cards(held, w),
        _messages(held, w),
        _cash(held, w),
        Section("", [w.text("held_accesses", count=held.accesses)]),
    ]
    return Report(
        language=language,
        rtl=person_texts.is_rtl(language),
        title=w.text("held_title"),
        intro=w.text("held_intro", society=society.name),
        printed=w.text("held_printed", date=w.date(today)),
        sections=sections,
        erase_note=w.text("held_erase"),
    )
