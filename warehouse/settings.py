"""Typed settings of the DuckDB warehouse (the `warehouse:` key of config.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WarehouseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    path: str = "data/dealradar.duckdb"
    """DuckDB file the run appends to; relative paths are taken from the config file's folder."""
    storage_version: str | None = "v1.4.0"
    """DuckDB storage format written when the file is created; v1.4.0 opens in DuckDB CLIs 1.4 and newer.
    null means the library's newest format (older CLIs then cannot open the file)."""
    lock_timeout_s: float = Field(300.0, ge=0)
    """How long a run waits for another process (an analyst's open DuckDB) to release the file."""
    parquet_dir: str | None = "data/parquet"
    """Folder where tables are exported as Parquet after each run; null disables the export."""
