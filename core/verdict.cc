#include "core/verdict.h"

#include <algorithm>

namespace resmeter {

const char* CheckOutcomeName(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kPassed:
      return "passed";
    case CheckOutcome::kFailed:
      return "failed";
    case CheckOutcome::kWarning:
      return "warning";
    case CheckOutcome::kNotApplicable:
      return "not_applicable";
    case CheckOutcome::kError:
      return "error";
  }
  return "error";
}

void Verdict::Add(std::string name, CheckOutcome outcome, std::string detail) {
  checks_.push_back({std::move(name), outcome, std::move(detail)});
}

void Verdict::Merge(const Verdict& other, std::string_view prefix) {
  for (const Check& c : other.checks_) checks_.push_back({std::string(prefix) + c.name, c.outcome, c.detail});
}

bool Verdict::accepted() const {
  return std::none_of(checks_.begin(), checks_.end(), [](const Check& c) {
    return c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError;
  });
}

bool Verdict::input_error() const {
  return std::any_of(checks_.begin(), checks_.end(),
                     [](const Check& c) { return c.outcome == CheckOutcome::kError; });
}

std::vector<std::string> Verdict::Reasons() const {
  std::vector<std::string> out;
  for (const Check& c : checks_) {
    if (c.outcome == CheckOutcome::kFailed || c.outcome == CheckOutcome::kError) {
      out.push_back(c.detail.empty() ? c.name : c.name + ": " + c.detail);
    }
  }
  return out;
}

std::string Verdict::Line() const {
  if (accepted()) return "ACCEPTED";
  std::string line = "REJECTED: ";
  const std::vector<std::string> reasons = Reasons();
  for (size_t i = 0; i < reasons.size(); ++i) line += (i ? "; " : "") + reasons[i];
  return line;
}

int Verdict::ExitCode() const {
  if (accepted()) return 0;
  return input_error() ? 2 : 1;
}

nlohmann::json Verdict::ToJson() const {
  nlohmann::json checks = nlohmann::json::array();
  for (const Check& c : checks_) {
    checks.push_back({{"name", c.name}, {"outcome", CheckOutcomeName(c.outcome)}, {"detail", c.detail}});
  }
  return {{"verdict", accepted() ? "ACCEPTED" : "REJECTED"}, {"reasons", Reasons()}, {"checks", checks}};
}

}  // namespace resmeter
