"""hubfix's CloudTrail fixes to moto 5.2.5: event selectors, logging, deletion, organization
trails.

Imported by `moto_ext.py` (which runs moto's server); each patch follows the CloudTrail API
reference where moto 5.2.5 differs from it:

Event selectors
  * GetEventSelectors of a trail whose selectors were never set returns AWS's default
    selector (`ReadWriteType` `All`, management events on, no data resources; moto
    returned none).
  * PutEventSelectors replaces the trail's selectors with the kind it is given: basic
    selectors remove advanced ones and the other way round (moto kept stale advanced
    selectors next to new basic ones); both kinds, or neither, is
    `InvalidParameterCombinationException`. The answer and GetEventSelectors carry only
    the kind the trail has.
  * `HasCustomEventSelectors` (GetTrail, DescribeTrails) is `true` once selectors were
    put (moto always said `false`).
Trails by name or ARN
  * StartLogging, StopLogging and DeleteTrail take a name or an ARN; an unknown one is
    `TrailNotFoundException` (moto's DeleteTrail ignored unknown names and ARNs).
  * GetTrail reports `HomeRegion` (moto left it out); GetTrail, GetTrailStatus and
    GetEventSelectors answer for a multi-Region trail of another home region by ARN
    (moto: TrailNotFoundException), and changing it from there is
    `InvalidHomeRegionException`.
Organization trails
  * CreateTrail / UpdateTrail with `IsOrganizationTrail` need the caller to be the
    management account of an organization (moto's Organizations backend) with all
    features and trusted access for `cloudtrail.amazonaws.com`:
    `OrganizationsNotInUseException`, `NotOrganizationMasterAccountException`,
    `OrganizationNotInAllFeaturesModeException`, `CloudTrailAccessNotEnabledException`
    otherwise (moto accepted the flag from any account).
  * In a member account of that organization, DescribeTrails (with shadow trails) lists
    the management account's organization trails, and GetTrail, GetTrailStatus and
    GetEventSelectors answer for them by ARN, as in AWS; changing them from the member
    (UpdateTrail, PutEventSelectors, StartLogging, StopLogging, DeleteTrail) is
    `NotOrganizationMasterAccountException`.
"""

import json

from moto.cloudtrail import models as ct_models
from moto.cloudtrail import responses as ct_responses
from moto.cloudtrail.exceptions import (
    InvalidParameterCombinationException,
    TrailNotFoundException,
)
from moto.core.exceptions import JsonRESTError

CloudTrailBackend = ct_models.CloudTrailBackend
CloudTrailResponse = ct_responses.CloudTrailResponse
Trail = ct_models.Trail

CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"

DEFAULT_SELECTOR = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


def _error(code, message):
    return JsonRESTError(code, message)


# -------------------------------------------------------------------------------------
# Organizations: who manages the caller's organization.


def _organization_of(account_id):
    """(management account id, organization backend) of the account's organization, or
    None when the account is in none."""
    from moto.organizations.models import organizations_backends

    for partition in ("aws", "aws-cn", "aws-us-gov"):
        try:
            own = organizations_backends[account_id][partition]
        except KeyError:
            continue
        if own.org is not None:
            return account_id, own
    managed = organizations_backends.master_accounts.get(account_id)
    if managed:
        management, partition = managed
        backend = organizations_backends[management][partition]
        if backend.org is not None:
            return management, backend
    return None


def _check_may_manage_organization_trail(account_id):
    found = _organization_of(account_id)
    if found is None:
        raise _error(
            "OrganizationsNotInUseException",
            "This account is not a member of an organization.",
        )
    management, backend = found
    if management != account_id:
        raise _error(
            "NotOrganizationMasterAccountException",
            f"The request must be made by the management account {management} of the organization.",
        )
    if backend.org.feature_set != "ALL":
        raise _error(
            "OrganizationNotInAllFeaturesModeException",
            "The organization does not have all features enabled.",
        )
    if not any(s.get("ServicePrincipal") == CLOUDTRAIL_PRINCIPAL for s in _services(backend)):
        raise _error(
            "CloudTrailAccessNotEnabledException",
            "Trusted access for CloudTrail is not enabled in the organization.",
        )


def _services(backend):
    out = []
    for s in backend.services:
        out.append(s.describe() if hasattr(s, "describe") else s)
    return out


def _organization_trails_for(account_id, region):
    """The management account's organization trails a member account sees in `region`."""
    found = _organization_of(account_id)
    if found is None or found[0] == account_id:
        return []
    management = found[0]
    seen = []
    for backend in ct_models.cloudtrail_backends[management].values():
        for trail in backend.trails.values():
            if trail.is_org_trail and (trail.is_multi_region or trail.region_name == region):
                seen.append(trail)
    return seen


def _member_view(backend, name_or_arn):
    """An organization trail of the caller's organization named by its ARN, or None."""
    for trail in _organization_trails_for(backend.account_id, backend.region_name):
        if trail.arn == name_or_arn:
            return trail
    return None


def _not_management(backend, trail):
    return _error(
        "NotOrganizationMasterAccountException",
        f"Trail {trail.arn} is an organization trail of account {trail.account_id}; "
        f"account {backend.account_id} cannot change it.",
    )


# -------------------------------------------------------------------------------------
# Trails by name or ARN.

_orig_get_trail = CloudTrailBackend.get_trail
_orig_describe_trails = CloudTrailBackend.describe_trails
_orig_create_trail = CloudTrailBackend.create_trail
_orig_update_trail = CloudTrailBackend.update_trail


def _own_trail(self, name_or_arn):
    """The trail of this account and region, by name or ARN; TrailNotFoundException."""
    return _orig_get_trail(self, name_or_arn)


