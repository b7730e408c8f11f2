"""Case pages, by who uses them: the citizen portal, the window console and the back office."""
