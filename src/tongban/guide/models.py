"""What the assistant keeps: the answers citizens clicked, anonymised.

A click keeps only the catalogue words of the question (terms the index knows: 食品, 经营, 许可 …),
never the question as typed, nor who asked, from where or in which session: a question that contains
a name, an ID or a phone number leaves none of them here. What remains is enough for the ranking
signal — "people who asked with these words chose this item" — and nothing else.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Click(models.Model):
    terms = models.CharField(_("question terms"), max_length=400)
    item_code = models.CharField(_("item code"), max_length=80, db_index=True)
    position = models.PositiveSmallIntegerField(_("position in the answer"), default=1)
    action = models.CharField(_("action"), max_length=10, default="guide")  # guide or apply
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("answer click")
        verbose_name_plural = _("answer clicks")

    def __str__(self):
        return f"{self.item_code} ← {self.terms}"
