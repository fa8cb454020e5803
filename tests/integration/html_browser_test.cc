// The HTML pages in a real browser (Debian `chromium --headless`): a full
// report probed on this machine (with a loopback network peer), fixture
// reports (GPU through the fake NVML/CUDA, failed meters, a failing policy,
// a tampered report) and ledgers (30 days at one statement a minute; one
// with an edited line) are rendered by `verify --html` / `ledger audit
// --html`, opened with --dump-dom, and checked: no console message (a CSP
// violation, i.e. any request or foreign script, logs one) and nothing in
// the page's own problem list; the verdict text equals the CLI's; one plot
// per measured curve; axis labels with units; render time under 1 s. Each
// page is also screenshotted into $RESMETER_HTML_OUT (default: a directory
// under /tmp that is kept and printed).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "jose/signing_key.h"
#include "support/ledger_generator.h"
#include "support/shell_command.h"
#include "support/temp_dir.h"

namespace resmeter {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const std::string kBin = RESMETER_BINARY;

std::string Q(const std::string& s) { return "'" + s + "'"; }

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

struct Opened {
  int rc = -1;
  std::string dom;
  std::vector<std::string> console;  // console messages chromium logged (CSP violations among them)
  double render_ms = -1;             // data-render-ms: parse + style + layout, stamped at load
  std::string problems;              // the page's own list of blocked actions
};

class HtmlBrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    const char* out = std::getenv("RESMETER_HTML_OUT");
    out_ = new std::string(out && *out ? out : "/tmp/resmeter-html-" + std::to_string(getpid()));
    fs::create_directories(*out_);
    std::string path;
    if (RunShellCommand("command -v chromium", &path) == 0)
      chromium_ = new std::string(path.substr(0, path.find('\n')));
  }
  static void TearDownTestSuite() {
    std::printf("html_browser_test: pages and screenshots in %s\n", out_->c_str());
    delete tmp_;
  }
  void SetUp() override {
    if (chromium_ == nullptr) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh test)";
  }

  static std::string Tmp(const std::string& name) { return tmp_->path() + "/" + name; }
  static std::string Out(const std::string& name) { return *out_ + "/" + name; }

  static std::string BrowserFlags() {
    return " --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-sync"
           " --disable-background-networking --disable-component-update --hide-scrollbars"
           " --user-data-dir=" +
           Q(Tmp("profile")) + " ";
  }

  // One browser run: the DOM after load, the console log, and a screenshot beside the page.
  static Opened Open(const std::string& page, int shot_height) {
    Opened o;
    const std::string err = Tmp("chromium.err");
    const std::string png = fs::path(page).replace_extension(".png").string();
    o.rc = RunShellCommand("timeout 90 " + Q(*chromium_) + BrowserFlags() +
                               "--enable-logging=stderr --v=0 --dump-dom --screenshot=" + Q(png) +
                               " --window-size=1200," + std::to_string(shot_height) + " " +
                               Q("file://" + page) + " 2> " + Q(err),
                           &o.dom);
    std::ifstream in(err);
    for (std::string line; std::getline(in, line);)
      if (line.find(":CONSOLE") != std::string::npos) o.console.push_back(line);
    std::smatch m;
    if (std::regex_search(o.dom, m, std::regex("data-render-ms=\"([0-9]+)\""))) o.render_ms = std::stod(m[1]);
    const size_t p = o.dom.find("<ul id=\"page-problems\">");
    if (p != std::string::npos) o.problems = o.dom.substr(p + 23, o.dom.find("</ul>", p) - p - 23);
    return o;
  }

  // Opens `page`, checks what every page must hold, screenshots it; returns the DOM.
  static Opened CheckPage(const std::string& page, const std::string& verdict, int shot_height) {
    Opened o = Open(page, shot_height);
    EXPECT_EQ(o.rc, 0) << page;
    EXPECT_TRUE(o.console.empty()) << page << ": " << (o.console.empty() ? "" : o.console.front());
    EXPECT_EQ(o.problems, "") << page;
    EXPECT_GE(o.render_ms, 0) << page << ": the page's script did not run (CSP hash?)";
    EXPECT_NE(o.dom.find("<div class=\"word\">" + verdict + "</div>"), std::string::npos) << page;
    // Every plot names its axes with units: "(unit" inside an axis label, or a time axis.
    std::regex label("<text class=\"axis-label\" data-axis=\"([xy])\"[^>]*>([^<]*)</text>");
    for (auto it = std::sregex_iterator(o.dom.begin(), o.dom.end(), label); it != std::sregex_iterator();
         ++it) {
      const std::string text = (*it)[2];
      EXPECT_TRUE(text.find(" (") != std::string::npos || text.find("(UTC)") != std::string::npos ||
                  text.find("-hours") != std::string::npos)
          << page << ": axis label without unit: " << text;
    }
    std::printf("%s: %zu bytes, render %.0f ms, %zu plots\n", fs::path(page).filename().c_str(),
                static_cast<size_t>(fs::file_size(page)), o.render_ms, Count(o.dom, "data-plot="));
    return o;
  }

  // `verify --json` of a report (the object the page renders) and its exit code.
  static json VerifyJson(const std::string& args) {
    std::string out;
    RunShellCommand(Q(kBin) + " verify " + args + " --json 2>/dev/null", &out);
    return json::parse(out, nullptr, false);
  }

  static TempDir* tmp_;
  static std::string* out_;
  static std::string* chromium_;
};
TempDir* HtmlBrowserTest::tmp_ = nullptr;
std::string* HtmlBrowserTest::out_ = nullptr;
std::string* HtmlBrowserTest::chromium_ = nullptr;

