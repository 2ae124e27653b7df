#pragma once
// A fixed team of threads for one network's forward and backward passes. run() hands every thread
// a part index and waits for all of them; inside a task, barrier() lines the parts up. It
// allocates nothing, so training stays allocation-free.
//
// A training step dispatches a few times per batch, microseconds apart, so waiting is a short spin
// on an atomic (a dispatch then costs about a microsecond, where a condition variable costs tens);
// a worker that has spun for about a millisecond without work goes to sleep on a condition
// variable, so an idle team burns no CPU.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace descent::nn::detail {

/// One iteration of a spin-wait: a pause instruction where there is one; after many, a yield.
inline void spin_pause(unsigned& spins) {
  if (++spins < 4096) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}

class ThreadPool {
 public:
  /// `threads` workers in all, the calling thread included.
  explicit ThreadPool(int threads) : m_parts(threads < 1 ? 1 : threads) {
    for (int i = 1; i < m_parts; ++i) m_workers.emplace_back([this, i] { work(i); });
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool() {
    {
      std::lock_guard lock(m_mutex);
      m_quit.store(true);
    }
    m_wake.notify_all();
    for (auto& t : m_workers) t.join();
  }

  int size() const { return m_parts; }

  /// Calls task(context, part) for part = 0 .. size()-1, each on its own thread, at the same
  /// time; returns when all are done. Not reentrant: one run() at a time.
  void run(void (*task)(void*, int), void* context) {
    if (m_parts == 1) return task(context, 0);
    m_task = task;
    m_context = context;
    m_pending.store(m_parts - 1, std::memory_order_relaxed);
    m_generation.fetch_add(1);  // publishes the task (sequentially consistent: see work())
    if (m_sleepers.load() > 0) {
      std::lock_guard lock(m_mutex);
      m_wake.notify_all();
    }
    task(context, 0);
    for (unsigned spins = 0; m_pending.load(std::memory_order_acquire) != 0;) spin_pause(spins);
  }

  /// Called by every part of a task: returns once all parts have called it.
  void barrier() {
    if (m_parts == 1) return;
    const auto phase = m_barrier_phase.load(std::memory_order_acquire);
    if (m_barrier_count.fetch_add(1, std::memory_order_acq_rel) + 1 == m_parts) {
      m_barrier_count.store(0, std::memory_order_relaxed);
      m_barrier_phase.fetch_add(1, std::memory_order_release);
      return;
    }
    for (unsigned spins = 0; m_barrier_phase.load(std::memory_order_acquire) == phase;) {
      spin_pause(spins);
    }
  }

 private:
  void work(int part) {
    std::uint64_t seen = 0;
    while (true) {
      // Spin a while (a few thousand pauses, then yields) for the next task ...
      unsigned spins = 0;
      while (m_generation.load() == seen && !m_quit.load() && spins < 8192) spin_pause(spins);
      if (m_generation.load() == seen && !m_quit.load()) {
        // ... then sleep. Sleepers is raised before generation is read again, and run() raises
        // generation before it reads sleepers: one of the two sees the other, so no wake-up is
        // lost.
        std::unique_lock lock(m_mutex);
        m_sleepers.fetch_add(1);
        m_wake.wait(lock, [&] { return m_quit.load() || m_generation.load() != seen; });
        m_sleepers.fetch_sub(1);
      }
      if (m_quit.load()) return;
      seen = m_generation.load();
      m_task(m_context, part);
      m_pending.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  int m_parts;
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  void (*m_task)(void*, int) = nullptr;
  void* m_context = nullptr;
  std::atomic<std::uint64_t> m_generation{0};
  std::atomic<int> m_pending{0}, m_sleepers{0}, m_barrier_count{0};
  std::atomic<std::uint32_t> m_barrier_phase{0};
  std::atomic<bool> m_quit{false};
};

}  // namespace descent::nn::detail
