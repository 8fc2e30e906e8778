/*
 * pool.c -- a fixed team of pthreads for the engines.  The caller of
 * gasp__pool_run() is member 0; members 1..T-1 sleep on a condition
 * variable between runs.  Plain pthreads keep ThreadSanitizer exact (an
 * uninstrumented OpenMP runtime makes it report false races).
 */
#include "engine_internal.h"

struct gasp__pool {
  int n;
  pthread_t *th;
  pthread_mutex_t mu;
  pthread_cond_t go, done;
  uint64_t generation;
  int running; /* members still working on the current generation */
  int quit;
  gasp__pool_fn fn;
  void *arg;
};

typedef struct member {
  gasp__pool *p;
  int tid;
} member;

static void *member_main(void *a) {
  member *m = a;
  gasp__pool *p = m->p;
  int tid = m->tid;
  free(m);
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->quit && p->generation == seen)
      pthread_cond_wait(&p->go, &p->mu);
    if (p->quit) break;
    seen = p->generation;
    gasp__pool_fn fn = p->fn;
    void *arg = p->arg;
    pthread_mutex_unlock(&p->mu);
    fn(arg, tid);
    pthread_mutex_lock(&p->mu);
    if (--p->running == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

int gasp__pool_new(gasp__pool **out, int threads) {
  *out = NULL;
  if (threads < 1) threads = 1;
  gasp__pool *p = gasp__calloc(1, sizeof *p);
  if (!p) return GASP_ENOMEM;
  p->th = gasp__calloc((size_t)threads, sizeof *p->th);
  if (!p->th) {
    free(p);
    return GASP_ENOMEM;
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->go, NULL);
  pthread_cond_init(&p->done, NULL);
  p->n = 1;
  for (int t = 1; t < threads; t++) {
    member *m = gasp__malloc(sizeof *m);
    if (!m) break;
    m->p = p;
    m->tid = t;
    if (pthread_create(&p->th[t], NULL, member_main, m) != 0) {
      free(m);
      break;
    }
    p->n++;
  }
  if (p->n < threads) { /* could not start them all: give up cleanly */
    gasp__pool_free(&p);
    return GASP_ENOMEM;
  }
  *out = p;
  return GASP_OK;
}

void gasp__pool_free(gasp__pool **pp) {
  if (!pp || !*pp) return;
  gasp__pool *p = *pp;
  pthread_mutex_lock(&p->mu);
  p->quit = 1;
  pthread_cond_broadcast(&p->go);
  pthread_mutex_unlock(&p->mu);
  for (int t = 1; t < p->n; t++)
    pthread_join(p->th[t], NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->go);
  pthread_cond_destroy(&p->done);
  free(p->th);
  free(p);
  *pp = NULL;
}

int gasp__pool_size(const gasp__pool *p) { return p->n; }

void gasp__pool_run(gasp__pool *p, gasp__pool_fn fn, void *arg) {
  if (p->n == 1) {
    fn(arg, 0);
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->running = p->n - 1;
  p->generation++;
  pthread_cond_broadcast(&p->go);
  pthread_mutex_unlock(&p->mu);
  fn(arg, 0);
  pthread_mutex_lock(&p->mu);
  while (p->running > 0)
    pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
}
