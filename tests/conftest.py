"""Shared fixtures: the real data beside the repo (../shared/data), skipped with a reason when absent."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
MOCAP = DATA / "mocap"


def need(path: Path) -> Path:
    """Return ``path`` or skip the test when the shared data is not beside the repo."""
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (clone the repo beside ../shared/data to run this test)")
    return path


@pytest.fixture
def mocap_dir() -> Path:
    return need(MOCAP)
