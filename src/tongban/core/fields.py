"""Model fields that keep personal data encrypted at rest."""

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Stores SM4-GCM ciphertext; Python code sees the plaintext.

    The encryption context is "<app_label>.<Model>.<field>", so a ciphertext moved to another
    column or table does not decrypt. Lookups other than isnull cannot work on ciphertext; pair
    the field with a blind-index column for exact-match search.
    """

    description = "SM4-encrypted text"

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        self._context = f"{cls._meta.label}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return crypto.decrypt(value, self._context)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), self._context)

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull"}:
            return None
        return super().get_lookup(lookup_name)
