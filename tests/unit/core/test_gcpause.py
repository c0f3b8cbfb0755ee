"""A bulk load runs without the cyclic GC, and what it made is frozen before the GC is back."""

from __future__ import annotations

import gc

import pytest

from claude_top.core import gcpause


@pytest.fixture(autouse=True)
def _restore_gc() -> object:
    was = gc.isenabled()
    yield None
    gc.unfreeze()
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_load_runs_without_the_gc_and_its_rows_are_frozen_after() -> None:
    gc.enable()
    gc.unfreeze()
    with gcpause.loading():
        assert not gc.isenabled()
        rows = [[i, {i: 1}] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(rows)  # the first collection will not rescan them


def test_a_failed_load_gives_the_gc_back() -> None:
    gc.enable()
    with pytest.raises(ValueError), gcpause.loading():
        raise ValueError("a bad log")
    assert gc.isenabled()


def test_a_caller_that_had_the_gc_off_keeps_it_off() -> None:
    gc.disable()  # ``check`` runs without it from start to end
    gc.unfreeze()
    with gcpause.loading():
        pass
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0
