"""PyQt6 windows. Only this package imports Qt; it subscribes to the pipeline and never the reverse."""
