"""hubfix's IAM server-certificate extension to moto 5.2.5, for the iam-expired-certificates
plugin (IAM.26) and its scenarios.

Imported by `moto_ext.py` (patches moto on import). moto answered every server
certificate with the same fixed metadata (uploaded 2010, expiring 2012-05-08, id
`ASCACKCEVSQ6C2EXAMPLE`), accepted any body, and deleted certificates load balancers
still used. As the IAM API reference describes `UploadServerCertificate`,
`ListServerCertificates`, `GetServerCertificate` and `DeleteServerCertificate`:

  * the body must be a PEM X.509 certificate (`MalformedCertificate` otherwise), and its
    `Expiration` is the certificate's own NotAfter; `UploadDate` is the upload's time and
    `ServerCertificateId` a fresh `ASCA…` id;
  * a name already used is `EntityAlreadyExists` (409);
  * `DeleteServerCertificate` of a certificate an Elastic Load Balancing listener (v2
    `Certificates`, or a classic `SSLCertificateId`) in any Region of the account, or a
    CloudFront distribution (`ViewerCertificate.IAMCertificateId`), still uses is
    `DeleteConflict` (409), and the certificate stays.
"""

import datetime
import secrets

from cryptography import x509
from moto.core.responses import ActionResult
from moto.core.utils import iso_8601_datetime_with_milliseconds
from moto.cloudfront.models import cloudfront_backends
from moto.elb.models import elb_backends
from moto.elbv2.models import elbv2_backends
from moto.iam import models as iam_models
from moto.iam.exceptions import (
    DeleteConflictException,
    EntityAlreadyExists,
    MalformedCertificate,
    NotFoundException,
)
from moto.iam.responses import IamResponse

_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def _not_after(body):
    try:
        cert = x509.load_pem_x509_certificate((body or "").encode())
    except ValueError:
        raise MalformedCertificate("body") from None
    return cert.not_valid_after_utc


_original_upload = iam_models.IAMBackend.upload_server_certificate


def upload_server_certificate(self, cert_name, cert_body, private_key, cert_chain=None,
                              path=None):
    expiration = _not_after(cert_body)
    if any(c.cert_name == cert_name for c in self.certificates.values()):
        raise EntityAlreadyExists(f"The Server Certificate with name {cert_name} already exists.")
    cert = _original_upload(self, cert_name, cert_body, private_key, cert_chain=cert_chain,
                            path=path)
    cert.hubfix_expiration = expiration
    cert.hubfix_upload_date = datetime.datetime.now(datetime.UTC)
    cert.hubfix_id = "ASCA" + "".join(secrets.choice(_ID_CHARS) for _ in range(17))
    return cert


def _users_of(account_id, arn, certificate_id):
    """What uses the certificate (`arn`, `certificate_id`): the load balancer listeners of
    any Region (by ARN) and the CloudFront distributions (by `IAMCertificateId`)."""
    users = []
    for backend in cloudfront_backends[account_id].values():
        for dist in backend.distributions.values():
            viewer = getattr(dist.distribution_config, "ViewerCertificate", None)
            if getattr(viewer, "iam_certificate_id", "") == certificate_id:
                users.append(dist.arn)
    for backend in elbv2_backends[account_id].values():
        for lb in backend.load_balancers.values():
            for listener in lb.listeners.values():
                if arn in listener.certificates or listener.certificate == arn:
                    users.append(listener.arn)
    for region, backend in elb_backends[account_id].items():
        for lb in backend.load_balancers.values():
            for listener in lb.listeners:
                if listener.ssl_certificate_id == arn:
                    users.append(f"arn:aws:elasticloadbalancing:{region}:{account_id}:"
                                 f"loadbalancer/{lb.name}")
    return users


_original_delete = iam_models.IAMBackend.delete_server_certificate


def delete_server_certificate(self, name):
    cert = next((c for c in self.certificates.values() if c.cert_name == name), None)
    if cert is None:
        raise NotFoundException(f"The Server Certificate with name {name} cannot be found.")
    _metadata(cert)  # gives a certificate made another way its id
    users = _users_of(self.account_id, cert.arn, cert.hubfix_id)
    if users:
        raise DeleteConflictException(f"Certificate: {cert.hubfix_id} is currently in use by {users[0]}. "
                                      "Please remove it first before deleting it from IAM.")
    _original_delete(self, name)


def _metadata(cert):
    if not hasattr(cert, "hubfix_id"):  # created by another path of moto (CloudFormation)
        try:
            cert.hubfix_expiration = _not_after(cert.cert_body)
        except MalformedCertificate:
            cert.hubfix_expiration = datetime.datetime(2012, 5, 8, 1, 2, 3, tzinfo=datetime.UTC)
        cert.hubfix_upload_date = datetime.datetime.now(datetime.UTC)
        cert.hubfix_id = "ASCA" + "".join(secrets.choice(_ID_CHARS) for _ in range(17))
    return {
        "ServerCertificateName": cert.cert_name,
        "Path": cert.path,
        "Arn": cert.arn,
        "UploadDate": iso_8601_datetime_with_milliseconds(cert.hubfix_upload_date),
        "ServerCertificateId": cert.hubfix_id,
        "Expiration": iso_8601_datetime_with_milliseconds(cert.hubfix_expiration),
    }


def _upload_response(self):
    cert = self.backend.upload_server_certificate(
        self._get_param("ServerCertificateName"),
        self._get_param("CertificateBody"),
        self._get_param("PrivateKey"),
        cert_chain=self._get_param("CertificateChain"),
        path=self._get_param("Path"),
    )
    return ActionResult({"ServerCertificateMetadata": _metadata(cert)})


def _list_response(self):
    prefix = self._get_param("PathPrefix") or "/"
    certs = [c for c in self.backend.list_server_certificates() if c.path.startswith(prefix)]
    return ActionResult({
        "ServerCertificateMetadataList": [_metadata(c) for c in certs],
        "IsTruncated": False,
    })


def _get_response(self):
    cert = self.backend.get_server_certificate(self._get_param("ServerCertificateName"))
    server_cert = {"ServerCertificateMetadata": _metadata(cert), "CertificateBody": cert.cert_body}
    if cert.cert_chain:
        server_cert["CertificateChain"] = cert.cert_chain
    return ActionResult({"ServerCertificate": server_cert})


iam_models.IAMBackend.upload_server_certificate = upload_server_certificate
iam_models.IAMBackend.delete_server_certificate = delete_server_certificate
IamResponse.upload_server_certificate = _upload_response
IamResponse.list_server_certificates = _list_response
IamResponse.get_server_certificate = _get_response
