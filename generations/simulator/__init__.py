"""ltxsim, a local LTX-2 API: `python manage.py ltxsim` or `python -m generations.simulator`."""

# The key the simulator accepts when none is configured. It opens nothing but the local
# simulator, so it may be printed and shared.
DEMO_API_KEY = "ltxsim-demo-key"  # noqa: S105
