"""A process forked while a module lock of the kernel or a bundled plugin is held gets the lock back
unlocked (crossaug.forking)."""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading

import pytest
from crossaug.forking import renew_after_fork

pytestmark = pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="no fork on this platform")

#: every module-level lock the kernel and the bundled plugins guard shared state with
LOCKS = [
    ("crossaug.hooks", "_lock"),
    ("crossaug.registry", "_found_lock"),
    ("crossaug.cache", "_models_lock"),
    ("crossaug_text.language", "_lock"),
    ("crossaug_text.resources", "_lock"),
    ("crossaug_text.resources", "_spacy_lock"),
    ("crossaug_text.hf", "_lock"),
    ("crossaug_audio.dsp.libsox", "_lock"),
]


def _in_child(fn, *args, wait: float = 30.0):
    """``fn(*args)`` in a forked process; its answer, or ``"no answer"`` if it did not come in ``wait`` s."""
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_answer, args=(theirs, fn, args))
    child.start()
    theirs.close()
    got = mine.recv() if mine.poll(wait) else "no answer"
    if child.is_alive():  # stuck on the inherited lock
        child.kill()
    child.join(10)
    return got


def _answer(conn, fn, args) -> None:
    conn.send(fn(*args))


def _module_lock_is_free(module: str, name: str) -> bool:
    return getattr(importlib.import_module(module), name).acquire(timeout=5)


@pytest.mark.parametrize(("module", "name"), LOCKS, ids=[f"{m}.{n}" for m, n in LOCKS])
def test_a_forked_process_gets_each_module_lock_unlocked(module, name):
    lock = getattr(importlib.import_module(module), name)
    with lock:  # held at the fork, as by another thread of the parent
        assert _in_child(_module_lock_is_free, module, name) is True
    assert getattr(importlib.import_module(module), name) is lock  # the parent keeps its own


def test_renew_after_fork_renews_locks_of_each_kind_and_empties_dicts():
    ns = {"plain": threading.Lock(), "reentrant": threading.RLock(), "by_key": {"k": threading.Lock()}}
    renew_after_fork(ns, "plain", "reentrant", "by_key")
    ns["plain"].acquire()
    ns["by_key"]["k"].acquire()

    def look():
        return (ns["plain"].acquire(timeout=5), type(ns["reentrant"]).__name__, ns["by_key"])

    assert _in_child(look) == (True, type(threading.RLock()).__name__, {})
    assert ns["plain"].locked() and ns["by_key"]["k"].locked()  # the parent's are untouched
    with pytest.raises(KeyError, match="missing"):
        renew_after_fork(ns, "missing")


def test_the_language_check_answers_in_a_child_forked_while_it_ran():
    """The runner's case: a thread of the calling process was inside the language check (holding
    its lock) when process workers were forked; the workers' own checks waited forever."""
    from crossaug_text import language

    language.language_refusal("The cat sits on the mat and sleeps.", "en")  # the classifier exists
    with language._lock:
        got = _in_child(language.language_refusal, "Die Katze sitzt auf der Matte und schläft.", "en")
    assert isinstance(got, str) and "'de'" in got
