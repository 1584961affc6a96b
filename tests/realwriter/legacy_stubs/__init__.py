"""Stand-ins for the framework imports of the legacy writer code, and a fake LLM behind the real client.

The copied real modules (``tests/realwriter/legacy_*/daydreaming_dagster/``) import ``dagster``,
``openai``, ``tenacity`` and ``ratelimit``. :func:`import_era` puts the stubs below into
``sys.modules`` only while it imports one era's modules, then restores whatever was there, so other
fixture packages (which may stub the same names differently) are not affected: the copied modules keep
references to these stubs.

What is stubbed, and why it does not change what is written to disk:

- ``dagster``: ``@asset`` returns the function unchanged (the tooling calls asset functions itself,
  with a small context object); ``Failure`` is an exception; ``MetadataValue.*`` return their value;
  partition/automation definitions are inert. No dagster code writes files: the IO managers (copied,
  real) do.
- ``openai``: ``OpenAI(...).chat.completions.create`` answers from :class:`FakeLLM` (the real
  ``LLMClientResource`` wraps it unchanged, including its ``.strip()`` and truncation rules).
- ``tenacity``/``ratelimit``: pass-through decorators (no retries, no sleeping).
"""

from __future__ import annotations

import importlib
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

STUBBED = ("dagster", "openai", "tenacity", "ratelimit")


# --- the fake LLM ---------------------------------------------------------------------------------


@dataclass
class Call:
    """One model call as the fake provider saw it (the truth the tests compare the index with)."""

    model: str  # provider model name (e.g. deepseek/deepseek-r1)
    prompt: str
    max_tokens: int | None
    text: str  # what the provider returned (before the client's .strip())
    finish_reason: str
    completion_tokens: int


@dataclass
class FakeLLM:
    """A deterministic provider: the answer depends on the model, the prompt and the call number.

    ``script(call_index, model, prompt)`` may return ``(text, finish_reason)`` to override an answer
    (``None`` keeps the default). Evaluation prompts (``is_evaluation(prompt)``) get an answer that
    ends in ``SCORE: n``.
    """

    script: Callable[[int, str, str], tuple[str, str] | None] | None = None
    calls: list[Call] = field(default_factory=list)

    def answer(self, model: str, prompt: str, max_tokens: int | None) -> Call:
        n = len(self.calls)
        scripted = self.script(n, model, prompt) if self.script else None
        if scripted is not None:
            text, finish = scripted
        elif "SCORE" in prompt:
            score = (len(prompt) + n) % 10
            text, finish = f"Reasoning of {model} about the text (call {n}).\n\nSCORE: {score}\n", "stop"
        else:
            text = (
                f"Answer {n} from {model}.\n<essay-idea>\nIdea {n} of {model}.\n</essay-idea>\n"
                f"Line two of answer {n}.\nLine three of answer {n}.\n"
            )
            finish = "stop"
        call = Call(model, prompt, max_tokens, text, finish, completion_tokens=len(text.split()))
        self.calls.append(call)
        return call


_CURRENT: list[FakeLLM] = [FakeLLM()]


def use_llm(llm: FakeLLM) -> FakeLLM:
    """Make ``llm`` the provider every fake OpenAI client answers from."""
    _CURRENT[0] = llm
    return llm


# --- module stubs ---------------------------------------------------------------------------------


def _identity_decorator(*args, **kwargs):
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn


class _Inert:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.name = kwargs.get("name")

    def __getattr__(self, name):
        return _Inert()

    def __call__(self, *args, **kwargs):
        return _Inert(*args, **kwargs)


class Failure(Exception):
    def __init__(self, description: str = "", metadata: dict | None = None):
        super().__init__(description)
        self.description = description
        self.metadata = metadata or {}


class _MetadataValue:
    def __getattr__(self, name):
        return lambda value=None, *a, **k: value


class _Resource:
    """``ConfigurableResource``: fields from class defaults, overridden by keyword arguments."""

    def __init__(self, **kwargs):
        for key, value in kwargs.items():
            object.__setattr__(self, key, value)


def _dagster() -> types.ModuleType:
    m = types.ModuleType("dagster")
    m.asset = _identity_decorator
    m.Failure = Failure
    m.MetadataValue = _MetadataValue()
    m.IOManager = type("IOManager", (), {})
    m.InputContext = type("InputContext", (), {})
    m.OutputContext = type("OutputContext", (), {})
    m.ConfigurableResource = _Resource
    for name in ("DynamicPartitionsDefinition", "AutoMaterializePolicy", "AutomationCondition", "AssetSpec", "AssetKey"):
        setattr(m, name, _Inert())
    return m


class APIError(Exception):
    pass


class RateLimitError(APIError):
    pass


class _Completions:
    def create(self, model, messages, temperature=None, max_tokens=None):
        call = _CURRENT[0].answer(model, messages[-1]["content"], max_tokens)
        message = types.SimpleNamespace(content=call.text)
        choice = types.SimpleNamespace(message=message, finish_reason=call.finish_reason)
        usage = types.SimpleNamespace(completion_tokens=call.completion_tokens, prompt_tokens=None, total_tokens=None)
        return types.SimpleNamespace(choices=[choice], usage=usage)


