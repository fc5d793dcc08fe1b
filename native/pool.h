/* native/pool.c: the addon's persistent worker threads (see there). */
#ifndef MYCEL_POOL_H
#define MYCEL_POOL_H
/* Runs fn(arg, t) for every t in [0, parts), on the calling thread (t = 0) and up to parts - 1 pool threads;
 * returns when all are done. */
void pool_run(long parts, void (*fn)(void *arg, long part), void *arg);
#endif
