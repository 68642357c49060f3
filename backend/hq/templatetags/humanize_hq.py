from django import template

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """A fraction as a signed percentage: -0.4 → "-40%"."""
    if value is None:
        return "–"
    return f"{value * 100:+.0f}%"


@register.filter
def share(value: float | None) -> str:
    """A fraction as a percentage: 0.934 → "93%"."""
    if value is None:
        return "–"
    return f"{value * 100:.0f}%"
