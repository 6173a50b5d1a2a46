"""Writes of analytics: pulling metrics, rebuilding rollups, goals and scheduled reports.

Every door (pages, the API, Celery tasks, management commands) calls these
functions, so each rule is written once. Modules: ``pull`` (finding published
posts to track and pulling an account's metrics), ``rollups`` (rebuilding a
day's rollups from the raw tables), ``goals`` and ``reports`` (scheduled
e-mail reports: saving them, and sending the ones due).

Pulling and rebuilding are routine upkeep that changes nothing a person
decided, so they write no audit entry; goals and scheduled reports, and every
report sent, do.
"""
