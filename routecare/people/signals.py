"""What other apps may react to in a person's record, without ``people`` depending on them."""

from django.dispatch import Signal

# Sent inside the withdrawing transaction with ``actor``, ``person`` and ``purpose``.
consent_withdrawn = Signal()
