#include "gpu/sgemm_kernel.h"

#include <cmath>
#include <random>

namespace resmeter {

// Register use: %r1 n, %r2 tx, %r3 ty, %r6 row, %r7 col, %r10/%r12 this
// thread's slots in tile_a/tile_b, %r13 &tile_a[ty][0], %r14 &tile_b[0][tx],
// %r15 k0 (tile start), %r18 k (inside a tile), %f1 the accumulator.
const char* SgemmPtx() {
  return R"PTX(//
// resmeter SGEMM challenge: C = A * B, n x n row-major FP32, 16x16 tiles.
//
.version 6.4
.target sm_52
.address_size 64

.visible .entry resmeter_sgemm(
	.param .u64 p_a,
	.param .u64 p_b,
	.param .u64 p_c,
	.param .u32 p_n
)
{
	.reg .pred	%p<2>;
	.reg .b32	%r<24>;
	.reg .f32	%f<4>;
	.reg .b64	%rd<8>;
	.shared .align 4 .f32 tile_a[256];
	.shared .align 4 .f32 tile_b[256];

	ld.param.u64	%rd1, [p_a];
	ld.param.u64	%rd2, [p_b];
	ld.param.u64	%rd3, [p_c];
	ld.param.u32	%r1, [p_n];
	cvta.to.global.u64	%rd1, %rd1;
	cvta.to.global.u64	%rd2, %rd2;
	cvta.to.global.u64	%rd3, %rd3;

	mov.u32	%r2, %tid.x;
	mov.u32	%r3, %tid.y;
	mov.u32	%r4, %ctaid.x;
	mov.u32	%r5, %ctaid.y;
	shl.b32	%r6, %r5, 4;
	add.u32	%r6, %r6, %r3;
	shl.b32	%r7, %r4, 4;
	add.u32	%r7, %r7, %r2;

	shl.b32	%r8, %r3, 4;
	add.u32	%r8, %r8, %r2;
	shl.b32	%r8, %r8, 2;
	mov.u32	%r9, tile_a;
	add.u32	%r10, %r9, %r8;
	mov.u32	%r11, tile_b;
	add.u32	%r12, %r11, %r8;
	shl.b32	%r13, %r3, 6;
	add.u32	%r13, %r9, %r13;
	shl.b32	%r14, %r2, 2;
	add.u32	%r14, %r11, %r14;

	mov.f32	%f1, 0f00000000;
	mov.u32	%r15, 0;
$TILE_LOOP:
	add.u32	%r16, %r15, %r2;
	mul.lo.u32	%r17, %r6, %r1;
	add.u32	%r17, %r17, %r16;
	mul.wide.u32	%rd4, %r17, 4;
	add.s64	%rd5, %rd1, %rd4;
	ld.global.f32	%f2, [%rd5];
	st.shared.f32	[%r10], %f2;

	add.u32	%r16, %r15, %r3;
	mul.lo.u32	%r17, %r16, %r1;
	add.u32	%r17, %r17, %r7;
	mul.wide.u32	%rd4, %r17, 4;
	add.s64	%rd5, %rd2, %rd4;
	ld.global.f32	%f2, [%rd5];
	st.shared.f32	[%r12], %f2;
	bar.sync	0;

	mov.u32	%r18, 0;
$K_LOOP:
	shl.b32	%r19, %r18, 2;
	add.u32	%r20, %r13, %r19;
	ld.shared.f32	%f2, [%r20];
	shl.b32	%r19, %r18, 6;
	add.u32	%r20, %r14, %r19;
	ld.shared.f32	%f3, [%r20];
	fma.rn.f32	%f1, %f2, %f3, %f1;
	add.u32	%r18, %r18, 1;
	setp.lt.u32	%p1, %r18, 16;
	@%p1 bra	$K_LOOP;

	bar.sync	0;
	add.u32	%r15, %r15, 16;
	setp.lt.u32	%p1, %r15, %r1;
	@%p1 bra	$TILE_LOOP;

	mul.lo.u32	%r17, %r6, %r1;
	add.u32	%r17, %r17, %r7;
	mul.wide.u32	%rd4, %r17, 4;
	add.s64	%rd5, %rd3, %rd4;
	st.global.f32	[%rd5], %f1;
	ret;
}
)PTX";
}

void FillSgemmInputs(int n, std::vector<float>& a, std::vector<float>& b) {
  const size_t nn = static_cast<size_t>(n) * n;
  a.resize(nn);
  b.resize(nn);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      a[static_cast<size_t>(i) * n + j] = static_cast<float>((i * 3 + j * 7) % 5 - 2);
      b[static_cast<size_t>(i) * n + j] = static_cast<float>((i * 5 + j * 11) % 7 - 3);
    }
  }
}

std::optional<std::string> VerifySgemm(int n, const std::vector<float>& a, const std::vector<float>& b,
                                       const std::vector<float>& c, uint64_t seed, int samples) {
  const size_t nn = static_cast<size_t>(n) * n;
  if (a.size() != nn || b.size() != nn || c.size() != nn) return "matrix sizes do not match n";
  // Every element must be an exact integer (see the header); then C is read
  // as integers in place (no copy: n = 8192 would need another 512 MiB).
  for (size_t i = 0; i < nn; ++i) {
    float v = c[i];
    if (!std::isfinite(v) || v != std::nearbyint(v) || std::fabs(v) > 16777216.0f) {
      return "element " + std::to_string(i) + " is " + std::to_string(v) + ", not an exact integer";
    }
  }
  auto ci = [&c, n](size_t i, size_t j) { return static_cast<int64_t>(c[i * n + j]); };
  std::mt19937_64 rng(seed);
  // Freivalds: r in [0, 2^20); all sums stay far below 2^63 for n <= 8192.
  std::vector<int64_t> r(n), br(n, 0), abr(n, 0), cr(n, 0);
  for (auto& x : r) x = static_cast<int64_t>(rng() & 0xfffff);
  for (int i = 0; i < n; ++i) {
    int64_t s = 0, t = 0;
    for (int k = 0; k < n; ++k) {
      s += static_cast<int64_t>(b[static_cast<size_t>(i) * n + k]) * r[k];
      t += ci(i, k) * r[k];
    }
    br[i] = s;
    cr[i] = t;
  }
  for (int i = 0; i < n; ++i) {
    int64_t s = 0;
    for (int k = 0; k < n; ++k) s += static_cast<int64_t>(a[static_cast<size_t>(i) * n + k]) * br[k];
    abr[i] = s;
  }
  for (int i = 0; i < n; ++i) {
    if (abr[i] != cr[i]) return "Freivalds check failed in row " + std::to_string(i);
  }
  for (int s = 0; s < samples; ++s) {
    int i = static_cast<int>(rng() % n), j = static_cast<int>(rng() % n);
    int64_t want = 0;
    for (int k = 0; k < n; ++k) {
      want += static_cast<int64_t>(a[static_cast<size_t>(i) * n + k]) *
              static_cast<int64_t>(b[static_cast<size_t>(k) * n + j]);
    }
    if (ci(i, j) != want) {
      return "C[" + std::to_string(i) + "][" + std::to_string(j) + "] is " + std::to_string(ci(i, j)) +
             ", want " + std::to_string(want);
    }
  }
  return std::nullopt;
}

double SgemmFlops(int n) { return 2.0 * n * n * static_cast<double>(n); }

}  // namespace resmeter
