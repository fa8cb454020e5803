// The HTML pages (html/): the page's script is the one its CSP admits; every
// string from a report or ledger is escaped (a hostile report cannot add a
// script, a link or a request); hostile shapes (huge arrays, deep nesting,
// wrong types) render bounded without throwing; plots appear for the curves
// a report carries, with axis labels and units. The browser-level checks are
// tests/integration/html_browser_test.cc.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <regex>
#include <set>
#include <string>

#include "core/base64url.h"
#include "html/claim_table.h"
#include "html/html_text.h"
#include "html/ledger_page.h"
#include "html/meter_plots.h"
#include "html/page_shell.h"
#include "html/svg_chart.h"
#include "html/verify_page.h"

namespace resmeter::html {
namespace {

using json = nlohmann::json;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

std::string Base64(const unsigned char* data, size_t n) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = static_cast<uint32_t>(data[i]) << 16;
    if (i + 1 < n) v |= static_cast<uint32_t>(data[i + 1]) << 8;
    if (i + 2 < n) v |= data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// A verify JSON with every meter kind's curves, as `verify --format json` prints it.
json SampleVerify() {
  json curve = json::array();
  for (int i = 0; i < 20; ++i)
    curve.push_back({{"size_bytes", 4096 << (i / 2)}, {"latency_seconds", 1e-9 * (1 + i * i * 0.2)}});
  json submods = {
      {"cache.hierarchy",
       {{"status", "ok"},
        {"duration_seconds", 1.5},
        {"claims",
         {{"latency_curve", curve},
          {"levels", {{{"level", 1}, {"measured_size_bytes", 32768}, {"latency_seconds", 1.2e-9}}}}}},
        {"conditions", {{"reported_levels", {{{"level", 1}, {"type", "data"}, {"size_bytes", 49152}}}}}}}},
      {"disk.io",
       {{"status", "ok"},
        {"claims",
         {{"rand_read_qd32_ios_per_second", 12000.0},
          {"rand_read_qd32_bytes_per_second", 4.9e7},
          {"rand_read_qd32_latency_p50_seconds", 2e-4},
          {"rand_read_qd32_latency_p99_seconds", 9e-4},
          {"rand_read_qd32_latency_p999_seconds", 2e-3},
          {"rand_read_qd32_latency_histogram",
           {{"bins", {{"100352", 5}, {"200704", 50}, {"802816", 3}}}}}}}}},
      {"cpu.throttling",
       {{"status", "ok"},
        {"claims",
         {{"all_core_hz_samples", {3e9, 2.9e9, 2.8e9}}, {"burst_hz", 3e9}, {"sustained_hz", 2.8e9}}},
        {"conditions", {{"sample_seconds", 0.5}}}}},
      {"cpu.time", {{"status", "unavailable"}, {"reason", "no /proc/stat"}}},
  };
  return {{"verdict", "REJECTED"},
          {"reasons", {"policy.disk.rand_read_iops[qd=32]: required >= 20000 IOPS, measured 12000"}},
          {"checks", {{{"name", "signature"}, {"outcome", "passed"}, {"detail", "EdDSA"}}}},
          {"policy",
           {{"passed", false},
            {"clauses",
             {{{"name", "disk.rand_read_iops[qd=32]"},
               {"required", ">= 20000 IOPS"},
               {"measured", "12000"},
               {"passed", false}}}}}},
          {"claims", {{"iat", 1.8e9}, {"exp", 1.8e9 + 3600}, {"live", true}, {"submods", submods}}}};
}

TEST(HtmlPage, ScriptHashIsTheOneTheCspAdmits) {
  unsigned char digest[32];
  unsigned int n = 0;
  ASSERT_EQ(EVP_Digest(kPageScript.data(), kPageScript.size(), digest, &n, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(std::string(kPageScriptHash), "sha256-" + Base64(digest, n))
      << "update kPageScriptHash in html/page_shell.cc";
  const std::string page = Page("t", "<p>x</p>");
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.find(std::string(kPageScriptHash)), std::string::npos);
}

TEST(HtmlPage, EscapesEveryHostileString) {
  EXPECT_EQ(Escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(Escape(std::string("a\x01z\xff", 4)), "a\xEF\xBF\xBDz\xEF\xBF\xBD");
  EXPECT_EQ(Escape("\xC3\xA9"), "\xC3\xA9");  // well-formed UTF-8 stays
  // A report whose every string tries to break out of its context.
  const std::string evil =
      "\"'><script>fetch('https://evil.example/x')</script><img src=https://evil.example/p>";
  json v = SampleVerify();
  v["reasons"].push_back(evil);
  v["checks"].push_back({{"name", evil}, {"outcome", evil}, {"detail", evil}});
  v["claims"]["submods"][evil] = {
      {"status", evil},
      {"reason", evil},
      {"claims", {{evil, evil}, {"latency_curve", evil}, {"levels", {{{evil, 1}}}}}},
      {"findings", {{{"code", evil}, {"message", evil}}}}};
  v["claims"]["submods"]["net.latency"] = {
      {"status", "ok"}, {"claims", {{"targets", {{{"target", evil}, {"rtt_p50_seconds", 1e-4}}}}}}};
  const std::string page = RenderVerifyPage(v, {evil, evil, 0});
  EXPECT_EQ(Count(page, "<script"), 1u);  // the page's own
  EXPECT_EQ(Count(page, "<img"), 0u);
  EXPECT_EQ(Count(page, "url("), 0u);
  // Every tag is one the renderer writes, and none loads or links anything.
  const std::regex tag("<([a-zA-Z0-9]+)([^>]*)>");
  const std::set<std::string> allowed = {
      "html",       "head", "meta", "title", "style", "script",   "body",   "main",    "section", "strong",
      "ul",         "ol",   "li",   "h1",    "h2",    "h3",       "h4",     "div",     "table",   "tr",
      "th",         "td",   "code", "span",  "p",     "article",  "header", "details", "summary", "figure",
      "figcaption", "svg",  "g",    "rect",  "line",  "polyline", "circle", "text",    "footer"};
  for (auto it = std::sregex_iterator(page.begin(), page.end(), tag); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(allowed.count((*it)[1].str())) << (*it)[0].str().substr(0, 80);
    // Attribute names only: quoted values (escaped text) removed.
    const std::string attrs = std::regex_replace((*it)[2].str(), std::regex("\"[^\"]*\""), "\"\"");
    EXPECT_EQ(attrs.find(" src="), std::string::npos) << attrs.substr(0, 80);
    EXPECT_EQ(attrs.find(" href="), std::string::npos) << attrs.substr(0, 80);
    EXPECT_EQ(attrs.find(" on"), std::string::npos) << attrs.substr(0, 80);
  }
  EXPECT_GE(Count(page, "&lt;script&gt;"), 8u);
}

TEST(HtmlPage, VerifyPageHasVerdictClausesCardsAndPlots) {
  const std::string page = RenderVerifyPage(SampleVerify(), {"r.jws", "order.yaml", 1.8e9});
  EXPECT_NE(page.find("class=\"verdict rejected\""), std::string::npos);
  EXPECT_NE(page.find(">REJECTED<"), std::string::npos);
  EXPECT_NE(page.find("data-clause=\"disk.rand_read_iops[qd=32]\""), std::string::npos);
  EXPECT_EQ(Count(page, "<article class=\"card meter\""), 4u);
  EXPECT_NE(page.find("data-status=\"unavailable\""), std::string::npos);
  for (const char* id : {"cache.latency_curve", "disk.latency.rand_read_qd32", "disk.iops", "disk.bandwidth",
                         "cpu.throttling.frequency"}) {
    EXPECT_EQ(Count(page, std::string("data-plot=\"") + id + "\""), 1u) << id;
  }
  EXPECT_NE(page.find("working-set size (B, log scale)"), std::string::npos);
  EXPECT_NE(page.find("latency (ns, log scale)"), std::string::npos);
  EXPECT_NE(page.find("completion latency (s, log scale)"), std::string::npos);
  EXPECT_NE(page.find("frequency (Hz)"), std::string::npos);
  // The policy's bound is drawn beside the IOPS bar, and the bar is marked failing.
  EXPECT_NE(page.find("data-marker=\"rand_read_qd32: policy &gt;= 20000 IOPS\""), std::string::npos);
  EXPECT_NE(page.find("<g class=\"bar bad\" data-bar=\"rand_read_qd32\">"), std::string::npos);
  // Detected and reported cache levels.
  EXPECT_NE(page.find("L1 detected 32 KiB"), std::string::npos);
  EXPECT_NE(page.find("L1d reported 48 KiB"), std::string::npos);
}

TEST(HtmlPage, TamperedReportRendersWithoutClaims) {
  json v = {{"verdict", "REJECTED"},
            {"reasons", {"signature: does not verify"}},
            {"checks", {{{"name", "signature"}, {"outcome", "failed"}, {"detail", "does not verify"}}}}};
  const std::string page = RenderVerifyPage(v, {"t.jws", "", 0});
  EXPECT_NE(page.find("signature: does not verify"), std::string::npos);
  EXPECT_EQ(Count(page, "data-plot="), 0u);
  EXPECT_NE(page.find("the signature did not verify"), std::string::npos);
}

TEST(HtmlPage, HostileShapesStayBounded) {
  json v = SampleVerify();
  json big = json::array();
  for (int i = 0; i < 20000; ++i)
    big.push_back({{"size_bytes", 4096 + i}, {"latency_seconds", 1e-9 * (1 + i % 7)}});
  v["claims"]["submods"]["cache.hierarchy"]["claims"]["latency_curve"] = big;
  json deep = 1;
  for (int i = 0; i < 200; ++i) deep = json::array({deep});
  v["claims"]["submods"]["cpu.time"]["claims"] = {
      {"deep", deep}, {"levels", "x"}, {"per_cpu", {1, "a", nullptr}}};
  v["claims"]["submods"]["cpu.throttling"]["claims"]["all_core_hz_samples"] = {"x", nullptr, -1, 1e308};
  v["claims"]["submods"]["weird"] = "not an object";
  v["claims"]["iat"] = "yesterday";
  v["policy"]["clauses"].push_back({{"name", 7}, {"required", json::array()}});
  std::string page;
  ASSERT_NO_THROW(page = RenderVerifyPage(v, {"r", "", 0}));
  EXPECT_LT(page.size(), 3u << 20) << "a 20000-point curve is thinned and its table cut";
  EXPECT_NE(page.find("series thinned to"), std::string::npos);
  EXPECT_NE(page.find("nested too deep"), std::string::npos);
}

TEST(HtmlPage, TicksAreRoundAndLabelled) {
  const Axis bytes{"size", "B", AxisScale::kLog};
  const auto t = Ticks(4096, 256 << 20, bytes);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(TickText(t.front(), bytes), "4 KiB");
  EXPECT_LE(t.size(), 10u);
  const Axis lin{"f", "Hz", AxisScale::kLinear};
  EXPECT_EQ(Ticks(0, 3.1e9, lin).front(), 0);
  EXPECT_EQ(TickText(2e9, lin), "2 GHz");
  const Axis time{"t", "", AxisScale::kTime};
  EXPECT_EQ(TickText(1'800'000'000, time), "01-15 08:00");
  EXPECT_LE(Ticks(1.8e9, 1.8e9 + 30 * 86400, time).size(), 8u);
}

TEST(HtmlPage, LedgerPageShowsBillTimelineAndCoverage) {
  json hours = json::array();
  for (int h = 0; h < 24 * 30; ++h)
    hours.push_back({{"hour_unix_seconds", 1'800'000'000 + 3600 * h},
                     {"delivered_vcpu_hours", 3.9},
                     {"stolen_vcpu_hours", 0.1},
                     {"memory_gib_hours", 16},
                     {"gpu_hours", 1},
                     {"covered_hours", 1}});
  json audit = {{"verdict", "REJECTED"},
                {"reasons", {"ledger.chain: 1 error"}},
                {"bill",
                 {{"delivered_vcpu_hours", 2808},
                  {"asked_hours", 744},
                  {"coverage_gap_hours", 24},
                  {"from_unix_seconds", 1.8e9},
                  {"to_unix_seconds", 1.8e9 + 744 * 3600}}},
                {"hours", hours},
                {"untrusted_periods",
                 {{{"start_unix_seconds", 1.8e9 + 7200},
                   {"end_unix_seconds", 1.8e9 + 9000},
                   {"reason", "<b>unsynchronized</b>"}}}},
                {"epochs",
                 {{{"seq", 1},
                   {"kid", "k"},
                   {"gap_start_unix_seconds", 1.8e9 + 86400},
                   {"gap_end_unix_seconds", 1.8e9 + 90000},
                   {"evidence_ok", true}}}},
                {"findings",
                 {{{"kind", "bad_signature"},
                   {"severity", "error"},
                   {"seq", 99},
                   {"seq_end", 99},
                   {"message", "edited"},
                   {"after_unix_seconds", 1.8e9 + 5940}}}}};
  const std::string page = RenderLedgerPage(audit, {});
  EXPECT_NE(page.find(">REJECTED<"), std::string::npos);
  for (const char* id :
       {"ledger.vcpu_hours", "ledger.memory_gib_hours", "ledger.gpu_hours", "ledger.coverage"})
    EXPECT_EQ(Count(page, std::string("data-plot=\"") + id + "\""), 1u) << id;
  EXPECT_NE(page.find("data-marker=\"bad_signature seq 99\""), std::string::npos);
  EXPECT_NE(page.find("class=\"band\""), std::string::npos);
  EXPECT_NE(page.find("class=\"band-gap\""), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;unsynchronized"), std::string::npos);
  EXPECT_NE(page.find("96.77 %"), std::string::npos);  // coverage 720 of 744 hours
  EXPECT_LT(page.size(), 1u << 20);
}

}  // namespace
}  // namespace resmeter::html
