"""The benchmarks' own machinery: what makes their ratios fair."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.common import interleaved


def test_interleaved_rounds_turn_the_order_and_take_each_sides_median() -> None:
    order: list[str] = []

    def side(name: str, *figures: float) -> Callable[[], float]:
        left = iter(figures)

        def run() -> float:
            order.append(name)
            return next(left)

        return run

    medians = interleaved({"a": side("a", 1, 9, 2), "b": side("b", 5, 4, 3),
                           "c": side("c", 7, 7, 0)}, 3)
    assert order == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert medians == {"a": 2, "b": 4, "c": 7}


def test_benchmark_8_sees_jobs_done_promptly_on_its_virtual_clock() -> None:
    """The provider's real polling of the fake, on a clock both share: a job of 120 s is
    judged without 120 s of waiting, and within max(0.5 s, 25 %) of its end."""
    from benchmarks.member_costs import SIGHTED_JOBS, seen_done

    for seconds in SIGHTED_JOBS:
        late, polls = seen_done(seconds)
        assert 0 <= late <= max(0.5, 0.25 * seconds) + 1e-9 and polls >= 1, seconds
