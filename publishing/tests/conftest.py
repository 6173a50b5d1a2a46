"""The publishing test helpers live in ``publishing.tests.fixtures`` (a pytest plugin the
root conftest loads, so tests elsewhere can use them too); importable from here as well."""

from publishing.tests.fixtures import *  # noqa: F403
from publishing.tests.fixtures import Team, approved, draft, make_image, png_bytes, scheduled

__all__ = ["Team", "approved", "draft", "make_image", "png_bytes", "scheduled"]
