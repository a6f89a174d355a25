"""The co-editing write-ahead log (backend/collab/wal.py)."""

from __future__ import annotations

import os
import subprocess
import sys

from backend.collab.wal import WriteAheadLog, leftovers, read_records


def test_a_record_cut_short_by_a_kill_is_ignored():
    """Whole records are read back in order; a tail shorter than its length prefix is left out."""
    data = (3).to_bytes(4, "big") + b"abc" + (2).to_bytes(4, "big") + b"de" + (9).to_bytes(4, "big") + b"xy"
    assert read_records(data) == [b"abc", b"de"]


def test_the_log_empties_only_when_the_flush_covered_all_of_it(tmp_path):
    """After a flush of what it held the log is empty; a flush that raced a newer update keeps it."""
    log = WriteAheadLog(tmp_path, "wf")
    log.append(b"one")
    held = log.size
    log.append(b"two")
    log.flushed(held)
    assert read_records(log.path.read_bytes()) == [b"one", b"two"]
    log.flushed(log.size)
    assert log.path.read_bytes() == b"" and log.size == 0
    log.append(b"three")
    assert read_records(log.path.read_bytes()) == [b"three"]
    log.close()
    assert not log.path.exists()


def test_leftovers_are_the_logs_of_gone_processes_only(tmp_path):
    """A log of a dead process is a leftover; an open room's log and a live process's are not."""
    open_log = WriteAheadLog(tmp_path, "wf")
    open_log.append(b"live")
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = tmp_path / f"wf.{proc.pid}.abc.wal"
    dead.write_bytes((4).to_bytes(4, "big") + b"lost")
    other_live = tmp_path / f"wf.{os.getppid()}.def.wal"
    other_live.write_bytes((4).to_bytes(4, "big") + b"mine")
    (tmp_path / f"other.{proc.pid}.abc.wal").write_bytes(b"")
    assert leftovers(tmp_path, "wf") == [(dead, [b"lost"])]
    open_log.close()
