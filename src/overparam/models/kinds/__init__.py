"""Built-in kinds: each module holds a config (pydantic, no JAX at import) and its builder."""


def refuse_data_set(kind: str, problem) -> None:
    """Raise ValueError when a matrix model is given a data-set problem (one with inputs:
    its config has ``input_dim``); those train models of data such as ``relu_network``."""
    if hasattr(problem, "input_dim"):
        raise ValueError(f"model kind {kind!r} fits a matrix, but problem kind "
                         f"{problem.kind!r} is a data set: use model kind 'relu_network'")
