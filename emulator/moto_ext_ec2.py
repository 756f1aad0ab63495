"""hubfix's EC2 fixes to moto 5.2.5: network ACL entries, flow logs, instance metadata.

Imported by `moto_ext.py` (which runs moto's server); each patch follows the EC2 API
reference where moto 5.2.5 differs from it:

Network ACLs
  * ReplaceNetworkAclEntry / DeleteNetworkAclEntry of an entry that does not exist:
    `InvalidNetworkAclEntry.NotFound` (moto failed with HTTP 500).
  * CreateNetworkAclEntry / ReplaceNetworkAclEntry with a rule number outside 1..32766:
    `InvalidParameterValue` (moto accepted any number; 32767 is the `*` entry).
  * DescribeNetworkAcls of an unknown id: `InvalidNetworkAclID.NotFound` (moto said
    `InvalidRouteTableID.NotFound`).
  * CreateNetworkAcl: a new ACL has the `*` (rule 32767) deny-all entries, inbound and
    outbound, as in AWS (moto created it empty).
Flow logs
  * An S3 `LogDestination` with a folder (`arn:aws:s3:::bucket/prefix/`) is checked for
    the bucket only (moto looked for a bucket named `bucket/prefix/` and refused).
  * A CloudWatch Logs `LogDestination` (a log group ARN) stands for its log group:
    DescribeFlowLogs reports its `LogGroupName`, and delivery is `SUCCESS` when the group
    exists (moto only knew groups given by `LogGroupName`).
Instance metadata options
  * ModifyInstanceMetadataOptions changes only the options given; the others keep their
    values (moto reset the hop limit to 1 and dropped the rest). `HttpTokens`,
    `HttpEndpoint`, `HttpProtocolIpv6`, `InstanceMetadataTags` and the hop limit
    (1..64) are validated (`InvalidParameterValue`), and a terminated or shutting-down
    instance is refused (`IncorrectInstanceState`).
"""

import threading

from moto.ec2.exceptions import EC2ClientError, InvalidNetworkAclIdError
from moto.ec2.models import flow_logs as flow_logs_models
from moto.ec2.models.instances import InstanceBackend, MetadataOptions
from moto.ec2.models.network_acls import NetworkAclBackend
from moto.ec2.responses.network_acls import NetworkACLs
from moto.s3.models import S3Backend

MAX_ACL_RULE = 32766
_DEFAULT_RULE = 32767


def _invalid(message):
    return EC2ClientError("InvalidParameterValue", message)


# -------------------------------------------------------------------------------------
# Network ACLs

_orig_create_entry = NetworkAclBackend.create_network_acl_entry
_orig_create_acl = NetworkAclBackend.create_network_acl


def _find_entry(acl, rule_number, egress):
    return next(
        (
            e
            for e in acl.network_acl_entries
            if int(e.rule_number) == int(rule_number) and bool(e.egress) == bool(egress)
        ),
        None,
    )


def _entry_not_found(rule_number, egress):
    direction = "egress" if egress else "ingress"
    return EC2ClientError(
        "InvalidNetworkAclEntry.NotFound",
        f"The network acl entry identified by {rule_number} ({direction}) does not exist.",
    )


def _check_rule_number(rule_number):
    try:
        number = int(rule_number)
    except (TypeError, ValueError):
        number = None
    if number is None or not 1 <= number <= MAX_ACL_RULE:
        raise _invalid(
            f"Invalid value '{rule_number}' for rule number: it must be from 1 to {MAX_ACL_RULE}"
        )


def _checked(handler):
    """A NetworkACLs response handler that first checks `RuleNumber`, as AWS does."""

    def checked(self):
        _check_rule_number(self._get_param("RuleNumber"))
        return handler(self)

    return checked


def delete_network_acl_entry(self, network_acl_id, rule_number, egress):
    acl = self.get_network_acl(network_acl_id)
    entry = _find_entry(acl, rule_number, egress)
    if entry is None:
        raise _entry_not_found(rule_number, egress)
    acl.network_acl_entries.remove(entry)
    return entry


def replace_network_acl_entry(self, network_acl_id, rule_number, *args, **kwargs):
    egress = kwargs.get("egress")
    acl = self.get_network_acl(network_acl_id)
    entry = _find_entry(acl, rule_number, egress)
    if entry is None:
        raise _entry_not_found(rule_number, egress)
    position = acl.network_acl_entries.index(entry)
    acl.network_acl_entries.remove(entry)
    try:
        new = _orig_create_entry(self, network_acl_id, rule_number, *args, **kwargs)
    except Exception:
        acl.network_acl_entries.insert(position, entry)
        raise
    # In place: the replaced entry keeps its position among the ACL's entries.
    acl.network_acl_entries.remove(new)
    acl.network_acl_entries.insert(position, new)
    return new


def describe_network_acls(self, network_acl_ids=None, filters=None):
    for acl_id in network_acl_ids or []:
        if acl_id not in self.network_acls:
            raise InvalidNetworkAclIdError(acl_id)
    return _orig_describe_acls(self, network_acl_ids, filters)


