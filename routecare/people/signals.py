"""What other apps may react to in a person's record, without ``people`` depending on them."""

from django.dispatch import Signal

# Sent inside the withdrawing transaction with ``actor``, ``person`` and ``purpose``.
consent_withdrawn = Signal()

# Sent inside the recording transaction with ``encounter`` (services in
# ``encounter._recorded_services``) and ``corrects`` (the encounter it replaces, or None).
encounter_recorded = Signal()
