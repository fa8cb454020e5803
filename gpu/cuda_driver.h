// CudaDriver: the slice of the CUDA driver API that the compute challenge
// uses, loaded at run time with dlopen("libcuda.so.1") (or a configured
// path), so resmeter builds and runs without CUDA installed.
//
// Types mirror cuda.h's ABI (handles are opaque pointers, CUdevice is int,
// CUdeviceptr is 64-bit). A CudaDriver is immutable after Load(); the CUDA
// driver itself is thread-safe, but a context is current per thread, so use
// one thread per context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace resmeter {

inline constexpr const char* kDefaultCudaLibrary = "libcuda.so.1";

using CuResult = int;  // CUresult; 0 is CUDA_SUCCESS
using CuDevice = int;
using CuDevicePtr = unsigned long long;
using CuContext = struct CuOpaqueContext*;
using CuModule = struct CuOpaqueModule*;
using CuFunction = struct CuOpaqueFunction*;
using CuEvent = struct CuOpaqueEvent*;
using CuStream = struct CuOpaqueStream*;

inline constexpr CuResult kCudaSuccess = 0;
// CUdevice_attribute values used.
inline constexpr int kCuAttrClockRateKhz = 13;
inline constexpr int kCuAttrMultiprocessorCount = 16;
inline constexpr int kCuAttrComputeCapabilityMajor = 75;
inline constexpr int kCuAttrComputeCapabilityMinor = 76;
// CUjit_option values used.
inline constexpr int kCuJitErrorLogBuffer = 5;
inline constexpr int kCuJitErrorLogBufferSizeBytes = 6;

class CudaDriver {
 public:
  // Opens the library and resolves every entry point. NotFound when it cannot
  // be opened (dlerror in the message), NotSupported when a symbol is missing.
  static Result<std::unique_ptr<CudaDriver>> Load(const std::string& library);
  ~CudaDriver();
  CudaDriver(const CudaDriver&) = delete;
  CudaDriver& operator=(const CudaDriver&) = delete;

  // "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)" or the code.
  std::string Error(CuResult r) const;
  const std::string& library() const { return library_; }

  CuResult (*cuInit)(unsigned flags) = nullptr;
  CuResult (*cuDriverGetVersion)(int* version) = nullptr;
  CuResult (*cuDeviceGetCount)(int* count) = nullptr;
  CuResult (*cuDeviceGet)(CuDevice* device, int ordinal) = nullptr;
  CuResult (*cuDeviceGetName)(char* name, int len, CuDevice device) = nullptr;
  CuResult (*cuDeviceGetAttribute)(int* value, int attribute, CuDevice device) = nullptr;
  CuResult (*cuDeviceGetPCIBusId)(char* bus_id, int len, CuDevice device) = nullptr;
  CuResult (*cuDeviceTotalMem)(size_t* bytes, CuDevice device) = nullptr;              // _v2
  CuResult (*cuCtxCreate)(CuContext* ctx, unsigned flags, CuDevice device) = nullptr;  // _v2
  CuResult (*cuCtxDestroy)(CuContext ctx) = nullptr;                                   // _v2
  CuResult (*cuCtxSynchronize)() = nullptr;
  CuResult (*cuModuleLoadDataEx)(CuModule* module, const void* image, unsigned num_options, int* options,
                                 void** option_values) = nullptr;
  CuResult (*cuModuleGetFunction)(CuFunction* fn, CuModule module, const char* name) = nullptr;
  CuResult (*cuModuleUnload)(CuModule module) = nullptr;
  CuResult (*cuMemAlloc)(CuDevicePtr* ptr, size_t bytes) = nullptr;                    // _v2
  CuResult (*cuMemFree)(CuDevicePtr ptr) = nullptr;                                    // _v2
  CuResult (*cuMemcpyHtoD)(CuDevicePtr dst, const void* src, size_t bytes) = nullptr;  // _v2
  CuResult (*cuMemcpyDtoH)(void* dst, CuDevicePtr src, size_t bytes) = nullptr;        // _v2
  CuResult (*cuLaunchKernel)(CuFunction fn, unsigned grid_x, unsigned grid_y, unsigned grid_z,
                             unsigned block_x, unsigned block_y, unsigned block_z, unsigned shared_bytes,
                             CuStream stream, void** params, void** extra) = nullptr;
  CuResult (*cuEventCreate)(CuEvent* event, unsigned flags) = nullptr;
  CuResult (*cuEventRecord)(CuEvent event, CuStream stream) = nullptr;
  CuResult (*cuEventSynchronize)(CuEvent event) = nullptr;
  CuResult (*cuEventElapsedTime)(float* ms, CuEvent start, CuEvent end) = nullptr;
  CuResult (*cuEventDestroy)(CuEvent event) = nullptr;                    // _v2
  CuResult (*cuGetErrorName)(CuResult r, const char** name) = nullptr;    // optional
  CuResult (*cuGetErrorString)(CuResult r, const char** text) = nullptr;  // optional

 private:
  CudaDriver() = default;
  void* handle_ = nullptr;
  std::string library_;
};

}  // namespace resmeter
