"""The ``gensql`` command line: parse options, call one library function, render the result.

Data goes to stdout (or ``-o FILE``); progress, warnings and summaries go to stderr. Every
:class:`~gensql.errors.GensqlError` becomes its message and exit code here, in one place.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click

from . import __version__, stopping
from .errors import GensqlError, StrictModeError
from .formats import FORMATS

DATA_ROOT = click.option(
    "--data-root",
    type=click.Path(file_okay=False),
    default=None,
    help="Store root holding gens/ and cohorts/ [env GENSQL_DATA_ROOT; default ./data].",
)
INDEX_DIR = click.option(
    "--index-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Index directory [env GENSQL_INDEX_DIR; default <data-root>/index].",
)


def _complete_gen_id(ctx, param, incomplete):
    from .completion import gen_ids

    return gen_ids(incomplete, ctx.params.get("data_root"), ctx.params.get("index_dir"), ctx.params.get("stage"))


def _complete_query(ctx, param, incomplete):
    from .completion import named_queries

    return named_queries(incomplete, ctx.params.get("queries_dir"))


def _complete_view(ctx, param, incomplete):
    from .completion import view_names

    return view_names(incomplete)


def _complete_by(ctx, param, incomplete):
    from .completion import by_values
    from .reports import BY_COLUMNS

    return by_values(incomplete, tuple(BY_COLUMNS))


def _complete_cohort(ctx, param, incomplete):
    from .completion import cohort_ids

    return cohort_ids(incomplete, ctx.params.get("data_root"))


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"gensql: error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: Callable) -> Callable:
    """Turn gensql's exceptions into a one-line message on stderr and a meaningful exit code."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except GensqlError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM (Terminated): asked for, so not an error
            stopping.say_stopped(stopping.word(exc))
            sys.exit(stopping.exit_code(exc))
        except BrokenPipeError:
            sys.exit(0)

    return wrapper


# Every table-producing command writes all of gensql.formats.FORMATS (gensql/render.py documents each).
_FORMAT_HELP = (
    "Output format [default: from the -o FILE extension (.csv .json .jsonl .md .parquet .xlsx .txt), else table]. "
    "table/vertical/markdown are for reading (NULL shown as NULL; table and vertical show the first 1,000 rows); "
    "json/jsonl/parquet/xlsx are exact; csv too, except a ' before text a spreadsheet would run as a formula "
    "(--raw-csv: none)."
)


def resolve_format(fmt: str | None, vertical: bool, output: str | None, formats: tuple[str, ...]) -> str:
    """The one format to write: -x, --format and the -o extension must agree (an error otherwise)."""
    from .render import format_for_output

    if vertical:
        if fmt not in (None, "vertical"):
            raise click.UsageError(f"-x (--format vertical) and --format {fmt} contradict each other: give one")
        fmt = "vertical"
    try:
        return format_for_output(fmt, output, formats)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def output_options(formats: tuple[str, ...] = FORMATS, columns: bool = False) -> Callable:
    """--format, -x/--vertical and -o FILE; the command receives the resolved ``fmt`` and ``output``.

    ``columns``: the command's table shows a default column set (gensql.columnsets); --all-columns
    shows every column, and the command receives ``all_columns``.
    """

    def decorate(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args, fmt=None, vertical=False, output=None, raw_csv=False, **kwargs):
            from .render import raw_csv as keep_formulas

            with keep_formulas(raw_csv):
                return func(*args, fmt=resolve_format(fmt, vertical, output, formats), output=output, **kwargs)

        wrapper.__dict__.pop("__click_params__", None)
        setattr(wrapper, "__click_params__", list(getattr(func, "__click_params__", [])))  # noqa: B010
        if columns:
            wrapper = click.option(
                "--all-columns",
                is_flag=True,
                help="Table: every column, not only the ones this command leads with (csv/json always have all).",
            )(wrapper)
        wrapper = click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, writable=True),
            default=None,
            metavar="FILE",
            help="Write to FILE instead of stdout (its extension picks the format).",
        )(wrapper)
        if "vertical" in formats:
            wrapper = click.option(
                "-x",
                "--vertical",
                is_flag=True,
                help="One field per line, one block per row (same as --format vertical).",
            )(wrapper)
        else:
            wrapper = click.option("--vertical", hidden=True, is_flag=True)(wrapper)
        if "csv" in formats:
            wrapper = click.option(
                "--raw-csv",
                is_flag=True,
                help="CSV: keep text starting with = + - @ as it is (by default a ' is put before it, so a "
                "spreadsheet does not run it as a formula).",
            )(wrapper)
        else:
            wrapper = click.option("--raw-csv", hidden=True, is_flag=True)(wrapper)
        wrapper = click.option("--format", "fmt", type=click.Choice(formats), default=None, help=_FORMAT_HELP)(wrapper)
        return wrapper

    return decorate


def _check_binary(fmt: str, output: str | None) -> None:
    if fmt in ("parquet", "xlsx") and not output and sys.stdout.isatty():
        raise click.UsageError(f"--format {fmt} is binary: use -o FILE or redirect stdout")


