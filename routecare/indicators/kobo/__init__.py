"""KoboToolbox import: pull a form's submissions (or read an exported file), map their
questions to RouteCare fields, and import each submission once (docs/indicators.md)."""
