"""hubfix's CloudWatch Logs fixes to moto 5.2.5: metric filters as the CloudWatch Logs API
reference describes `PutMetricFilter`.

Imported by `moto_ext.py` (which runs moto's server):

  * A log group that does not exist: `ResourceNotFoundException` (moto accepted the
    filter and kept it for a group that is not there).
  * A filter name the group already has: the filter is replaced (moto added a second
    filter of the same name, so `DescribeMetricFilters` listed both).
"""

from moto.logs.exceptions import ResourceNotFoundException
from moto.logs.models import LogsBackend

_put_metric_filter = LogsBackend.put_metric_filter


def put_metric_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
    if log_group_name not in self.groups:
        raise ResourceNotFoundException()
    self.filters.metric_filters = [
        f
        for f in self.filters.metric_filters
        if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)
    ]
    return _put_metric_filter(
        self, filter_name, filter_pattern, log_group_name, metric_transformations
    )


LogsBackend.put_metric_filter = put_metric_filter
