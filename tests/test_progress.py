"""The CLI's progress: a step's notes (e.g. a recipe's search) reach the terminal or the log."""

from __future__ import annotations

import pytest

from champion.cli.render import RichProgress
from champion.recipes.progress import listening, report


def test_notes_show_while_a_step_runs_and_the_last_one_stays(capsys: pytest.CaptureFixture[str]) -> None:
    progress = RichProgress()
    progress.NOTE_SECONDS = 0.0  # stderr is not a terminal here: every note is printed
    progress.note("before any step")  # nothing runs: dropped
    with progress.step("fitting forecaster on 120 periods"), listening(progress.note):
        report("model 1: ARIMA(1,1,1); 20 s left")
        report("chose ARIMA(1,1,1) after 9 models in 1.2 s")
    err = capsys.readouterr().err
    assert "before any step" not in err
    assert "fitting forecaster on 120 periods: model 1: ARIMA(1,1,1); 20 s left" in err
    done = [line for line in err.splitlines() if line.startswith("✓")]
    assert len(done) == 1 and done[0].endswith("chose ARIMA(1,1,1) after 9 models in 1.2 s")


def test_quiet_progress_prints_no_notes(capsys: pytest.CaptureFixture[str]) -> None:
    progress = RichProgress(quiet=True)
    with progress.step("fitting"), listening(progress.note):
        report("model 1")
    assert capsys.readouterr().err == ""
