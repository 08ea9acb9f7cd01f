"""skiff.registry: the distribution-spec client (L1: imports only oci, errors, stdlib and httpx lazily).

Entry points: :class:`skiff.registry.client.RegistryClient`, :class:`skiff.registry.config.RegistriesConfig`,
:class:`skiff.registry.auth.AuthStore`.
"""
