"""A local Mastodon server for tests, and its ``mastodon_server`` fixture."""
