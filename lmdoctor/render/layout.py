"""Text layout for terminals: wrap without splitting what must be copied whole, and a grid
that fits the terminal width, or None so the caller can stack the rows instead.

An *atom* is what wrapping never splits: a word, URL, path or option (no spaces inside), or a
`code span` (a command, spaces and all). A line breaks only between atoms. A grid is drawn
only when every column is at least as wide as its longest atom; otherwise the caller uses a
stacked layout, where an atom longer than the line sits alone on its own line rather than
being cut in two (a URL cut by a border cannot be copied).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence

MIN_GRID_COLUMNS = 80  # below this, tables stack: four columns of ~15 characters help nobody
MAX_COLUMNS = 200  # beyond this, lines are too long to read
GRID_OVERHEAD = 3  # "│ " before each cell and " " after, plus the closing "│" once

_ATOM = re.compile(r"`[^`\n]*`\S*|\S+")
_CODE_PART = re.compile(r"[^.]+\.?|\.")


def terminal_columns() -> int:
    """The width to lay out for: the terminal's, $COLUMNS when set, 120 when neither (a pipe
    or a file), at most MAX_COLUMNS."""
    columns = shutil.get_terminal_size((120, 24)).columns
    return max(20, min(columns if columns > 0 else 120, MAX_COLUMNS))


def atoms(text: str) -> list[str]:
    return _ATOM.findall(text)


def longest_atom(text: str) -> int:
    return max((len(a) for a in atoms(text)), default=0)


def natural_width(text: str) -> int:
    return max((len(line) for line in text.split("\n")), default=0)


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrap at spaces; paragraphs ("\\n") kept; an atom wider than `width` alone on
    its line, never split."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for atom in atoms(paragraph):
            if line and len(line) + 1 + len(atom) > width:
                lines.append(line)
                line = atom
            else:
                line = f"{line} {atom}" if line else atom
        lines.append(line)
    return lines


def wrap_code(code: str, width: int) -> list[str]:
    """A finding code may break after a dot (`http.` / `native_api_base`): it is a name to
    read, not a value to copy."""
    lines: list[str] = []
    line = ""
    for part in _CODE_PART.findall(code):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = part
        else:
            line += part
    return [*lines, line]


def code_min_width(code: str) -> int:
    return max((len(p) for p in _CODE_PART.findall(code)), default=0)


def fit(
    minimum: Sequence[int], natural: Sequence[int], total: int, first: Sequence[int] = ()
) -> list[int] | None:
    """Column widths (content only) for a grid at most `total` wide, or None when even the
    narrowest layout (every column at its longest atom) does not fit. Spare room goes first
    to the columns in `first` (short names, best unbroken), then to those that want it most,
    up to their natural width."""
    natural = [max(n, m) for n, m in zip(natural, minimum, strict=True)]
    room = total - GRID_OVERHEAD * len(minimum) - 1
    if sum(natural) <= room:
        return list(natural)
    if sum(minimum) > room:
        return None
    widths = list(minimum)
    spare = room - sum(widths)
    for i in first:
        given = min(spare, natural[i] - widths[i])
        widths[i] += given
        spare -= given
    while spare > 0:
        wanting = [i for i, w in enumerate(widths) if w < natural[i]]
        if not wanting:
            break
        want = sum(natural[i] - widths[i] for i in wanting)
        given = 0
        for i in wanting:
            share = max(1, spare * (natural[i] - widths[i]) // want)
            share = min(share, natural[i] - widths[i], spare - given)
            widths[i] += share
            given += share
            if given >= spare:
                break
        spare -= given
    return widths


def _rule(widths: Sequence[int], left: str, middle: str, right: str) -> str:
    return left + middle.join("─" * (w + 2) for w in widths) + right


def grid(
    header: Sequence[str],
    rows: Sequence[Sequence[list[str]]],
    widths: Sequence[int],
    paint: Sequence[Sequence[str]] | None = None,
) -> str:
    """A box-drawn table of already wrapped cells (each a list of lines). `paint[r][c]`: an
    ANSI colour code for a cell's text (applied after padding, so it never skews widths)."""

    def line(cells: Sequence[str], codes: Sequence[str] = ()) -> str:
        out = []
        for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
            padded = text.ljust(width)
            code = codes[i] if i < len(codes) else ""
            if code and text:
                padded = f"\x1b[{code}m{text}\x1b[0m" + " " * (width - len(text))
            out.append(f" {padded} ")
        return "│" + "│".join(out) + "│"

    lines = [_rule(widths, "┌", "┬", "┐"), line(header), _rule(widths, "├", "┼", "┤")]
    for r, row in enumerate(rows):
        if r:
            lines.append(_rule(widths, "├", "┼", "┤"))
        height = max(len(cell) for cell in row)
        for k in range(height):
            cells = [cell[k] if k < len(cell) else "" for cell in row]
            lines.append(line(cells, paint[r] if paint else ()))
    lines.append(_rule(widths, "└", "┴", "┘"))
    return "\n".join(lines)


def hanging(label: str, text: str, width: int, indent: int) -> list[str]:
    """`label` then `text` wrapped to `width`, continuation lines indented by `indent`."""
    first = " " * indent + label
    body = wrap(text, max(10, width - indent - len(label)))
    lines = [first + body[0]]
    lines += [" " * (indent + len(label)) + rest for rest in body[1:]]
    return [line.rstrip() for line in lines]


def plain_table(header: Sequence[str], rows: Sequence[Sequence[object]], columns: int) -> str:
    """A borderless table (columns two spaces apart, a dashed rule under the header) that fits
    `columns`, cells wrapped at spaces; when even the narrowest one does not fit (or below
    MIN_GRID_COLUMNS), one block per row of `header: value` lines instead."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    count = len(header)
    minimum = [max([len(header[i])] + [longest_atom(r[i]) for r in cells]) for i in range(count)]
    natural = [max([len(header[i])] + [natural_width(r[i]) for r in cells]) for i in range(count)]
    room = columns - 2 * (count - 1)
    widths: list[int] | None = None
    if columns >= MIN_GRID_COLUMNS:
        # fit() counts a grid's borders; a plain table has only the gaps: give fit that room
        widths = fit(minimum, natural, room + GRID_OVERHEAD * count + 1)
    if widths is None:
        label = max(len(h) for h in header)
        blocks = []
        for row in cells:
            lines = []
            for name, value in zip(header, row, strict=True):
                lines += hanging(f"{name.ljust(label)}  ", value, columns, 0)
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)
    numeric = [all(_is_number(r[i]) for r in cells if r[i]) for i in range(count)]

    def line(values: Sequence[str]) -> str:
        out = [
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(out).rstrip()

    lines = [line(list(header)), "  ".join("-" * w for w in widths)]
    for row in cells:
        wrapped = [wrap(value, width) for value, width in zip(row, widths, strict=True)]
        for k in range(max(len(w) for w in wrapped)):
            lines.append(line([w[k] if k < len(w) else "" for w in wrapped]))
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def wrap_labelled(text: str, columns: int, indent: int = 8) -> str:
    """Lines like "GPUs    none found (…)": each wrapped to `columns`, continuation lines
    indented under the value."""
    out = []
    for line in text.split("\n"):
        if len(line) <= columns:
            out.append(line)
            continue
        lead = len(line) - len(line[indent:].lstrip()) if len(line) > indent else 0
        label, value = line[:lead], line[lead:]
        out += hanging(label, value, columns, 0) if lead else wrap(line, columns)
    return "\n".join(out)
