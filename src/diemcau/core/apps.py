from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "diemcau.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import audit, text
        from .services import accounts

        # Searches compare folded text (`name__folded__contains`) on SQLite and PostgreSQL.
        text.register_lookups()
        connection_created.connect(text.install_sqlite_function,
                                   dispatch_uid="diemcau_sqlite_fold")
        # Audit events join the chain as their transaction ends (core.audit).
        audit.install_transaction_hook()
        # Sign-ins, sign-outs and failed attempts go to the audit log on every path.
        accounts.connect_signals()
