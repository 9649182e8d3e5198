"""The lab's frontend: a small Streamlit app shaped like the real stack's frontend/streamlit_app.py.

It reads BACKEND_URL (default http://backend:8000) and calls the backend from the page: the answer of
/health, or the error, is shown in the page only (st.error), as the real app does. Streamlit's own server
answers GET / with 200 and /_stcore/health with "ok" whatever the backend does.
"""
import os

import requests
import streamlit as st

BACKEND_URL = os.getenv("BACKEND_URL", "http://backend:8000").rstrip("/")

st.title("PySpark Intelligence Platform (lab)")
st.caption(f"Backend: {BACKEND_URL}")

try:
    response = requests.get(f"{BACKEND_URL}/health", timeout=4)
    response.raise_for_status()
    st.success(f"Backend says: {response.json()}")
except requests.exceptions.RequestException as exc:
    st.error(f"Failed to connect to backend: {exc}")

if st.button("Run a small task"):
    try:
        result = requests.post(f"{BACKEND_URL}/tasks/add", params={"x": 20, "y": 22, "wait": 4}, timeout=8)
        result.raise_for_status()
        st.write(result.json())
    except requests.exceptions.RequestException as exc:
        st.error(f"Failed to connect to backend: {exc}")
