from django import template

register = template.Library()


@register.filter(name="absolute")
def absolute(value):
    """|absolute: a number without its sign (days overdue are a negative number of days left)."""
    return abs(value)
