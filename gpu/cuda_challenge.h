// gpu.compute (heavy): proves each NVIDIA GPU computes, and at what speed,
// with a timed FP32 matrix multiply through the CUDA driver API (dlopen'd
// libcuda.so.1, a hand-written PTX kernel JIT-compiled by the driver; see
// gpu/sgemm_kernel.h). The result is verified exactly on the host, so a GPU
// that skips or fakes the work is caught, and the measured rate is compared
// with the public FP32 peak of the model the device claims to be.
//
// No libcuda, cuInit failing or no CUDA device: unavailable with the reason.
// Findings: gpu_compute_wrong_result, gpu_compute_below_class,
// gpu_compute_error, gpu_compute_not_on_pci.
//
// Threading: Measure() runs everything on its calling thread (a CUDA context
// is current per thread) and polls ctx.cancelled() between iterations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/option_spec.h"
#include "meters/api/meter.h"

namespace resmeter {

class CudaChallengeMeter final : public Meter {
 public:
  // Runs the challenge on every CUDA device; see the file comment.
  MeterResult Measure(MeterContext& ctx) override;
};

// The meter's options (cuda_library, matrix_size, iterations, min_peak_ratio).
std::vector<OptionSpec> CudaChallengeMeterOptions();

// Public FP32 peak (FLOP/s, no sparsity) of the model a device name claims,
// the lowest variant's when a model has several; nullopt when unknown.
std::optional<double> ReferencePeakFp32(const std::string& device_name);

}  // namespace resmeter
