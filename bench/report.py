"""The one table: each figure, its baseline from the same run, the ratio and the target."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Row:
    measure: str
    figure: str
    baseline: str
    ratio: float | None  # figure / baseline, in the unit the target speaks of
    target: str = ""  # e.g. ">= 0.5x", "<= 1.5x"; empty: no target
    note: str = ""

    @property
    def verdict(self) -> str:
        if not self.target or self.ratio is None:
            return "-"
        op, bound = self.target[:2], float(self.target[2:].strip().rstrip("x"))
        if op == ">=":
            if self.ratio >= bound:
                return "met"
            return f"MISSED: {bound / self.ratio:.1f}x short" if self.ratio else "MISSED"
        if self.ratio <= bound:
            return "met"
        return f"MISSED: {self.ratio / bound:.1f}x over"

    def cells(self) -> list[str]:
        ratio = "-" if self.ratio is None else f"{self.ratio:.3g}x"
        target = self.target.replace(">=", "≥ ").replace("<=", "≤ ") if self.target else "-"
        return [self.measure, self.figure, self.baseline, ratio, target, self.verdict]


HEADER = ["measure", "figure", "baseline (same run)", "ratio", "target", "verdict"]


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def plain(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    out.append("  ".join("-" * width for width in widths))
    out += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    return "\n".join(out)
