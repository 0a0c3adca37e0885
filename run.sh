#!/usr/bin/env bash
# Start the app on a fresh machine: creates .venv on first use, then serves http://127.0.0.1:8501
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/streamlit ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q -r requirements.txt
  .venv/bin/python -c "import engine; engine.simulate('march_2020', paths=4); engine.simulate('march_2020', paths=4, histories=False)"  # compile the day loop once
fi
exec .venv/bin/streamlit run streamlit_app.py "$@"