def get_trail(self, name_or_arn):
    try:
        return _orig_get_trail(self, name_or_arn)
    except TrailNotFoundException:
        shadow = _member_view(self, name_or_arn)
        if shadow is not None:
            return shadow
        # A multi-Region trail whose home is another region, by ARN (a shadow trail).
        for trail in _orig_describe_trails(self, include_shadow_trails=True):
            if trail.arn == name_or_arn:
                return trail
        raise


def _mutable_trail(self, name_or_arn):
    """A trail the caller may change: its own, of this region (a multi-Region trail is
    changed in its home region: InvalidHomeRegionException elsewhere), not another
    account's organization trail."""
    try:
        return _own_trail(self, name_or_arn)
    except TrailNotFoundException:
        shadow = _member_view(self, name_or_arn)
        if shadow is not None:
            raise _not_management(self, shadow)
        for trail in _orig_describe_trails(self, include_shadow_trails=True):
            if trail.arn == name_or_arn:
                raise _error(
                    "InvalidHomeRegionException",
                    f"Trail {trail.arn} can be changed only from its home region {trail.region_name}.",
                )
        raise


def describe_trails(self, include_shadow_trails):
    trails = list(_orig_describe_trails(self, include_shadow_trails))
    if include_shadow_trails:
        trails.extend(_organization_trails_for(self.account_id, self.region_name))
    return trails


def get_trail_status(self, name):
    return self.get_trail(name).status


def start_logging(self, name):
    _mutable_trail(self, name).start_logging()


def stop_logging(self, name):
    _mutable_trail(self, name).stop_logging()


def delete_trail(self, name):
    trail = _mutable_trail(self, name)
    del self.trails[trail.trail_name]


def create_trail(self, name, bucket_name, s3_key_prefix, sns_topic_name, is_global,
                 is_multi_region, log_validation, is_org_trail, *args, **kwargs):
    if is_org_trail:
        _check_may_manage_organization_trail(self.account_id)
    return _orig_create_trail(self, name, bucket_name, s3_key_prefix, sns_topic_name,
                              is_global, is_multi_region, log_validation, is_org_trail,
                              *args, **kwargs)


def update_trail(self, name, *args, **kwargs):
    _mutable_trail(self, name)
    if _truthy(kwargs.get("is_organization_trail")):
        _check_may_manage_organization_trail(self.account_id)
    return _orig_update_trail(self, name, *args, **kwargs)


def _truthy(value):
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


# -------------------------------------------------------------------------------------
# Event selectors.


def put_event_selectors(self, trail_name, event_selectors, advanced_event_selectors):
    if bool(event_selectors) == bool(advanced_event_selectors):
        raise InvalidParameterCombinationException(
            "Provide either EventSelectors or AdvancedEventSelectors, not both and not neither."
        )
    trail = _mutable_trail(self, trail_name)
    if event_selectors:
        trail.event_selectors = [dict(DEFAULT_SELECTOR, **s) for s in event_selectors]
        trail.advanced_event_selectors = []
    else:
        trail.event_selectors = []
        trail.advanced_event_selectors = list(advanced_event_selectors)
    trail.hubfix_custom_selectors = True
    return trail.arn, trail.event_selectors, trail.advanced_event_selectors


def get_event_selectors(self, trail_name):
    trail = self.get_trail(trail_name)
    basic, advanced = trail.event_selectors, trail.advanced_event_selectors
    if not basic and not advanced:
        basic = [dict(DEFAULT_SELECTOR)]
    return trail.arn, basic, advanced


_orig_description = Trail.description


def description(self, include_region=False):
    desc = _orig_description(self, include_region=include_region)
    desc["HasCustomEventSelectors"] = bool(getattr(self, "hubfix_custom_selectors", False))
    return desc


def _only_present(body, basic, advanced):
    out = {"TrailARN": body["TrailARN"]}
    if advanced:
        out["AdvancedEventSelectors"] = advanced
    else:
        out["EventSelectors"] = basic
    return out


def response_put_event_selectors(self):
    params = json.loads(self.body)
    arn, basic, advanced = self.cloudtrail_backend.put_event_selectors(
        trail_name=params.get("TrailName"),
        event_selectors=params.get("EventSelectors"),
        advanced_event_selectors=params.get("AdvancedEventSelectors"),
    )
    return json.dumps(_only_present({"TrailARN": arn}, basic, advanced))


def response_get_event_selectors(self):
    params = json.loads(self.body)
    arn, basic, advanced = self.cloudtrail_backend.get_event_selectors(
        trail_name=params.get("TrailName")
    )
    return json.dumps(_only_present({"TrailARN": arn}, basic, advanced))


def response_get_trail(self):
    trail = self.cloudtrail_backend.get_trail(self._get_param("Name"))
    return json.dumps({"Trail": trail.description(include_region=True)})


CloudTrailBackend.get_trail = get_trail
CloudTrailBackend.describe_trails = describe_trails
CloudTrailBackend.get_trail_status = get_trail_status
CloudTrailBackend.start_logging = start_logging
CloudTrailBackend.stop_logging = stop_logging
CloudTrailBackend.delete_trail = delete_trail
CloudTrailBackend.create_trail = create_trail
CloudTrailBackend.update_trail = update_trail
CloudTrailBackend.put_event_selectors = put_event_selectors
CloudTrailBackend.get_event_selectors = get_event_selectors
Trail.description = description
CloudTrailResponse.put_event_selectors = response_put_event_selectors
CloudTrailResponse.get_event_selectors = response_get_event_selectors
CloudTrailResponse.get_trail = response_get_trail
