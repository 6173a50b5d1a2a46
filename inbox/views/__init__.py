"""The inbox pages: the list (``listing``), one item with its thread (``item``), and
the organization's inbox rules (``manage``).

Views parse input, check the permission through the access layer, call one
service from ``inbox.services`` and render; every change goes through a
service, which writes the audit entry.
"""
