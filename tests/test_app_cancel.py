"""A long analysis run cancelled half-way leaves nothing in the results cache (AppTest, real page code)."""

from streamlit.testing.v1 import AppTest


def _script() -> None:
    import streamlit as st

    from ui import analysis

    def compute(progress):
        progress(1, 4)
        st.session_state[analysis.K_CANCEL] = True  # what the Cancel button's callback sets
        progress(2, 4)  # the next step sees it and stops the run
        return "finished"

    def finish(progress):
        progress(4, 4)
        return "finished"

    key = st.session_state["key"]
    if st.session_state.get("finish"):
        st.session_state["second"] = analysis._run(key + "-b", finish, "Test run")
        st.session_state["kept_b"] = analysis.RESULTS.get(key + "-b")
    else:
        st.session_state["first"] = analysis._run(key, compute, "Test run")
        st.session_state["kept"] = analysis.RESULTS.get(key)


def test_a_cancelled_run_keeps_nothing_and_says_so():
    at = AppTest.from_function(_script, default_timeout=60)
    at.session_state["key"] = "cancel-test-key"
    at.run()
    assert not at.exception
    assert at.session_state["first"] is None and at.session_state["kept"] is None
    assert any("nothing was kept" in i.value for i in at.info)
    # A run that is not cancelled is kept: the cache works, so the absence above is the cancel's doing.
    at.session_state["finish"] = True
    at.run()
    assert not at.exception
    assert at.session_state["second"] == "finished" and at.session_state["kept_b"] == "finished"
