"""tests/web/test_assignments_api.py on PostgreSQL (the database comes from this folder's conftest)."""
from tests.web.test_assignments_api import *  # noqa: F401,F403
