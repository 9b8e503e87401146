"""EGSU: the Unified State System for Management of the Fuel and Energy Complex of Kazakhstan."""

__version__ = "0.1.0"
