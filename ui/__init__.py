"""Streamlit helpers shared by the pages: translation, widgets, cached resources."""
