"""The API's logic, knowing nothing of HTTP: validated parameters in, plain dicts out.

``app.py`` maps routes onto these functions and renders ``VitrinaError`` as 4xx JSON.
"""
