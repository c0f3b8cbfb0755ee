"""Following log files by name, like ``tail -F``, on one thread of its own.

Design, after GNU tail, Vector and Fluent Bit (see /work/shared/reference/tailing.md), in parts:

* ``follower``: the thread and its loop, and resolving what the user named;
* ``history``: where ``--since`` starts in a file, and rotated files read once;
* ``live_file``: one followed name through rotation, truncation and removal;
* ``pipe``: stdin, FIFOs and ``<(...)``, read on a helper thread;
* ``wakeup``: directory events as wake-ups only;
* ``outlet``: the sink, the status table and progress, behind one lock.

Lines are framed by ``sources.batches``, the same framer one-shot reads use; decoding and parsing
are the reader's job.
"""

from claude_top.sources.follow.follower import Follower
from claude_top.sources.follow.outlet import Progress, SourceStatus
from claude_top.sources.paths import is_rotated_name

__all__ = ["Follower", "Progress", "SourceStatus", "is_rotated_name"]