def emit(table, fmt: str, output: str | None, columns=None, all_columns: bool = False) -> None:
    """Write ``table`` in ``fmt``; ``columns`` (a gensql.columnsets.ColumnSet): what ``table`` shows."""
    from .render import render_bytes, write_output

    _check_binary(fmt, output)
    write_output(render_bytes(table, fmt, columns=columns, all_columns=all_columns), fmt, output, sys.stdout.buffer)


class _Progress:
    """A tqdm bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, desc: str, enabled: bool):
        self.desc, self.enabled = desc, enabled and sys.stderr.isatty()
        self.bar: Any = None  # a tqdm bar (untyped), made on the first call

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.desc, unit="dir", file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Group(click.Group):
    """A group whose command list gives each command's whole first sentence, wrapped, not cut at "..."."""

    group_class = type  # its subgroups (report, cohort, export, prices) are _Groups too

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gensql")
def cli() -> None:
    """Query the on-disk store of an LLM generation pipeline with SQL."""


@cli.command()
@DATA_ROOT
@INDEX_DIR
@click.option("--full", is_flag=True, help="Re-read every generation, ignoring the previous index.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes [default: CPU count].")
@click.option("--strict", is_flag=True, help="Exit 4 when any file could not be read (the index is still written).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary line.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print what the refresh did as one JSON object on stdout (with --watch: one line per update); docs/cli.md.",
)
@click.option(
    "--no-texts", is_flag=True, help="Metadata only: no texts table (hashes, characters) and no search index."
)
@click.option(
    "--watch",
    is_flag=True,
    help="Keep running: update the index from file-system events (one line per update on stderr; Ctrl-C stops).",
)
@click.option(
    "--sweep-interval",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="With --watch: seconds between full stat sweeps that catch any missed event.",
)
@click.option(
    "--max-watches",
    type=click.IntRange(min=0),
    default=None,
    help="With --watch: watch every directory of a store with at most this many generations [default: 100000]; a larger one at its active directories (docs/index-layout.md).",
)
@click.option(
    "--dask",
    "dask_scheduler",
    metavar="SCHEDULER_ADDRESS",
    default=None,
    help="Scan the partitions on a Dask cluster (tcp://host:8786); every worker must reach the store at the same path or URL (extra 'distributed'; docs/distributed.md).",
)
@handle_errors
def refresh(
    data_root,
    index_dir,
    full,
    jobs,
    strict,
    quiet,
    as_json,
    no_texts,
    watch,
    sweep_interval,
    max_watches,
    dask_scheduler,
):
    """Scan the gens store and write the Parquet index (incremental unless --full).

    The data root may be an fsspec URL (s3://bucket/data): the index then goes to <url>/index unless
    --index-dir names a local directory.
    """
    if not dask_scheduler:  # Dask needs pandas; a local refresh never does
        from .startup import lean_refresh_process

        lean_refresh_process()
    if watch:
        if full or strict or dask_scheduler:
            raise click.UsageError("--watch cannot be combined with --full, --strict or --dask")
        from .watch import watch as run_watch

        def on_update(update) -> None:
            if as_json:
                _echo_json({"reason": update.reason, **update.result.to_dict()})
            if not quiet:
                click.echo(str(update), err=True)

        run_watch(
            data_root,
            index_dir,
            sweep_interval=sweep_interval,
            jobs=jobs,
            texts=not no_texts,
            max_watches=max_watches,
            on_update=on_update,
        )
        return
    from .refresh.index import refresh as run_refresh

    progress = _Progress("scanning", not quiet)
    executor = None
    if dask_scheduler:
        from .distributed import DaskExecutor

        executor = DaskExecutor(dask_scheduler)
    try:
        result = run_refresh(
            data_root,
            index_dir,
            full=full,
            jobs=jobs,
            strict=strict,
            progress=progress,
            texts=not no_texts,
            executor=executor,
        )
    except StrictModeError as exc:
        if as_json and exc.result is not None:  # the index was written: say what it holds, then exit 4
            _echo_json(exc.result.to_dict())
        raise
    finally:
        progress.close()
        if executor is not None:
            executor.close()
    if as_json:
        _echo_json(result.to_dict())
    if not quiet:
        click.echo(str(result), err=True)


def _echo_json(obj: dict) -> None:
    """One JSON object on one line of stdout, flushed (a scheduler reads it as the command's result)."""
    click.echo(json.dumps(obj, ensure_ascii=False))
    sys.stdout.flush()


@cli.command()
@DATA_ROOT
@INDEX_DIR
@output_options(("table", "vertical", "markdown"))
@handle_errors
def summary(data_root, index_dir, fmt, output):
    """Print a short overview of the index: generations by stage and model, tokens, problems."""
    from .render import render_bytes, write_output
    from .summary import store_summary

    parts = []
    for title, table in store_summary(data_root, index_dir):
        heading = f"## {title}\n\n" if fmt == "markdown" else f"{title}\n"
        parts.append(heading.encode() + render_bytes(table, fmt))
    write_output(b"\n".join(parts), fmt, output, sys.stdout.buffer)


