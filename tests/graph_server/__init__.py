"""A local Graph API server (Facebook Pages and Instagram) for the tests."""
