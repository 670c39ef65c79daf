"""Subcommands of the ``lstmcast`` CLI, one module each; see ``lstmcast.cli``."""
