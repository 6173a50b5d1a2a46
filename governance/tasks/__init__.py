"""Governance's Celery tasks, one module per topic. Celery's autodiscovery imports this
package, so each topic's module is imported here; task names stay as registered."""

from governance.tasks import records, reminders  # noqa: F401