@cli.command()
@click.argument("query")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Bind a $KEY parameter in QUERY (repeatable; values are strings: cast in SQL).",
)
@click.option(
    "--allow-file-access",
    is_flag=True,
    help="Let the SQL read and write files (COPY ... TO, read_csv, ATTACH); by default it reads only the index.",
)
@DATA_ROOT
@INDEX_DIR
@output_options()
@handle_errors
def sql(query, params, allow_file_access, data_root, index_dir, fmt, output):
    """Run one SQL QUERY against the gensql views (`gensql views` lists them; QUERY '-' reads stdin).

    The SQL runs on a connection that reads the index and nothing else (temporary tables are fine),
    unless --allow-file-access is given.
    """
    from .catalog import connect
    from .query import run_sql

    if query == "-":
        query = sys.stdin.read()
    con = connect(data_root, index_dir, file_access=allow_file_access)
    emit(run_sql(con, query, _parse_params(params) or None), fmt, output)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected key=value", param_hint="--param")
        params[key.strip()] = value
    return params


@cli.command()
@click.argument("name", required=False, shell_complete=_complete_query)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="Bind a $KEY parameter (repeatable).")
@click.option("--list", "list_", is_flag=True, help="List the named queries with their descriptions.")
@click.option(
    "--queries-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Extra folder of .sql files (before ./queries and the shipped ones).",
)
@click.option(
    "--allow-file-access",
    is_flag=True,
    help="Let the query read and write files (COPY ... TO, read_csv, ATTACH); by default it reads only the index.",
)
@DATA_ROOT
@INDEX_DIR
@output_options()
@handle_errors
def query(name, params, list_, queries_dir, allow_file_access, data_root, index_dir, fmt, output):
    """Run the named query NAME (a .sql file) with bound parameters.

    A named query runs on a connection that reads the index and no other file, unless
    --allow-file-access is given. A query in ./queries or --queries-dir that replaces a shipped one is
    named on stderr.
    """
    import pyarrow as pa

    from .catalog import connect
    from .query import list_queries, run_named, shadow_note

    if list_ and (name or params):
        raise click.UsageError("--list lists every named query: give it without a NAME or --param")
    if list_:
        queries = list_queries(queries_dir)
        for q in queries:
            if q.shadows:
                click.echo(f"gensql: warning: {shadow_note(q)}", err=True)
        table = pa.table(
            {
                "name": [q.name for q in queries],
                "params": [", ".join(q.params) for q in queries],
                "description": [q.description for q in queries],
            }
        )
        emit(table, fmt, output)
        return
    if not name:
        raise click.UsageError("give a query NAME or --list")
    emit(
        run_named(
            connect(data_root, index_dir, file_access=allow_file_access), name, _parse_params(params), queries_dir
        ),
        fmt,
        output,
    )


@cli.command()
@click.argument("names", nargs=-1, metavar="[VIEW]...", shell_complete=_complete_view)
@DATA_ROOT
@INDEX_DIR
@output_options()
@handle_errors
def views(names, data_root, index_dir, fmt, output):
    """List the views and table macros with their columns (only the VIEWs named, when given)."""
    from .catalog import connect, describe_views

    emit(describe_views(connect(data_root, index_dir), names or None), fmt, output)


@cli.command()
@output_options()
@handle_errors
def schema(fmt, output):
    """Document the gens columns: type, meaning and the metadata keys they come from."""
    import pyarrow as pa

    from .fields import schema_rows

    rows = schema_rows()
    emit(
        pa.table({k: [r[i] for r in rows] for i, k in enumerate(("column", "type", "meaning", "source"))}), fmt, output
    )


@cli.command()
@DATA_ROOT
@click.option(
    "--stage",
    type=click.Choice(["all", "draft", "essay", "evaluation"]),
    default="all",
    show_default=True,
    help="Stage to migrate (parents are resolved against every stage).",
)
@click.option(
    "--run-id",
    default=None,
    help="Run label recorded in metadata [default: backfill-YYYYMMDD]; gen ids do not depend on it.",
)
@click.option("--link", is_flag=True, help="Hard-link legacy files instead of copying (copies where linking fails).")
@click.option("--dry-run", is_flag=True, help="Write nothing; print the plan to stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Then refresh and write seed 000's SQLite documents export to this file (as `gensql export sqlite --db`).",
)
@handle_errors
def backfill(data_root, stage, run_id, link, dry_run, quiet, db):
    """Migrate the legacy flat folders (3_generation/, 4_evaluation/) into gens/<stage>/<gen_id>/.

    Non-destructive and idempotent: legacy files are never changed and a second run creates nothing.
    Task ids are split with the pipeline's task tables (2_tasks/) and id lists (1_raw/) when present.
    The plan (--dry-run) goes to stdout as tab-separated lines: stage, gen_id, task_id, kind-vN, mode,
    status (new | imported | conflict), files, facts with their source, parent_gen_id, note; then one
    `not-imported` line per legacy file left out, with the reason. Exits 1 when any file could not be
    imported; an unusable task table is a warning (filename parsing continues).
    """
    from .backfill import backfill as run_backfill

    progress = _Progress("backfill", not quiet)
    try:
        result = run_backfill(
            data_root, stage=stage, run_id=run_id, link=link, dry_run=dry_run, progress=progress, db=db
        )
    finally:
        progress.close()
    if dry_run and db:
        click.echo("gensql: backfill: --dry-run writes nothing: no SQLite export", err=True)
    if dry_run:
        for line in result.plan_lines():
            click.echo(line)
    if not quiet:
        for path, message in result.warnings:
            click.echo(f"gensql: backfill: warning: {path}: {message}", err=True)
        for path, message in result.errors:
            click.echo(f"gensql: backfill: {path}: {message}", err=True)
        click.echo(result.to_text(), err=True)
        if result.export is not None:
            click.echo(
                f"gensql: exported {result.export.documents} documents of snapshot {result.export.snapshot_id} to {result.export.path}",
                err=True,
            )
    if result.errors:
        sys.exit(1)