// The plots a report's claims call for: one per measured curve.
std::vector<std::string> ExpectedPlots(const json& claims) {
  std::vector<std::string> ids;
  const json& s = claims["submods"];
  auto ok = [&](const char* m) { return s.contains(m) && s[m].value("status", "") == "ok"; };
  if (ok("cache.hierarchy")) ids.push_back("cache.latency_curve");
  if (ok("cpu.throttling")) ids.push_back("cpu.throttling.frequency");
  if (ok("cpu.availability")) ids.push_back("cpu.availability.per_cpu");
  if (ok("cpu.frequency")) ids.push_back("cpu.frequency.levels");
  if (ok("memory.bandwidth")) ids.push_back("memory.bandwidth.kernels");
  if (ok("disk.io")) {
    ids.push_back("disk.iops");
    ids.push_back("disk.bandwidth");
    for (auto it = s["disk.io"]["claims"].begin(); it != s["disk.io"]["claims"].end(); ++it) {
      const std::string k = it.key(), suffix = "_ios_per_second";
      if (k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0)
        ids.push_back("disk.latency." + k.substr(0, k.size() - suffix.size()));
    }
  }
  if (ok("net.throughput")) ids.push_back("net.throughput.peers");
  if (ok("net.latency"))
    for (const auto& t : s["net.latency"]["claims"]["targets"])
      ids.push_back("net.latency.rtt." + t.value("target", ""));
  if (ok("gpu.compute")) ids.push_back("gpu.compute.rate");
  return ids;
}

void ExpectPlots(const Opened& o, const std::vector<std::string>& ids) {
  for (const auto& id : ids) EXPECT_EQ(Count(o.dom, "data-plot=\"" + id + "\""), 1u) << id;
}

