"""Built-in kinds: each module holds a config (pydantic, no JAX at import) and its builder."""
