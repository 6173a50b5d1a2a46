"""Governance's REST API (/api/v1/): one module per topic, plus the API plumbing every app uses
(authentication, errors, pagination, parsers, the schema hooks) and the URL list."""
