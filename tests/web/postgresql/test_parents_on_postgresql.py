"""tests/web/test_parents_api.py on PostgreSQL (the database comes from this folder's conftest)."""
from tests.web.test_parents_api import *  # noqa: F401,F403
