// gpu.compute without a GPU: the PTX text is linted, the host verification is
// checked, and the meter's whole host flow runs against the fake CUDA driver
// (tests/fake_gpu/fake_cuda.c), which multiplies on the CPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>

#include "gpu/cuda_challenge.h"
#include "gpu/sgemm_kernel.h"
#include "meters/registry/registry.h"

namespace resmeter {
namespace {

const std::string kGpuFixtures = std::string(RESMETER_FIXTURES_DIR) + "/gpu";

// Sets environment variables for one test and clears them afterwards.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (auto [k, v] : vars) {
      setenv(k, v, 1);
      keys_.push_back(k);
    }
  }
  ~ScopedEnv() {
    for (const char* k : keys_) unsetenv(k);
  }

 private:
  std::vector<const char*> keys_;
};

// The largest N used as `prefix`N (prefix then digits) in the text, or -1.
// (No std::regex: GCC 12's -Wmaybe-uninitialized misfires on it under ASan.)
int MaxRegister(const std::string& text, const std::string& prefix) {
  int max = -1;
  for (size_t pos = text.find(prefix); pos != std::string::npos; pos = text.find(prefix, pos + 1)) {
    size_t d = pos + prefix.size();
    if (d >= text.size() || !std::isdigit(static_cast<unsigned char>(text[d]))) continue;
    max = std::max(max, std::atoi(text.c_str() + d));
  }
  return max;
}

