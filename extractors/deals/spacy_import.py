"""spaCy imported without its command line.

`import spacy` (3.8) imports the whole `spacy.cli` package (typer, rich, weasel, requests, jinja2, pygments)
only to expose `spacy.info`: 18 MB and 0.2 s of CPU in every process that extracts, twice per nightly run
(one per extraction worker). spaCy's maintainers made that import lazy upstream (explosion/spaCy#12962);
until a 3.x release has it, the import is done here with placeholders for `spacy.cli` and `spacy.cli.info`,
removed again at once: a later `import spacy.cli` loads the real one, and `spacy.info` loads it when called.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_CLI_MODULES = ("spacy.cli", "spacy.cli.info")


def _info(*args: Any, **kwargs: Any) -> Any:
    from spacy.cli.info import info  # noqa: PLC0415  (the real one, loaded on first use)

    return info(*args, **kwargs)


def import_spacy_without_cli() -> None:
    """Import spaCy with `spacy.cli` left out (nothing to do when spaCy or its CLI is already loaded)."""
    if "spacy" in sys.modules or any(name in sys.modules for name in _CLI_MODULES):
        return
    package, info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
    package.__path__ = []  # a package, so that `spacy.cli.info` may sit under it
    info.info = _info  # type: ignore[attr-defined]
    placeholders = dict(zip(_CLI_MODULES, (package, info), strict=True))
    sys.modules.update(placeholders)
    try:
        import spacy  # noqa: F401, PLC0415
    except ImportError:  # a spaCy that wants more of its CLI at import: import it whole, as usual
        _drop(placeholders)
        import spacy  # noqa: F401, PLC0415
    finally:
        _drop(placeholders)


def _drop(placeholders: dict[str, types.ModuleType]) -> None:
    for name, module in placeholders.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]
