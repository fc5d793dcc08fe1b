/* native/pool.c: the addon's persistent worker threads (see there). */
#ifndef MYCEL_POOL_H
#define MYCEL_POOL_H
/* Runs fn(arg, t) on the calling thread (t = 0) and on up to parts - 1 pool threads (t = 1..), each taking the job's
 * chunks from a shared counter until none is left (fn(arg, 0) alone must do all of them); returns when all are done. */
void pool_run(long parts, void (*fn)(void *arg, long part), void *arg);
#endif
