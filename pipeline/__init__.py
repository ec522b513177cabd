"""Clinic content pipeline: Markdown articles in; blog, feeds and more out, compliance-checked."""

__version__ = "0.1.0"
