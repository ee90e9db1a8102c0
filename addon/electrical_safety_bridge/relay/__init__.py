"""The off-site relay: a durable outbox delivered to an MQTT broker and HTTPS webhooks.

Modules: :mod:`.relay_settings` (the ``relay:`` configuration, light to import),
:mod:`.outbox` (SQLite), :mod:`.messages` (what is sent), :mod:`.mqtt_sink`,
:mod:`.webhook_sink`, :mod:`.remote_commands`, :mod:`.signing`, :mod:`.mqtt_discovery`, and
:mod:`.core` (the :class:`~.core.Relay` the bridge runs). This package imports nothing by
itself, so reading the configuration does not load the MQTT client or the cryptography package.
"""
