"""The shared service taxonomy and other code lists from the design brief.

Codes are stable identifiers stored in the database and exchanged between National Societies;
labels are translated for display.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Service(models.TextChoices):
    INFORMATION = "information", _("Information")
    CONNECTIVITY = "connectivity", _("Connectivity (WiFi, charging, phone calls)")
    CASH_VOUCHER = "cash-voucher", _("Cash and vouchers")
    PSYCHOSOCIAL_SUPPORT = "psychosocial-support", _("Psychosocial support")
    FIRST_AID = "first-aid", _("First aid")
    HEALTH_PRIMARY = "health-primary", _("Primary health care")
    HEALTH_MATERNAL_CHILD = "health-maternal-child", _("Maternal and child health")
    MEDICINES = "medicines", _("Medicines")
    REFERRAL = "referral", _("Referral")
    FOOD = "food", _("Food")
    WATER = "water", _("Water")
    RFL = "rfl", _("Restoring family links")
    SAFE_SPACE = "safe-space-women-children", _("Safe space for women and children")
    SHELTER = "shelter", _("Shelter")
    WASH_HYGIENE = "wash-hygiene", _("Water, sanitation and hygiene")
    NFI = "nfi", _("Clothing, footwear and blankets")
    DIGNITY_KIT = "dignity-kit", _("Dignity kit")
    PROTECTION = "protection", _("Protection (PGI, anti-trafficking, GBV)")
    TRANSPORT_MEDICAL = "transport-medical", _("Medical transport")
    LEGAL_INFORMATION = "legal-information", _("Legal information")
    INTEGRATION = "integration", _("Integration (language courses, employment, school)")
    SOCIAL_INCLUSION = "social-inclusion", _("Social inclusion")
    FIRST_AID_TRAINING = "first-aid-training", _("First aid training")
    SELF_CARE_MESSAGES = "self-care-messages", _("Self-care messages")


class AgeBand(models.TextChoices):
    AGE_0_4 = "0-4", _("0–4 years")
    AGE_5_11 = "5-11", _("5–11 years")
    AGE_12_17 = "12-17", _("12–17 years")
    AGE_18_59 = "18-59", _("18–59 years")
    AGE_60_PLUS = "60+", _("60 years and over")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNDISCLOSED = "undisclosed", _("Undisclosed")


class TriageColour(models.TextChoices):
    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    RED = "red", _("Red")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    PRIORITY = "priority", _("Priority")
    EMERGENCY = "emergency", _("Emergency")


def age_band_for(age: int) -> str:
    if age < 5:
        return AgeBand.AGE_0_4
    if age < 12:
        return AgeBand.AGE_5_11
    if age < 18:
        return AgeBand.AGE_12_17
    if age < 60:
        return AgeBand.AGE_18_59
    return AgeBand.AGE_60_PLUS
