from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "diemcau.directory"
    label = "directory"
    verbose_name = _("Directory of agencies and endpoints")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _words

        from diemcau.core import audit_labels

        audit_labels.register({
            "agency.create": _words("Agency created"),
            "agency.update": _words("Agency changed"),
            "agency.quota_exception": _words("Quota exception granted"),
            "endpoint.register": _words("Endpoint registered"),
            "endpoint.update": _words("Endpoint changed"),
            "endpoint.evaluate": _words("Endpoint evaluated"),
            "endpoint.approve": _words("Endpoint approved"),
            "endpoint.suspend": _words("Endpoint suspended"),
            "endpoint.reinstate": _words("Endpoint reinstated"),
            "endpoint.report_repair": _words("Endpoint repair reported"),
            "endpoint.security_check": _words("Security check recorded"),
            "endpoint.change_request": _words("Endpoint change requested"),
            "endpoint.change_approved": _words("Endpoint change approved"),
            "endpoint.change_refused": _words("Endpoint change refused"),
            "endpoint.device_add": _words("Device added to a room"),
            "endpoint.device_remove": _words("Device removed from a room"),
            "contact.set": _words("Contact person assigned"),
            "contact.end": _words("Contact person's duty ended"),
        })
        from diemcau.ui import status

        from .choices import (
            CHANGE_REQUEST_STATUS_COLOURS,
            ENDPOINT_STATUS_COLOURS,
            ChangeRequestStatus,
            EndpointStatus,
        )

        status.register("endpoint", EndpointStatus, ENDPOINT_STATUS_COLOURS)
        status.register("change_request", ChangeRequestStatus, CHANGE_REQUEST_STATUS_COLOURS)
