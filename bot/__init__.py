"""newsbot's Discord layer: thin cogs over the core services in `index`."""
