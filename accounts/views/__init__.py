"""The Accounts pages: the list and one account (``pages``), connecting a network
(``connect``), and a Sandbox account's feed (``sandbox``).

Views parse input, check the permission through the access layer, call one
service from ``accounts.services`` and render; every change they make goes
through a service, which writes the audit entry.
"""
