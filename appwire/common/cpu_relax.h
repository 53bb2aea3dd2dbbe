// CpuRelax(): the "I am spinning" hint for a busy-wait loop's body.
//
//   while (!done.load(std::memory_order_acquire) && Now() < spin_until) CpuRelax();
//
// x86 PAUSE and ARM YIELD tell the core (and its hyper-thread sibling) that
// this is a spin: less power, no memory-order mis-speculation penalty when
// the awaited store lands. Elsewhere it does nothing; the loop still works.
// Header-only so the hint inlines into the loop.
#ifndef APPWIRE_COMMON_CPU_RELAX_H_
#define APPWIRE_COMMON_CPU_RELAX_H_

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#include <immintrin.h>
#elif defined(_MSC_VER) && (defined(_M_ARM64) || defined(_M_ARM))
#include <intrin.h>
#endif

namespace appwire {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
  _mm_pause();
#elif defined(_MSC_VER) && (defined(_M_ARM64) || defined(_M_ARM))
  __yield();
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
  __asm__ __volatile__("yield");
#endif
}

}  // namespace appwire

#endif  // APPWIRE_COMMON_CPU_RELAX_H_
