"""The POSIX sh script an ``ssh://`` source runs on the remote host, and its answer's header.

Why a script: resuming where a dropped connection left off needs the remote file's identity
(inode, and a checksum of its first bytes against inode reuse) and a byte offset, and following
through rotation needs to notice a new file under the name. ``tail -F`` offers neither (its
bytes after a rotation cannot be placed in either file), so each connection reads exactly one
*segment*, one file from one offset, and says which in a header line before any data:

    CLAUDE-TOP/1 MODE SIB INODE START SIZE STARTED FPLEN FP

``MODE`` is ``resume`` (the file we were reading, from our offset), ``new`` (a new file under
the name, from 0), ``skip`` (the first look at a file last written before ``--since``: from its
end), ``truncated`` (the same file, shrunk: from 0), ``drain`` (the file we were reading, found
rotated to ``NAME.SIB``: the rest of it) or ``missed`` (a sibling ``NAME.SIB`` written since we
started and never read: all of it). A line ``CLAUDE-TOP/1 wait`` before it says the name has no
file yet; lines before the header that do not start with ``CLAUDE-TOP/1`` are what the remote
login shell's rc files printed, and are skipped. Then raw bytes follow, and the exit status says how the segment ended: 0 (read to
its end, when not following), 10 (rotated: the old file was drained for ``WAIT`` seconds), 11
(a drained or missed file is done), 12 (truncated), 13 (replaced while being opened), 20 (no
such file, when not following), 21 (not readable), other statuses (and ssh's 255) are failures. While following, a ``.`` on stderr
every few seconds is a keep-alive: once the connection is gone that write fails and the script
ends, so no remote process outlives its connection by more than a few seconds.

Every value is passed as a single-quoted assignment in the script, which ``sh -s`` reads from
standard input: the remote login shell only ever sees ``sh -s``. It needs ``stat`` (GNU or
BSD), ``tail -c``, ``dd``, ``cksum`` and ``date``, found on any Linux, BSD or macOS host.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from claude_top.sources.remote import sh_quote

REMOTE_COMMAND = "exec sh -s"
MAGIC = b"CLAUDE-TOP/1"
HEAD_BYTES = 256
"""Bytes of a file's start its checksum covers (fewer while the file is shorter)."""

EXIT_DONE, EXIT_ROTATED, EXIT_DRAINED, EXIT_TRUNCATED, EXIT_RACE = 0, 10, 11, 12, 13
EXIT_MISSING, EXIT_UNREADABLE = 20, 21

