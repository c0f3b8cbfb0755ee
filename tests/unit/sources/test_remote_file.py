"""``RemoteFile``'s side of the protocol, without a host: what arrives before the header is the
remote shell's noise, a malformed header ends the connection with a reason, and the offset and
line number it keeps for a resume count complete lines only."""

from __future__ import annotations

import threading

from claude_top.sources.batches import Batch
from claude_top.sources.follow.outlet import Outlet
from claude_top.sources.follow.remote import RemoteFile
from claude_top.sources.remote import SshSource, parse


class FakeConn:
    def __init__(self) -> None:
        self.killed = False

    def kill(self) -> None:
        self.killed = True


def _remote() -> tuple[RemoteFile, list[Batch], FakeConn]:
    got: list[Batch] = []
    out = Outlet(got.append, None, None, None)
    src = parse("ssh://web1/var/log/app.log")
    assert isinstance(src, SshSource)
    out.add(src.name, "reading-history")
    rf = RemoteFile(
        src,
        src.path,
        out,
        max_line=1 << 20,
        since=None,
        ts_of=None,
        follow=True,
        poll=0.1,
        rotate_wait=1.0,
        wake=threading.Event(),
    )
    conn = FakeConn()
    rf._conn = conn  # type: ignore[assignment]
    return rf, got, conn


def _deliver(rf: RemoteFile) -> None:
    assert rf._framer is not None
    rf._out.deliver(rf._framer)
    rf._report()


def test_rc_file_noise_before_the_header_is_skipped_and_offsets_count_whole_lines() -> None:
    rf, got, conn = _remote()
    rf._feed(b"Welcome to web1!\nCLAUDE-TOP/1 new 0 4242 0 20 1700000000 20 123\n")
    rf._feed(b'{"a": 1}\n{"a": 2}\n{"a"')
    _deliver(rf)
    assert [ln for b in got for ln in b.lines] == [b'{"a": 1}', b'{"a": 2}']
    assert (rf.inode, rf.offset, rf.lineno) == ("4242", 18, 3)
    assert not conn.killed
    status = rf._out.status_of(rf.name)
    assert status.offset == 18


def test_a_malformed_header_ends_the_connection_with_a_reason() -> None:
    rf, got, conn = _remote()
    rf._feed(b"CLAUDE-TOP/1 new zero\n")
    assert conn.killed and "malformed header" in rf._bad
    assert got == []


def test_a_file_that_is_not_there_yet_ends_history() -> None:
    rf, _, _ = _remote()
    rf._feed(b"CLAUDE-TOP/1 wait\n")
    assert rf.history_done
    assert rf._out.status_of(rf.name).state == "waiting"
