from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicencesConfig(AppConfig):
    name = "tongban.licences"
    label = "licences"
    verbose_name = _("E-licences")

    def ready(self):
        # Cases announce results and reused materials; this app listens (cases never imports it).
        from tongban.cases import reuse, signals, verification

        from . import handover

        signals.result_issued.connect(handover.on_result_issued, dispatch_uid="licences.result_issued")
        signals.materials_reused.connect(handover.on_materials_reused, dispatch_uid="licences.reused")
        reuse.register(reuse.LICENCE, handover.find_licence)
        verification.register(
            "enterprise_licensed", "企业营业执照有效 the enterprise's business licence is in force"
        )(handover.enterprise_licensed)
        verification.register(
            "applicant_id_licence", "申请人身份证电子证照有效 the applicant's ID e-licence is in force"
        )(handover.applicant_identity_licence)
