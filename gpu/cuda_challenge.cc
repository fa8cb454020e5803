#include "gpu/cuda_challenge.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <random>

#include "claims/gpu_claim_specs.h"
#include "core/strings.h"
#include "gpu/cuda_driver.h"
#include "gpu/gpu_cross_checks.h"
#include "gpu/pci_scan.h"
#include "gpu/sgemm_kernel.h"

namespace resmeter {
namespace {

using nlohmann::json;

// Runs the cleanups it holds, last first, when it goes out of scope.
class Cleanup {
 public:
  ~Cleanup() {
    for (auto it = fns_.rbegin(); it != fns_.rend(); ++it) (*it)();
  }
  void Add(std::function<void()> fn) { fns_.push_back(std::move(fn)); }

 private:
  std::vector<std::function<void()>> fns_;
};

// Public FP32 peaks (dense, boost clock) from vendor datasheets, in TFLOP/s.
struct PeakEntry {
  const char* token;
  double tflops;
};
constexpr PeakEntry kPeaks[] = {
    {"B200", 60.0}, {"H200", 60.0}, {"H100", 51.2}, {"H800", 51.2}, {"GH200", 67.0}, {"A100", 19.5},
    {"A800", 19.5}, {"L40S", 91.6}, {"L40", 90.5},  {"L4", 30.3},   {"A40", 37.4},   {"A10", 31.2},
    {"A30", 10.3},  {"T4", 8.1},    {"V100", 14.0}, {"4090", 82.6}, {"3090", 35.6},
};

// What one device's run produced.
struct DeviceOutcome {
  json claims = json::object();
  std::vector<Finding> findings;
  bool ran = false;  // the challenge completed (verified or not)
};

// Records a CUDA failure into the outcome; returns false so callers can `return Fail(...)`.
bool Fail(const CudaDriver& cu, DeviceOutcome& out, const std::string& what, CuResult r,
          const std::string& extra = "") {
  std::string msg = what + " failed: " + cu.Error(r) + extra;
  out.claims["error"] = msg;
  out.findings.push_back({"gpu_compute_error",
                          "CUDA device " + out.claims.value("name", std::string("?")) + ": " + msg,
                          {{"ordinal", out.claims["ordinal"]}, {"error", msg}}});
  return false;
}

// Identity of one device (name, bus id, memory, compute capability).
void Describe(const CudaDriver& cu, CuDevice dev, json& j) {
  char buf[128] = {0};
  if (cu.cuDeviceGetName(buf, sizeof buf - 1, dev) == kCudaSuccess) j["name"] = buf;
  std::memset(buf, 0, sizeof buf);
  if (cu.cuDeviceGetPCIBusId(buf, sizeof buf - 1, dev) == kCudaSuccess) {
    j["pci_bus_id"] = NormalizePciBusId(buf).value_or(buf);
  }
  size_t mem = 0;
  if (cu.cuDeviceTotalMem(&mem, dev) == kCudaSuccess) j["memory_total_bytes"] = mem;
  int major = 0, minor = 0, sms = 0, khz = 0;
  if (cu.cuDeviceGetAttribute(&major, kCuAttrComputeCapabilityMajor, dev) == kCudaSuccess &&
      cu.cuDeviceGetAttribute(&minor, kCuAttrComputeCapabilityMinor, dev) == kCudaSuccess) {
    j["compute_capability"] = std::to_string(major) + "." + std::to_string(minor);
  }
  if (cu.cuDeviceGetAttribute(&sms, kCuAttrMultiprocessorCount, dev) == kCudaSuccess)
    j["multiprocessor_count"] = sms;
  if (cu.cuDeviceGetAttribute(&khz, kCuAttrClockRateKhz, dev) == kCudaSuccess) j["max_clock_hz"] = khz * 1e3;
}

// Runs the timed, verified multiply on one device.
bool RunDevice(const CudaDriver& cu, MeterContext& ctx, int ordinal, int n, int iterations,
               DeviceOutcome& out) {
  out.claims["ordinal"] = ordinal;
  CuDevice dev = 0;
  if (CuResult r = cu.cuDeviceGet(&dev, ordinal); r != kCudaSuccess) return Fail(cu, out, "cuDeviceGet", r);
  Describe(cu, dev, out.claims);
  ctx.Progress("gpu.compute: device " + std::to_string(ordinal) + " " +
               out.claims.value("name", std::string()));

  Cleanup cleanup;
  CuContext cctx = nullptr;
  if (CuResult r = cu.cuCtxCreate(&cctx, 0, dev); r != kCudaSuccess) return Fail(cu, out, "cuCtxCreate", r);
  cleanup.Add([&cu, cctx] { cu.cuCtxDestroy(cctx); });

  char jit_log[4096] = {0};
  int jit_opts[] = {kCuJitErrorLogBuffer, kCuJitErrorLogBufferSizeBytes};
  void* jit_vals[] = {jit_log, reinterpret_cast<void*>(static_cast<uintptr_t>(sizeof jit_log - 1))};
  CuModule module = nullptr;
  if (CuResult r = cu.cuModuleLoadDataEx(&module, SgemmPtx(), 2, jit_opts, jit_vals); r != kCudaSuccess) {
    return Fail(cu, out, "cuModuleLoadData (PTX JIT)", r, jit_log[0] ? std::string(": ") + jit_log : "");
  }
  cleanup.Add([&cu, module] { cu.cuModuleUnload(module); });
  CuFunction fn = nullptr;
  if (CuResult r = cu.cuModuleGetFunction(&fn, module, kSgemmKernelName); r != kCudaSuccess) {
    return Fail(cu, out, "cuModuleGetFunction", r);
  }

  std::vector<float> a, b, c(static_cast<size_t>(n) * n, 0.0f);
  FillSgemmInputs(n, a, b);
  const size_t bytes = a.size() * sizeof(float);
  CuDevicePtr da = 0, db = 0, dc = 0;
  for (CuDevicePtr* p : {&da, &db, &dc}) {
    if (CuResult r = cu.cuMemAlloc(p, bytes); r != kCudaSuccess) return Fail(cu, out, "cuMemAlloc", r);
    CuDevicePtr ptr = *p;
    cleanup.Add([&cu, ptr] { cu.cuMemFree(ptr); });
  }
  if (CuResult r = cu.cuMemcpyHtoD(da, a.data(), bytes); r != kCudaSuccess)
    return Fail(cu, out, "cuMemcpyHtoD", r);
  if (CuResult r = cu.cuMemcpyHtoD(db, b.data(), bytes); r != kCudaSuccess)
    return Fail(cu, out, "cuMemcpyHtoD", r);

  std::vector<CuEvent> events(static_cast<size_t>(iterations) + 1, nullptr);
  for (auto& e : events) {
    if (CuResult r = cu.cuEventCreate(&e, 0); r != kCudaSuccess) return Fail(cu, out, "cuEventCreate", r);
    CuEvent ev = e;
    cleanup.Add([&cu, ev] { cu.cuEventDestroy(ev); });
  }
  unsigned un = static_cast<unsigned>(n);
  void* params[] = {&da, &db, &dc, &un};
  const unsigned grid = un / kSgemmTile;
  auto launch = [&] {
    return cu.cuLaunchKernel(fn, grid, grid, 1, kSgemmTile, kSgemmTile, 1, 0, nullptr, params, nullptr);
  };
  // One untimed warm-up launch (JIT caches, clocks ramping up).
  if (CuResult r = launch(); r != kCudaSuccess) return Fail(cu, out, "cuLaunchKernel", r);
  if (CuResult r = cu.cuCtxSynchronize(); r != kCudaSuccess) return Fail(cu, out, "cuCtxSynchronize", r);
  std::vector<double> seconds;
  if (CuResult r = cu.cuEventRecord(events[0], nullptr); r != kCudaSuccess)
    return Fail(cu, out, "cuEventRecord", r);
  for (int i = 0; i < iterations && !ctx.cancelled(); ++i) {
    if (CuResult r = launch(); r != kCudaSuccess) return Fail(cu, out, "cuLaunchKernel", r);
    if (CuResult r = cu.cuEventRecord(events[i + 1], nullptr); r != kCudaSuccess) {
      return Fail(cu, out, "cuEventRecord", r);
    }
    if (CuResult r = cu.cuEventSynchronize(events[i + 1]); r != kCudaSuccess) {
      return Fail(cu, out, "cuEventSynchronize", r);
    }
    float ms = 0;
    if (CuResult r = cu.cuEventElapsedTime(&ms, events[i], events[i + 1]); r != kCudaSuccess) {
      return Fail(cu, out, "cuEventElapsedTime", r);
    }
    seconds.push_back(ms / 1e3);
  }
  if (seconds.empty()) {
    out.claims["error"] = "cancelled before the first timed iteration";
    return false;
  }
  if (CuResult r = cu.cuMemcpyDtoH(c.data(), dc, bytes); r != kCudaSuccess)
    return Fail(cu, out, "cuMemcpyDtoH", r);
  out.ran = true;

  std::random_device rd;
  const uint64_t seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();  // unpredictable to the host
  auto wrong = VerifySgemm(n, a, b, c, seed);
  out.claims["result_verified"] = !wrong.has_value();
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  if (wrong) {
    out.claims["unverified_iteration_median_seconds"] = median;
    out.findings.push_back({"gpu_compute_wrong_result",
                            "CUDA device " + std::to_string(ordinal) + " returned a wrong product: " + *wrong,
                            {{"ordinal", ordinal}, {"detail", *wrong}}});
    return true;
  }
  out.claims["iterations_timed"] = seconds.size();
  out.claims["iteration_median_seconds"] = median;
  out.claims["iteration_min_seconds"] = seconds.front();
  out.claims["fp32_matmul_flops_per_second"] = median > 0 ? SgemmFlops(n) / median : 0.0;
  out.claims["fp32_matmul_best_flops_per_second"] =
      seconds.front() > 0 ? SgemmFlops(n) / seconds.front() : 0.0;
  return true;
}

}  // namespace

std::optional<double> ReferencePeakFp32(const std::string& device_name) {
  const std::string token = GpuModelToken(device_name);
  for (const auto& p : kPeaks) {
    if (token == p.token) return p.tflops * 1e12;
  }
  return std::nullopt;
}

std::vector<OptionSpec> CudaChallengeMeterOptions() {
  return {
      {"cuda_library",
       OptionType::kString,
       kDefaultCudaLibrary,
       {},
       {},
       {},
       "CUDA driver library to dlopen (soname or path)"},
      {"matrix_size",
       OptionType::kInt,
       4096,
       64,
       kSgemmMaxN,
       {},
       "n of the n x n FP32 multiply (rounded down to a multiple of 16)"},
      {"iterations", OptionType::kInt, 10, 1, 1000, {}, "timed multiplies per GPU (after one warm-up)"},
      {"min_peak_ratio",
       OptionType::kDouble,
       0.05,
       0.0,
       1.0,
       {},
       "finding gpu_compute_below_class when measured/peak FP32 of the claimed model is below this"},
  };
}

MeterResult CudaChallengeMeter::Measure(MeterContext& ctx) {
  const std::string lib =
      ctx.options.Has("cuda_library") ? ctx.options.String("cuda_library") : std::string(kDefaultCudaLibrary);
  int n = static_cast<int>(ctx.options.Has("matrix_size") ? ctx.options.Int("matrix_size") : 4096);
  n = std::clamp(n - n % kSgemmTile, 64, kSgemmMaxN);
  const int iterations = static_cast<int>(ctx.options.Has("iterations") ? ctx.options.Int("iterations") : 10);
  const double min_ratio = ctx.options.Has("min_peak_ratio") ? ctx.options.Double("min_peak_ratio") : 0.05;

  auto pci = ScanPciGpus(*ctx.env, ctx.sys_root);
  auto loaded = CudaDriver::Load(lib);
  if (!loaded.ok()) {
    const bool no_nvidia = pci.ok() && std::none_of(pci->gpus.begin(), pci->gpus.end(), [](const PciGpu& g) {
                             return g.vendor_id == kPciVendorNvidia;
                           });
    return MeterResult::Unavailable((no_nvidia ? "no NVIDIA GPU on the PCI bus; " : "") +
                                    loaded.status().message());
  }
  const CudaDriver& cu = **loaded;
  if (CuResult r = cu.cuInit(0); r != kCudaSuccess)
    return MeterResult::Unavailable("cuInit failed: " + cu.Error(r));
  int count = 0;
  if (CuResult r = cu.cuDeviceGetCount(&count); r != kCudaSuccess) {
    return MeterResult::Unavailable("cuDeviceGetCount failed: " + cu.Error(r));
  }
  if (count <= 0) return MeterResult::Unavailable("no CUDA device");

  MeterResult res = MeterResult::Ok();
  int version = 0;
  if (cu.cuDriverGetVersion(&version) == kCudaSuccess) {
    SetClaim(res.claims, kGpuComputeDriverVersion,
             std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10));
  }
  res.conditions = {
      {"cuda_library", lib},
      {"matrix_size", n},
      {"iterations", iterations},
      {"kernel", "FP32 SGEMM, 16x16 shared-memory tiles, hand-written PTX JIT-compiled by the driver"},
      {"verification", "exact: Freivalds check with a random vector plus 64 random elements"},
      {"min_peak_ratio", min_ratio}};
  json devices = json::array();
  int completed = 0;
  for (int i = 0; i < count && !ctx.cancelled(); ++i) {
    DeviceOutcome out;
    RunDevice(cu, ctx, i, n, iterations, out);
    if (out.ran) ++completed;
    const std::string name = out.claims.value("name", std::string());
    if (out.claims.contains("fp32_matmul_flops_per_second")) {
      const double flops = out.claims["fp32_matmul_flops_per_second"];
      if (auto peak = ReferencePeakFp32(name)) {
        out.claims["reference_peak_fp32_flops_per_second"] = *peak;
        out.claims["peak_ratio"] = flops / *peak;
        if (flops < min_ratio * *peak) {
          out.findings.push_back(
              {"gpu_compute_below_class",
               "CUDA device " + std::to_string(i) + " (" + name + ") multiplied at " +
                   FormatScaled(flops, "FLOP/s") + ", below " + std::to_string(min_ratio) +
                   " of the model's FP32 peak " + FormatScaled(*peak, "FLOP/s"),
               {{"ordinal", i}, {"measured_flops_per_second", flops}, {"peak_flops_per_second", *peak}}});
        }
      }
    }
    if (pci.ok() && out.claims.contains("pci_bus_id")) {
      const std::string bus = out.claims["pci_bus_id"];
      bool on_pci =
          std::any_of(pci->gpus.begin(), pci->gpus.end(), [&](const PciGpu& g) { return g.bus_id == bus; });
      if (!on_pci) {
        out.findings.push_back({"gpu_compute_not_on_pci",
                                "CUDA device " + std::to_string(i) + " claims PCI bus id " + bus +
                                    " but no GPU is there on the PCI bus",
                                {{"ordinal", i}, {"pci_bus_id", bus}}});
      }
    }
    res.findings.insert(res.findings.end(), out.findings.begin(), out.findings.end());
    devices.push_back(std::move(out.claims));
  }
  SetClaim(res.claims, kGpuComputeDeviceCount, count);
  SetClaim(res.claims, kGpuComputeDevices, std::move(devices));
  if (ctx.cancelled()) return MeterResult::Failed("cancelled");
  if (completed == 0) {
    MeterResult failed = MeterResult::Failed(
        "the challenge did not complete on any of " + std::to_string(count) +
        " CUDA devices; first error: " + res.claims["devices"][0].value("error", std::string("unknown")));
    failed.claims = std::move(res.claims);
    failed.conditions = std::move(res.conditions);
    failed.findings = std::move(res.findings);
    return failed;
  }
  return res;
}

}  // namespace resmeter
