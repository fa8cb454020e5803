/* A fake CUDA driver for tests: implements the driver API entry points that
 * gpu/cuda_driver.cc resolves. "Device memory" is host memory and
 * cuLaunchKernel runs the SGEMM on the CPU after checking the launch shape and
 * that the module was loaded from resmeter's PTX, so the whole host-side flow
 * of gpu.compute runs without a GPU. Environment, read on every call:
 *   FAKE_CUDA_NO_DEVICE  cuInit fails with CUDA_ERROR_NO_DEVICE
 *   FAKE_CUDA_COUNT      devices (default 1), PCI bus 0x18+i
 *   FAKE_CUDA_NAME       device name (default "NVIDIA H100 80GB HBM3")
 *   FAKE_CUDA_WRONG      corrupt one element of C (a GPU that fakes work)
 *   FAKE_CUDA_JIT_FAIL   cuModuleLoadDataEx fails with a JIT log */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int CUresult;
enum { OK = 0, INVALID_VALUE = 1, NO_DEVICE = 100, INVALID_PTX = 218, NOT_FOUND = 500 };

static const char* env_or(const char* name, const char* dflt) {
  const char* v = getenv(name);
  return v && *v ? v : dflt;
}
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int g_module_ok = 0;

CUresult cuInit(unsigned flags) {
  return flags != 0 ? INVALID_VALUE : getenv("FAKE_CUDA_NO_DEVICE") ? NO_DEVICE : OK;
}
CUresult cuDriverGetVersion(int* v) {
  *v = 12020;
  return OK;
}
CUresult cuDeviceGetCount(int* n) {
  *n = atoi(env_or("FAKE_CUDA_COUNT", "1"));
  return OK;
}
CUresult cuDeviceGet(int* d, int ordinal) {
  *d = ordinal;
  return OK;
}
CUresult cuDeviceGetName(char* name, int len, int d) {
  (void)d;
  snprintf(name, (size_t)len, "%s", env_or("FAKE_CUDA_NAME", "NVIDIA H100 80GB HBM3"));
  return OK;
}
CUresult cuDeviceGetAttribute(int* v, int attr, int d) {
  (void)d;
  switch (attr) {
    case 13:
      *v = 1980000;
      return OK;
    case 16:
      *v = 132;
      return OK;
    case 75:
      *v = 9;
      return OK;
    case 76:
      *v = 0;
      return OK;
    default:
      return INVALID_VALUE;
  }
}
CUresult cuDeviceGetPCIBusId(char* bus, int len, int d) {
  snprintf(bus, (size_t)len, "0000:%02X:00.0", 0x18 + d);
  return OK;
}
CUresult cuDeviceTotalMem_v2(size_t* bytes, int d) {
  (void)d;
  *bytes = 85520809984ull;
  return OK;
}
CUresult cuCtxCreate_v2(void** ctx, unsigned flags, int d) {
  (void)flags;
  *ctx = (void*)(uintptr_t)(d + 1);
  return OK;
}
CUresult cuCtxDestroy_v2(void* ctx) {
  (void)ctx;
  return OK;
}
CUresult cuCtxSynchronize(void) { return OK; }
CUresult cuModuleLoadDataEx(void** mod, const void* image, unsigned n, int* opts, void** vals) {
  g_module_ok = 0;
  if (getenv("FAKE_CUDA_JIT_FAIL")) {
    for (unsigned i = 0; i < n; ++i) {
      if (opts[i] == 5) snprintf((char*)vals[i], 64, "ptxas fatal   : fake JIT failure");
    }
    return INVALID_PTX;
  }
  if (!strstr((const char*)image, ".entry resmeter_sgemm(")) return INVALID_PTX;
  g_module_ok = 1;
  *mod = (void*)(uintptr_t)1;
  return OK;
}
CUresult cuModuleGetFunction(void** fn, void* mod, const char* name) {
  (void)mod;
  if (strcmp(name, "resmeter_sgemm") != 0) return NOT_FOUND;
  *fn = (void*)(uintptr_t)2;
  return OK;
}
CUresult cuModuleUnload(void* mod) {
  (void)mod;
  return OK;
}
CUresult cuMemAlloc_v2(unsigned long long* p, size_t bytes) {
  void* m = malloc(bytes);
  if (!m) return 2;
  *p = (unsigned long long)(uintptr_t)m;
  return OK;
}
CUresult cuMemFree_v2(unsigned long long p) {
  free((void*)(uintptr_t)p);
  return OK;
}
CUresult cuMemcpyHtoD_v2(unsigned long long dst, const void* src, size_t bytes) {
  memcpy((void*)(uintptr_t)dst, src, bytes);
  return OK;
}
CUresult cuMemcpyDtoH_v2(void* dst, unsigned long long src, size_t bytes) {
  memcpy(dst, (const void*)(uintptr_t)src, bytes);
  return OK;
}
CUresult cuLaunchKernel(void* fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void* stream, void** params, void** extra) {
  (void)fn;
  (void)stream;
  if (!g_module_ok || extra || shared != 0) return INVALID_VALUE;
  const float* a = (const float*)(uintptr_t) * (unsigned long long*)params[0];
  const float* b = (const float*)(uintptr_t) * (unsigned long long*)params[1];
  float* c = (float*)(uintptr_t) * (unsigned long long*)params[2];
  unsigned n = *(unsigned*)params[3];
  if (bx != 16 || by != 16 || bz != 1 || gz != 1 || gx * 16 != n || gy * 16 != n) return INVALID_VALUE;
  for (unsigned i = 0; i < n; ++i) {
    for (unsigned j = 0; j < n; ++j) {
      float s = 0;
      for (unsigned k = 0; k < n; ++k) s += a[i * n + k] * b[k * n + j];
      c[i * n + j] = s;
    }
  }
  if (getenv("FAKE_CUDA_WRONG")) c[n + 3] += 1.0f;
  return OK;
}
CUresult cuEventCreate(void** e, unsigned flags) {
  (void)flags;
  *e = calloc(1, sizeof(double));
  return OK;
}
CUresult cuEventRecord(void* e, void* stream) {
  (void)stream;
  *(double*)e = now_ms();
  return OK;
}
CUresult cuEventSynchronize(void* e) {
  (void)e;
  return OK;
}
CUresult cuEventElapsedTime(float* ms, void* start, void* end) {
  *ms = (float)(*(double*)end - *(double*)start);
  return OK;
}
CUresult cuEventDestroy_v2(void* e) {
  free(e);
  return OK;
}
CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = r == NO_DEVICE     ? "CUDA_ERROR_NO_DEVICE"
       : r == INVALID_PTX ? "CUDA_ERROR_INVALID_PTX"
                          : "CUDA_ERROR_UNKNOWN";
  return OK;
}
CUresult cuGetErrorString(CUresult r, const char** s) {
  *s = r == NO_DEVICE     ? "no CUDA-capable device is detected"
       : r == INVALID_PTX ? "a PTX JIT compilation failed"
                          : "unknown error";
  return OK;
}
