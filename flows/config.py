"""config.yaml: load, validate, and report mistakes by key and file before anything runs."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.settings import AlertsSettings
from extractors.models import FeedSource
from extractors.settings import ExtractionSettings, FetchSettings
from warehouse.settings import WarehouseSettings


class ConfigError(Exception):
    """config.yaml is missing, not YAML, or has a wrong key or value. Terminal: fix the file."""


class FeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    name: str = Field(min_length=1)
    """Name shown in summaries and stored with each article."""
    url: str = Field(min_length=1)
    """Feed URL (RSS or Atom), http or https."""

    @field_validator("url")
    @classmethod
    def _http_only(cls, v: str) -> str:
        if not v.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v

    def source(self) -> FeedSource:
        return FeedSource(name=self.name, url=self.url)


class ScheduleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    cron: str = "0 2 * * *"
    """When `dealradar serve` runs the nightly flow (cron syntax)."""
    timezone: str = "Europe/Rome"
    """Time zone of the cron expression."""


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    feeds: list[FeedConfig] = []
    """Feeds fetched each night: a list of {name, url}."""
    warehouse: WarehouseSettings = WarehouseSettings()
    """Where and how the DuckDB warehouse is written."""
    fetch: FetchSettings = FetchSettings()
    """HTTP behaviour: timeouts, size caps, concurrency, safety."""
    extraction: ExtractionSettings = ExtractionSettings()
    """Deal extraction settings."""
    alerts: AlertsSettings = AlertsSettings()
    """Alert channels and rules."""
    schedule: ScheduleSettings = ScheduleSettings()
    """Nightly schedule used by `dealradar serve` and prefect.yaml."""

    base_dir: Path = Path(".")
    """Folder of the config file; relative paths in it are taken from here (set by load_config)."""

    def resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    def warehouse_settings(self) -> WarehouseSettings:
        """The `warehouse:` settings with `path` resolved against the config file's folder."""
        return self.warehouse.model_copy(update={"path": str(self.warehouse_path)})

    @property
    def parquet_dir(self) -> Path | None:
        return self.resolve(self.warehouse.parquet_dir) if self.warehouse.parquet_dir else None

    def sources(self) -> list[FeedSource]:
        return [f.source() for f in self.feeds]


def _describe(err: ValidationError, path: Path) -> str:
    lines = [f"{path}: invalid configuration"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def parse_config(data: object, path: Path) -> Config:
    """Validate an already-loaded mapping; `path` names the file in messages and anchors relative paths."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys (feeds, warehouse, ...)")
    if "base_dir" in data:
        raise ConfigError(f"{path}: base_dir: unknown key")
    try:
        return Config.model_validate({**data, "base_dir": path.resolve().parent})
    except ValidationError as e:
        raise ConfigError(_describe(e, path)) from None


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML: {e}") from None
    return parse_config(data, path)
