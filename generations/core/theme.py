"""The look a person chose: dark, light, or the system's (dark unless the system asks for
light). Kept in a cookie, so it holds on every page, the sign-in page included, and the server
writes it into the page: no script has to run before the first paint (the CSP allows none
inline), so a page never flashes the wrong theme."""

THEMES = ("system", "dark", "light")
DEFAULT = "system"
COOKIE = "theme"
# A year: a preference, not a session.
COOKIE_MAX_AGE = 365 * 24 * 60 * 60


def theme_of(request) -> str:
    chosen = request.COOKIES.get(COOKIE, "")
    return chosen if chosen in THEMES else DEFAULT


def theme(request) -> dict:
    """Context processor: `theme`, for base.html's <html data-theme> and the theme switch."""
    return {"theme": theme_of(request), "themes": THEMES}
