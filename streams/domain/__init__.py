"""Pure rules: no Faust, no asyncio, no I/O."""