class OpenAI:
    def __init__(self, api_key=None, base_url=None, **kwargs):
        self.chat = types.SimpleNamespace(completions=_Completions())


def _openai() -> types.ModuleType:
    m = types.ModuleType("openai")
    m.OpenAI, m.APIError, m.RateLimitError = OpenAI, APIError, RateLimitError
    return m


def _tenacity() -> types.ModuleType:
    m = types.ModuleType("tenacity")
    m.retry = _identity_decorator
    for name in ("stop_after_attempt", "wait_exponential", "retry_if_exception_type"):
        setattr(m, name, lambda *a, **k: None)
    return m


def _ratelimit() -> types.ModuleType:
    m = types.ModuleType("ratelimit")
    m.limits = _identity_decorator
    m.sleep_and_retry = _identity_decorator
    return m


@contextmanager
def stubbed_modules():
    saved = {name: sys.modules.get(name) for name in STUBBED}
    sys.modules.update({"dagster": _dagster(), "openai": _openai(), "tenacity": _tenacity(), "ratelimit": _ratelimit()})
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def import_era(package: str, *modules: str) -> list[types.ModuleType]:
    """Import ``package.daydreaming_dagster.<module>`` for each module, with the stubs in place."""
    with stubbed_modules():
        return [importlib.import_module(f"{package}.daydreaming_dagster.{m}") for m in modules]


# --- a small stand-in for Dagster's asset context -------------------------------------------------


class _Log:
    def info(self, *a, **k):
        pass

    warning = error = debug = info


class _Instance:
    def __init__(self):
        self.partitions: dict[str, list[str]] = {}

    def get_dynamic_partitions(self, name):
        return list(self.partitions.get(name, []))

    def delete_dynamic_partition(self, name, key):
        self.partitions.get(name, []).remove(key)

    def add_dynamic_partitions(self, name, keys):
        self.partitions.setdefault(name, []).extend(keys)


class Context:
    """What the asset functions and IO managers read from Dagster's context: partition key, resources, log."""

    def __init__(self, partition_key: str | None = None, asset_name: str | None = None, **resources):
        self.partition_key = partition_key
        self.asset_key = types.SimpleNamespace(path=[asset_name or ""])
        self.resources = types.SimpleNamespace(**resources)
        self.log = _Log()
        self.instance = _INSTANCE
        self.output_metadata: dict = {}

    def add_output_metadata(self, md: dict) -> None:
        self.output_metadata.update(md)


_INSTANCE = _Instance()


# --- what the tooling fed the real code: the truth tests compare the index with ------------------


@dataclass
class Task:
    """One legacy task as the real task table defined it, and every attempt the real code made."""

    stage: str  # gensql stage: draft | essay | evaluation
    task_id: str
    combo_id: str | None
    template_id: str
    model_id: str | None  # the pipeline's model id (llm_models.csv `id`); copy essays: the draft's
    parent_task_id: str | None = None
    mode: str = "llm"  # llm | copy
    calls: list[Call] = field(default_factory=list)  # model calls, oldest first
    outcomes: list[str] = field(default_factory=list)  # per run: ok | truncated | failed


@dataclass
class Truth:
    data_root: object
    tasks: dict[str, Task] = field(default_factory=dict)  # task_id -> task (task ids are unique across stages here)
    llm: FakeLLM | None = None

    def of_stage(self, stage: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.stage == stage]


def concepts(concept_cls, n: int = 4) -> list:
    """Concepts with realistic ids and paragraph descriptions (the real Concept class)."""
    names = ["Default Mode Network", "Dearth of AI-driven Discoveries", "Combinatorial Search", "Generator-Verifier Gap", "Economic Moat"]
    out = []
    for i in range(n):
        cid = names[i].lower().replace(" ", "-")
        out.append(concept_cls(concept_id=cid, name=names[i], descriptions={"paragraph": f"About {names[i]}.", "sentence": names[i]}))
    return out


def read_raw(era_dir, name: str):
    import pandas as pd

    return pd.read_csv(era_dir / "raw" / name)


def flags(df, column: str, keep: set[str], id_column: str = "template_id"):
    """The real CSV with ``column`` true exactly for ``keep`` (the only change the tooling makes)."""
    df = df.copy()
    df[column] = df[id_column].isin(keep)
    return df


class Clock:
    """Simulated wall clock: the files one pipeline run writes get that run's time as mtime.

    The real client waited at least 65 s between calls (``mandatory_delay``); a test writes them
    within one kernel tick. Each ``with clock.run(root):`` stamps the files the block created or
    changed with the current simulated time and advances it by ``step`` seconds.
    """

    def __init__(self, start: float = 1_755_500_000.0, step: float = 65.0):
        self.now, self.step = start, step

    @staticmethod
    def _state(root):
        import os

        out = {}
        for dirpath, _, files in os.walk(root):
            for name in files:
                st = os.stat(os.path.join(dirpath, name))
                out[os.path.join(dirpath, name)] = (st.st_mtime_ns, st.st_size, st.st_ino)
        return out

    @contextmanager
    def run(self, root):
        import os

        before = self._state(root)
        try:
            yield
        finally:
            for path, state in self._state(root).items():
                if before.get(path) != state:
                    os.utime(path, (self.now, self.now))
            self.now += self.step
