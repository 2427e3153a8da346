/* test_util.h: the tiny harness every C test uses: seeded random fills, NaN-poisoned output
 * buffers (an unwritten element fails the comparison), error measurements printed next to
 * their bound, skips with a reason, and the closing "N passed, N failed" line. */
#ifndef PCAVS_TEST_UTIL_H
#define PCAVS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kctx.h"

/* Uniform floats in [lo, hi) from a 64-bit seed (xorshift; identical on every machine). */
void pt_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);
/* Standard normal floats (Box-Muller). */
void pt_fill_normal(float *x, size_t n, uint64_t seed, float std);

/* 64-byte-aligned buffer of n floats filled with NaN (free with pt_free). Never NULL (exits the
 * test program on allocation failure: tests are programs). */
float *pt_alloc(size_t n);
void pt_free(void *p);

/* Measured errors: relative L2 ||got - want|| / ||want|| (double accumulation) and max abs. */
double pt_rel_l2(const float *got, const float *want, size_t n);
double pt_max_abs(const float *got, const float *want, size_t n);

/* Records one check: prints "PASS|FAIL what: rel_l2 X <= bound B (P% of bound), max_abs M".
 * NaN anywhere in got fails. Returns 1 when it passed. */
int pt_check_rel_l2(const char *what, const float *got, const float *want, size_t n, double bound);
int pt_check_max_abs(const char *what, const float *got, const float *want, size_t n, double bound);
/* A plain boolean check with a description. */
int pt_check(int ok, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A check that `st` is PCAVS_OK, printing pcavs_last_error() otherwise. */
int pt_check_ok(int st, const char *what);
void pt_skip(const char *fmt, ...);

/* Quick runs (PCAVS_TEST_QUICK=1; the emulated aarch64 runs, where a multiply-add costs ~50x its native time):
 * pt_quick() is 1, and pt_quick_skip(macs, what) skips (a SKIP line naming the case and its size) a case whose
 * reference computation needs more than PT_QUICK_MAX_MACS (100 M) multiply-adds; it returns 1 when skipped. Bounds do
 * not change; outside quick runs nothing is skipped. */
#define PT_QUICK_MAX_MACS 1e8
int pt_quick(void);
int pt_quick_skip(double macs, const char *what);

/* Host kernel context with `scratch_mb` MiB of scratch and the given threads (0 = all). */
pcavs_kctx pt_host_kctx(size_t scratch_mb, int n_threads);
void pt_free_kctx(pcavs_kctx *kc);

/* Directory of generated fixtures ($PCAVS_FIXTURES) or NULL; path join into a static buffer. */
const char *pt_fixtures_dir(void);
const char *pt_path(const char *dir, const char *name);

/* A private work folder PCAVS_BINARY_DIR/<prefix>_tmp_XXXXXX (or /tmp when it cannot be made), for the tests
 * that write files; returns its path (static). pt_tmp(name) and pt_example(rel) (PCAVS_SOURCE_DIR/examples/rel)
 * join paths into rotating static buffers, 16 of them: enough for one command line built from them. */
char *pt_tmp_dir_make(const char *prefix);
const char *pt_tmp(const char *name);
const char *pt_example(const char *rel);

/* Opens $PCAVS_FIXTURES/ops/<op>.safetensors (written by tests/reference/<generator>), or prints
 * SKIP for the PyTorch comparison with the reason and returns NULL. */
struct pcavs_st_file *pt_open_op_fixtures(const char *op, const char *generator);
/* Fixture tensor "<case_name>.<what>" that must be F32 of the given shape; NULL (a FAIL is
 * recorded with the reader's message) when absent or misshapen. */
const float *pt_fixture_f32(struct pcavs_st_file *f, const char *case_name, const char *what, int ndim,
                            const int64_t *shape);

/* Prints "N passed, N failed[, N skipped]" and returns the process exit code (0 when none failed
 * and at least one check ran; 77 = skipped entirely is reported as 0 with the skip count). */
int pt_finish(void);

#endif
