"""docs/configuration.md must list every setting exactly as the model defines it."""

from __future__ import annotations

from pathlib import Path

from relayer.settings import Settings
from relayer.settings_doc import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_doc_matches_the_settings_model() -> None:
    assert DOC.read_text() == render(), (
        "docs/configuration.md is stale: run `.venv/bin/python -m relayer.settings_doc "
        "> docs/configuration.md`"
    )


def test_every_setting_has_a_description() -> None:
    for section, info in Settings.model_fields.items():
        model = info.annotation
        assert isinstance(model, type)
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            assert field.description, f"{section}.{name} has no description"
