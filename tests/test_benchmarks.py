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