def create_network_acl(self, vpc_id, tags=None, default=False):
    acl = _orig_create_acl(self, vpc_id, tags=tags, default=default)
    if not default:
        for egress in (False, True):
            _orig_create_entry(
                self,
                network_acl_id=acl.id,
                rule_number=_DEFAULT_RULE,
                protocol="-1",
                rule_action="deny",
                egress=egress,
                cidr_block="0.0.0.0/0",
                icmp_code=None,
                icmp_type=None,
                port_range_from=None,
                port_range_to=None,
                ipv6_cidr_block=None,
            )
    return acl


_orig_describe_acls = NetworkAclBackend.describe_network_acls
NetworkACLs.create_network_acl_entry = _checked(NetworkACLs.create_network_acl_entry)
NetworkACLs.replace_network_acl_entry = _checked(NetworkACLs.replace_network_acl_entry)
NetworkAclBackend.delete_network_acl_entry = delete_network_acl_entry
NetworkAclBackend.replace_network_acl_entry = replace_network_acl_entry
NetworkAclBackend.describe_network_acls = describe_network_acls
NetworkAclBackend.create_network_acl = create_network_acl


# -------------------------------------------------------------------------------------
# Flow logs

_orig_create_flow_logs = flow_logs_models.FlowLogsBackend.create_flow_logs


def _log_group_of(arn):
    """`name` of `arn:PARTITION:logs:REGION:ACCOUNT:log-group:name[:*]`, else None."""
    parts = (arn or "").split(":", 6)
    if len(parts) == 7 and parts[2] == "logs" and parts[5] == "log-group":
        name = parts[6]
        return name[:-2] if name.endswith(":*") else name
    return None


def create_flow_logs(
    self,
    resource_type,
    resource_ids,
    traffic_type,
    deliver_logs_permission_arn,
    log_destination_type,
    log_destination,
    log_group_name,
    log_format,
    max_aggregation_interval,
):
    kind = log_destination_type or "cloud-watch-logs"
    group_from_arn = None
    if kind == "cloud-watch-logs" and log_group_name is None:
        group_from_arn = _log_group_of(log_destination)
    _S3_FOLDERS.active = kind == "s3"
    try:
        logs, unsuccessful = _orig_create_flow_logs(
            self,
            resource_type,
            resource_ids,
            traffic_type,
            deliver_logs_permission_arn,
            log_destination_type,
            log_destination,
            group_from_arn if group_from_arn is not None else log_group_name,
            log_format,
            max_aggregation_interval,
        )
    finally:
        _S3_FOLDERS.active = False
    return logs, unsuccessful


# moto looks the bucket of an S3 destination up by everything after `:::`, folder
# included; while a flow log is created, only the bucket name is looked up.
_S3_FOLDERS = threading.local()
_orig_get_bucket = S3Backend.get_bucket


def _get_bucket(self, bucket_name, *args, **kwargs):
    if getattr(_S3_FOLDERS, "active", False) and isinstance(bucket_name, str):
        bucket_name = bucket_name.split("/", 1)[0]
    return _orig_get_bucket(self, bucket_name, *args, **kwargs)


S3Backend.get_bucket = _get_bucket
flow_logs_models.FlowLogsBackend.create_flow_logs = create_flow_logs


# -------------------------------------------------------------------------------------
# Instance metadata options

_ENABLED_DISABLED = ("enabled", "disabled")


def modify_instance_metadata_options(
    self,
    instance_id,
    http_tokens=None,
    hop_limit=None,
    http_endpoint=None,
    dry_run=False,
    http_protocol=None,
    metadata_tags=None,
):
    instance = self.get_instance(instance_id)
    if http_tokens is not None and http_tokens not in ("optional", "required"):
        raise _invalid(f"Invalid value '{http_tokens}' for HttpTokens: optional or required")
    for name, value in (
        ("HttpEndpoint", http_endpoint),
        ("HttpProtocolIpv6", http_protocol),
        ("InstanceMetadataTags", metadata_tags),
    ):
        if value is not None and value not in _ENABLED_DISABLED:
            raise _invalid(f"Invalid value '{value}' for {name}: enabled or disabled")
    if hop_limit is not None and not 1 <= int(hop_limit) <= 64:
        raise _invalid(
            f"Invalid value '{hop_limit}' for HttpPutResponseHopLimit: it must be from 1 to 64"
        )
    state = getattr(getattr(instance, "_state", None), "name", None)
    if state in ("terminated", "shutting-down"):
        raise EC2ClientError(
            "IncorrectInstanceState",
            f"The instance '{instance_id}' is not in a state from which it can be modified.",
        )
    old = getattr(instance, "metadata_options", None) or MetadataOptions()
    given = {
        "HttpTokens": http_tokens,
        "HttpPutResponseHopLimit": hop_limit,
        "HttpEndpoint": http_endpoint,
        "HttpProtocolIpv6": http_protocol,
        "InstanceMetadataTags": metadata_tags,
    }
    current = {
        "HttpTokens": old.http_tokens,
        "HttpPutResponseHopLimit": old.http_put_response_hop_limit,
        "HttpEndpoint": old.http_endpoint,
        "HttpProtocolIpv6": old.http_protocol_ipv6,
        "InstanceMetadataTags": old.instance_metadata_tags,
    }
    merged = {k: (given[k] if given[k] is not None else current[k]) for k in current}
    merged["State"] = "applied"
    instance.metadata_options = MetadataOptions(merged)
    return instance.metadata_options


InstanceBackend.modify_instance_metadata_options = modify_instance_metadata_options
