"""Paths: the repository, its template, and the custom-parameter registries tests use."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
REGISTRY_DIR = ROOT / "layers" / "connector" / "toqio_connector" / "registry"
EXAMPLE_REGISTRY = REGISTRY_DIR / "example.json"
SHIPPED_REGISTRY = REGISTRY_DIR / "custom_parameters.json"
HOSTILE_REGISTRY = ROOT / "tests" / "hostile_registry.json"
