/*
 * The addon's persistent worker threads: matmul and the large elementwise kernels split their output over them
 * instead of creating threads on every call (which cost more than a small matmul saved). Threads start on first
 * use, up to the most parts ever asked for, and then sleep on a condition variable between jobs.
 *
 * Which thread computes a part never changes a bit: each part is a fixed range of outputs computed in the
 * reference order. One job runs at a time; a caller that finds the pool busy (another JavaScript thread using
 * the addon) runs every part itself, as it does when a thread cannot be started.
 */
#include "pool.h"
#include <pthread.h>

#define POOL_MAX 63

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* held by the one caller running a job */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;     /* guards everything below */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static long workers = 0;            /* threads started; worker i (1..workers) runs part i */
static unsigned long generation = 0; /* bumped for each job */
static long parts_now = 0, remaining = 0;
static void (*job_fn)(void *, long);
static void *job_arg;

static void *worker(void *arg) {
  const long index = (long)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &lock);
    seen = generation;
    if (index >= parts_now) continue;
    void (*fn)(void *, long) = job_fn;
    void *fn_arg = job_arg;
    pthread_mutex_unlock(&lock);
    fn(fn_arg, index);
    pthread_mutex_lock(&lock);
    if (--remaining == 0) pthread_cond_signal(&finished);
  }
  return NULL;
}

/* Starts workers up to `want`; returns how many there are. Called with run_lock held. */
static long start_workers(long want) {
  if (want > POOL_MAX) want = POOL_MAX;
  while (workers < want) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int failed = pthread_create(&t, &attr, worker, (void *)(workers + 1));
    pthread_attr_destroy(&attr);
    if (failed) break;
    pthread_mutex_lock(&lock);
    workers++;
    pthread_mutex_unlock(&lock);
  }
  return workers;
}

void pool_run(long parts, void (*fn)(void *arg, long part), void *arg) {
  if (parts <= 1 || pthread_mutex_trylock(&run_lock) != 0) {
    for (long t = 0; t < parts; t++) fn(arg, t);
    return;
  }
  long helpers = start_workers(parts - 1);
  if (helpers > parts - 1) helpers = parts - 1;
  pthread_mutex_lock(&lock);
  job_fn = fn;
  job_arg = arg;
  parts_now = helpers + 1;
  remaining = helpers;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  fn(arg, 0);
  for (long t = helpers + 1; t < parts; t++) fn(arg, t); /* parts no thread could be started for */
  pthread_mutex_lock(&lock);
  while (remaining > 0) pthread_cond_wait(&finished, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&run_lock);
}
