"""Chat tests share the SLA tests' calendars (a contract's chat hours)."""

from kefu.sla.tests.conftest import sla_tenant

__all__ = ["sla_tenant"]
