"""Shared fixtures: the real data beside the repo (../shared/data, or $POSE3D_SHARED_DATA), skipped with a reason
when absent."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSE3D_SHARED_DATA") or REPO.parent / "shared" / "data")
MOCAP = DATA / "mocap"


def need(path: Path) -> Path:
    """Return ``path`` or skip the test when the shared data is not beside the repo."""
    if not path.exists():
        pytest.skip(f"shared data not found at {path} (clone the repo beside ../shared/data, or set "
                    "POSE3D_SHARED_DATA=/path/to/shared/data, to run this test)")
    return path


@pytest.fixture
def mocap_dir() -> Path:
    return need(MOCAP)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> Path:
    """An untrained, tiny MLP checkpoint (for format tests that need no real training)."""
    import numpy as np
    import torch

    from pose3d_cli.lifting.checkpoint import make_checkpoint, save_checkpoint
    from pose3d_cli.lifting.models import build_model

    torch.manual_seed(0)
    m = build_model("mlp", 17, 0, np.zeros((17, 3)), np.ones((17, 3)), width=32, blocks=1)
    ck = make_checkpoint(m, "mlp", {"width": 32, "blocks": 1, "dropout": 0.1}, "h36m17", "pelvis")
    return save_checkpoint(ck, tmp_path_factory.mktemp("ck") / "tiny.pt")


@pytest.fixture(scope="session")
def small_pairs(tmp_path_factory) -> Path:
    """A small real synth set: 12 Bandai Namco takes (walk, wave, bow ...) × 2 views, split by file."""
    from pose3d_cli.synth.pairs import SynthConfig, synthesise

    folder = need(MOCAP / "bvh" / "bandai_namco_2")
    files = sorted(folder.glob("*.bvh"))[::6][:12]
    out = tmp_path_factory.mktemp("pairs") / "small.h5"
    synthesise(files, out, SynthConfig(views=2, seed=1, val_fraction=0.25, test_fraction=0.0))
    return out


def fitted(model, seed: int = 0):
    """``model``, with a library filled when its contract takes no gradient steps (the ``nn`` baseline): random
    poses (pelvis-centred joints ~200 mm apart, 4 m in front of the camera) and their exact projections."""
    import torch

    from pose3d_cli.lifting.models import contract_of

    if contract_of(model).gradient_steps:
        return model
    g = torch.Generator().manual_seed(seed)
    J = model.num_joints
    X = torch.randn(400, J, 3, generator=g) * 200.0
    X[..., 2] += 4000.0
    model.fit(X[..., :2] / X[..., 2:], torch.ones(400, J), X, seed=seed)
    return model
