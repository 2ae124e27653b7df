#pragma once
// Counting every heap allocation, for tests that promise none. Include this first, in one
// translation unit per test executable: it replaces the global operator new (which counts, and
// records the largest request) and makes Eigen's EIGEN_RUNTIME_NO_MALLOC check throw, since
// Eigen's aligned_malloc bypasses operator new.

#include <stdexcept>

struct EigenHeapAllocation : std::logic_error {
  using std::logic_error::logic_error;
};
#define EIGEN_RUNTIME_NO_MALLOC
#define eigen_assert(x) \
  do {                  \
    if (!(x)) throw EigenHeapAllocation(#x); \
  } while (false)

#include <Eigen/Core>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::size_t> g_allocations{0};
std::atomic<std::size_t> g_largest_allocation{0};
}  // namespace

// GCC 12 flags std::free inside a replaced operator delete as a mismatch; it pairs with our malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  ++g_allocations;
  std::size_t largest = g_largest_allocation.load();
  while (size > largest && !g_largest_allocation.compare_exchange_weak(largest, size)) {
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
// Catch allocates with new(std::nothrow); left to the runtime (ASan's, say), those would be freed
// by our delete and reported as mismatched.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return operator new(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }
#pragma GCC diagnostic pop

namespace {

/// Allocations made by f(), by operator new and by Eigen's own aligned malloc.
template <class F>
std::size_t allocations_in(F&& f) {
  const std::size_t before = g_allocations.load();
  std::size_t by_eigen = 0;
  Eigen::internal::set_is_malloc_allowed(false);
  try {
    f();
  } catch (const EigenHeapAllocation&) {
    by_eigen = 1;
  }
  Eigen::internal::set_is_malloc_allowed(true);
  return g_allocations.load() - before + by_eigen;
}

}  // namespace
