from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .permissions import meetings_visible_to


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(meetings_visible_to(request.user), pk=pk)  # type: ignore[arg-type]
    return render(request, "scheduling/meeting_detail.html", {"meeting": meeting})