_BODY = r"""
case $F in "~/"*) F="$HOME/${F#"~/"}" ;; esac
if stat -L -c %i / >/dev/null 2>&1; then
  st() { stat -L -c '%i %s %Y' -- "$1" 2>/dev/null; }
else
  st() { stat -L -f '%i %z %m' -- "$1" 2>/dev/null; }
fi
fp() { dd if="$1" bs="$2" count=1 2>/dev/null | cksum | { read -r a b; echo "$a"; }; }
nap() { sleep "$1" 2>/dev/null || sleep 1; }
[ -n "$STARTED" ] || STARTED=$(date +%s)
hdr() { printf 'CLAUDE-TOP/1 %s %s %s %s %s %s %s %s\n' "$1" "$2" "$3" "$4" "$5" "$STARTED" "$6" "$7"; }
has() { case " $DONE " in *" $1 "*) return 0 ;; esac; return 1; }

cur=$(st "$F") || cur=
set -- $cur ""
cino=$1
if [ -n "$INO" ] && [ "$cino" != "$INO" ]; then
  n=1
  while [ $n -le 9 ]; do
    x=$(st "$F.$n") || x=
    set -- $x ""
    if [ "$1" = "$INO" ]; then
      if [ "$2" -gt "$OFF" ]; then
        exec 3<"$F.$n" || exit 21
        hdr drain $n "$INO" "$OFF" "$2" 0 0
        tail -c +$((OFF + 1)) <&3 || exit 21
        exit 11
      fi
      break
    fi
    n=$((n + 1))
  done
  DONE="$DONE $INO"
  INO=
fi
if [ "$FIRST" != 1 ]; then
  n=9
  while [ $n -ge 1 ]; do
    x=$(st "$F.$n") || x=
    set -- $x ""
    if [ -n "$1" ] && [ "$1" != "$cino" ] && ! has "$1" && [ "$3" -ge "$STARTED" ]; then
      exec 3<"$F.$n" || exit 21
      hdr missed $n "$1" 0 "$2" 0 0
      cat <&3 || exit 21
      exit 11
    fi
    n=$((n - 1))
  done
fi
if [ -z "$cino" ]; then
  [ "$FOLLOW" = 1 ] || { echo "no such file" >&2; exit 20; }
  echo 'CLAUDE-TOP/1 wait'
  k=0
  until st "$F" >/dev/null; do
    nap "$POLL"
    k=$((k + 1)); if [ $k -ge "$KEEP" ]; then k=0; printf . >&2 || exit 31; fi
  done
fi
exec 3<"$F" || exit 21
set -- $(st /dev/fd/3) ""
oino=$1 osize=$2 omt=$3
[ -n "$oino" ] || exit 13
mode=new start=0
if [ "$oino" = "$INO" ]; then
  mode=resume start=$OFF
  if [ "$FPLEN" -gt 0 ] && [ "$(fp /dev/fd/3 "$FPLEN")" != "$FP" ]; then
    mode=new start=0
  elif [ "$osize" -lt "$OFF" ]; then
    mode=truncated start=0
  fi
elif [ "$FIRST" = 1 ] && [ -n "$SINCE" ] && [ "$omt" -lt "$SINCE" ]; then
  mode=skip start=$osize
fi
if [ $mode = resume ] && [ "$FPLEN" -gt 0 ]; then
  fplen=$FPLEN fpv=$FP
else
  fplen=$osize; [ "$fplen" -le 256 ] || fplen=256
  fpv=0; [ "$fplen" -eq 0 ] || fpv=$(fp /dev/fd/3 "$fplen")
fi
hdr $mode 0 "$oino" "$start" "$osize" "$fplen" "$fpv"
tail -c +$((start + 1)) <&3 || exit 21
[ "$FOLLOW" = 1 ] || exit 0
last=$osize
k=0
while :; do
  nap "$POLL"
  cat <&3 || exit 30
  x=$(st "$F") || x=
  set -- $x ""
  if [ "$1" != "$oino" ]; then nap "$WAIT"; cat <&3; exit 10; fi
  set -- $(st /dev/fd/3) ""
  if [ -n "$2" ] && [ "$2" -lt "$last" ]; then exit 12; fi
  last=${2:-$last}
  k=$((k + 1)); if [ $k -ge "$KEEP" ]; then k=0; printf . >&2 || exit 31; fi
done
"""


@dataclass(frozen=True, slots=True)
class Segment:
    """A header: what the bytes after it are (see the module docstring)."""

    mode: str
    sibling: int
    inode: str
    start: int
    size: int
    started: int
    fplen: int
    fp: str


def script(
    path: str,
    *,
    inode: str | None,
    offset: int,
    fplen: int,
    fp: str,
    done: Iterable[str],
    started: int | None,
    since: float | None,
    first: bool,
    follow: bool,
    poll: float,
    wait: float,
    keepalive_s: float = 5.0,
) -> bytes:
    """The script for one connection, values quoted into its first lines."""
    values = {
        "F": path,
        "INO": inode or "",
        "OFF": str(offset),
        "FPLEN": str(fplen),
        "FP": fp,
        "DONE": " ".join(done),
        "STARTED": "" if started is None else str(started),
        "SINCE": "" if since is None else str(int(since)),
        "FIRST": "1" if first else "0",
        "FOLLOW": "1" if follow else "0",
        "POLL": f"{max(poll, 0.05):g}",
        "WAIT": f"{max(wait, 0.0):g}",
        "KEEP": str(max(1, round(keepalive_s / max(poll, 0.05)))),
    }
    head = "".join(f"{k}={sh_quote(v)}\n" for k, v in values.items())
    return (head + _BODY).encode("utf-8", "surrogateescape")


LIST_SCRIPT = r"""
case $P in "~/"*) P="$HOME/${P#"~/"}" ;; esac
IFS=
for f in $P; do
  [ -f "$f" ] && printf '%s\000' "$f"
done
exit 0
"""


def list_script(pattern: str) -> bytes:
    """A script printing the regular files ``pattern`` matches there, NUL-separated."""
    return (f"P={sh_quote(pattern)}\n" + LIST_SCRIPT).encode("utf-8", "surrogateescape")


def parse_header(line: bytes) -> Segment | None:
    """The segment a header line announces; None for ``wait``. ``ValueError`` if malformed."""
    parts = line.split()
    if not parts or parts[0] != MAGIC:
        raise ValueError(f"not a claude-top header: {line[:80]!r}")
    if parts[1:] == [b"wait"]:
        return None
    if len(parts) != 9:
        raise ValueError(f"malformed header: {line[:80]!r}")
    mode, sib, ino, start, size, started, fplen, fp = (p.decode("ascii") for p in parts[1:])
    return Segment(mode, int(sib), ino, int(start), int(size), int(started), int(fplen), fp)
