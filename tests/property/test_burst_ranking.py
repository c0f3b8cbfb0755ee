"""A 429 burst's features, ranked as each 429 comes, against a count of them sorted afresh.

``BurstLog.extend`` keeps the open burst's ranking and moves a feature up in it rather than
sorting every feature again; whatever the order of 429s (features, classes, gaps that open a
new burst, a log restored halfway), each burst must name its features with the counts of its
429s, most first and then by name, as ``_ranked`` sorts them.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from claude_top.engine.headroom.bursts import BURST_GAP_S, Burst, BurstLog, _ranked

hits = st.lists(
    st.tuples(
        st.sampled_from(["opus", "sonnet"]),
        st.sampled_from(["a", "b", "B", "chat", "search", "zz"]),
        st.sampled_from([1.0, 5.0, BURST_GAP_S + 1]),  # the last opens a new burst
        st.booleans(),  # restore the log from what it holds (a state resumed) before this 429
    ),
    max_size=80,
)


@given(hits)
def test_burst_features_are_their_429s_ranked(seq: list[tuple[str, str, float, bool]]) -> None:
    log = BurstLog()
    want: dict[str, Counter[str]] = {}
    ts = 1000.0
    for cls, feature, gap, restore in seq:
        ts += gap
        if restore:
            kept, opened = list(log.kept), log.opened()
            log = BurstLog()
            log.restore(kept, opened)
        if log.extend(cls, ts, feature):
            want[cls][feature] += 1
        else:
            log.open(Burst(cls, ts, ts, 1, ((feature, 1),), None, None))
            want[cls] = Counter({feature: 1})
        assert log.opened()[cls].features == _ranked(want[cls])
        assert log.kept[-1] is log.opened()[log.kept[-1].model_class]
