"""The HTTP and WebSocket API of the bridge, its authentication and OpenAPI document."""
