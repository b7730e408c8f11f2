"""tongban (通办): government services that prove, with numbers, that they got cheaper and faster."""

__version__ = "0.1.0"
