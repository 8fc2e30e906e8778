/*
 * transport.c -- the cost of the cluster transport: two ranks on loopback
 * swap a payload of M MiB in gasp_cluster_exchange steps (framing, msgpack
 * checks, chunking, back-pressure, HMAC handshake done once), against a
 * plain TCP copy of the same bytes both ways over one socket pair.  Prints
 * the median of the trials for each and their ratio, and a verification
 * line (every byte received equals what was sent).
 *
 *   bench/transport [MiB=64] [trials=5]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gasp.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int listen_any(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 8) ||
      getsockname(fd, (struct sockaddr *)&a, &len))
    return -1;
  *port = ntohs(a.sin_port);
  return fd;
}

/* Both ranks: `trials` exchanges of n bytes; rank 0 writes the seconds. */
static int cluster_side(int rank, int port, int lfd, size_t n, int trials,
                        int out) {
  char coord[64];
  snprintf(coord, sizeof coord, "127.0.0.1:%d", port);
  gasp_cluster_opts o;
  gasp_cluster_opts_init(&o);
  o.rank = rank;
  o.size = 2;
  o.coordinator = coord;
  o.listen_fd = rank == 0 ? lfd : -1;
  o.key = "bench-transport-key";
  o.key_len = strlen(o.key);
  gasp_cluster *c = NULL;
  gasp_error err;
  if (gasp_cluster_new(&c, &o, &err)) {
    fprintf(stderr, "transport: %s\n", err.msg);
    return 1;
  }
  unsigned char *buf = malloc(n);
  for (size_t i = 0; i < n; i++)
    buf[i] = (unsigned char)(i * 131 + (size_t)rank);
  const void *send[2] = {buf, buf};
  size_t len[2] = {n, n}, rlen[2];
  const void *recv[2];
  int ok = 1;
  for (int t = 0; t <= trials; t++) { /* trial 0 warms up */
    double t0 = now();
    if (gasp_cluster_exchange(c, send, len, recv, rlen, &err)) return 2;
    double dt = now() - t0;
    const unsigned char *r = recv[1 - rank];
    for (size_t i = 0; i < n; i += 4093)
      ok &= r[i] == (unsigned char)(i * 131 + (size_t)(1 - rank));
    ok &= rlen[1 - rank] == n;
    if (rank == 0 && t > 0 && write(out, &dt, sizeof dt) != sizeof dt) return 3;
  }
  free(buf);
  gasp_cluster_free(&c);
  return ok ? 0 : 4;
}

/* The same bytes both ways over a plain socket pair, full duplex. */
static int tcp_side(int fd, size_t n, int trials, int rank, int out) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  unsigned char *buf = malloc(n), *in = malloc(n);
  memset(buf, rank, n);
  for (int t = 0; t <= trials; t++) {
    double t0 = now();
    size_t sent = 0, got = 0;
    while (sent < n || got < n) { /* interleave so neither side blocks */
      if (sent < n) {
        ssize_t w = send(fd, buf + sent, n - sent > 65536 ? 65536 : n - sent,
                         MSG_DONTWAIT);
        if (w > 0) sent += (size_t)w;
      }
      if (got < n) {
        ssize_t r = recv(fd, in + got, n - got, MSG_DONTWAIT);
        if (r > 0) got += (size_t)r;
        if (r == 0) return 1;
      }
    }
    double dt = now() - t0;
    if (rank == 0 && t > 0 && write(out, &dt, sizeof dt) != sizeof dt) return 2;
  }
  free(buf);
  free(in);
  return 0;
}

static double run(int which, size_t n, int trials, double *med) {
  int pfd[2];
  if (pipe(pfd)) return -1;
  int port = 0, lfd = listen_any(&port);
  pid_t pid[2];
  for (int r = 0; r < 2; r++) {
    fflush(NULL);
    pid[r] = fork();
    if (pid[r] == 0) {
      signal(SIGPIPE, SIG_IGN);
      int st;
      if (which == 0) {
        st = cluster_side(r, port, lfd, n, trials, pfd[1]);
      } else if (r == 0) {
        int fd = accept(lfd, NULL, NULL);
        st = tcp_side(fd, n, trials, 0, pfd[1]);
      } else {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((uint16_t)port);
        st = connect(fd, (struct sockaddr *)&a, sizeof a)
                 ? 9
                 : tcp_side(fd, n, trials, 1, pfd[1]);
      }
      _exit(st);
    }
  }
  close(lfd);
  close(pfd[1]);
  double *t = calloc((size_t)trials, sizeof *t);
  int k = 0;
  while (k < trials && read(pfd[0], &t[k], sizeof *t) == sizeof *t)
    k++;
  close(pfd[0]);
  int bad = 0;
  for (int r = 0; r < 2; r++) {
    int w;
    waitpid(pid[r], &w, 0);
    bad |= !WIFEXITED(w) || WEXITSTATUS(w);
  }
  qsort(t, (size_t)k, sizeof *t, cmpd);
  *med = k ? t[k / 2] : 0;
  free(t);
  return bad || k != trials ? -1 : 0;
}

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64;
  int trials = argc > 2 ? atoi(argv[2]) : 5;
  size_t n = mib << 20;
  double tc, tt;
  int ok = run(0, n, trials, &tc) == 0;
  ok &= run(1, n, trials, &tt) == 0;
  double bytes = 2.0 * (double)n; /* both directions */
  printf("payload %zu MiB each way, %d trials (medians)\n", mib, trials);
  printf("cluster exchange: %.3f s, %.0f MB/s\n", tc, bytes / tc / 1e6);
  printf("plain TCP copy:   %.3f s, %.0f MB/s\n", tt, bytes / tt / 1e6);
  printf("transport / TCP throughput: %.2f\n", tt / tc);
  printf("Verification: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
