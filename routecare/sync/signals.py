"""What other apps hear of nodes, without the sync app knowing them (e.g. cards certifies a
node's card-signing key at enrolment and revokes it with the node; the sync app's own tls
module signs the node's HTTPS certificate the same way).

Server side:
- ``node_enrolling(node, extra)``: inside the enrolment transaction; ``extra`` is what the node
  sent besides its code. A receiver returns a dict of what to send back (merged into the
  answer's ``extra``), or raises ``ValidationError`` to refuse the enrolment.
- ``node_revoked(node, actor)``: inside the revocation transaction.

Node side:
- ``enrolment_preparing(addresses)``: receivers return a dict of what to send with the code;
  ``addresses`` are the host names and IP addresses the node is reached at (its HTTPS).
- ``enrolment_completed(answer)``: the server's answer (``answer["extra"]``), once the node's
  state is stored, in the same transaction.
"""

from django.dispatch import Signal

node_enrolling = Signal()
node_revoked = Signal()
enrolment_preparing = Signal()
enrolment_completed = Signal()
