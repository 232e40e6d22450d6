"""The web app's routers, one module per concern (API clinical, API registry, auth, pages)."""