#: Columns ``gensql show`` prints, in order.
SHOW_COLUMNS = (
    "stage",
    "gen_id",
    "gen_dir",
    "store_root",
    "status",
    "model_id",
    "template_id",
    "parent_gen_id",
    "combo_id",
    "replicate",
    "mode",
    "origin_cohort_id",
    "run_id",
    "finish_reason",
    "truncated",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "max_tokens",
    "duration_s",
    "score",
    "score_error",
    "prompt_bytes",
    "raw_bytes",
    "parsed_bytes",
    "created_at",
    "created_at_source",
    "logical_key",
    "is_model_call",
)


@cli.command()
@click.argument("gen_id", shell_complete=_complete_gen_id)
@click.option(
    "--stage",
    type=click.Choice(["draft", "essay", "evaluation"]),
    default=None,
    help="Stage, when the id exists in several.",
)
@click.option("--prompt", "prompt", is_flag=True, help="Print prompt.txt instead.")
@click.option("--raw", "raw", is_flag=True, help="Print raw.txt instead.")
@click.option("--parsed", "parsed", is_flag=True, help="Print parsed.txt instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the fields and metadata as one JSON object.")
@DATA_ROOT
@handle_errors
def show(gen_id, stage, prompt, raw, parsed, as_json, data_root):
    """Show one generation: status, tokens, score, file sizes and metadata (read from its files).

    --prompt, --raw, --parsed and --json each print one thing: give at most one.
    """
    import orjson

    from .render import format_value
    from .store import describe_generation

    chosen = [
        flag for flag, on in (("--prompt", prompt), ("--raw", raw), ("--parsed", parsed), ("--json", as_json)) if on
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} each print one thing: give one of them")
    text = "prompt_text" if prompt else "raw_text" if raw else "parsed_text" if parsed else None
    report = describe_generation(data_root, gen_id, stage)
    if text:
        content = report.generation[text]
        if content is None:
            name = f"{text.replace('_text', '')}.txt"
            why = [p for p in report.generation["problems"] if p.startswith(name + ":")]
            raise GensqlError(f"{report.row['gen_dir']}/{why[0]}" if why else f"{report.row['gen_dir']} has no {name}")
        click.echo(content, nl=not content.endswith("\n"))
        return
    fields = {c: report.row.get(c) for c in SHOW_COLUMNS}
    if as_json:
        doc = {**fields, "metadata": report.generation["metadata"], "problems": report.problems}
        click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2, default=str).decode())
        return
    width = max(map(len, SHOW_COLUMNS))
    for column, value in fields.items():
        click.echo(f"{column:<{width}}  {format_value(value)}")
    click.echo("metadata:")
    click.echo(orjson.dumps(report.generation["metadata"], option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    for problem in report.problems:
        click.echo(f"gensql: warning: {report.row['gen_dir']}/{problem}", err=True)


# --- gensql report: tokens and cost, scores, cohort coverage (gensql/reports.py) -----------------

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _split_by(ctx, param, values):
    from .reports import BY_COLUMNS

    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    for name in names:
        if name not in BY_COLUMNS:
            raise click.BadParameter(f"{name!r}: expected one or more of {', '.join(BY_COLUMNS)}", ctx, param)
    return tuple(names) or ("model",)


def _day(value):
    return value.date() if value is not None else None


def _report_source(func: Callable) -> Callable:
    """--data-root, --index-dir and the output options every report takes (-o also writes FILE.meta.json:
    version, snapshot, price table hash, options, time)."""
    return DATA_ROOT(INDEX_DIR(output_options(FORMATS, columns=True)(func)))


def _prices_options(func: Callable) -> Callable:
    func = click.option(
        "--price-at",
        type=_DATE,
        default=None,
        metavar="DATE",
        help="Price every call at DATE instead of the day it was made.",
    )(func)
    func = click.option(
        "--prices",
        "prices_file",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="FILE",
        help="Price table CSV [env GENSQL_PRICES; default: the sample table shipped with gensql: keep your own current].",
    )(func)
    return func


def _time_filters(func: Callable) -> Callable:
    func = click.option(
        "--until",
        type=_DATE,
        default=None,
        metavar="DATE",
        help="Only generations made on or before DATE (UTC day, inclusive).",
    )(func)
    func = click.option(
        "--since", type=_DATE, default=None, metavar="DATE", help="Only generations made on or after DATE (UTC day)."
    )(func)
    return func


#: The options the judge and comparison reports share (``report scores`` takes --cohort too).
_evaluation_cohort = click.option(
    "--cohort", default=None, metavar="ID", help="Only evaluations that are members of cohort ID."
)
_evaluation_templates = click.option(
    "--template", "templates", multiple=True, metavar="ID", help="Only this evaluation template (repeatable)."
)
_labels_import = click.option(
    "--labels", "labels_name", default=None, metavar="NAME", help="With --reference humans: only this import."
)


def _bootstrap(resamples: int, unit: str) -> Callable[[Callable], Callable]:
    """--resamples (default ``resamples``, of the ``unit`` the report resamples) and --seed, both shown in --help.

    ``report scores`` has its own pair: they only go with its --ci, so their defaults are None there."""

    def decorate(func: Callable) -> Callable:
        func = click.option(
            "--seed", type=int, default=0, show_default=True, metavar="N", help="Random seed of the bootstrap."
        )(func)
        return click.option(
            "--resamples",
            type=click.IntRange(min=1),
            default=resamples,
            show_default=True,
            metavar="N",
            help=f"Bootstrap resamples of the {unit}.",
        )(func)

    return decorate


def _emit_report(rep, fmt: str, output: str | None, all_columns: bool = False) -> None:
    from .reports import export, render_report

    if output:
        sidecar = export(rep, fmt, output)
        click.echo(f"gensql: wrote {output} ({rep.df.height:,} rows) and {sidecar}", err=True)
    else:
        _check_binary(fmt, output)
        sys.stdout.buffer.write(render_report(rep, fmt, all_columns))
        sys.stdout.flush()
    for note in rep.notes:
        click.echo(f"gensql: note: {note}", err=True)


@cli.group()
def report() -> None:
    """Reports: tokens and cost, score tables, cohort coverage, judge agreement and paired comparisons.

    Data goes to stdout or -o FILE (with a FILE.meta.json provenance sidecar); notes go to stderr.
    Cost is computed now, from the price table (--prices): a model without a price is reported in
    the unpriced_* columns, never as zero cost.
    """


@report.command("tokens")
@click.option(
    "--by",
    multiple=True,
    callback=_split_by,
    metavar="COLUMN",
    shell_complete=_complete_by,
    help="Group by model, template, stage, cohort, run, day, month (repeatable or comma-separated) [default: model].",
)
@click.option("--cohort", default=None, metavar="ID", help="Only members of cohort ID.")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(["draft", "essay", "evaluation"]),
    help="Only this stage (repeatable).",
)
@click.option("--model", "models", multiple=True, metavar="ID", help="Only this model id (repeatable).")
@_time_filters
@_prices_options
@_report_source
@handle_errors
def report_tokens(
    by, cohort, stages, models, since, until, prices_file, price_at, data_root, index_dir, fmt, output, all_columns
):
    """Tokens, truncation, duration and cost of model calls, grouped --by one or more columns."""
    from .reports import build_tokens

    rep = build_tokens(
        data_root,
        by,
        cohort,
        stages,
        models,
        _day(since),
        _day(until),
        prices_file,
        _day(price_at),
        index_dir=index_dir,
    )
    _emit_report(rep, fmt, output, all_columns)


@report.command("scores")
@click.option(
    "--long", "long_", is_flag=True, help="Tidy form: one row per essay x evaluation model x evaluation template."
)
@_evaluation_cohort
@click.option("--model", "models", multiple=True, metavar="ID", help="Only this evaluation model (repeatable).")
@click.option(
    "--ci",
    is_flag=True,
    help="Instead: mean per group with a 95% bootstrap interval resampling drafts (needs the stats extra).",
)
@click.option(
    "--by",
    "ci_by",
    multiple=True,
    metavar="COLUMN",
    help="With --ci: group by evaluation-model, evaluation-template, essay-template, essay-model, draft-template (repeatable or comma-separated) [default: evaluation-model,evaluation-template].",
)
@click.option(
    "--resamples",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="With --ci: bootstrap resamples [default: 2000].",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    metavar="N",
    help="With --ci: random seed, so the report is reproducible [default: 0].",
)
@click.option(
    "--adjust",
    type=click.Choice(["judge"]),
    default=None,
    help="With --ci: judge-adjusted means (a judge fixed effect), for groups that different judges scored.",
)
@_time_filters
@_report_source
@handle_errors
def report_scores(
    long_,
    cohort,
    models,
    ci,
    ci_by,
    resamples,
    seed,
    adjust,
    since,
    until,
    data_root,
    index_dir,
    fmt,
    output,
    all_columns,
):
    """Scores per evaluated essay: mean/min/max/n per evaluation model x template (newest scored attempt per replicate)."""
    from .reports import build_scores

    if not ci and (ci_by or resamples is not None or seed is not None or adjust):
        raise click.UsageError("--by, --resamples, --seed and --adjust go with --ci")
    by = tuple(n.strip() for v in ci_by for n in v.split(",") if n.strip())
    rep = build_scores(
        data_root,
        long_,
        cohort,
        models,
        _day(since),
        _day(until),
        index_dir=index_dir,
        ci=ci,
        by=by or None,
        resamples=2000 if resamples is None else resamples,
        seed=seed or 0,
        adjust=adjust,
    )
    _emit_report(rep, fmt, output, all_columns)


@report.command("cohort")
@click.argument("cohort_id", shell_complete=_complete_cohort)
@click.option("--missing", is_flag=True, help="List the members whose directory does not exist instead.")
@_prices_options
@_report_source
@handle_errors
def report_cohort(cohort_id, missing, prices_file, price_at, data_root, index_dir, fmt, output, all_columns):
    """Coverage of cohort COHORT_ID per stage (expected, on disk, missing, ok) with its tokens and cost."""
    from .reports import build_cohort

    rep = build_cohort(data_root, cohort_id, missing, prices_file, _day(price_at), index_dir=index_dir)
    _emit_report(rep, fmt, output, all_columns)


@cli.command()
@click.argument("gen_id", shell_complete=_complete_gen_id)
@click.option(
    "--stage",
    type=click.Choice(["draft", "essay", "evaluation"]),
    default=None,
    help="Stage, when the id exists in several.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default=None,
    help="text (a tree) or json [default: json for -o FILE.json, else text].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE",
    help="Write to FILE instead of stdout.",
)
@DATA_ROOT
@INDEX_DIR
@handle_errors
def lineage(gen_id, stage, fmt, output, data_root, index_dir):
    """Print the tree around GEN_ID: ancestors up to the draft, descendants down to the evaluations."""
    import orjson

    from .catalog import connect
    from .lineage import lineage_tree, render_tree
    from .render import write_output

    implied = (
        "json"
        if output and output.lower().endswith(".json")
        else "text"
        if output and output.lower().endswith(".txt")
        else None
    )
    if fmt and implied and fmt != implied:
        raise click.UsageError(f"-o {output} has the extension of {implied} but --format is {fmt}")
    fmt = fmt or implied or "text"
    tree = lineage_tree(connect(data_root, index_dir), gen_id, stage)
    data = orjson.dumps(tree, option=orjson.OPT_INDENT_2) + b"\n" if fmt == "json" else render_tree(tree).encode()
    write_output(data, fmt, output, sys.stdout.buffer)


@cli.group()
def cohort() -> None:
    """Make and list cohorts (cohorts/<id>/membership.csv)."""


@cohort.command("create")
@click.argument("cohort_id")
@click.option("--from-sql", "sql", required=True, help="A query over the index returning stage and gen_id columns.")
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Bind a $KEY parameter in the query (repeatable).",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing membership.csv of this cohort.")
@DATA_ROOT
@INDEX_DIR
@handle_errors
def cohort_create(cohort_id, sql, params, overwrite, data_root, index_dir):
    """Write cohorts/COHORT_ID/membership.csv from a query (e.g. every latest ok essay of a template)."""
    from .write import create_cohort_from_query

    ref = create_cohort_from_query(
        data_root, cohort_id, sql, _parse_params(params), overwrite=overwrite, index_dir=index_dir
    )
    click.echo(f"gensql: cohort {ref.cohort_id}: {ref.members} member(s) written to {ref.path}", err=True)