// The full report: every enabled meter on this machine, durations shortened,
// the network meters against a loopback peer.
TEST_F(HtmlBrowserTest, FullReportFromThisMachine) {
  const std::string peer_state = Tmp("peer"), log = Tmp("peer.log");
  ASSERT_EQ(RunShellCommand(Q(kBin) + " --state-dir " + Q(peer_state) + " key init > /dev/null 2>&1"), 0);
  RunShellCommand(std::string("(").append(Q(kBin)) + " --state-dir " + Q(peer_state) +
                  " peer --listen 127.0.0.1:0 --duration 90 < /dev/null > /dev/null 2> " + Q(log) +
                  " &)");  // not on popen's pipe: SIGPIPE once it closes
  std::string port;
  for (int i = 0; i < 100 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::smatch m;
    const std::string text = SlurpFile(log);
    if (std::regex_search(text, m, std::regex("port ([0-9]+)"))) port = m[1];
  }
  ASSERT_FALSE(port.empty()) << SlurpFile(log);
  const std::string peer = "127.0.0.1:" + port;
  const std::string report = Tmp("full.jws"), page = Out("full-report.html");
  const auto t0 = std::chrono::steady_clock::now();
  const std::string probe =
      Q(kBin) + " --state-dir " + Q(Tmp("agent")) + " --set meters.disk.io.file_size_bytes=67108864" +
      " --set meters.disk.io.duration_seconds=0.4 --set meters.disk.io.warmup_seconds=0.1" +
      " --set meters.cache.hierarchy.seconds_per_size=0.01" +
      " --set meters.cpu.throttling.window_seconds=2" + " --set \"meters.net.throughput.targets=[" + peer +
      "]\"" +
      " --set meters.net.throughput.duration_seconds=0.5 --set meters.net.throughput.omit_seconds=0.2" +
      " --set \"meters.net.latency.targets=[" + peer + "]\" --set meters.net.latency.count=200" +
      " probe -o " + Q(report) + " 2> " + Q(Tmp("probe.err"));
  ASSERT_EQ(RunShellCommand(probe), 0) << SlurpFile(Tmp("probe.err"));
  std::printf("probe: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::string human;
  RunShellCommand(Q(kBin) + " verify " + Q(report) + " --allow-dev-evidence --html " + Q(page), &human);
  const std::string verdict = human.substr(human.rfind('\n', human.size() - 2) + 1, 8);
  ASSERT_TRUE(fs::exists(page));
  const json v = VerifyJson(Q(report) + " --allow-dev-evidence");
  ASSERT_TRUE(v.contains("claims"));
  const Opened o = CheckPage(page, verdict == "ACCEPTED" ? "ACCEPTED" : "REJECTED", 9000);
  ExpectPlots(o, ExpectedPlots(v["claims"]));
  EXPECT_EQ(Count(o.dom, "<article class=\"card meter\""), v["claims"]["submods"].size());
  EXPECT_LT(o.render_ms, 1000) << "a full report renders within 1 s";
  std::printf("full report: %zu bytes signed, page %zu bytes\n", static_cast<size_t>(fs::file_size(report)),
              static_cast<size_t>(fs::file_size(page)));
  // Bytes per meter in the signed claims (report size stays reasonable).
  for (auto it = v["claims"]["submods"].begin(); it != v["claims"]["submods"].end(); ++it)
    std::printf("  %-18s %7zu bytes of claims JSON\n", it.key().c_str(), it.value().dump().size());
  fs::copy_file(report, Out("full.jws"), fs::copy_options::overwrite_existing);
}

// Failed meters, a failing policy and a tampered report.
TEST_F(HtmlBrowserTest, FailedMetersFailingPolicyAndTamperedReport) {
  const std::string empty = Tmp("empty-root");
  fs::create_directories(empty);
  const std::string report = Tmp("failed.jws");
  ASSERT_EQ(RunShellCommand(Q(kBin) + " --state-dir " + Q(Tmp("agent2")) + " --proc-root " + Q(empty) +
                            " --sys-root " + Q(empty) +
                            " probe --only cpu.time,cpu.topology,memory.capacity,cache.hierarchy -o " +
                            Q(report) + " 2>/dev/null"),
            0);
  const std::string failed_page = Out("failed-meters.html");
  RunShellCommand(Q(kBin) + " verify " + Q(report) + " --allow-dev-evidence --allow-fixture-roots --html " +
                  Q(failed_page) + " > /dev/null");
  const json fv = VerifyJson(Q(report) + " --allow-dev-evidence --allow-fixture-roots");
  const Opened f = CheckPage(failed_page, fv.value("verdict", "?"), 2400);
  EXPECT_GE(Count(f.dom, "data-status=\"unavailable\"") + Count(f.dom, "data-status=\"failed\""), 1u);

  // A policy no machine meets.
  const std::string policy = Tmp("order.yaml");
  std::ofstream(policy)
      << "name: impossible\nevidence:\n  accept: [none]\nclaims:\n  - cpu.vcpus: {min: 4096}\n"
         "  - memory.total_gib: {min: 0.001}\n";
  const std::string full = Out("full.jws");
  const std::string src = fs::exists(full) ? full : report;
  const std::string policy_page = Out("failing-policy.html");
  RunShellCommand(Q(kBin) + " verify " + Q(src) + " --allow-dev-evidence --allow-fixture-roots --policy " +
                  Q(policy) + " --html " + Q(policy_page) + " > /dev/null");
  const Opened p = CheckPage(policy_page, "REJECTED", 3000);
  EXPECT_NE(p.dom.find("data-clause=\"cpu.vcpus\""), std::string::npos);
  EXPECT_NE(p.dom.find("<tr class=\"clause fail\" data-clause=\"cpu.vcpus\">"), std::string::npos);

  // One byte of the payload changed: the signature fails, no claim is shown.
  std::string token = SlurpFile(src);
  const size_t dot = token.find('.');
  token[dot + 10] = token[dot + 10] == 'A' ? 'B' : 'A';
  const std::string tampered = Tmp("tampered.jws"), tampered_page = Out("tampered.html");
  std::ofstream(tampered) << token;
  RunShellCommand(Q(kBin) + " verify " + Q(tampered) + " --allow-dev-evidence --html " + Q(tampered_page) +
                  " > /dev/null 2>&1");
  const Opened t = CheckPage(tampered_page, "REJECTED", 1400);
  EXPECT_EQ(Count(t.dom, "data-plot="), 0u);
  EXPECT_NE(t.dom.find("the signature did not verify"), std::string::npos);
}

// GPUs through the fake NVML and CUDA libraries and the nvidia_h100 fixture tree.
TEST_F(HtmlBrowserTest, GpuFixtureReport) {
  const std::string build = fs::path(kBin).parent_path().string();
  const std::string nvml = build + "/tests/libresmeter_fake_nvml.so",
                    cuda = build + "/tests/libresmeter_fake_cuda.so";
  if (!fs::exists(nvml) || !fs::exists(cuda)) GTEST_SKIP() << "fake GPU libraries not built";
  const std::string fx = std::string(RESMETER_FIXTURES_DIR) + "/gpu/nvidia_h100";
  const std::string report = Tmp("gpu.jws"), page = Out("gpu-report.html");
  ASSERT_EQ(
      RunShellCommand(Q(kBin) + " --state-dir " + Q(Tmp("agent3")) + " --sys-root " + Q(fx + "/sys") +
                      " --proc-root " + Q(fx + "/proc") + " --set meters.gpu.devices.nvml_library=" +
                      Q(nvml) + " --set meters.gpu.compute.cuda_library=" + Q(cuda) +
                      " --set meters.gpu.compute.matrix_size=64 --set meters.gpu.compute.iterations=3" +
                      " probe --only gpu.devices,gpu.compute -o " + Q(report) + " 2> " + Q(Tmp("gpu.err"))),
      0)
      << SlurpFile(Tmp("gpu.err"));
  RunShellCommand(Q(kBin) + " verify " + Q(report) + " --allow-dev-evidence --allow-fixture-roots --html " +
                  Q(page) + " > /dev/null");
  const json v = VerifyJson(Q(report) + " --allow-dev-evidence --allow-fixture-roots");
  const Opened o = CheckPage(page, v.value("verdict", "?"), 3000);
  ExpectPlots(o, ExpectedPlots(v["claims"]));
  EXPECT_NE(o.dom.find("data-meter=\"gpu.devices\""), std::string::npos);
}

// 30 days at one statement a minute (43200 usage statements, 3 restarts, a
// stretch of untrusted time), audited over a range a day longer than the
// ledger (coverage gap); and a copy with one edited line.
TEST_F(HtmlBrowserTest, ThirtyDayLedgerAndTamperedLedger) {
  auto key = SigningKey::Generate(kAlgEdDSA);
  ASSERT_TRUE(key.ok());
  LedgerGeneratorOptions g;
  g.dir = Tmp("ledger");
  g.usage_statements = 30 * 24 * 60;
  g.restarts = 3;
  g.new_key_per_restart = true;
  g.untrusted_from = 5000;
  g.untrusted_to = 5600;
  // Ending before now (periods after the audit time are findings), on an hour boundary.
  const double start = std::floor(static_cast<double>(time(nullptr)) / 3600) * 3600 - 31 * 86400;
  g.start_unix_seconds = start;
  auto sum = GenerateLedger(g, *key);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  const std::string page = Out("ledger-30-days.html");
  // A day more than the ledger holds: the coverage gap shows.
  const std::string range = " --from " + std::to_string(static_cast<int64_t>(start)) + " --to " +
                            std::to_string(static_cast<int64_t>(start) + 31 * 86400);
  std::string out;
  const auto t0 = std::chrono::steady_clock::now();
  RunShellCommand(Q(kBin) + " ledger audit " + Q(g.dir) + " --allow-dev-evidence" + range + " --html " +
                      Q(page) + " 2>&1",
                  &out);
  std::printf("ledger audit of %llu statements with --html: %.1f s\n",
              static_cast<unsigned long long>(sum->lines),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const std::string verdict = out.substr(out.rfind('\n', out.size() - 2) + 1, 8);
  const Opened o = CheckPage(page, verdict == "ACCEPTED" ? "ACCEPTED" : "REJECTED", 2200);
  for (const char* id :
       {"ledger.vcpu_hours", "ledger.memory_gib_hours", "ledger.gpu_hours", "ledger.coverage"})
    EXPECT_EQ(Count(o.dom, std::string("data-plot=\"") + id + "\""), 1u) << id;
  EXPECT_GE(Count(o.dom, "class=\"band-gap\""), 3u) << "the restarts are shaded";
  EXPECT_GE(Count(o.dom, "class=\"band\""), 1u) << "the untrusted stretch is shaded";
  EXPECT_NE(o.dom.find("id=\"coverage\""), std::string::npos);
  EXPECT_LT(o.render_ms, 1000) << "a 30-day ledger renders within 1 s";

  // Edit one usage line's amount: a bad_signature finding, marked on the timeline.
  const std::string bad = Tmp("ledger-bad");
  fs::create_directories(bad);
  for (const auto& e : fs::directory_iterator(g.dir))
    if (e.path().filename().string().rfind("ledger-", 0) == 0)
      fs::copy_file(e.path(), bad + "/" + e.path().filename().string());
  std::string first;
  for (const auto& e : fs::directory_iterator(bad)) first = std::max(first, e.path().string());
  std::string text = SlurpFile(first);
  const size_t p = text.find("\"vcpu_delivered_seconds\":", text.size() / 2);
  ASSERT_NE(p, std::string::npos);
  text[p + 26] = text[p + 26] == '9' ? '8' : '9';
  std::ofstream(first, std::ios::trunc) << text;
  const std::string bad_page = Out("ledger-tampered.html");
  RunShellCommand(Q(kBin) + " ledger audit " + Q(bad) + " --allow-dev-evidence --html " + Q(bad_page) +
                  " > /dev/null 2>&1");
  const Opened b = CheckPage(bad_page, "REJECTED", 2200);
  EXPECT_NE(b.dom.find("data-marker=\"bad_signature seq"), std::string::npos);
}

}  // namespace
}  // namespace resmeter
