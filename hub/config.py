"""`hub.yaml`: the communities a hub serves and where their conversations come from.

    communities:
      - slug: makers                      # lower-case id used in every table
        name: Makers Collective
        timezone: Europe/Paris            # for exports that carry no time zone (WhatsApp), and weeks
        promoters: ["Alice Martin", {platform: whatsapp, account: "+33 6 12 34 56 78"}]
        sources:
          - platform: whatsapp
            path: exports/WhatsApp Chat with Makers.txt   # a file, or a folder of exports
            channel: Makers                               # optional: overrides the name in the file name
          - platform: whatsapp
            inbox: inbox/makers                            # new files dropped here are picked up by Dagster
          - platform: slack
            token_env: SLACK_BOT_TOKEN                     # credentials by environment-variable name, never inline
        identities: makers.identities.yaml  # optional: reviewed identity decisions (the default name shown)
        scoring: {half_life_weeks: 12}      # optional: reputation, flag and stage rules (hub/rules.py)
        flags: {window_weeks: 6}
        stages: {mobilisation_max_promoter_starts: 0.4}
        digest: {platform: slack, channel: C0123456, token_env: SLACK_BOT_TOKEN}  # optional: hub digest --post

Relative paths are relative to the file. Errors name the file, the line and the key.

The identities file holds the decisions a person took about who is who (see hub/persons.py):

    merge:                      # these accounts are one person, evidence or not
      - [whatsapp:makers:Alice Martin, slack:makers:U0456]
    never_merge:                # these two are different people, whatever the evidence
      - [slack:makers:U0789, discord:makers:112233]
"""

from __future__ import annotations

import os
import re
import typing
import zoneinfo
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.model import Platform
from hub.rules import Flags, Rules, Scoring, StageRules

DEFAULT_PATH = Path("hub.yaml")
DEFAULT_COMMUNITY = "default"


class ConfigError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Promoter(_Strict):
    """A promoter by display name (`"Alice Martin"`), or by one platform account."""

    name: str | None = None
    platform: Platform | None = None
    account: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _named(self) -> "Promoter":
        if not self.name and not (self.platform and self.account):
            raise ValueError("a promoter is a name, or a mapping with platform and account")
        return self


SourcePlatform = Literal[("auto", *typing.get_args(Platform))]


class Source(_Strict):
    platform: SourcePlatform = "auto"
    path: Path | None = None
    inbox: Path | None = None
    channel: str | None = None
    timezone: str | None = None
    token_env: str | None = None
    base_url: str | None = None

    @model_validator(mode="after")
    def _one_location(self) -> "Source":
        given = [k for k in ("path", "inbox", "token_env") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a source needs exactly one of path, inbox or token_env (got {given or 'none'})")
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value):
            raise ValueError("token_env is the NAME of an environment variable (e.g. SLACK_BOT_TOKEN), not a token")
        return value


class Digest(_Strict):
    """Where `hub digest --post` sends a community's weekly digest."""

    platform: Literal["slack", "telegram"]
    channel: str  # a Slack channel id (C…), or a Telegram chat id (-100…) or @username
    token_env: str  # the NAME of the environment variable holding the bot token
    base_url: str | None = None

    _env_name = field_validator("token_env")(Source._env_name.__func__)


