from django import template

from ..selectors import notification_text
from ..services import watch_for, watch_hours

register = template.Library()


@register.inclusion_tag("follow/watch_box.html")
def watch_box(diagnosis):
    """The watch's state, or the button that starts one, for this diagnosis' order."""
    return {"diagnosis": diagnosis, "watch": watch_for(diagnosis), "watch_hours": watch_hours()}


@register.filter
def said_text(note):
    """A notification's text in the reader's language (``selectors.notification_text``)."""
    return notification_text(note)
