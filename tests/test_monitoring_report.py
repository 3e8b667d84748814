"""The report's metrics over time: how the history is cut at version changes."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from champion.monitoring.report import TRANSITION_SECONDS, version_epochs


def test_a_swap_with_workers_answering_side_by_side_is_one_change() -> None:
    history = SimpleNamespace(versions=np.array([1, 1, 1, 2, 1, 2, 1, 2, 2, 2]),
                              times=np.array([0, 1, 2, 3, 3.1, 3.2, 3.3, 4, 5, 6.0]))
    assert version_epochs(history) == [(1, [0, 1, 2, 4, 6]), (2, [3, 5, 7, 8, 9])]  # type: ignore[arg-type]


def test_a_rollback_later_is_a_change_of_its_own() -> None:
    later = 10 + TRANSITION_SECONDS + 1
    history = SimpleNamespace(versions=np.array([1, 1, 2, 2, 1, 1]),
                              times=np.array([0, 1, 10, 11, later, later + 1]))
    assert [v for v, _ in version_epochs(history)] == [1, 2, 1]  # type: ignore[arg-type]
