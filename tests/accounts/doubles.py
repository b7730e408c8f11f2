"""Test doubles for the identity adapters. Used only by tests, through settings overrides; nothing in
the product names them."""

from tongban.accounts.identity import FaceCheck, FaceCheckResult


class FaceCheckTestDouble(FaceCheck):
    """Confirms exactly when the evidence is "face-of:<the ID number checked>", as a real service would
    confirm only the face that belongs to the number."""

    name = "test-double"
    calls: list = []

    def verify(self, *, name, id_number, evidence):
        FaceCheckTestDouble.calls.append(id_number)
        return FaceCheckResult(evidence == f"face-of:{id_number}", reference=f"T{len(self.calls):04d}")
