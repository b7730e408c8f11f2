"""What the cases app tells other apps, after the transaction that caused it has committed.

The licence library (licences app) listens to these to issue and revoke licences; cases never
imports it, so the dependency points one way (ARCHITECTURE.md).
"""

from django.dispatch import Signal

# A decided case's result was issued; kwargs: case_number, licence_type.
result_issued = Signal()
# An approval was revoked (a failed 事后核查); kwargs: case_number.
result_revoked = Signal()
# Materials of a new case were satisfied by licences or shared data, with the applicant's consent;
# kwargs: case_number, purpose (the case title), licences {material: licence code},
# shared {material: call reference}.
materials_reused = Signal()
