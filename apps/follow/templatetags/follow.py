from django import template

from ..services import watch_for, watch_hours

register = template.Library()


@register.inclusion_tag("follow/watch_box.html")
def watch_box(diagnosis):
    """The watch's state, or the button that starts one, for this diagnosis' order."""
    return {"diagnosis": diagnosis, "watch": watch_for(diagnosis), "watch_hours": watch_hours()}
