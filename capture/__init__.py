"""Screen capture: screenshots of every monitor, active window, input events, episodes."""
