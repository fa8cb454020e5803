// The time assessment from recorded chronyd conversations and synthetic
// snapshots: trust rules, reasons and the error-bound formula.
#include "timesource/time_assessment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/strings.h"
#include "support/chrony_conversation.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;
const fs::path kDir = fs::path(RESMETER_FIXTURES_DIR) / "chrony";

// Assesses a recorded conversation at the wall time it was recorded.
TimeAssessment AssessRecorded(const std::string& name, const TimeSourceOptions& o = {}) {
  std::vector<std::string> errors;
  ChronyClient client(std::make_unique<testing::ReplayTransport>(kDir / name, &errors), {0.05, 1});
  Result<ChronySnapshot> snap = QueryChrony(client);
  EXPECT_TRUE(errors.empty()) << errors.front();
  if (!snap.ok()) return AssessUnreachable(snap.status(), o);
  double wall = ParseDouble(Trim(testing::ReadBytes(kDir / name / "wall_time"))).value_or(0);
  return AssessSnapshot(*snap, wall, o);
}

TEST(TimeAssessment, recorded_nts_client_is_trusted) {
  TimeAssessment a = AssessRecorded("nts");
  EXPECT_TRUE(a.trusted) << a.reason;
  EXPECT_TRUE(a.reachable);
  EXPECT_TRUE(a.synchronized);
  EXPECT_TRUE(a.nts_authenticated);
  EXPECT_EQ(a.stratum, 2);
  EXPECT_EQ(a.server, "127.0.0.1");
  EXPECT_EQ(a.reference_id, "7F000001");
  EXPECT_EQ(a.leap_status, "normal");
  ASSERT_TRUE(a.error_bound_seconds);
  EXPECT_LT(*a.error_bound_seconds, 0.01);
  nlohmann::json j = TimeAssessmentToJson(a);
  EXPECT_EQ(j["trusted"], true);
  EXPECT_FALSE(j.contains("reason"));
  EXPECT_EQ(j["sources"][0]["authentication"], "nts");
  EXPECT_EQ(j["sources"][0]["state"], "selected");
  EXPECT_GT(j["nts"]["cookies"].get<int>(), 0);
  for (const char* k : {"offset_seconds", "root_delay_seconds", "root_dispersion_seconds",
                        "since_last_update_seconds", "error_bound_seconds", "error_bound_formula"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
}

TEST(TimeAssessment, recorded_nts_client_is_untrusted_under_a_tighter_limit) {
  TimeSourceOptions o;
  o.max_error_bound_seconds = 1e-9;
  TimeAssessment a = AssessRecorded("nts", o);
  EXPECT_FALSE(a.trusted);
  EXPECT_NE(a.reason.find("is not below the limit 1e-09 s"), std::string::npos) << a.reason;
}

TEST(TimeAssessment, recorded_plain_client_is_untrusted_for_lack_of_nts) {
  TimeAssessment a = AssessRecorded("plain");
  EXPECT_TRUE(a.synchronized);
  EXPECT_FALSE(a.trusted);
  EXPECT_FALSE(a.nts_authenticated);
  EXPECT_EQ(a.reason, "selected source 127.0.0.1 is not NTS-authenticated (authentication: none)");
}

TEST(TimeAssessment, recorded_unsynchronised_client_reports_no_error_bound) {
  TimeAssessment a = AssessRecorded("unsynchronised");
  EXPECT_FALSE(a.synchronized);
  EXPECT_FALSE(a.trusted);
  EXPECT_EQ(a.reason, "chronyd is not synchronised (leap status unsynchronised)");
  nlohmann::json j = TimeAssessmentToJson(a);
  EXPECT_FALSE(j.contains("error_bound_seconds"));
  EXPECT_FALSE(j.contains("since_last_update_seconds"));
  EXPECT_EQ(j["sources"][0]["state"], "unselectable");
}

TEST(TimeAssessment, recorded_local_reference_is_untrusted) {
  TimeAssessment a = AssessRecorded("local");
  EXPECT_TRUE(a.synchronized);
  EXPECT_EQ(a.stratum, 1);
  EXPECT_FALSE(a.trusted);
  EXPECT_NE(a.reason.find("local reference"), std::string::npos) << a.reason;
}

// A synchronised NTS snapshot with round numbers.
ChronySnapshot Synthetic() {
  ChronySnapshot s;
  s.tracking.ref_id = 0x0A000001;
  s.tracking.ip = chrony::ParseIpAddr("10.0.0.1").value();
  s.tracking.stratum = 3;
  s.tracking.leap_status = chrony::kLeapNormal;
  s.tracking.ref_time_seconds = 1000;
  s.tracking.current_correction_seconds = -0.002;
  s.tracking.root_delay_seconds = 0.010;
  s.tracking.root_dispersion_seconds = 0.003;
  s.tracking.resid_freq_ppm = -2;
  s.tracking.skew_ppm = 7;
  chrony::AuthData auth;
  auth.mode = chrony::kAuthNts;
  s.selected_auth = auth;
  chrony::NtpData ntp;
  ntp.flags = chrony::kNtpFlagAuthenticated;
  s.selected_ntp = ntp;
  return s;
}

TEST(TimeAssessment, error_bound_follows_the_documented_formula) {
  TimeSourceOptions o;  // max_clock_error 1 ppm
  TimeAssessment a = AssessSnapshot(Synthetic(), 1100, o);
  // 0.002 + 0.010/2 + 0.003 + 100 s * (2 + 7 + 1) ppm = 0.010 + 0.001
  ASSERT_TRUE(a.error_bound_seconds);
  EXPECT_NEAR(*a.since_last_update_seconds, 100, 1e-12);
  EXPECT_NEAR(*a.drift_seconds, 0.001, 1e-12);
  EXPECT_NEAR(*a.error_bound_seconds, 0.011, 1e-12);
  EXPECT_TRUE(a.trusted) << a.reason;
  // A week without updates drifts past the 100 ms limit.
  TimeAssessment stale = AssessSnapshot(Synthetic(), 1000 + 7 * 86400, o);
  EXPECT_FALSE(stale.trusted);
  EXPECT_NE(stale.reason.find("error bound"), std::string::npos);
}

TEST(TimeAssessment, update_in_the_future_counts_as_zero_and_is_noted) {
  TimeAssessment a = AssessSnapshot(Synthetic(), 900, {});
  EXPECT_EQ(*a.since_last_update_seconds, 0);
  ASSERT_EQ(a.notes.size(), 1u);
  EXPECT_NE(a.notes[0].find("future"), std::string::npos);
}

TEST(TimeAssessment, nts_without_authenticated_response_is_untrusted) {
  ChronySnapshot s = Synthetic();
  s.selected_ntp->flags = 0;
  TimeAssessment a = AssessSnapshot(s, 1001, {});
  EXPECT_FALSE(a.trusted);
  EXPECT_NE(a.reason.find("last response was not authenticated"), std::string::npos) << a.reason;
  s.selected_ntp.reset();
  EXPECT_FALSE(AssessSnapshot(s, 1001, {}).trusted);
}

TEST(TimeAssessment, symmetric_key_is_not_nts) {
  ChronySnapshot s = Synthetic();
  s.selected_auth->mode = chrony::kAuthSymmetric;
  TimeAssessment a = AssessSnapshot(s, 1001, {});
  EXPECT_FALSE(a.trusted);
  EXPECT_NE(a.reason.find("authentication: symmetric"), std::string::npos) << a.reason;
}

TEST(TimeAssessment, unreachable_states_have_fixed_reason_prefixes) {
  TimeSourceOptions o;
  TimeAssessment absent = AssessUnreachable(Status::NotFound("chronyd not reachable: no socket at /x"), o);
  EXPECT_EQ(absent.chrony_state, "absent");
  EXPECT_EQ(absent.reason, "chronyd not reachable: no socket at /x");
  TimeAssessment bad = AssessUnreachable(Status::InvalidArgument("path too long"), o);
  EXPECT_EQ(bad.reason, "chronyd not reachable: path too long");
  EXPECT_EQ(AssessUnreachable(Status::PermissionDenied("x"), o).chrony_state, "access_refused");
  EXPECT_EQ(AssessUnreachable(Status::DeadlineExceeded("chronyd busy: y"), o).reason, "chronyd busy: y");
  TimeAssessment corrupt = AssessUnreachable(Status::Corruption("chronyd reply truncated"), o);
  EXPECT_EQ(corrupt.chrony_state, "error");
  nlohmann::json j = TimeAssessmentToJson(absent);
  EXPECT_EQ(j["trusted"], false);
  EXPECT_EQ(j["reachable"], false);
  EXPECT_EQ(j["nts_authenticated"], false);
  EXPECT_FALSE(j.contains("offset_seconds"));
  EXPECT_FALSE(j.contains("stratum"));
}

TEST(TimeAssessment, claim_for_a_missing_socket_path_is_untrusted) {
  TimeSourceOptions o;
  o.chrony_socket = std::string(RESMETER_FIXTURES_DIR) + "/chrony/no-such.sock";
  nlohmann::json j = AssessTimeClaim(o);
  EXPECT_EQ(j["trusted"], false);
  EXPECT_EQ(j["reason"].get<std::string>().rfind("chronyd not reachable", 0), 0u) << j.dump();
}

TEST(TimeMetrics, exports_offset_bound_and_trusted_flag) {
  TimeMetrics m = ToTimeMetrics(AssessSnapshot(Synthetic(), 1100, {}));
  EXPECT_TRUE(m.reachable);
  EXPECT_TRUE(m.has_error_bound);
  EXPECT_NEAR(m.error_bound_seconds, 0.011, 1e-12);
  EXPECT_NEAR(m.offset_seconds, -0.002, 1e-12);
  EXPECT_EQ(m.trusted, 1.0);
  EXPECT_EQ(m.stratum, 3);
  TimeMetrics none = ToTimeMetrics(AssessUnreachable(Status::NotFound("x"), {}));
  EXPECT_FALSE(none.has_error_bound);
  EXPECT_FALSE(none.has_offset);
  EXPECT_EQ(none.trusted, 0.0);
}

}  // namespace
}  // namespace resmeter
