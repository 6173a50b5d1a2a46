"""A local X API v2 server for the tests."""
