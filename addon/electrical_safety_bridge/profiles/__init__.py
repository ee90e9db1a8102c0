"""Device profiles: model, YAML catalogue, register codec, evaluation, metadata, and the YAML."""
