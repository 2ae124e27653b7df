#pragma once
// A fixed team of threads for splitting one layer's matrix products. run() hands every thread a
// part index and waits for all of them; it allocates nothing, so training stays allocation-free.

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

namespace descent::nn::detail {

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
      m_quit = true;
    }
    m_wake.notify_all();
    for (auto& t : m_workers) t.join();
  }

  int size() const { return m_parts; }

  /// Calls task(context, part) for part = 0 .. size()-1, in parallel; returns when all are done.
  void run(void (*task)(void*, int), void* context) {
    if (m_parts == 1) return task(context, 0);
    {
      std::lock_guard lock(m_mutex);
      m_task = task;
      m_context = context;
      m_pending = m_parts - 1;
      ++m_generation;
    }
    m_wake.notify_all();
    task(context, 0);
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_pending == 0; });
  }

 private:
  void work(int part) {
    std::size_t seen = 0;
    while (true) {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [&] { return m_quit || m_generation != seen; });
      if (m_quit) return;
      seen = m_generation;
      auto* task = m_task;
      void* context = m_context;
      lock.unlock();
      task(context, part);
      lock.lock();
      if (--m_pending == 0) m_done.notify_one();
    }
  }

  int m_parts;
  std::vector<std::thread> m_workers;
  std::mutex m_mutex;
  std::condition_variable m_wake, m_done;
  void (*m_task)(void*, int) = nullptr;
  void* m_context = nullptr;
  int m_pending = 0;
  std::size_t m_generation = 0;
  bool m_quit = false;
};

}  // namespace descent::nn::detail
