"""Every change to agencies, endpoints and contacts goes through these services.

Each runs in one transaction, checks the permission and the rulebook, and writes the audit log.
"""

from .agencies import AgencyInput, create_agency, update_agency
from .contacts import ContactInput, end_contact, set_contact
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
    update_endpoint,
)

__all__ = [
    "AgencyInput",
    "ContactInput",
    "EndpointInput",
    "EvaluationInput",
    "SecurityCheckInput",
    "approve_endpoint",
    "create_agency",
    "end_contact",
    "evaluate_endpoint",
    "record_quota_exception",
    "record_security_check",
    "register_endpoint",
    "reinstate_endpoint",
    "report_repair",
    "set_contact",
    "suspend_endpoint",
    "update_agency",
    "update_endpoint",
]
