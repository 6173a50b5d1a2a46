from governance.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent, chain_key
from governance.models.handover import HandoverCase, HandoverItem, HandoverReason, HandoverStatus
from governance.models.identity import (
    OIDCIdentity,
    OIDCPendingMember,
    OIDCProvider,
    ProviderMFADevice,
)
from governance.models.notifications import Notification
from governance.models.org import Invitation, Membership, Organization, Role
from governance.models.policies import (
    GovernanceReview,
    Policy,
    PolicyAcknowledgement,
    PolicyKind,
    PolicyVersion,
)
from governance.models.provisioning import ProvisionedUser, ScimGroup, ScimSettings, ScimToken
from governance.models.records import (
    DisposalLog,
    ExportStatus,
    LegalHold,
    RecordsExport,
    RetentionAction,
    RetentionRule,
)
from governance.models.registry import (
    AccessReview,
    NativeAdmin,
    RegistryEntry,
    RegistryNetwork,
    ReviewCadence,
)
from governance.models.second_factor import BackupCode, BackupCodeDevice, TOTPDevice
from governance.models.system import WorkerHeartbeat
from governance.models.tokens import ApiToken
from governance.models.users import User
from governance.models.vault import SecretKind, VaultSecret

__all__ = [
    "AccessReview",
    "ApiToken",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "BackupCode",
    "BackupCodeDevice",
    "DisposalLog",
    "ExportStatus",
    "GovernanceReview",
    "HandoverCase",
    "HandoverItem",
    "HandoverReason",
    "HandoverStatus",
    "Invitation",
    "LegalHold",
    "Membership",
    "NativeAdmin",
    "Notification",
    "OIDCIdentity",
    "OIDCPendingMember",
    "OIDCProvider",
    "Organization",
    "Policy",
    "PolicyAcknowledgement",
    "PolicyKind",
    "PolicyVersion",
    "ProviderMFADevice",
    "ProvisionedUser",
    "RecordsExport",
    "RegistryEntry",
    "RegistryNetwork",
    "RetentionAction",
    "RetentionRule",
    "ReviewCadence",
    "Role",
    "ScimGroup",
    "ScimSettings",
    "ScimToken",
    "SecretKind",
    "TOTPDevice",
    "User",
    "VaultSecret",
    "WorkerHeartbeat",
    "chain_key",
]
