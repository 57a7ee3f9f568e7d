"""CSV exports open in spreadsheets: a cell starting with =, +, - or @ would run as a formula."""


def csv_text(value) -> str:
    """Text for a CSV cell; a leading =, +, -, @, tab or carriage return is quoted with '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
