"""What the cases app tells any other part that wants to know, after the transaction that caused
it has committed. The licence library does not listen: cases calls it (results.hand_over_licence,
revoke_case_licences), since cases depends on licences and not the other way (ARCHITECTURE.md).
"""

from django.dispatch import Signal

# A decided case's result was issued; kwargs: case_number, licence_type.
result_issued = Signal()
# An approval was revoked (a failed 事后核查); kwargs: case_number.
result_revoked = Signal()