@cohort.command("list")
@DATA_ROOT
@output_options()
@handle_errors
def cohort_list(data_root, fmt, output):
    """Every cohort with its member count and how many members exist on disk (read from the index)."""
    import pyarrow as pa

    from .write import list_cohorts

    cohorts = list_cohorts(data_root)
    columns = ("cohort_id", "members", "on_disk", "missing")
    emit(
        pa.table(
            {
                c: pa.array([getattr(i, c) for i in cohorts], pa.string() if c == "cohort_id" else pa.int64())
                for c in columns
            }
        ),
        fmt,
        output,
    )


@cli.command()
@click.option("--stage", type=click.Choice(["draft", "essay", "evaluation"]), required=True)
@click.option("--combo", "combo_id", default=None, help="combo_id (drafts).")
@click.option("--template", "template_id", default=None, help="template_id of this stage.")
@click.option("--model", "model_id", default=None, help="model_id.")
@click.option(
    "--parent",
    "parent_gen_id",
    default=None,
    shell_complete=_complete_gen_id,
    help="parent_gen_id (essays, evaluations).",
)
@click.option("--replicate", type=click.IntRange(min=1), default=None)
@click.option("--task", "task_id", default=None, help="task_id (older eras).")
@click.option("--any-status", is_flag=True, help="The newest attempt whatever its status, not only the newest ok one.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["id", "json"]),
    default="id",
    show_default=True,
    help="id: the gen_id alone; json: the whole gens row.",
)
@DATA_ROOT
@INDEX_DIR
@handle_errors
def latest(
    stage, combo_id, template_id, model_id, parent_gen_id, replicate, task_id, any_status, fmt, data_root, index_dir
):
    """Print the newest successful attempt of a logical product (exit 1 when there is none)."""
    import orjson

    from .write import resolve_latest

    row = resolve_latest(
        data_root,
        stage,
        combo_id=combo_id,
        template_id=template_id,
        model_id=model_id,
        parent_gen_id=parent_gen_id,
        replicate=replicate,
        task_id=task_id,
        ok_only=not any_status,
        index_dir=index_dir,
    )
    if row is None:
        _fail(
            f"no {'' if any_status else 'successful '}{stage} matches (run `gensql refresh` if it was just written)", 1
        )
    if fmt == "id":
        click.echo(row["gen_id"])
    else:
        click.echo(orjson.dumps(row, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC).decode())


