"""Starlette routes, one module per API area."""
