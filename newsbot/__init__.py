"""Entry points above the core and the bot: the `newsbot` command line."""
