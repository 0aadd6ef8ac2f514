"""Frame capture: files, cameras and streams."""
