"""tests/web/test_materials_api.py on PostgreSQL, with the files on local disk."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ADMIN_PASSWORD
from tests.web.test_materials_api import *  # noqa: F401,F403
from tests.web.test_materials_api import LIMIT_MB
from web.config import Config


@pytest.fixture
def config(tmp_path: Path, postgres_url: str) -> Config:  # noqa: F811
    return Config(data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, ice_addresses=("127.0.0.1",),
                  db_strict=True, database_url=postgres_url, max_material_mb=LIMIT_MB)
