"""The records search as an action: searching is reading records for an information
request, so every search is audited (who searched for what); exporting the matches
asks governance for a records export built in the background. The pages and the API
both call these."""

from __future__ import annotations

from datetime import date

from django.http import HttpRequest

from archive.selectors import (
    RECORDS_PAGE_SIZE,
    RecordQuery,
    RecordResults,
    records_search,
    visible_account_ids,
)
from archive.services.archive import records_index_inbox
from governance.models import Membership, RecordsExport, User
from governance.selectors.access import require_perm
from governance.services.audit import audit_record
from governance.services.records import records_export_request


def records_search_run(
    *,
    membership: Membership,
    actor: User,
    query: RecordQuery,
    offset: int = 0,
    limit: int = RECORDS_PAGE_SIZE,
    request: HttpRequest | None = None,
) -> RecordResults:
    """One page of the search's matches, within the accounts the member may see. What
    arrived in the inbox a moment ago is indexed first, so it is found too."""
    require_perm(membership, "records.view")
    records_index_inbox(organization_id=membership.organization_id)
    results = records_search(
        membership.organization,
        query,
        visible_account_ids=visible_account_ids(membership),
        limit=limit,
        offset=offset,
    )
    audit_record(
        action="records.searched",
        organization=membership.organization,
        actor=actor,
        new={**query.as_dict(), "results": results.count},
        request=request,
    )
    return results


def records_search_export_request(
    *,
    membership: Membership,
    actor: User,
    query: RecordQuery,
    start_date: date | None,
    end_date: date | None,
    reference: str = "",
    request: HttpRequest | None = None,
) -> RecordsExport:
    """Export the search's matches, each with the archived post it belongs to (and that
    post's capture), as a records export; the caller polls it until it is ready."""
    require_perm(membership, "records.export")
    visible = visible_account_ids(membership)
    account_ids = list(query.account_ids) or (visible or [])
    return records_export_request(
        organization=membership.organization,
        actor=actor,
        record_types=["archive"],
        account_ids=account_ids,
        start_date=start_date,
        end_date=end_date,
        reference=reference,
        request=request,
        search={"text": query.text, "author": query.author, "kinds": list(query.kinds)},
    )
