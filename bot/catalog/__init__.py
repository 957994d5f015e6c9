"""The programme catalogue: schema, loading with line numbers, checks, hot reload, CLI.

Programme staff edit `orientation_catalog/<id>.yml`; `bousla catalog validate` checks it;
the action server keeps a `CatalogStore` that reloads it after each edit.
"""

from bot.catalog.issues import CatalogIssue
from bot.catalog.loader import Catalog, CatalogLoad, load_catalog
from bot.catalog.schema import Program
from bot.catalog.store import CatalogStatus, CatalogStore

__all__ = [
    "Catalog",
    "CatalogIssue",
    "CatalogLoad",
    "CatalogStatus",
    "CatalogStore",
    "Program",
    "load_catalog",
]
