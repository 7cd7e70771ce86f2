"""The project's URLs plus /bench/ok/: a view that does nothing, the baseline of the bench."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from better_laser_erp.urls import urlpatterns as project_urlpatterns


@csrf_exempt
def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok/", ok), *project_urlpatterns]
