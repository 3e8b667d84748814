"""The golden split: a stable hash of each row's own key, and the tail of a series."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest

from champion.data.golden import golden_mask, hash_unit, split_series
from champion.errors import DataError


def frame_of(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "CONTENT": [f"comment number {i}" for i in range(start, start + n)],
        "CLASS": [i % 2 for i in range(start, start + n)],
    })


def sides(frame: pd.DataFrame, fraction: float = 0.2, salt: str = "") -> dict[str, bool]:
    mask = golden_mask(frame, ["CONTENT"], fraction, salt)
    return dict(zip(frame["CONTENT"], mask.tolist(), strict=True))


def test_hash_unit_matches_independent_sha256() -> None:
    for key, salt in [("hello", ""), ("hello", "pepper"), ("", ""), ("ünïcödé ✓", "s")]:
        digest = hashlib.sha256((salt + "\x1f" + key).encode("utf-8")).hexdigest()
        expected = int(digest[:16], 16) / 2**64
        assert hash_unit(key, salt) == expected
        assert 0.0 <= hash_unit(key, salt) < 1.0


def test_hash_unit_is_deterministic_and_key_sensitive() -> None:
    assert hash_unit("abc") == hash_unit("abc")
    assert hash_unit("abc") != hash_unit("abd")
    assert hash_unit("abc", "x") != hash_unit("abc", "y")


def test_mask_agrees_with_hash_unit_threshold() -> None:
    frame = frame_of(200)
    mask = golden_mask(frame, ["CONTENT"], 0.3, "salty")
    expected = [hash_unit(text, "salty") < 0.3 for text in frame["CONTENT"]]
    assert mask.tolist() == expected
    assert mask.dtype == bool


def test_rows_keep_their_side_when_data_grows() -> None:
    before = sides(frame_of(500))
    after = sides(frame_of(1500))  # the first 500 rows plus 1000 new ones
    assert {k: after[k] for k in before} == before
    assert any(after[k] for k in after if k not in before)  # new rows also reach the golden set


def test_rows_keep_their_side_when_reordered() -> None:
    frame = frame_of(800)
    shuffled = frame.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert not shuffled["CONTENT"].equals(frame["CONTENT"])
    assert sides(shuffled) == sides(frame)


def test_copies_of_one_text_fall_on_one_side() -> None:
    frame = pd.concat([frame_of(300), frame_of(300)], ignore_index=True)
    mask = golden_mask(frame, ["CONTENT"], 0.2)
    assert (mask[:300] == mask[300:]).all()


def test_multiple_columns_form_the_key() -> None:
    frame = frame_of(300)
    mask = golden_mask(frame, ["CONTENT", "CLASS"], 0.5)
    expected = [hash_unit(f"{c}\x1f{k}") < 0.5 for c, k in zip(frame["CONTENT"], frame["CLASS"], strict=True)]
    assert mask.tolist() == expected


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.5])
def test_fraction_is_close_to_requested(fraction: float) -> None:
    n = 2000
    frame = pd.DataFrame({"id": [f"key-{i:05d}" for i in range(n)]})
    share = golden_mask(frame, ["id"], fraction).mean()
    sigma = math.sqrt(fraction * (1 - fraction) / n)
    assert abs(share - fraction) < 3 * sigma


def test_salt_changes_the_split() -> None:
    frame = frame_of(2000)
    plain = golden_mask(frame, ["CONTENT"], 0.2, "")
    salted = golden_mask(frame, ["CONTENT"], 0.2, "new draw")
    # Two independent 20% draws agree on about 0.2*0.2 + 0.8*0.8 = 68% of rows.
    agreement = (plain == salted).mean()
    assert 0.6 < agreement < 0.76
    assert (golden_mask(frame, ["CONTENT"], 0.2, "new draw") == salted).all()


def test_split_series_returns_last_periods() -> None:
    index = pd.date_range("2013-01-01", periods=100, freq="D")
    series = pd.Series(np.arange(100, dtype=float), index=index)
    history, golden = split_series(series, 42)
    assert len(golden) == 42 and len(history) == 58
    assert golden.index[0] == index[58] and golden.index[-1] == index[-1]
    assert history.index[-1] == index[57]
    assert pd.concat([history, golden]).equals(series)


@pytest.mark.parametrize("length", [0, 10, 42])
def test_split_series_too_short(length: int) -> None:
    series = pd.Series(np.ones(length), index=pd.date_range("2013-01-01", periods=length, freq="D"))
    with pytest.raises(DataError) as caught:
        split_series(series, 42)
    assert str(length) in caught.value.reason and "42" in caught.value.reason
