"""tests/web/test_teaching_stats_api.py on PostgreSQL (the database comes from this folder's conftest)."""
from tests.web.test_teaching_stats_api import *  # noqa: F401,F403
