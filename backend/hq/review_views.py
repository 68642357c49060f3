"""The review page: one survey in front of the reviewer, and its photos.

Reads come from hq.review_selectors (`survey_sheet`); the verdict goes through the review service
(surveys.services.survey_review), the same as `POST /api/surveys/{id}/review`.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.scope import scope_filter
from hq.access import office_required
from hq.forms import SurveyReviewForm, add_review_refusal
from hq.review_selectors import ANSWER_FIELDS, SurveySheet, survey_sheet
from photos.apis import image_response
from photos.content import IMAGE_TYPES, photo_content_open
from photos.thumbnails import photo_thumbnail_open
from surveys.models import Photo, ReviewVerdict
from surveys.services import ReviewInvalid, ReviewRefused, survey_review

REVIEW_ITEMS = (*ANSWER_FIELDS, "photos", "gps")


@require_http_methods(["GET", "POST"])
@office_required
def survey_page(request: HttpRequest, pk) -> HttpResponse:
    """One survey in front of the reviewer: answers against the template, photos, where it
    was taken, earlier surveys of the store. Posting a verdict goes through the same
    service as `POST /api/surveys/{id}/review`, then on to the next survey in the queue."""
    sheet = survey_sheet(actor=request.user, survey_id=pk)
    if sheet is None:
        raise Http404
    if request.method == "GET":
        form = SurveyReviewForm(items=REVIEW_ITEMS)
        return render_survey_page(request, sheet=sheet, form=form)
    form = SurveyReviewForm(request.POST, items=REVIEW_ITEMS)
    if not form.is_valid():
        return render_survey_page(request, sheet=sheet, form=form, status=400)
    try:
        survey_review(
            actor=request.user,
            survey=sheet.survey,
            verdict=form.cleaned_data["verdict"],
            reasons=form.reasons(),
            comment=form.cleaned_data["comment"],
        )
    except ReviewInvalid as error:
        for name, problems in error.errors.items():
            for problem in problems:
                form.add_error("comment" if name == "comment" else None, problem)
        return render_survey_page(request, sheet=sheet, form=form, status=400)
    except ReviewRefused as error:
        add_review_refusal(form, error)
        return render_survey_page(request, sheet=sheet, form=form, status=400)
    verdict = gettext(dict(ReviewVerdict.choices)[form.cleaned_data["verdict"]])
    messages.success(
        request,
        gettext("%(verdict)s: the survey of %(store)s.")
        % {"verdict": verdict, "store": sheet.survey.store.name},
    )
    if sheet.queue_next is not None:
        return redirect("hq:survey", pk=sheet.queue_next)
    return redirect("hq:review-queue")


def render_survey_page(
    request: HttpRequest, *, sheet: SurveySheet, form: SurveyReviewForm, status: int = 200
) -> HttpResponse:
    answers = [(answer, form.reason_field(answer.name)) for answer in sheet.answers]
    return render(
        request,
        "hq/survey.html",
        {
            "sheet": sheet,
            "survey": sheet.survey,
            "store": sheet.survey.store,
            "answers": answers,
            "photo_reason": form.reason_field("photos"),
            "gps_reason": form.reason_field("gps"),
            "form": form,
        },
        status=status,
    )


def scoped_photo(request: HttpRequest, pk) -> Photo:
    return get_object_or_404(
        Photo.objects.filter(scope_filter(user=request.user), deleted=False), pk=pk
    )


@require_GET
@office_required
def photo_thumbnail(request: HttpRequest, pk) -> HttpResponse:
    """A photo's thumbnail for the review page (the API's needs a token, not a session);
    the photo's own bytes until the thumbnail is made."""
    photo = scoped_photo(request, pk)
    thumbnail = photo_thumbnail_open(photo)
    if thumbnail is not None:
        return image_response(thumbnail, content_type="image/jpeg", filename=f"{photo.pk}.jpg")
    return photo_content(request, pk)


@require_GET
@office_required
def photo_content(request: HttpRequest, pk) -> HttpResponse:
    """A photo at full size."""
    photo = scoped_photo(request, pk)
    content = photo_content_open(photo)
    if content is None:
        raise Http404
    content_type = photo.content_type if photo.content_type in IMAGE_TYPES else None
    return image_response(content, content_type=content_type, filename=str(photo.pk))
