#include "timesource/nts_certificate.h"

#include "timesource/chrony_client.h"

namespace resmeter {
namespace {

// The name chronyd was configured with for the source at `address`.
Result<std::string> SourceName(const std::string& address, const TimeSourceOptions& o) {
  RESMETER_ASSIGN_OR_RETURN(chrony::IpAddr ip, chrony::ParseIpAddr(address));
  RESMETER_ASSIGN_OR_RETURN(std::unique_ptr<ChronyTransport> transport,
                            OpenUnixChronyTransport(o.chrony_socket, o.client_socket_dir));
  ChronyClient client(std::move(transport),
                      ChronyClientOptions{o.timeout_seconds, o.attempts, 2 * o.timeout_seconds * o.attempts});
  return client.SourceName(ip);
}

}  // namespace

NtsCertificateOptions NtsCertificateOptionsFromConfig(const Options& c) {
  NtsCertificateOptions o;
  if (c.Has("time.nts_certificate_check")) o.enabled = c.Bool("time.nts_certificate_check");
  if (c.Has("time.nts_certificate_interval_seconds"))
    o.interval_seconds = c.Double("time.nts_certificate_interval_seconds");
  if (c.Has("time.nts_ke_port")) o.probe.port = static_cast<int>(c.Int("time.nts_ke_port"));
  if (c.Has("time.nts_ke_timeout_seconds")) o.probe.timeout_seconds = c.Double("time.nts_ke_timeout_seconds");
  if (c.Has("time.nts_ca_file")) o.probe.ca_file = c.String("time.nts_ca_file");
  return o;
}

nlohmann::json NtsCertificateJson(const NtsKeCertificate& cert, double wall_seconds) {
  nlohmann::json j = {{"server", cert.server},     {"subject", cert.subject},   {"issuer", cert.issuer},
                      {"sha256", cert.sha256_hex}, {"verified", cert.verified}, {"not_after", cert.not_after},
                      {"checked_at", wall_seconds}};
  if (!cert.verified) j["verify_error"] = cert.verify_error;
  return j;
}

NtsCertificateCheck::Outcome NtsCertificateCheck::Check(const TimeAssessment& a,
                                                        const TimeSourceOptions& chrony,
                                                        const NtsCertificateOptions& options, Env* env) {
  Outcome out;
  if (!options.enabled) {
    out.reason = "not checked: time.nts_certificate_check is off";
    return out;
  }
  if (!a.reachable || a.authentication != "nts" || a.server.empty()) {
    out.reason = "not checked: the selected source is not an NTS source";
    return out;
  }
  auto name = SourceName(a.server, chrony);
  if (!name.ok()) {
    out.reason = "not checked: chronyd did not name source " + a.server + ": " + name.status().message();
    return out;
  }
  out.server_name = *name;
  const double now = env->MonotonicSeconds();
  if (!has_ || name_ != *name || now - probed_at_ >= options.interval_seconds) {
    auto cert = ProbeNtsKeCertificate(*name, options.probe);
    has_ = true;
    name_ = *name;
    probed_at_ = now;
    certificate_.reset();
    reason_.clear();
    if (cert.ok()) {
      certificate_ = NtsCertificateJson(*cert, env->WallSeconds());
    } else {
      reason_ = "NTS-KE handshake with " + *name + ": " + cert.status().message();
    }
  }
  out.certificate = certificate_;
  out.reason = reason_;
  return out;
}

}  // namespace resmeter
