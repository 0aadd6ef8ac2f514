"""Finding, following and judging the infant's face."""
