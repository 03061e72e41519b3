"""The Qt tray app, review window and settings dialog."""
