"""The population register as accounts' real-name check (实名认证 L1).

accounts names this function in `TONGBAN_POPULATION_REGISTER` and never imports the exchange. It is
a verify-only call (可用不可见) on the 公安 population resource: "do this name and this ID number
belong to one living person on record?" — yes or no, no value disclosed. The call runs under the
grant of the department that runs the portal (`TONGBAN_IDENTITY_CONSUMER`) and is logged like every
other call, with the number masked and the name kept out of the log.
"""

from django.conf import settings

from tongban.accounts.identity import RegisterAnswer
from tongban.core.authz import SystemActor
from tongban.core.errors import DomainError

from . import services

IDENTITY_ACTOR = SystemActor("system:identity")
PURPOSE = "实名认证：核验姓名与公民身份号码一致"


def check_real_name(*, name: str, id_number: str) -> RegisterAnswer:
    try:
        answer = services.verify(
            IDENTITY_ACTOR,
            settings.TONGBAN_IDENTITY_RESOURCE,
            settings.TONGBAN_IDENTITY_PREDICATE,
            subject=id_number,
            params={"name": name},
            purpose=PURPOSE,
            department_code=settings.TONGBAN_IDENTITY_CONSUMER,
        )
    except services.Refused as refused:
        # No grant, no such resource or predicate: an installation without the register's answer.
        return RegisterAnswer(None, reason="refused:" + ",".join(sorted(refused.fields))[:60])
    except DomainError as error:  # the provider's system did not answer (logged as failed)
        return RegisterAnswer(None, reason=error.code)
    # A subject the register does not hold answers None: that is a "no", not an outage.
    return RegisterAnswer(bool(answer.answer), reference=answer.reference)
