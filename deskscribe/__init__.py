"""deskscribe: capture your own desktop activity and turn it into training data, locally."""

__version__ = "0.1.0"
