"""``python -m deskscribe`` = the ``deskscribe`` command (the tray starts capture this way)."""

from deskscribe.cli import main

if __name__ == "__main__":
    main()
