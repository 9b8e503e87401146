from importlib import import_module

from django.urls import path

app_name = "analytics"


def _view(name: str):
    """The view ``egsu.analytics.views.<name>``, imported on its first request.

    The analytics pages need pandas and numpy (about 100 MB a process); importing them with the
    URLconf put them into every web worker, also the ones that only take gateway messages
    (benchmarks/README.md: a 15 MB ISUN message must stay under 300 MB peak in its worker).
    """

    def view(request, *args, **kwargs):
        return getattr(import_module("egsu.analytics.views"), name)(request, *args, **kwargs)

    view.__name__ = view.__qualname__ = name
    return view


urlpatterns = [
    path("forecasts/", _view("forecasts"), name="forecasts"),
    path("correlation/", _view("correlation"), name="correlation"),
    path("recommendations/", _view("recommendations"), name="recommendations"),
    path("recommendations/<int:pk>/decide/", _view("decide"), name="decide"),
]
