"""The price table: what a model call costs, computed when a report runs, from a file the user controls.

Format
------
A UTF-8 CSV file, one rule per line. Blank lines and lines starting with ``#`` are ignored (line numbers
in error messages count every physical line). The first other line is the header; columns, in any order:

``model`` (required)
    The model id to match: an exact id, a glob or a regular expression, as ``match`` says.
``match`` (optional, default ``exact``)
    ``exact`` (the id itself), ``glob`` (shell wildcards ``*``, ``?``, ``[...]``, case-sensitive, the whole
    id must match) or ``regex`` (Python syntax, the whole id must match: ``re.fullmatch``).
``input_per_mtok``, ``output_per_mtok`` (required)
    Price of one million prompt (input) and completion (output) tokens, a non-negative decimal number.
``currency`` (required)
    Three-letter code (``USD``, ``EUR``...). One table uses one currency: cost columns are summed.
``effective_from`` (optional)
    ``YYYY-MM-DD``: the rule applies to generations made on or after this day (UTC). Empty means "since
    always".
``note`` (optional)
    Free text (where the price came from); ignored.

Which rule prices a call
------------------------
A call of model ``M`` made on day ``D`` (the UTC date of ``gens.created_at``; or the ``--price-at`` date
for every call) is priced by the rules that match ``M`` and are in effect on ``D`` (``effective_from``
empty or ``<= D``). Among those:

1. the most specific kind wins: ``exact`` beats ``glob`` beats ``regex``;
2. within that kind, the latest ``effective_from`` wins (empty counts as the earliest);
3. if still tied (two different patterns of one kind with the same date), the rule on the earlier
   line wins.

A call that no rule prices (unknown model, no model id, or every matching rule starts after ``D``) is
**unpriced**: reports show its token volume in the ``unpriced_*`` columns and never count it as zero
cost. A call without a ``created_at`` is priced as of the latest ``effective_from`` of its rules.

Anything malformed raises :class:`~gensql.errors.PriceTableError` naming the file and line: unknown or
missing columns, a wrong number of fields, an unknown ``match`` kind, a bad number, a negative price,
a bad date, an invalid regex, a second currency, or two rules with the same ``match``, ``model`` and
``effective_from``.

The sample table shipped with gensql (``gensql/data/prices.csv``, the default) covers the sample
store's models with illustrative prices recorded on the date it states. Prices change: keep your own
table current and pass it with ``--prices FILE`` (or ``GENSQL_PRICES``).
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import importlib
import os
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import PriceTableError
from .safeio import read_file

#: Environment variable naming the price table used when ``--prices`` is not given.
PRICES_ENV = "GENSQL_PRICES"
#: How provenance and messages name the sample table shipped with gensql.
SHIPPED_LABEL = "gensql/data/prices.csv (shipped sample)"
#: Match kinds, most specific first (their position is their precedence).
MATCH_KINDS: tuple[str, ...] = ("exact", "glob", "regex")
REQUIRED_COLUMNS: tuple[str, ...] = ("model", "input_per_mtok", "output_per_mtok", "currency")
OPTIONAL_COLUMNS: tuple[str, ...] = ("match", "effective_from", "note")
#: Decimal places a price may have (prices are carried as DECIMAL(18, 9) in SQL, so cost is exact).
PRICE_SCALE = 9
#: Largest price per million tokens a table may state (anything above is a typo, and would overflow).
MAX_PRICE = Decimal(1_000_000)
#: Model ids longer than this match no glob or regex rule (they stay unpriced): it bounds pattern work.
MAX_PATTERN_ID_CHARS = 256
#: Unbounded repeats (``*``, ``+``, ``{m,}``) a regex rule may hold.
MAX_UNBOUNDED_REPEATS = 3
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class PriceRule:
    """One line of the price table."""

    line: int
    model: str
    match: str  # "exact" | "glob" | "regex"
    input_per_mtok: Decimal
    output_per_mtok: Decimal
    currency: str
    effective_from: date | None
    note: str = ""

    def matches(self, model_id: str) -> bool:
        if self.match == "exact":
            return model_id == self.model
        if len(model_id) > MAX_PATTERN_ID_CHARS:
            return False  # bounds the work of any pattern on a hostile id
        if self.match == "glob":
            return fnmatch.fnmatchcase(model_id, self.model)
        return re.fullmatch(self.model, model_id) is not None

    def in_effect(self, on: date | None) -> bool:
        return self.effective_from is None or on is None or self.effective_from <= on


@dataclass(frozen=True)
class PriceTable:
    """A parsed price table: its rules (in file order), where it came from and its content hash."""

    rules: tuple[PriceRule, ...]
    source: str
    sha256: str
    currency: str | None  # None only for a table without rules

    def lookup(self, model_id: str | None, on: date | None) -> PriceRule | None:
        """The rule that prices a call of ``model_id`` made on day ``on`` (see the module docstring)."""
        if model_id is None:
            return None
        best: PriceRule | None = None
        best_key: tuple | None = None
        for rule in self.rules:
            if not rule.in_effect(on) or not rule.matches(model_id):
                continue
            # Smaller is better: kind precedence, then latest date, then earliest line.
            key = (MATCH_KINDS.index(rule.match), -(rule.effective_from or date.min).toordinal(), rule.line)
            if best_key is None or key < best_key:
                best, best_key = rule, key
        return best

    def describe(self) -> dict:
        """Provenance of this table: where it came from, its hash, currency and rule count."""
        return {"source": self.source, "sha256": self.sha256, "currency": self.currency, "rules": len(self.rules)}


def default_prices_path() -> Path:
    """The price table used when none is given: ``$GENSQL_PRICES``, else the one shipped with gensql."""
    env = os.environ.get(PRICES_ENV)
    if env:
        return Path(env)
    return Path(str(resources.files("gensql") / "data" / "prices.csv"))


def load_prices(path: str | os.PathLike | None = None) -> PriceTable:
    """Read and check a price table file (``None``: :func:`default_prices_path`)."""
    shipped = path is None and not os.environ.get(PRICES_ENV)
    path = Path(path) if path is not None else default_prices_path()
    try:
        data, _ = read_file(path)  # regular files only, size-capped: a FIFO never blocks a report
    except OSError as exc:
        raise PriceTableError(f"cannot read price table {path}: {exc.strerror or exc}") from None
    # The shipped table is named by a stable label, not its install path, so provenance is portable.
    return parse_prices(data, SHIPPED_LABEL if shipped else str(path))


def _fail(source: str, line: int, message: str) -> PriceTableError:
    return PriceTableError(f"{source}, line {line}: {message}")


def _parse_price(value: str, column: str, source: str, line: int) -> Decimal:
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise _fail(source, line, f"{column} {value!r} is not a number") from None
    if not price.is_finite():
        raise _fail(source, line, f"{column} {value!r} is not a finite number")
    if price < 0:
        raise _fail(source, line, f"{column} {value!r} is negative")
    if price > MAX_PRICE:
        raise _fail(
            source, line, f"{column} {value!r} is more than {MAX_PRICE:,} per million tokens, not a plausible price"
        )
    exponent = price.as_tuple().exponent  # an int for a finite number ('n', 'N', 'F' are NaN and infinities)
    if isinstance(exponent, int) and -exponent > PRICE_SCALE:
        raise _fail(source, line, f"{column} {value!r} has more than {PRICE_SCALE} decimal places")
    return price


def _parse_date(value: str, source: str, line: int) -> date | None:
    if not value:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(source, line, f"effective_from {value!r} is not a date (expected YYYY-MM-DD)") from None


def parse_prices(data: bytes | str, source: str = "<prices>") -> PriceTable:
    """Parse the text of a price table; ``source`` names it in error messages."""
    raw = data.encode() if isinstance(data, str) else data
    sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(source, raw[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None

    header: list[str] | None = None
    rules: list[PriceRule] = []
    seen: dict[tuple[str, str, date | None], int] = {}
    currency: tuple[str, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            fields = [f.strip() for f in next(csv.reader([line], strict=True))]
        except csv.Error as exc:
            raise _fail(source, number, f"not a CSV line ({exc})") from None
        if header is None:
            header = fields
            known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
            unknown = [c for c in header if c not in known]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            dupes = sorted({c for c in header if header.count(c) > 1})
            if unknown or missing or dupes:
                parts = []
                if missing:
                    parts.append("missing column(s) " + ", ".join(missing))
                if unknown:
                    parts.append("unknown column(s) " + ", ".join(repr(c) for c in unknown))
                if dupes:
                    parts.append("repeated column(s) " + ", ".join(dupes))
                raise _fail(source, number, "bad header: " + "; ".join(parts) + f" (columns: {', '.join(known)})")
            continue
        if len(fields) != len(header):
            raise _fail(source, number, f"{len(fields)} fields, expected {len(header)} ({', '.join(header)})")
        row = dict(zip(header, fields))
        model = row["model"]
        if not model:
            raise _fail(source, number, "empty model")
        kind = row.get("match") or "exact"
        if kind not in MATCH_KINDS:
            raise _fail(source, number, f"match {kind!r} is not one of {', '.join(MATCH_KINDS)}")
        if kind == "regex":
            try:
                re.compile(model)
            except re.error as exc:
                raise _fail(source, number, f"invalid regex {model!r}: {exc}") from None
            risk = regex_risk(model)
            if risk:
                raise _fail(
                    source,
                    number,
                    f"regex {model!r} could backtrack catastrophically ({risk}): simplify it or use a glob rule",
                )
        code = row["currency"]
        if not _CURRENCY.match(code):
            raise _fail(source, number, f"currency {code!r} is not a three-letter code like USD")
        if currency is None:
            currency = (code, number)
        elif code != currency[0]:
            raise _fail(
                source,
                number,
                f"currency {code} differs from {currency[0]} (line {currency[1]}): one table uses one currency",
            )
        rule = PriceRule(
            line=number,
            model=model,
            match=kind,
            input_per_mtok=_parse_price(row["input_per_mtok"], "input_per_mtok", source, number),
            output_per_mtok=_parse_price(row["output_per_mtok"], "output_per_mtok", source, number),
            currency=code,
            effective_from=_parse_date(row.get("effective_from", ""), source, number),
            note=row.get("note", ""),
        )
        key = (rule.match, rule.model, rule.effective_from)
        if key in seen:
            when = rule.effective_from.isoformat() if rule.effective_from else "no effective_from"
            raise _fail(source, number, f"same {kind} rule for {model!r} ({when}) as line {seen[key]}")
        seen[key] = number
        rules.append(rule)
    if header is None:
        raise _fail(source, 1, f"no header line (expected columns: {', '.join(REQUIRED_COLUMNS)})")
    return PriceTable(tuple(rules), source, sha, currency[0] if currency else None)


def _re_internals() -> tuple[Any, Any] | None:
    """CPython's own regex parser and its constants (``re._parser``, ``re._constants``, 3.11+), or None.

    They are private, with no public equivalent (``sre_parse`` is the deprecated old name of the same
    module), so they are looked up here, in one place, and their absence (another implementation, a
    later CPython) makes :func:`regex_risk` refuse every regex rather than fail or guess.
    """
    try:
        return importlib.import_module("re._parser"), importlib.import_module("re._constants")
    except ImportError:
        return None


def regex_risk(pattern: str) -> str | None:
    """Why ``pattern`` could take exponential (or high polynomial) time to match, or None.

    Python's ``re`` backtracks, and has no time limit, so risky shapes are refused up front: a group
    repeated more than once (``*``, ``+``, ``{m,n}`` with n > 1) that holds an unbounded repeat or an
    alternation (``(a+)+``, ``(a|a)*``), a backreference, or more than :data:`MAX_UNBOUNDED_REPEATS`
    unbounded repeats.
    """
    internals = _re_internals()
    if internals is None:
        return "this Python has no regex parser gensql can inspect, so no regex can be checked"
    _parser, c = internals
    repeats = (c.MAX_REPEAT, c.MIN_REPEAT)
    unbounded = 0

    def visit(sub, repeated: bool) -> str | None:
        nonlocal unbounded
        for op, av in sub:
            if op in (c.GROUPREF, c.GROUPREF_EXISTS):
                return "a backreference"
            if op in repeats or op is getattr(c, "POSSESSIVE_REPEAT", None):
                low, high, body = av
                if high == c.MAXREPEAT:
                    unbounded += 1
                    if repeated:
                        return "an unbounded repeat inside a repeated group"
                children, inner = [body], repeated or high > 1
            elif op is c.BRANCH:
                if repeated:
                    return "an alternation inside a repeated group"
                children, inner = av[1], repeated
            elif op is c.SUBPATTERN:
                children, inner = [av[3]], repeated
            elif op in (c.ASSERT, c.ASSERT_NOT):
                children, inner = [av[1]], repeated
            elif op is getattr(c, "ATOMIC_GROUP", None):
                children, inner = [av], repeated
            else:
                continue
            for child in children:
                why = visit(child, inner)
                if why:
                    return why
        return None

    why = visit(_parser.parse(pattern), False)
    if why is None and unbounded > MAX_UNBOUNDED_REPEATS:
        why = f"{unbounded} unbounded repeats, at most {MAX_UNBOUNDED_REPEATS}"
    return why
