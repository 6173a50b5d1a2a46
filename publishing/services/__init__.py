"""Writes about posts, approval, media, pauses and publishing.

Every door (HTML views, the API, Celery tasks, management commands) calls
these functions, so each rule is written once. Each function is keyword-only,
runs in one transaction, checks the actor's permission and the object's
current state itself, and writes an audit entry for every state change.

Failures a person can fix raise ``django.core.exceptions.ValidationError``
(``InvalidTransition`` when the post is in the wrong state); a forbidden action
raises ``PermissionDenied`` (403).

Modules: ``posts`` (writing, review submission, scheduling, cancelling),
``approval`` (policies and decisions), ``media`` (the library), ``pause``
(crisis pause, held jobs, emergency publishing), ``dispatch`` (the dispatcher,
the publish task's service, sweeping leases, retry and delete), ``org_settings``.
"""