@cli.group()
def export() -> None:
    """Export the index in other formats."""


@export.command("sqlite")
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Database file [default: <index-dir>/exports/documents.sqlite]; an existing file is replaced only if gensql exported it.",
)
@DATA_ROOT
@INDEX_DIR
@handle_errors
def export_sqlite_cmd(db, data_root, index_dir):
    """Write seed 000's SQLite documents table (its exact DDL and indexes) from the current snapshot."""
    from .write import export_sqlite

    result = export_sqlite(data_root, db, index_dir=index_dir)
    if result.removed:
        click.echo(f"gensql: removed {len(result.removed)} temporary file(s) of killed exports", err=True)
    click.echo(
        f"gensql: exported {result.documents} documents of snapshot {result.snapshot_id} to {result.path}", err=True
    )


@cli.command("search")
@click.argument("query")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.Choice(["prompt", "raw", "parsed"]),
    help="Search only these texts (repeatable).",
)
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(["draft", "essay", "evaluation"]),
    help="Only these stages (repeatable).",
)
@click.option("--model", "models", multiple=True, help="Only generations of this model_id (repeatable).")
@click.option("--template", "templates", multiple=True, help="Only this template_id (repeatable).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Only this status: ok, truncated, parse_error, gen_error, skipped (repeatable).",
)
@click.option("--cohort", "cohorts", multiple=True, help="Only members of this cohort (repeatable).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="Number of hits.")
@DATA_ROOT
@INDEX_DIR
@output_options(columns=True)
@handle_errors
def search_cmd(
    query, files, stages, models, templates, statuses, cohorts, limit, data_root, index_dir, fmt, output, all_columns
):
    """Ranked full-text search (BM25) over prompts, raw and parsed texts.

    QUERY: words (ranked by BM25), "a phrase", AND / OR, -excluded, +required, prefix*.
    """
    from .fulltext import search

    hits = search(
        data_root,
        query,
        file=files or None,
        stage=stages or None,
        model=models or None,
        template=templates or None,
        status=statuses or None,
        cohort=cohorts or None,
        limit=limit,
        index_dir=index_dir,
    )
    from .columnsets import SEARCH

    table = hits.to_arrow()
    emit(table, fmt, output, SEARCH, all_columns)
    if table.num_rows == 0:
        from .reports.filters import filter_notes

        notes = filter_notes(
            data_root, index_dir, stage=stages, model=models, template=templates, status=statuses, cohort=cohorts
        )
        for note in notes or ["no hits"]:
            click.echo(f"gensql: note: {note}", err=True)


@cli.group()
def prices() -> None:
    """Price tables: suggest dated rows from a maintained source, check a table against the store.

    Your dated CSV (--prices, $GENSQL_PRICES) stays the source of truth: `suggest` writes rows to
    review and merge into it; reports never read a suggestion on their own.
    """


@prices.command("suggest")
@click.option(
    "--provider",
    default=None,
    metavar="ID",
    help="genai-prices provider of the model ids (e.g. openrouter, openai, anthropic) [default: guessed per id].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE",
    help="Write the suggested table to FILE instead of stdout.",
)
@DATA_ROOT
@INDEX_DIR
@handle_errors
def prices_suggest(provider, output, data_root, index_dir):
    """Suggest dated price-table rows for the models the store called, from the genai-prices package
    (optional: pip install 'gensql[prices]'); models it cannot match are listed on stderr."""
    from .pricesource import suggest_from_store
    from .render import write_output

    suggestion = suggest_from_store(data_root, index_dir, provider)
    write_output(suggestion.to_csv().encode(), "csv", output, sys.stdout.buffer)
    for note in suggestion.notes:
        click.echo(f"gensql: note: {note}", err=True)


@prices.command("check")
@click.option(
    "--prices",
    "prices_file",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Price table CSV [env GENSQL_PRICES; default: the sample table shipped with gensql].",
)
@DATA_ROOT
@INDEX_DIR
@output_options()
@handle_errors
def prices_check(prices_file, data_root, index_dir, fmt, output):
    """List the models with calls that no rule prices, and the rules that match no model of the store."""
    from .pricesource import check_store_prices

    table = check_store_prices(data_root, index_dir, prices_file)
    emit(table, fmt, output)
    if table.num_rows == 0:
        click.echo("gensql: note: every model call is priced and every rule matches a model", err=True)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion_cmd(shell):
    """Print the shell completion script for SHELL (commands, options, named queries, views, --by
    values, cohort ids and gen ids of the current index).

    \b
    bash:  eval "$(gensql completion bash)"    (in ~/.bashrc)
    zsh:   eval "$(gensql completion zsh)"     (in ~/.zshrc)
    fish:  gensql completion fish > ~/.config/fish/completions/gensql.fish
    """
    from click.shell_completion import get_completion_class

    comp = get_completion_class(shell)(cli, {}, "gensql", "_GENSQL_COMPLETE")
    click.echo(comp.source())


@report.command("agreement")
@_evaluation_templates
@_evaluation_cohort
@click.option(
    "--min-essays",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Fewer essays than this: a note instead of a correlation or alpha.",
)
@click.option(
    "--reference",
    type=click.Choice(["humans"]),
    default=None,
    help="Add the human raters (gensql labels import) as a judge named humans.",
)
@_labels_import
@_bootstrap(1000, "drafts")
@_time_filters
@_report_source
@handle_errors
def report_agreement(
    templates,
    cohort,
    min_essays,
    reference,
    labels_name,
    resamples,
    seed,
    since,
    until,
    data_root,
    index_dir,
    fmt,
    output,
    all_columns,
):
    """Do the judges agree? Per evaluation template: judge pairs, alpha across judges and without each, each judge vs its replicates, with intervals."""
    from .reports import build_agreement

    rep = build_agreement(
        data_root,
        templates,
        cohort,
        _day(since),
        _day(until),
        min_essays=min_essays,
        resamples=resamples,
        seed=seed,
        reference=reference,
        labels=labels_name,
        index_dir=index_dir,
    )
    _emit_report(rep, fmt, output, all_columns)


@report.command("compare")
@click.argument("a")
@click.argument("b")
@click.option(
    "--by",
    "by",
    type=click.Choice(["template", "model", "draft-template"]),
    default="template",
    show_default=True,
    help="What A and B are: essay templates, essay models (paired on drafts) or draft templates (paired on combos).",
)
@click.option(
    "--judge", "judges", multiple=True, metavar="ID", help="Only scores of this evaluation model (repeatable)."
)
@click.option(
    "--criterion", "criteria", multiple=True, metavar="ID", help="Only scores on this evaluation template (repeatable)."
)
@_evaluation_cohort
@_bootstrap(2000, "paired units")
@_time_filters
@_report_source
@handle_errors
def report_compare(
    a, b, by, judges, criteria, cohort, resamples, seed, since, until, data_root, index_dir, fmt, output, all_columns
):
    """Is A scored higher than B? Paired mean difference with its interval, wins/ties/losses, Wilcoxon p-value."""
    from .reports import build_compare

    rep = build_compare(
        data_root,
        by,
        a,
        b,
        judges,
        criteria,
        cohort,
        _day(since),
        _day(until),
        resamples=resamples,
        seed=seed,
        index_dir=index_dir,
    )
    _emit_report(rep, fmt, output, all_columns)


@report.command("judges")
@_evaluation_templates
@click.option(
    "--reference",
    default="others",
    show_default=True,
    metavar="WHO",
    help="Hold each judge against: others (the mean of the other judges), a judge id, or humans (gensql labels import).",
)
@_labels_import
@_evaluation_cohort
@_bootstrap(1000, "drafts")
@_prices_options
@_time_filters
@_report_source
@handle_errors
def report_judges(
    templates,
    reference,
    labels_name,
    cohort,
    resamples,
    seed,
    prices_file,
    price_at,
    since,
    until,
    data_root,
    index_dir,
    fmt,
    output,
    all_columns,
):
    """Which judge is biased, which is noise: offset, limits of agreement, slope, alpha without it, length and self bias, failures, cost per score."""
    from .reports import build_judges

    rep = build_judges(
        data_root,
        templates,
        cohort,
        _day(since),
        _day(until),
        reference=reference,
        labels=labels_name,
        prices=prices_file,
        resamples=resamples,
        seed=seed,
        index_dir=index_dir,
    )
    _emit_report(rep, fmt, output, all_columns)


@cli.group()
def labels() -> None:
    """Human ratings beside the store (<data-root>/labels/NAME.parquet, never inside gens/): the reference
    `gensql report judges --reference humans` holds the judges to."""


@labels.command("import")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False))
@click.option("--name", default=None, metavar="NAME", help="Store as labels/NAME.parquet [default: the file's stem].")
@DATA_ROOT
@INDEX_DIR
@handle_errors
def labels_import(csv_file, name, data_root, index_dir):
    """Import FILE.csv (essay_gen_id or evaluation_gen_id, criterion, score, rater), checked against the index; prints the file written."""
    from .labels import import_labels

    done = import_labels(csv_file, data_root, name, index_dir=index_dir)
    click.echo(str(done.path))  # the data: the file written
    click.echo(f"gensql: imported {done.describe()}", err=True)


