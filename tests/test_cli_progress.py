"""The CLI's progress bars (cli/common.lazy_progress)."""

import io

from rich.console import Console
from rich.progress import TextColumn


def test_lazy_progress_first_draw_shows_the_first_update_not_an_empty_total(monkeypatch):
    from pose3d_cli.cli import common

    out = io.StringIO()
    monkeypatch.setattr(common, "err_console", Console(file=out, force_terminal=True, width=60))
    monkeypatch.setattr(common.state, "quiet", False)
    bar = common.lazy_progress(TextColumn("step {task.completed}/{task.total}"))
    with bar:
        task = bar.add_task("train", total=None)
        assert out.getvalue() == ""  # nothing drawn before the first update (a refused input leaves no bar)
        bar.update(task, completed=1, total=5)
    assert "step 1/5" in out.getvalue() and "None" not in out.getvalue()
