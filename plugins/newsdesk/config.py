"""One settings object for every stage, read from the environment and validated at start.

``Settings`` below is the single definition of every ``NEWSDESK_*`` option: its type (from
the annotation), default, limits and the line of documentation the README's configuration
table is generated from (``newsdesk config --markdown``; ``scripts/settings_table.py``
writes it into the README). A new option is one line here.

A value that does not parse or is out of range is an error that names the variable
(``SettingsError``), never a silent default: booleans accept only true/false/1/0/yes/no.
An empty variable counts as unset.

Inside Airflow, ``tasks.context.settings()`` layers two more sources on top: the JSON
Variable ``newsdesk_settings`` (any option, by field or variable name) and the warehouse
connection ``newsdesk_warehouse`` (the database URL). Options marked "DAG parse" are read
when the scheduler parses the DAG files, from the environment only.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# A source checkout's root: where `make run` finds the DAGs and the offline snapshot. An
# installed package has neither; nothing else defaults to a path inside the source tree.
REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = Path(os.environ.get("NEWSDESK_SEEDS_DIR") or REPO_ROOT / "seeds")
DEFAULT_USER_AGENT = "newsdesk/0.1 (+https://github.com/newsdesk/newsdesk; news ingestion bot)"
ENV_PREFIX = "NEWSDESK_"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")


class UserError(Exception):
    """A mistake of the person running newsdesk (a bad setting or argument): the CLI prints
    the message as one line and exits with status 2."""


class SettingsError(UserError, ValueError):
    """Invalid settings; the message names each offending variable."""


def newsdesk_home() -> Path:
    """``$NEWSDESK_HOME`` (default ``./var`` of the working directory): the default warehouse
    and the offline run's Airflow home live there."""
    return Path(os.environ.get("NEWSDESK_HOME") or "var").absolute()


def default_database_url() -> str:
    return f"sqlite:///{newsdesk_home() / 'newsdesk.db'}"


