"""Treasury Market Policy Explorer: the Streamlit entry point (`streamlit run streamlit_app.py`).

Two pages: the regime comparison (`ui.compare`) and the methodology (`ui.methodology`). The full
view lives in the URL (see `policy/query.py`), so every view can be shared as a link. Every page
ends with a footer naming the model version and the link format.
"""

import streamlit as st

from engine import MODEL_VERSION
from policy.query import QUERY_VERSION


def footer() -> None:
    st.divider()
    st.caption(
        f"Treasury Market Policy Explorer · model {MODEL_VERSION} · link format {QUERY_VERSION}. "
        "Scenarios, not forecasts: bands show parameter and shock uncertainty within the documented ranges."
    )


def main() -> None:
    st.set_page_config(
        page_title="Treasury Market Policy Explorer",
        layout="wide",
        initial_sidebar_state="auto",  # open on wide screens, closed on narrow ones,
    )
    pages = [
        st.Page("app_pages/compare.py", title="Compare regimes", url_path="compare", default=True),
        st.Page("app_pages/analysis.py", title="Policy analysis", url_path="analysis"),
        st.Page("app_pages/methodology.py", title="Methodology", url_path="methodology"),
    ]
    st.navigation(pages, position="top").run()
    footer()


if __name__ == "__main__":
    main()
