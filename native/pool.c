/*
 * The addon's persistent worker threads: matmul and the large elementwise kernels split their output over them
 * instead of creating threads on every call (which cost more than a small matmul saved). Threads start on first
 * use, up to the most parts ever asked for, and then sleep on a condition variable between jobs.
 *
 * Which thread computes a part never changes a bit: a job's work is fixed ranges of outputs (chunks), each computed
 * in the reference order, that its threads take from a shared counter until none is left; so a job function must
 * be able to do all of the work alone. The caller works too, and when it finds nothing left it closes the job:
 * a pool thread the OS has not run yet then skips it, and the caller waits only for threads already working (on
 * a busy machine a sleeping helper no longer holds every call up). One job runs at a time; a caller that finds
 * the pool busy (another JavaScript thread using the addon) runs the job alone.
 */
#include "pool.h"
#include <pthread.h>

#define POOL_MAX 63

static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* held by the one caller running a job */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;     /* guards everything below */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static long workers = 0;            /* threads started; worker i (1..workers) runs part i */
static unsigned long generation = 0; /* bumped for each job */
static long parts_now = 0, running = 0; /* threads wanted for the job; helpers working on it now */
static int closed = 0;                  /* the caller found no work left: helpers not yet started skip the job */
static void (*job_fn)(void *, long);
static void *job_arg;

static void *worker(void *arg) {
  const long index = (long)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &lock);
    seen = generation;
    if (index >= parts_now || closed) continue;
    running++;
    void (*fn)(void *, long) = job_fn;
    void *fn_arg = job_arg;
    pthread_mutex_unlock(&lock);
    fn(fn_arg, index);
    pthread_mutex_lock(&lock);
    if (--running == 0 && closed) pthread_cond_signal(&finished);
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
    fn(arg, 0); /* takes every chunk */
    return;
  }
  long helpers = start_workers(parts - 1);
  if (helpers > parts - 1) helpers = parts - 1;
  pthread_mutex_lock(&lock);
  job_fn = fn;
  job_arg = arg;
  parts_now = helpers + 1;
  running = 0;
  closed = 0;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  fn(arg, 0); /* returns when no chunk is left to take */
  pthread_mutex_lock(&lock);
  closed = 1;
  while (running > 0) pthread_cond_wait(&finished, &lock);
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&run_lock);
}
