/* A fake NVML for tests: implements the few NVML entry points that
 * gpu/nvml_loader.cc resolves, and by default plays a patched NVML that
 * claims 8 H100s. Behaviour is read from the environment on every call:
 *   FAKE_NVML_COUNT          devices reported (default 8)
 *   FAKE_NVML_NAME           device name (default "NVIDIA H100 80GB HBM3")
 *   FAKE_NVML_DRIVER_VERSION driver version (default "535.104.05")
 *   FAKE_NVML_UUID_SALT      mixed into UUIDs (default 0) to simulate a swap
 *   FAKE_NVML_INIT_FAIL      when set, nvmlInit_v2 fails with NVML_ERROR_DRIVER_NOT_LOADED
 * Device i sits at PCI bus 0x18+i and reports PCI id 10de:2330. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct fake_device* nvmlDevice_t;
enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_DRIVER_NOT_LOADED = 9
};

typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvmlPciInfo_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  unsigned int environment, ccFeature, devToolsMode;
} nvmlConfComputeSystemState_t;

static const char* env_or(const char* name, const char* dflt) {
  const char* v = getenv(name);
  return v && *v ? v : dflt;
}
static unsigned count(void) { return (unsigned)atoi(env_or("FAKE_NVML_COUNT", "8")); }
static unsigned index_of(nvmlDevice_t d) { return (unsigned)((size_t)d - 1); }
static nvmlReturn_t copy_out(char* buf, unsigned len, const char* s) {
  if (!buf) return NVML_ERROR_INVALID_ARGUMENT;
  if (strlen(s) + 1 > len) return NVML_ERROR_INSUFFICIENT_SIZE;
  memcpy(buf, s, strlen(s) + 1);
  return NVML_SUCCESS;
}

nvmlReturn_t nvmlInit_v2(void) {
  return getenv("FAKE_NVML_INIT_FAIL") ? NVML_ERROR_DRIVER_NOT_LOADED : NVML_SUCCESS;
}
nvmlReturn_t nvmlShutdown(void) { return NVML_SUCCESS; }
const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case NVML_SUCCESS:
      return "Success";
    case NVML_ERROR_NOT_SUPPORTED:
      return "Not Supported";
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return "Driver Not Loaded";
    default:
      return "Unknown Error";
  }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char* v, unsigned len) {
  return copy_out(v, len, env_or("FAKE_NVML_DRIVER_VERSION", "535.104.05"));
}
nvmlReturn_t nvmlSystemGetNVMLVersion(char* v, unsigned len) { return copy_out(v, len, "12.535.104.05"); }
nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t* s) {
  s->environment = 2;
  s->ccFeature = 1;
  s->devToolsMode = 0;
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* n) {
  *n = count();
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t* d) {
  if (i >= count()) return NVML_ERROR_INVALID_ARGUMENT;
  *d = (nvmlDevice_t)(size_t)(i + 1);
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* n, unsigned len) {
  (void)d;
  return copy_out(n, len, env_or("FAKE_NVML_NAME", "NVIDIA H100 80GB HBM3"));
}
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* u, unsigned len) {
  char buf[80];
  snprintf(buf, sizeof buf, "GPU-fa4e%04x-0000-4000-8000-%012x",
           (unsigned)atoi(env_or("FAKE_NVML_UUID_SALT", "0")), index_of(d));
  return copy_out(u, len, buf);
}
nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t d, char* s, unsigned len) {
  char buf[32];
  snprintf(buf, sizeof buf, "165232%07u", 4242 + index_of(d));
  return copy_out(s, len, buf);
}
nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* p) {
  memset(p, 0, sizeof *p);
  p->bus = 0x18 + index_of(d);
  p->pciDeviceId = 0x233010DEu;
  p->pciSubSystemId = 0x16C110DEu;
  snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "0000:%02X:00.0", p->bus);
  snprintf(p->busId, sizeof p->busId, "00000000:%02X:00.0", p->bus);
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  (void)d;
  m->total = 85520809984ull;
  m->used = 0;
  m->free = m->total;
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, unsigned type, unsigned* mhz) {
  (void)d;
  static const unsigned kMhz[] = {1980, 1980, 2619};
  if (type > 2) return NVML_ERROR_INVALID_ARGUMENT;
  *mhz = kMhz[type];
  return NVML_SUCCESS;
}
nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned* mw) {
  (void)d;
  *mw = 700000;
  return NVML_SUCCESS;
}