// The statement lines of the kernel body, trimmed.
std::vector<std::string> BodyLines(const std::string& ptx) {
  std::vector<std::string> out;
  std::string body = ptx.substr(ptx.find('{') + 1);
  for (size_t start = 0; start < body.size();) {
    size_t eol = body.find('\n', start);
    std::string line = body.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
    start = eol == std::string::npos ? body.size() : eol + 1;
    line.erase(0, line.find_first_not_of(" \t"));
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(sgemm_kernel_test, ptx_declares_entry_params_and_registers_it_uses) {
  const std::string ptx = SgemmPtx();
  EXPECT_NE(ptx.find(".version 6.4"), std::string::npos);
  EXPECT_NE(ptx.find(".target sm_52"), std::string::npos);
  EXPECT_NE(ptx.find(".address_size 64"), std::string::npos);
  EXPECT_NE(ptx.find(".visible .entry " + std::string(kSgemmKernelName) + "("), std::string::npos);
  for (const char* p : {".param .u64 p_a", ".param .u64 p_b", ".param .u64 p_c", ".param .u32 p_n"}) {
    EXPECT_NE(ptx.find(p), std::string::npos) << p;
  }
  EXPECT_EQ(std::count(ptx.begin(), ptx.end(), '{'), std::count(ptx.begin(), ptx.end(), '}'));
  EXPECT_EQ(std::count(ptx.begin(), ptx.end(), '('), std::count(ptx.begin(), ptx.end(), ')'));
  // Declared as %r<24>, %f<4>, %rd<8>, %p<2>: uses must stay below.
  EXPECT_LT(MaxRegister(ptx, "%r"), 24);
  EXPECT_LT(MaxRegister(ptx, "%f"), 4);
  EXPECT_LT(MaxRegister(ptx, "%rd"), 8);
  EXPECT_LT(MaxRegister(ptx, "%p"), 2);
  // Every branch target is defined exactly once; two barriers per tile; every
  // statement ends with ';' (labels with ':').
  std::set<std::string> defined, targets;
  size_t bars = 0;
  for (const auto& line : BodyLines(ptx)) {
    if (line == "}") continue;
    if (line[0] == '$' && line.back() == ':') {
      EXPECT_TRUE(defined.insert(line.substr(0, line.size() - 1)).second) << line;
      continue;
    }
    EXPECT_EQ(line.back(), ';') << line;
    if (line.find("bar.sync") == 0) ++bars;
    size_t bra = line.find("bra\t");
    if (bra != std::string::npos) targets.insert(line.substr(bra + 4, line.size() - bra - 5));
  }
  EXPECT_EQ(defined, targets);
  EXPECT_EQ(targets.size(), 2u);
  EXPECT_EQ(bars, 2u);
}

TEST(sgemm_kernel_test, verification_accepts_exact_product_and_rejects_any_error) {
  const int n = 48;
  std::vector<float> a, b, c(n * n);
  FillSgemmInputs(n, a, b);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      float s = 0;
      for (int k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
  EXPECT_FALSE(VerifySgemm(n, a, b, c, 1).has_value());
  EXPECT_FALSE(VerifySgemm(n, a, b, c, 2).has_value());
  auto off = c;
  off[7 * n + 9] += 1;
  EXPECT_TRUE(VerifySgemm(n, a, b, off, 1).has_value());
  auto frac = c;
  frac[3] += 0.5f;
  EXPECT_NE(VerifySgemm(n, a, b, frac, 1)->find("not an exact integer"), std::string::npos);
  std::vector<float> zeros(n * n, 0.0f);
  EXPECT_TRUE(VerifySgemm(n, a, b, zeros, 1).has_value());
  EXPECT_DOUBLE_EQ(SgemmFlops(1024), 2.0 * 1024 * 1024 * 1024);
}

TEST(cuda_challenge_test, reference_peaks_by_model_token) {
  EXPECT_DOUBLE_EQ(*ReferencePeakFp32("NVIDIA H100 80GB HBM3"), 51.2e12);
  EXPECT_DOUBLE_EQ(*ReferencePeakFp32("Tesla T4"), 8.1e12);
  EXPECT_DOUBLE_EQ(*ReferencePeakFp32("NVIDIA L40S"), 91.6e12);
  EXPECT_DOUBLE_EQ(*ReferencePeakFp32("NVIDIA L4"), 30.3e12);
  EXPECT_FALSE(ReferencePeakFp32("Some Future GPU X9").has_value());
}

// Runs gpu.compute with the given CUDA library on a PCI fixture.
MeterResult RunCompute(const std::string& lib, const std::string& fixture = "nvidia_h100") {
  MeterContext ctx;
  ctx.env = DefaultEnv();
  ctx.sys_root = kGpuFixtures + "/" + fixture + "/sys";
  ctx.proc_root = kGpuFixtures + "/" + fixture + "/proc";
  ctx.options.Set("cuda_library", lib);
  ctx.options.Set("matrix_size", 64);
  ctx.options.Set("iterations", 3);
  ctx.options.Set("min_peak_ratio", 0.05);
  CudaChallengeMeter meter;
  return meter.Measure(ctx);
}

std::vector<std::string> Codes(const MeterResult& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.code);
  return out;
}

TEST(cuda_challenge_test, registry_row_is_heavy) {
  const MeterInfo* m = FindMeter("gpu.compute");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->kind, MeterKind::kHeavy);
  EXPECT_EQ(m->options.size(), 4u);
}

TEST(cuda_challenge_test, missing_libcuda_is_unavailable_with_dlopen_reason) {
  MeterResult r = RunCompute("/nonexistent/libcuda.so.1");
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_NE(r.reason.find("/nonexistent/libcuda.so.1 not loadable"), std::string::npos) << r.reason;
  EXPECT_EQ(r.reason.find("no NVIDIA GPU"), std::string::npos) << r.reason;  // the fixture has an H100
  MeterResult none = RunCompute("/nonexistent/libcuda.so.1", "no_gpu");
  EXPECT_EQ(none.status, MeterStatus::kUnavailable);
  EXPECT_EQ(none.reason.rfind("no NVIDIA GPU on the PCI bus; ", 0), 0u) << none.reason;
}

TEST(cuda_challenge_test, cuinit_without_device_is_unavailable) {
  ScopedEnv env({{"FAKE_CUDA_NO_DEVICE", "1"}});
  MeterResult r = RunCompute(RESMETER_FAKE_CUDA);
  EXPECT_EQ(r.status, MeterStatus::kUnavailable);
  EXPECT_EQ(r.reason, "cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)");
}

TEST(cuda_challenge_test, fake_driver_runs_verifies_and_flags_slow_class) {
  MeterResult r = RunCompute(RESMETER_FAKE_CUDA);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(r.claims["cuda_driver_version"], "12.2");
  EXPECT_EQ(r.conditions["matrix_size"], 64);
  ASSERT_EQ(r.claims["devices"].size(), 1u);
  const auto& d = r.claims["devices"][0];
  EXPECT_EQ(d["name"], "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d["pci_bus_id"], "0000:18:00.0");
  EXPECT_EQ(d["compute_capability"], "9.0");
  EXPECT_EQ(d["result_verified"], true);
  EXPECT_EQ(d["iterations_timed"], 3);
  EXPECT_GT(d["fp32_matmul_flops_per_second"].get<double>(), 0);
  // A CPU triple loop claiming to be an H100 is far below 5% of 51.2 TFLOP/s.
  EXPECT_EQ(Codes(r), std::vector<std::string>{"gpu_compute_below_class"});
}

TEST(cuda_challenge_test, wrong_product_is_a_finding_and_no_rate_is_claimed) {
  ScopedEnv env({{"FAKE_CUDA_WRONG", "1"}, {"FAKE_CUDA_NAME", "Mystery GPU"}});
  MeterResult r = RunCompute(RESMETER_FAKE_CUDA);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  const auto& d = r.claims["devices"][0];
  EXPECT_EQ(d["result_verified"], false);
  EXPECT_FALSE(d.contains("fp32_matmul_flops_per_second"));
  EXPECT_EQ(Codes(r), std::vector<std::string>{"gpu_compute_wrong_result"});
}

TEST(cuda_challenge_test, device_missing_from_pci_is_a_finding) {
  ScopedEnv env({{"FAKE_CUDA_COUNT", "2"}, {"FAKE_CUDA_NAME", "Mystery GPU"}});
  MeterResult r = RunCompute(RESMETER_FAKE_CUDA);
  ASSERT_EQ(r.status, MeterStatus::kOk) << r.reason;
  EXPECT_EQ(Codes(r), std::vector<std::string>{"gpu_compute_not_on_pci"});
  EXPECT_EQ(r.findings[0].details["pci_bus_id"], "0000:19:00.0");
}

TEST(cuda_challenge_test, jit_failure_fails_with_the_jit_log) {
  ScopedEnv env({{"FAKE_CUDA_JIT_FAIL", "1"}});
  MeterResult r = RunCompute(RESMETER_FAKE_CUDA);
  EXPECT_EQ(r.status, MeterStatus::kFailed);
  EXPECT_NE(r.reason.find("CUDA_ERROR_INVALID_PTX"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("fake JIT failure"), std::string::npos) << r.reason;
  EXPECT_EQ(Codes(r), std::vector<std::string>{"gpu_compute_error"});
}

}  // namespace
}  // namespace resmeter