def option(default: Any = MISSING, doc: str = "", *, factory=None, minimum: float | None = None,
           shown: str | None = None, dag_parse: bool = False, secret: bool = False):
    """A ``Settings`` field: ``doc`` is its line in the README's table, ``shown`` the default as
    the table prints it (when the value itself says little), ``minimum`` the smallest value
    accepted, ``dag_parse`` marks options read when DAG files are parsed (environment only),
    ``secret`` keeps the value out of error messages and ``newsdesk config``."""
    metadata = {"doc": doc, "minimum": minimum, "shown": shown, "dag_parse": dag_parse, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    # --- where things are
    home: str = option("var", "directory of the default SQLite warehouse and the offline run's Airflow home; "
                       "relative to the working directory", shown="`./var`")
    database_url: str = option(factory=default_database_url, doc="warehouse URL (CLI, `make run`; inside Airflow "
                               "the connection `newsdesk_warehouse` wins); `postgresql://user@host/db` uses "
                               "psycopg 3", shown="`sqlite:///$NEWSDESK_HOME/newsdesk.db`", secret=True)
    registry: str | None = option(None, "feed registry (YAML, `file#section` picks a section) that `news_ingest` "
                                  "syncs at the start of a run", shown="`seeds/feeds.yaml` of a source checkout")
    seeds_dir: str | None = option(None, "folder of the example registry and the offline snapshot",
                                   shown="`seeds/` of a source checkout")
    # --- HTTP: untrusted servers must not be able to hold a worker or fill its memory
    user_agent: str = option(DEFAULT_USER_AGENT, "User-Agent of every request", shown="`newsdesk/0.1 (+…)`")
    connect_timeout: float = option(10.0, "seconds to connect", minimum=0.1)
    read_timeout: float = option(20.0, "seconds between two reads of a response", minimum=0.1)
    total_timeout: float = option(60.0, "seconds for a whole response (a trickling server cannot hold a worker)",
                                  minimum=0.1)
    max_body_bytes: int = option(15 * 1024 * 1024, "cap on a decoded body (also the decompression-bomb guard)",
                                 minimum=1)
    max_redirects: int = option(5, "redirect hops before giving up", minimum=0)
    allow_private_addresses: bool = option(False, "allow loopback / private / link-local targets (tests, intranets)")
    allow_networks: str | None = option(None, "comma-separated networks (CIDR) allowed although private, e.g. an "
                                        "intranet's `10.20.0.0/16`; every other private address stays refused")
    http_proxy: str | None = option(None, "send every request through this HTTP proxy (the offline snapshot uses it)",
                                    secret=True)
    http_concurrency: int = option(16, "concurrent requests per task", minimum=1)
    per_host_concurrency: int = option(2, "concurrent requests per host, counted across every worker and task "
                                       "(the shared store: Redis or the warehouse)", minimum=1)
    per_host_delay: float = option(0.0, "minimum seconds between request starts to one host, across every worker",
                                   minimum=0)
    respect_robots: bool = option(True, "obey robots.txt (RFC 9309) for article pages")
    # --- politeness shared by every worker (robots.txt cache, host slots, pacing) and metrics
    redis_url: str | None = option(None, "Redis holding the politeness state shared by every worker (robots.txt "
                                   "cache, host slots, pacing); unset: the warehouse holds it", secret=True)
    max_crawl_delay: float = option(30.0, "cap on a site's robots.txt `Crawl-delay`, in seconds", minimum=0)
    robots_ttl: float = option(3600.0, "seconds a robots.txt is kept when its response says nothing "
                               "(`Cache-Control`/`Expires` win; 60 s to 24 h)", minimum=0)
    robots_error_ttl: float = option(600.0, "seconds a site whose robots.txt answers 5xx, 429 or nothing is "
                                     "treated as disallowing everything (RFC 9309)", minimum=0)
    statsd_host: str | None = option(None, "outside Airflow: send metrics as plain StatsD over UDP to this host "
                                     "(inside Airflow its `[metrics]` settings decide)")
    statsd_port: int = option(8125, "port of `NEWSDESK_STATSD_HOST`", minimum=1)
    statsd_prefix: str = option("newsdesk", "prefix of every metric name sent to `NEWSDESK_STATSD_HOST`")
    max_registry_bytes: int = option(4 * 1024 * 1024, "cap on the size of a registry file (YAML)", minimum=1)
    # --- work sizes
    batch_size: int = option(50, "ids per mapped task", minimum=1)
    max_pages_per_run: int = option(5000, "pages fetched per run at most", minimum=1)
    max_fetch_attempts: int = option(3, "attempts before a page is marked failed", minimum=1)
    feed_disable_score: float = option(10.0, "weighted failure score (hard 3, parse 2, temporary 1) at which a "
                                       "feed is auto-disabled", minimum=1)
    dedup_window_days: int = option(14, "dedup compares articles published within ± this many days", minimum=1)
    dedup_workers: int = option(1, "PostgreSQL: dedup runs in this many processes at once (candidate search and "
                                "verification overlap; decisions are serialised); SQLite always uses one", minimum=1)
    extract_timeout: float = option(30.0, "seconds one page's extraction may take (`0`: no limit); a page past it "
                                    "is recorded as `extract_timeout`, and an import's worker still stuck at three "
                                    "times the limit (inside the parser's C code) is replaced, its page counted as "
                                    "`worker_died`", minimum=0)
    # --- archives
    archive_root: str | None = option(None, "folder or fsspec URL (`s3://…`, `https://…`) holding the archive "
                                      "files of `news_archive`")
    archive_workers: int | None = option(None, "extraction processes of archive imports (`0`: in-process)",
                                         shown="CPUs (max 8)", minimum=0)
    archive_parallel_files: int = option(1, "archive files `news_archive` imports at once per run", minimum=1,
                                         dag_parse=True)
    archive_max_active_runs: int = option(1, "concurrent `news_archive` runs", minimum=1, dag_parse=True)
    # --- Airflow wiring
    ingest_cron: str = option("*/15 * * * *", "schedule of `news_ingest` (cron, UTC)", dag_parse=True)
    http_pool: str = option("news_http", "Airflow pool of the HTTP tasks (created by compose init / `make airflow`)",
                            dag_parse=True)
    task_retries: int = option(2, "retries of every `news_ingest` task", minimum=0, dag_parse=True)
    task_retry_delay: float = option(30.0, "seconds before the first retry (doubles, at most 10 min)", minimum=0,
                                     dag_parse=True)
    airflow_conn_id: str = option("newsdesk_warehouse", "Airflow connection holding the warehouse "
                                  "(`AIRFLOW_CONN_NEWSDESK_WAREHOUSE`); wins over `NEWSDESK_DATABASE_URL` in tasks")
    airflow_variable: str = option("newsdesk_settings", "Airflow Variable (JSON) whose keys override any option "
                                   "for every task, e.g. `{\"batch_size\": 10}`")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Every option from ``NEWSDESK_*`` variables (``env``, default ``os.environ``), then
        ``overrides`` (field names; None means "not given"). Raises ``SettingsError`` naming
        every invalid variable."""
        env = os.environ if env is None else env
        values: dict = {}
        errors: list[str] = []
        for spec in FIELDS.values():
            raw = env.get(spec.env)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[spec.name] = spec.parse(raw)
            except ValueError as exc:
                errors.append(f"{spec.env}{spec.quoted(raw)}: {exc}")
        try:
            values.update(coerce_options({k: v for k, v in overrides.items() if v is not None}, strict=True))
        except SettingsError as exc:
            errors.append(str(exc))
        if errors:
            raise SettingsError("; ".join(errors))
        if "database_url" not in values:
            # the default follows NEWSDESK_HOME as read from the same environment
            home = Path(values.get("home", "var")).absolute()
            values["database_url"] = f"sqlite:///{home / 'newsdesk.db'}"
        return cls(**values)

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


@dataclass(frozen=True)
class FieldSpec:
    """One option as the parser and the documentation see it."""

    name: str
    env: str
    kind: type
    optional: bool
    default: Any
    doc: str
    minimum: float | None
    shown: str | None
    dag_parse: bool
    secret: bool

    def quoted(self, raw: str) -> str:
        return "" if self.secret else f"={raw!r}"

    def parse(self, raw: Any) -> Any:
        """The typed value of ``raw`` (a string from the environment or a JSON value);
        ValueError with the reason otherwise."""
        if raw is None:
            if self.optional:
                return None
            raise ValueError("a value is required")
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            word = str(raw).strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError("not a boolean (use true/false, 1/0 or yes/no)")
        if self.kind is int:
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError("not a whole number")
            try:
                value = int(raw) if not isinstance(raw, str) else int(raw.strip())
            except ValueError:
                raise ValueError("not a whole number") from None
        elif self.kind is float:
            if isinstance(raw, bool):
                raise ValueError("not a number")
            try:
                value = float(raw)
            except ValueError:
                raise ValueError("not a number") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError("not a finite number")
        else:
            value = str(raw).strip()
            if self.name == "database_url" and "://" not in value:
                raise ValueError("not a database URL (sqlite:///path/to/file.db or postgresql://user@host/db)")
            if self.name == "allow_networks":
                _check_networks(value)
            return value
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be at least {self.minimum:g}")
        return value

    @property
    def type_name(self) -> str:
        return {bool: "boolean", int: "integer", float: "number", str: "text"}[self.kind]


def _check_networks(value: str) -> None:
    """ValueError naming the first entry of a comma-separated list that is no network."""
    for item in value.split(","):
        text = item.strip()
        if not text:
            continue
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise ValueError(f"{text!r} is not a network (CIDR like 10.1.0.0/16 or an address)") from None


def _field_specs() -> dict[str, FieldSpec]:
    specs = {}
    for f in fields(Settings):
        annotation = str(f.type)
        optional = "None" in annotation
        kind = {"bool": bool, "int": int, "float": float, "str": str}[annotation.split("|")[0].strip()]
        default = f.default_factory() if f.default is MISSING else f.default
        specs[f.name] = FieldSpec(name=f.name, env=ENV_PREFIX + f.name.upper(), kind=kind, optional=optional,
                                  default=default, doc=f.metadata.get("doc", ""), minimum=f.metadata.get("minimum"),
                                  shown=f.metadata.get("shown"), dag_parse=f.metadata.get("dag_parse", False),
                                  secret=f.metadata.get("secret", False))
    return specs


FIELDS: dict[str, FieldSpec] = _field_specs()
# field -> environment variable
OPTIONS: dict[str, str] = {name: spec.env for name, spec in FIELDS.items()}


def coerce_options(data: Mapping | None, strict: bool = False) -> dict:
    """Typed ``Settings`` fields from a mapping keyed by field or variable name (the Airflow
    Variable ``newsdesk_settings``). A value that does not fit its option raises
    ``SettingsError`` naming the key; unknown keys raise too when ``strict``, else they are
    ignored (a Variable may carry keys for a newer version)."""
    by_env = {spec.env: name for name, spec in FIELDS.items()}
    out: dict = {}
    errors: list[str] = []
    for key, value in (data or {}).items():
        name = key if key in FIELDS else by_env.get(str(key).upper())
        if name is None:
            if strict:
                errors.append(f"{key}: unknown option")
            continue
        if value is None:
            continue
        spec = FIELDS[name]
        try:
            out[name] = spec.parse(value)
        except ValueError as exc:
            errors.append(f"{key}{spec.quoted(str(value))}: {exc}")
    if errors:
        raise SettingsError("; ".join(errors))
    return out


def option_from_env(name: str, env: Mapping[str, str] | None = None) -> Any:
    """One option from the environment, validated (DAG files read their few options this way
    at parse time without building the whole ``Settings``)."""
    spec = FIELDS[name]
    raw = (os.environ if env is None else env).get(spec.env)
    if raw is None or raw.strip() == "":
        return spec.default
    try:
        return spec.parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{spec.env}{spec.quoted(raw)}: {exc}") from None


def markdown_table() -> str:
    """The README's configuration table, generated from ``Settings`` (one row per option)."""
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    for spec in FIELDS.values():
        if spec.shown is not None:
            default = spec.shown
        elif spec.default is None:
            default = "unset"
        elif spec.kind is bool:
            default = f"`{str(spec.default).lower()}`"
        else:
            default = f"`{spec.default:g}`" if spec.kind is float else f"`{spec.default}`"
        kind = spec.type_name + (f" ≥ {spec.minimum:g}" if spec.minimum is not None else "")
        doc = spec.doc + (" (read when DAG files are parsed: environment only)" if spec.dag_parse else "")
        rows.append(f"| `{spec.env}` | {kind} | {default} | {doc} |")
    return "\n".join(rows) + "\n"