class Community(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str | None = None
    timezone: str = "UTC"
    promoters: list[Promoter] = []
    sources: list[Source] = []
    identities: Path | None = None  # reviewed identity decisions [default: <slug>.identities.yaml beside hub.yaml]
    scoring: Scoring = Scoring()  # reputation's half-life, weights and level ranks (hub/rules.py)
    flags: Flags = Flags()  # when a member is flagged ambassador, new and promising, drifting
    stages: StageRules = StageRules()  # the thresholds of stages 2, 3 and 4
    digest: Digest | None = None  # where the weekly digest is posted (hub digest --post)
    pseudonymise: bool = False  # replace names and phone numbers by keyed hashes at ingest (hub/pseudonyms.py)

    @property
    def rules(self) -> Rules:
        return Rules(scoring=self.scoring, flags=self.flags, stages=self.stages)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @property
    def display_name(self) -> str:
        return self.name or self.slug


class Warehouse(_Strict):
    """Where the warehouse is: a DuckDB file, or a DuckLake shared by many machines (warehouse/lake.py)."""

    path: Path | None = None  # a DuckDB file [default: ./data/hub.duckdb]
    catalog: str | None = None  # DuckLake: ducklake:postgres:dbname=hub host=… (password: $PGPASSWORD)
    data_path: str | None = None  # DuckLake: where a new one writes its Parquet files (folder, s3://…)

    @model_validator(mode="after")
    def _one_kind(self) -> "Warehouse":
        if (self.path is None) == (self.catalog is None):
            raise ValueError("a warehouse is either a path (a DuckDB file) or a catalog (DuckLake)")
        if self.catalog is not None and not self.catalog.startswith("ducklake:"):
            raise ValueError("a catalog is DuckLake's: ducklake:postgres:dbname=… host=…, or ducklake:FILE")
        if self.data_path is not None and self.catalog is None:
            raise ValueError("data_path is where a DuckLake (catalog) writes its files: a file needs none")
        return self


class HubConfig(_Strict):
    communities: list[Community] = []
    warehouse: Warehouse | None = None
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("communities")
    @classmethod
    def _unique_slugs(cls, communities: list[Community]) -> list[Community]:
        slugs = [c.slug for c in communities]
        duplicated = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicated:
            raise ValueError(f"community slugs must be unique: {', '.join(duplicated)}")
        # Dagster names a community's schedules after its slug, '-' written '_': two slugs that
        # differ only there would give two schedules one name, and the definitions would not load.
        by_name: dict[str, str] = {}
        for slug in slugs:
            if "__" in slug:  # (a schedule of a community's second source is `<slug>__<token variable>`)
                raise ValueError(f"community slug {slug!r}: '__' is kept for Dagster's schedule names: use one '_'")
            other = by_name.setdefault(slug.replace("-", "_"), slug)
            if other != slug:
                raise ValueError(f"community slugs {other!r} and {slug!r} differ only by '-' and '_', which "
                                 "Dagster's schedule names do not tell apart: rename one")
        return communities

    def warehouse_target(self) -> Path | str | None:
        """The configured warehouse: a file's path, or a DuckLake catalog with its data path (paths
        relative to this file)."""
        from warehouse.lake import Lake, absolute

        if self.warehouse is None:
            return None
        if self.warehouse.catalog is None:
            return self.resolve(self.warehouse.path)
        data_path = self.warehouse.data_path
        base = self.path.parent if self.path else None
        return Lake(self.warehouse.catalog, absolute(data_path, base) if data_path else None)

    def rules(self, slug: str) -> Rules:
        """The community's scoring, flag and stage rules (the defaults for one not configured)."""
        return next((c.rules for c in self.communities if c.slug == slug), Rules())

    def community(self, slug: str | None) -> Community:
        """The named community; with no name, the only one configured, else an ad-hoc 'default'."""
        if slug is None:
            if len(self.communities) == 1:
                return self.communities[0]
            if not self.communities:
                return Community(slug=DEFAULT_COMMUNITY, name="Default community")
            raise ConfigError("several communities are configured: say which with --community "
                              f"({', '.join(c.slug for c in self.communities)})")
        for c in self.communities:
            if c.slug == slug:
                return c
        if not self.communities or slug == DEFAULT_COMMUNITY:
            try:
                return Community(slug=slug)
            except ValidationError:
                raise ConfigError(f"--community {slug!r}: a community slug is lowercase letters, digits, '-' and "
                                  "'_', starting with a letter or digit (e.g. makers)") from None
        raise ConfigError(f"no community {slug!r} in {self.path}: "
                          f"known are {', '.join(c.slug for c in self.communities)}")

    def resolve(self, path: Path) -> Path:
        """A path from the file, made absolute relative to the file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return path if path.is_absolute() else (base / path)

    def identities_file(self, slug: str) -> Path:
        """Where a community's reviewed identity decisions are kept: its `identities`, else
        `<slug>.identities.yaml` beside the configuration file (or in the working folder without one)."""
        for c in self.communities:
            if c.slug == slug and c.identities is not None:
                return self.resolve(c.identities)
        return self.resolve(Path(f"{slug}.identities.yaml"))

    def source_for(self, file: Path) -> tuple[Community, Source] | None:
        """The configured source a file belongs to (its path, or inside its folder or inbox)."""
        file = file.resolve()
        for community in self.communities:
            for source in community.sources:
                where = source.path or source.inbox
                if where is None:
                    continue
                where = self.resolve(where).resolve()
                if file == where or where in file.parents:
                    return community, source
        return None


def check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris or UTC") from None
    return value


def load_config(path: str | Path | None = None, *, required: bool | None = None) -> HubConfig:
    """Read and validate hub.yaml. Without a path, $HUB_CONFIG (as the Dagster pipeline reads), else
    ./hub.yaml if it exists, else an empty config."""
    if path is None and os.environ.get("HUB_CONFIG"):
        path = os.environ["HUB_CONFIG"]
    explicit = path is not None
    path = Path(path) if explicit else DEFAULT_PATH
    if not path.exists():
        if explicit if required is None else required:
            raise ConfigError(f"{path}: no such configuration file")
        return HubConfig()
    data = _read_mapping(path, "a 'communities' key")
    try:
        return HubConfig.model_validate({**data, "path": path})
    except ValidationError as e:
        raise ConfigError("\n".join(_describe(path, data, err) for err in e.errors())) from None


def warehouse_of(db: str | Path | None, config: str | Path | None) -> Path | str | None:
    """The warehouse a command uses: --db, else $HUB_DB, else the `warehouse` of the configuration
    file given with --config; None leaves it to warehouse.db.default_path ($HUB_CONFIG, ./hub.yaml,
    else ./data/hub.duckdb)."""
    if db is not None or os.environ.get("HUB_DB") or config is None:
        return db
    return load_config(config).warehouse_target()


def _merge_group(group: list[str]) -> list[str]:
    if len(set(group)) < 2:
        raise ValueError(f"a merge is a list of at least two different account ids, got {group}")
    return group


def _never_pair(pair: list[str]) -> list[str]:
    if len(pair) != 2 or pair[0] == pair[1]:
        raise ValueError(f"a never_merge is a pair of two different account ids, got {pair}")
    return pair


class IdentityDecisions(_Strict):
    """A community's reviewed identity decisions: groups of account ids that are one person, and
    pairs that are never one person. `lines` keeps, per decision, the line it is on in the file."""

    merge: list[Annotated[list[str], AfterValidator(_merge_group)]] = []
    never_merge: list[Annotated[list[str], AfterValidator(_never_pair)]] = []
    path: Path | None = Field(default=None, exclude=True)
    lines: dict[tuple[str, int], int] = Field(default={}, exclude=True)

    @field_validator("merge", "never_merge", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return [] if value is None else value  # `never_merge:` with nothing under it yet

    def where(self, key: str, index: int) -> str:
        """`file:line: key[index]` of one decision, for messages about it."""
        return f"{self.path}:{self.lines.get((key, index), 1)}: {key}[{index}]"


def load_identities(path: str | Path) -> IdentityDecisions:
    """Read and validate an identities file; a file that does not exist holds no decisions yet."""
    path = Path(path)
    if not path.exists():
        return IdentityDecisions(path=path)
    data = _read_mapping(path, "'merge' and 'never_merge' keys")
    try:
        decisions = IdentityDecisions.model_validate({**data, "path": path})
    except ValidationError as e:
        raise ConfigError("\n".join(_describe(path, data, err) for err in e.errors())) from None
    lines = {(key, i): _locate(data, [key, i])[1]
             for key in ("merge", "never_merge") for i in range(len(getattr(decisions, key)))}
    decisions = decisions.model_copy(update={"lines": lines})
    # The same two accounts merged and kept apart is a contradiction only the reviewer can settle.
    merged = {frozenset((a, b)): i for i, group in enumerate(decisions.merge) for a in group for b in group if a != b}
    for i, pair in enumerate(decisions.never_merge):
        if frozenset(pair) in merged:
            raise ConfigError(f"{decisions.where('never_merge', i)}: {pair[0]} and {pair[1]} are also merged "
                              f"by merge[{merged[frozenset(pair)]}]: keep one of the two decisions")
    return decisions


def _read_mapping(path: Path, keys: str) -> dict:
    """A YAML file's top-level mapping (round-trip, so errors can name lines); a file that is not
    YAML, or not a mapping, is a ConfigError naming the file and line."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(e, 'problem', e)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the file must be a mapping with {keys}")
    return data


def _describe(path: Path, data: object, error: dict) -> str:
    loc, line = _locate(data, list(error["loc"]))
    key = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(loc)) or "(top)"
    return f"{path}:{line}: {key}: {error['msg'].removeprefix('Value error, ')}"


def _locate(node: object, loc: list) -> tuple[list, int]:
    """The error's path through the document (without pydantic's union-member tags) and its line."""
    kept, line = [], 1
    for i, part in enumerate(loc):
        lc = getattr(node, "lc", None)
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            line = lc.item(part)[0] + 1 if lc else line
            node = node[part]
        elif isinstance(node, dict) and part in node:
            line = lc.key(part)[0] + 1 if lc else line
            node = node[part]
        elif i < len(loc) - 1:
            continue  # a union member's name, not a key of the document
        kept.append(part)
    return kept, line
