from governance.models.audit import AuditChainHead, AuditEvent
from governance.models.notifications import Notification
from governance.models.org import Invitation, Membership, Organization, Role
from governance.models.system import WorkerHeartbeat
from governance.models.tokens import ApiToken
from governance.models.users import User

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "Invitation",
    "Membership",
    "Notification",
    "Organization",
    "Role",
    "User",
    "WorkerHeartbeat",
]
