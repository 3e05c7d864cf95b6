"""Channel drivers: how a rendered message leaves convbatch."""