@cli.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (another than 127.0.0.1 prints a warning: there is no login).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option("--open", "open_browser", is_flag=True, help="Open the workbench in the default web browser.")
@DATA_ROOT
@INDEX_DIR
@handle_errors
def serve_cmd(host, port, open_browser, data_root, index_dir):
    """A local, read-only web workbench over the index: browse, read, compare, search, chart, SQL."""
    from .serve import serve

    try:
        serve(
            data_root,
            index_dir,
            host=host,
            port=port,
            open_browser=open_browser,
            say=lambda m: click.echo(f"gensql: {m}", err=True),
        )
    except KeyboardInterrupt as exc:  # how a server is meant to end: a plain "stopped", 130 (143 for SIGTERM)
        stopping.say_stopped("stopped")
        sys.exit(stopping.exit_code(exc))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    click.echo(f"gensql: warning: {message}", err=True)


def main() -> None:
    warnings.showwarning = _show_warning  # library warnings (a shadowed named query) as one line on stderr
    # SIGTERM stops a command like Ctrl-C does: cleanups run (a refresh removes its partial snapshot and
    # its workers), then exit 143; SIGINT exits 130; a stuck cleanup cannot hold the exit (gensql.stopping).
    stopping.install()
    try:
        cli(prog_name="gensql")
    except KeyboardInterrupt as exc:
        stopping.say_stopped(stopping.word(exc))
        sys.exit(stopping.exit_code(exc))


if __name__ == "__main__":
    main()
