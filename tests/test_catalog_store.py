"""Hot reload: an edit is seen by the next match; a broken edit keeps the last good
catalogue in service and records the error for the dashboard."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.catalog import store as store_module
from bot.catalog.store import CatalogStatus, CatalogStore
from bot.orientation.matching import Profile, match

TODAY = date(2026, 11, 23)


@pytest.fixture
def catalog_dir(tmp_path) -> Path:
    directory = tmp_path / "orientation_catalog"
    shutil.copytree(PROJECT_ROOT / "orientation_catalog", directory)
    return directory


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file and move its modification time forward, as an editor would."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    stat = path.stat()
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def forsa_offered(store: CatalogStore, amount: int) -> bool:
    profile = Profile(age=25, goal="financing", project_stage="idea", amount=amount)
    return "forsa" in match(profile, store.catalog, "fr", limit=20, today=TODAY).ids


def test_an_edit_is_seen_by_the_next_match(catalog_dir):
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert not forsa_offered(store, 250_000)
    edit(catalog_dir / "forsa.yml", "amount_max: 100000", "amount_max: 300000")
    assert forsa_offered(store, 250_000)
    assert store.catalog.get("forsa").eligibility.amount_max == 300_000


def test_a_broken_edit_keeps_the_last_good_catalogue(catalog_dir):
    changes: list[CatalogStatus] = []
    store = CatalogStore(catalog_dir, on_status_change=changes.append, today=lambda: TODAY)
    assert len(store.catalog) == 20 and store.status().ok
    first_loaded_at = store.status().loaded_at

    edit(catalog_dir / "forsa.yml", "  age_min: 18", "  age_min: dix-huit")
    assert len(store.catalog) == 20
    assert forsa_offered(store, 50_000)  # the previous forsa is still served
    status = store.status()
    assert not status.ok and status.serving_previous
    assert status.loaded_at == first_loaded_at
    [error] = status.errors
    assert error.file == "forsa.yml" and error.line and "age_min doit être un nombre" in str(error)
    assert status.as_dict()["errors"][0]["text"].startswith("forsa.yml, ligne ")

    edit(catalog_dir / "forsa.yml", "  age_min: dix-huit", "  age_min: 21")
    status = store.status()
    assert status.ok and not status.serving_previous
    assert store.catalog.get("forsa").eligibility.age_min == 21
    assert [change.ok for change in changes] == [True, False, True]


def test_added_and_removed_files_are_seen(catalog_dir):
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert "ads-agr" in store.catalog
    (catalog_dir / "ads-agr.yml").unlink()
    assert "ads-agr" not in store.catalog and len(store.catalog) == 19
    sample = (PROJECT_ROOT / "tests" / "catalog_fixtures" / "sample.yml").read_text("utf-8")
    (catalog_dir / "sample.yml").write_text(sample, "utf-8")
    assert "sample" in store.catalog and store.status().program_count == 20


def test_no_reload_without_change(catalog_dir, monkeypatch):
    calls = []
    real_load = store_module.load_catalog
    monkeypatch.setattr(
        store_module, "load_catalog", lambda *a, **k: calls.append(1) or real_load(*a, **k)
    )
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    for _ in range(50):
        assert len(store.catalog) == 20
    assert len(calls) == 1


def test_the_day_changing_refreshes_freshness_warnings(catalog_dir):
    today = [TODAY]
    store = CatalogStore(catalog_dir, today=lambda: today[0])
    assert not store.status().warnings
    today[0] = date(2028, 1, 10)
    warnings = store.status().warnings
    assert len(warnings) == 20 and "il y a plus de 12 mois" in str(warnings[0])


def test_a_failing_status_hook_does_not_stop_the_catalogue(catalog_dir):
    def hook(status: CatalogStatus) -> None:
        raise RuntimeError("database down")

    store = CatalogStore(catalog_dir, on_status_change=hook, today=lambda: TODAY)
    assert len(store.catalog) == 20


def test_broken_catalogue_at_start_serves_the_valid_files(catalog_dir):
    edit(catalog_dir / "forsa.yml", "track:", "trak:")
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert len(store.catalog) == 19 and "forsa" not in store.catalog
    status = store.status()
    assert not status.ok and not status.serving_previous


def test_default_directory_comes_from_the_settings(catalog_dir, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("BOUSLA_CATALOG_DIR", str(catalog_dir))
    get_settings.cache_clear()
    assert CatalogStore().directory == catalog_dir
