"""Every change to agencies, endpoints, devices and contacts goes through these services.

Each runs in one transaction, checks the permission and the rulebook, and writes the audit log.
"""

from .agencies import AgencyInput, create_agency, update_agency
from .changes import (
    EndpointEdit,
    approve_change,
    edit_endpoint,
    refuse_change,
    request_change,
    update_endpoint,
)
from .contacts import ContactInput, end_contact, set_contact
from .devices import DeviceInput, add_device, remove_device
from .endpoints import (
    EndpointInput,
    EvaluationInput,
    SecurityCheckInput,
    approve_endpoint,
    evaluate_endpoint,
    record_quota_exception,
    record_security_check,
    register_endpoint,
    reinstate_endpoint,
    report_repair,
    suspend_endpoint,
)

__all__ = [
    "AgencyInput",
    "ContactInput",
    "DeviceInput",
    "EndpointEdit",
    "EndpointInput",
    "EvaluationInput",
    "SecurityCheckInput",
    "add_device",
    "approve_change",
    "approve_endpoint",
    "create_agency",
    "edit_endpoint",
    "end_contact",
    "evaluate_endpoint",
    "record_quota_exception",
    "record_security_check",
    "refuse_change",
    "register_endpoint",
    "reinstate_endpoint",
    "remove_device",
    "report_repair",
    "request_change",
    "set_contact",
    "suspend_endpoint",
    "update_agency",
    "update_endpoint",
]
