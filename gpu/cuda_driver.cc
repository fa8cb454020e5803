#include "gpu/cuda_driver.h"

#include <dlfcn.h>

namespace resmeter {
namespace {

// Resolves the first name that exists into `fn`; false when none does.
template <typename F>
bool Bind(void* handle, F& fn, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (void* p = dlsym(handle, n)) {
      fn = reinterpret_cast<F>(p);
      return true;
    }
  }
  return false;
}

}  // namespace

CudaDriver::~CudaDriver() {
  if (handle_) dlclose(handle_);
}

Result<std::unique_ptr<CudaDriver>> CudaDriver::Load(const std::string& library) {
  dlerror();
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* err = dlerror();
    return Status::NotFound("CUDA driver library " + library +
                            " not loadable: " + (err ? err : "unknown error"));
  }
  std::unique_ptr<CudaDriver> d(new CudaDriver());
  d->handle_ = handle;
  d->library_ = library;
  std::string missing;
  auto need = [&](auto& fn, std::initializer_list<const char*> names) {
    if (!Bind(handle, fn, names)) missing += std::string(missing.empty() ? "" : ", ") + *names.begin();
  };
  need(d->cuInit, {"cuInit"});
  need(d->cuDriverGetVersion, {"cuDriverGetVersion"});
  need(d->cuDeviceGetCount, {"cuDeviceGetCount"});
  need(d->cuDeviceGet, {"cuDeviceGet"});
  need(d->cuDeviceGetName, {"cuDeviceGetName"});
  need(d->cuDeviceGetAttribute, {"cuDeviceGetAttribute"});
  need(d->cuDeviceGetPCIBusId, {"cuDeviceGetPCIBusId"});
  need(d->cuDeviceTotalMem, {"cuDeviceTotalMem_v2"});
  need(d->cuCtxCreate, {"cuCtxCreate_v2"});
  need(d->cuCtxDestroy, {"cuCtxDestroy_v2"});
  need(d->cuCtxSynchronize, {"cuCtxSynchronize"});
  need(d->cuModuleLoadDataEx, {"cuModuleLoadDataEx"});
  need(d->cuModuleGetFunction, {"cuModuleGetFunction"});
  need(d->cuModuleUnload, {"cuModuleUnload"});
  need(d->cuMemAlloc, {"cuMemAlloc_v2"});
  need(d->cuMemFree, {"cuMemFree_v2"});
  need(d->cuMemcpyHtoD, {"cuMemcpyHtoD_v2"});
  need(d->cuMemcpyDtoH, {"cuMemcpyDtoH_v2"});
  need(d->cuLaunchKernel, {"cuLaunchKernel"});
  need(d->cuEventCreate, {"cuEventCreate"});
  need(d->cuEventRecord, {"cuEventRecord"});
  need(d->cuEventSynchronize, {"cuEventSynchronize"});
  need(d->cuEventElapsedTime, {"cuEventElapsedTime"});
  need(d->cuEventDestroy, {"cuEventDestroy_v2"});
  Bind(handle, d->cuGetErrorName, {"cuGetErrorName"});
  Bind(handle, d->cuGetErrorString, {"cuGetErrorString"});
  if (!missing.empty()) {
    return Status::NotSupported("CUDA driver library " + library + " lacks " + missing);
  }
  return d;
}

std::string CudaDriver::Error(CuResult r) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName && cuGetErrorName(r, &name) != kCudaSuccess) name = nullptr;
  if (cuGetErrorString && cuGetErrorString(r, &text) != kCudaSuccess) text = nullptr;
  std::string out = name ? name : "CUDA error " + std::to_string(r);
  if (text) out += std::string(" (") + text + ")";
  return out;
}

}  // namespace resmeter
