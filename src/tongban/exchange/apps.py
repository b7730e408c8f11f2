from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "tongban.exchange"
    label = "exchange"
    verbose_name = _("Data sharing")

    def ready(self):
        # The call path caches resources and the negative list per policy version (exchange.store).
        # Any save or delete of those — through the services, the admin site or the ORM — and of a
        # department (who provides, who consumes) moves the version in the same transaction.
        # QuerySet.update() and raw SQL bypass this: change these through the services.
        from django.db.models.signals import post_delete, post_save

        from tongban.accounts.models import Department

        from . import store
        from .models import NegativeEntry, Resource

        def policy_changed(sender, **kwargs):
            store.bump_policy()

        # weak=False: the receiver is a local function, which a weak reference would lose at once.
        for model in (Department, Resource, NegativeEntry):
            post_save.connect(
                policy_changed,
                sender=model,
                weak=False,
                dispatch_uid=f"exchange.policy.{model.__name__}.save",
            )
            post_delete.connect(
                policy_changed, sender=model, weak=False, dispatch_uid=f"exchange.policy.{model.__name__}.del"
            )
