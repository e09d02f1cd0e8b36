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
            if not self.ratio:
                return "MISSED"
            short = bound / self.ratio
            if short < 2:
                return f"MISSED by {1 - self.ratio / bound:.0%} (needs {short:.2f}x)"
            return f"MISSED: needs {short:,.1f}x"
        if self.ratio <= bound:
            return "met"
        over = self.ratio / bound
        return f"MISSED by {over - 1:.0%}" if over < 2 else f"MISSED: {over:,.1f}x over"

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
