"""The provider adapters, by name: adding a provider is one module and one line here."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from toqio_connector.ports import ProviderAdapter

PROVIDERS = {  # name (the template's ProviderAdapter) -> "module:class"
    "reference": "toqio_connector.providers.reference_http:ReferenceHttpProvider",
    # the reference protocol to the local sandbox: loopback hosts only, http allowed
    "sandbox": "toqio_connector.providers.reference_http:SandboxHttpProvider",
}


def provider_for(name: str, url: str) -> ProviderAdapter:
    """The adapter registered as ``name``, for the provider at ``url``."""
    try:
        module_name, _, class_name = PROVIDERS[name].partition(":")
    except KeyError:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"unknown provider adapter {name!r} (known: {known})") from None
    adapter: ProviderAdapter = getattr(import_module(module_name), class_name)(url)
    return adapter
