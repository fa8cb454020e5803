// The matrix-multiply challenge's pieces that do not touch a GPU: the PTX
// kernel (hand-written, JIT-compiled by the CUDA driver for whatever GPU is
// present), the deterministic inputs, and the host-side verification.
//
// Kernel: C = A * B for n x n row-major FP32 matrices, n a multiple of
// kSgemmTile; one thread per C element, 16x16 thread blocks staging 16x16
// tiles of A and B in shared memory. Launch with grid (n/16, n/16, 1), block
// (16, 16, 1), parameters (u64 a, u64 b, u64 c, u32 n).
//
// Inputs are small integers (A in [-2, 2], B in [-3, 3]) so every partial sum
// is an integer below 2^24 and FP32 arithmetic is exact in any order: the
// result must match the host's integer arithmetic bit for bit. Verification
// uses Freivalds' check (C*r == A*(B*r) for a random r, O(n^2)) plus exact
// comparison of sampled elements. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace resmeter {

inline constexpr int kSgemmTile = 16;
inline constexpr const char* kSgemmKernelName = "resmeter_sgemm";
// The largest n for which the integer-exactness argument holds (6n < 2^24).
inline constexpr int kSgemmMaxN = 8192;

// The PTX module text (NUL-terminated, as cuModuleLoadData wants).
const char* SgemmPtx();

// Fills the n x n inputs.
void FillSgemmInputs(int n, std::vector<float>& a, std::vector<float>& b);

// Checks c == a*b: Freivalds with the random vector from `seed`, then
// `samples` elements chosen from `seed`. nullopt when correct, else why not.
std::optional<std::string> VerifySgemm(int n, const std::vector<float>& a, const std::vector<float>& b,
                                       const std::vector<float>& c, uint64_t seed, int samples = 64);

// FLOPs of one n x n x n multiply (2 n^3).
double SgemmFlops(int n);

}  // namespace resmeter
