"""Imports every model so that metadata (and Alembic) sees the whole schema."""

from lotsen.accounts.models import LoginAttempt, RecoveryCode, User, user_extra_municipality
from lotsen.audit.models import AuditEntry
from lotsen.contacts.models import Contact
from lotsen.events.models import (
    Audience,
    Event,
    EventSignup,
    LeadCapture,
    event_municipality,
    event_staff,
)
from lotsen.followups.models import FollowUp, RuleSetting
from lotsen.households.milestones import HouseholdMilestone
from lotsen.households.models import (
    Household,
    HouseholdEvent,
    HouseholdShare,
    Person,
    StageChange,
    Tag,
    household_municipality,
    household_tag,
)
from lotsen.imports.models import ImportBatch, ImportMapping, ImportRow
from lotsen.interest.models import InterestSubmission
from lotsen.jobs import JobLease
from lotsen.matching.models import JobOpening, Listing, Match
from lotsen.notifications.models import OutboxMessage
from lotsen.pipeline.models import ExportLog
from lotsen.privacy.models import Consent, DisposalHold
from lotsen.regions.models import Municipality

__all__ = [
    "Audience",
    "Event",
    "EventSignup",
    "LeadCapture",
    "event_municipality",
    "event_staff",
    "AuditEntry",
    "Consent",
    "Contact",
    "DisposalHold",
    "ExportLog",
    "FollowUp",
    "Household",
    "JobLease",
    "JobOpening",
    "Listing",
    "Match",
    "OutboxMessage",
    "RecoveryCode",
    "RuleSetting",
    "HouseholdEvent",
    "HouseholdMilestone",
    "HouseholdShare",
    "ImportBatch",
    "ImportMapping",
    "ImportRow",
    "InterestSubmission",
    "LoginAttempt",
    "Municipality",
    "Person",
    "StageChange",
    "Tag",
    "User",
    "household_municipality",
    "household_tag",
    "user_extra_municipality",
]
