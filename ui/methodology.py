"""Methodology page (placeholder, filled below)."""

import streamlit as st


def page() -> None:
    st.title("Methodology")
