"""The risk report: single points of failure in the registry and the vault."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.selectors.access import request_membership, require_perm
from governance.selectors.risks import risk_counts, risk_report_for_org


@login_required
def risks_view(request: HttpRequest) -> HttpResponse:
    membership = request_membership(request)
    require_perm(membership, "registry.view")
    lines = risk_report_for_org(membership.organization)
    return render(
        request,
        "governance/risks/report.html",
        {"lines": lines, "counts": risk_counts(lines)},
    )
