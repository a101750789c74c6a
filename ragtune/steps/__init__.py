"""One module per step; each has a <Name>Config dataclass, a <Name>Result dataclass, run(config) and show(result)."""
