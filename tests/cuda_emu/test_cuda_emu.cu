/* test_cuda_emu.cu: the self-test of the host CUDA emulation (tests/cuda_emu), built only in the
 * -DPCAVS_CUDA_EMU=ON tree, with kernels of its own launched through PCAVS_LAUNCH like the backend's.
 * Asserts what the emulation promises: NaN-filled cudaMalloc, the memory cap, copy directions and
 * extents checked, work deferred to the next synchronisation, events, cooperative blocks
 * (__shared__ + __syncthreads over 3-D blocks), refusals (bad configurations, dynamic shared
 * memory, host pointers, barriers it cannot run) naming the kernel, writes just past an
 * allocation and faults past it reported naming the kernel, cuBLAS's column-major semantics and
 * argument checks, and the TF32 / BF16 rounding of the fast GEMMs against a hand-rounded
 * reference. Each check prints the measured value next to its bound. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "cuda_launch.h"

extern "C" {
#include "backend.h"
#include "test_util.h"
}

static const char *msg_of(cudaError_t e) { return cudaGetErrorString(e); }

__global__ void k_fill(int n, float v, float *y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = v + (float)i;
}

__global__ void k_copy_off(int n, int off, const float *x, float *y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) y[i] = x[i + off];
}

__global__ void k_write_at(long i, float *y) {
    if (threadIdx.x == 0 && blockIdx.x == 0) y[i] = 1.0f;
}

__global__ void k_spin(int n, float *y) { /* some work, so that events measure a positive time */
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        float a = (float)i;
        for (int r = 0; r < 200; r++) a = fmaf(a, 0.999f, 0.5f);
        y[i] = a;
    }
}

/* y[b] = sum of x[b*T .. b*T+T) with a block of (bx, by, bz) threads: a shared-memory tree sum. */
__global__ void k_block_sum(int per_block, const float *x, float *y) {
    __shared__ float part[512];
    const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    const unsigned nt = blockDim.x * blockDim.y * blockDim.z;
    const unsigned b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    float s = 0.0f;
    for (int i = t; i < per_block; i += nt) s += x[(size_t)b * per_block + i];
    part[t] = s;
    __syncthreads();
    for (unsigned half = nt / 2; half > 0; half /= 2) {
        if (t < half) part[t] += part[t + half];
        __syncthreads();
    }
    if (t == 0) y[b] = part[0];
}

/* A race: y[i] = y[i + 1] in place (thread i + 1 may write before thread i reads). */
__global__ void k_shift_inplace(int n, float *y) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n - 1) y[i] = y[i + 1];
}

/* A barrier reached by block 1 only: its first launch runs block 0 plainly (no barrier seen). */
__global__ void k_late_barrier(float *y) {
    if (blockIdx.x == 1) __syncthreads();
    y[blockIdx.x * blockDim.x + threadIdx.x] = 1.0f;
}

/* A barrier skipped by half of the block: undefined on a GPU. */
__global__ void k_divergent_barrier(float *y) {
    if (threadIdx.x < 16) __syncthreads();
    y[threadIdx.x] = 2.0f;
}

static float *dmalloc(size_t n) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, n * sizeof(float));
    if (e != cudaSuccess) {
        fprintf(stderr, "test: cudaMalloc(%zu floats): %s\n", n, msg_of(e));
        exit(2);
    }
    return (float *)p;
}

static void reset_after_sticky(void) { cudaDeviceReset(); /* clears a sticky error and every allocation */ }

static void test_memory(void) {
    const size_t n = 1000;
    float *d = dmalloc(n), *h = pt_alloc(n);
    pt_check(pcavs_cuda_emu_is_device_ptr(d) && !pcavs_cuda_emu_is_device_ptr(h), "registry: device %p yes, host %p no",
             (void *)d, (void *)h);
    for (size_t i = 0; i < n; i++) h[i] = 0.0f;
    cudaError_t e = cudaMemcpy(h, d, n * 4, cudaMemcpyDeviceToHost);
    size_t nans = 0;
    for (size_t i = 0; i < n; i++) nans += isnan(h[i]) != 0;
    pt_check(e == cudaSuccess && nans == n, "cudaMalloc returns NaN-filled memory: %zu of %zu NaN", nans, n);
    pt_check(((uintptr_t)d & 255) == 0, "cudaMalloc alignment: %p is 256-byte aligned", (void *)d);

    /* the cap: PCAVS_CUDA_EMU_MEM_MB=64 set by main before the first call */
    void *a = NULL, *b = NULL;
    cudaError_t ea = cudaMalloc(&a, 40u << 20);
    cudaError_t eb = cudaMalloc(&b, 40u << 20);
    pt_check(ea == cudaSuccess && eb == cudaErrorMemoryAllocation && b == NULL,
             "memory cap 64 MiB: 40 MiB -> %s, another 40 MiB -> %s (%s)", cudaGetErrorName(ea), cudaGetErrorName(eb),
             msg_of(eb));
    pt_check(cudaGetLastError() == cudaErrorMemoryAllocation && cudaGetLastError() == cudaSuccess,
             "the allocation failure is the last error, cleared once read");
    cudaFree(a);
    eb = cudaMalloc(&b, 40u << 20);
    pt_check(eb == cudaSuccess, "after cudaFree the 40 MiB fit again: %s", cudaGetErrorName(eb));
    cudaFree(b);

    /* copy directions and extents */
    e = cudaMemcpy(d, h, n * 4, cudaMemcpyDeviceToHost);
    pt_check(e == cudaErrorInvalidValue && strstr(msg_of(e), "wrong copy direction"),
             "cudaMemcpy DeviceToHost with the pointers swapped -> %s: %s", cudaGetErrorName(e), msg_of(e));
    e = cudaMemcpy(h, h + 1, 4, cudaMemcpyDeviceToDevice);
    pt_check(e == cudaErrorInvalidValue, "cudaMemcpy DeviceToDevice between host buffers -> %s: %s",
             cudaGetErrorName(e), msg_of(e));
    e = cudaMemcpyAsync(d, h, (n + 1) * 4, cudaMemcpyHostToDevice, 0);
    pt_check(e == cudaErrorInvalidValue && strstr(msg_of(e), "past the end"),
             "cudaMemcpyAsync of n+1 floats into n -> %s: %s", cudaGetErrorName(e), msg_of(e));
    cudaGetLastError();
    e = cudaMemcpy(d, h, n * 4, cudaMemcpyDefault);
    pt_check(e == cudaSuccess, "cudaMemcpyDefault infers host -> device: %s", cudaGetErrorName(e));
    e = cudaFree(h);
    pt_check(e == cudaErrorInvalidValue, "cudaFree of a host pointer -> %s", cudaGetErrorName(e));
    cudaGetLastError();
    cudaFree(d);
    pt_free(h);
}

static void test_deferred_and_events(void) {
    const int n = 1 << 16;
    cudaStream_t s;
    cudaStreamCreate(&s);
    float *d = dmalloc(n), *h = pt_alloc(n);
    for (int i = 0; i < n; i++) h[i] = -1.0f;
    PCAVS_LAUNCH(k_fill, 64, 256, 0, s)(n, 3.0f, d);
    cudaError_t e = cudaGetLastError();
    e = e ? e : cudaMemcpyAsync(h, d, (size_t)n * 4, cudaMemcpyDeviceToHost, s);
    int stale = 0;
    for (int i = 0; i < n; i++) stale += h[i] == -1.0f;
    pt_check(e == cudaSuccess && stale == n,
             "before cudaStreamSynchronize: %d of %d host values not yet copied (queued, not run)", stale, n);
    pt_check(cudaStreamQuery(s) == cudaErrorNotReady, "cudaStreamQuery with queued work: cudaErrorNotReady");
    e = cudaStreamSynchronize(s);
    int right = 0;
    for (int i = 0; i < n; i++) right += h[i] == 3.0f + (float)i;
    pt_check(e == cudaSuccess && right == n, "after cudaStreamSynchronize: %d of %d values right", right, n);

    /* H2D from a pageable buffer is staged at the call: the buffer may be reused at once */
    for (int i = 0; i < n; i++) h[i] = 5.0f;
    cudaMemcpyAsync(d, h, (size_t)n * 4, cudaMemcpyHostToDevice, s);
    for (int i = 0; i < n; i++) h[i] = 6.0f;
    cudaMemcpy(h, d, (size_t)n * 4, cudaMemcpyDeviceToHost); /* synchronous: after the stream's work */
    right = 0;
    for (int i = 0; i < n; i++) right += h[i] == 5.0f;
    pt_check(right == n, "async host->device from pageable memory copies the buffer as it was at the call: %d of %d",
             right, n);
    /* ... but from pinned memory the copy reads the buffer when it runs (DMA): changing it before the
     * sync is a race, and the emulation shows its effect */
    float *pin = NULL;
    cudaMallocHost((void **)&pin, (size_t)n * 4);
    for (int i = 0; i < n; i++) pin[i] = 7.0f;
    cudaMemcpyAsync(d, pin, (size_t)n * 4, cudaMemcpyHostToDevice, s);
    for (int i = 0; i < n; i++) pin[i] = 8.0f;
    cudaMemcpy(h, d, (size_t)n * 4, cudaMemcpyDeviceToHost);
    right = 0;
    for (int i = 0; i < n; i++) right += h[i] == 8.0f;
    pt_check(
        right == n,
        "async host->device from cudaMallocHost memory reads it at the sync: %d of %d values changed after the call",
        right, n);
    cudaFreeHost(pin);

    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaEventRecord(a, s);
    PCAVS_LAUNCH(k_spin, 64, 256, 0, s)(n, d);
    cudaEventRecord(b, s);
    float ms = -1.0f;
    cudaError_t e1 = cudaEventElapsedTime(&ms, a, b);
    cudaError_t eq = cudaEventQuery(b);
    cudaError_t e2 = cudaEventSynchronize(b);
    cudaError_t e3 = cudaEventElapsedTime(&ms, a, b);
    pt_check(e1 == cudaErrorNotReady && eq == cudaErrorNotReady && e2 == cudaSuccess && e3 == cudaSuccess &&
                 ms > 0.0f && ms < 60000.0f,
             "events: elapsed before sync %s, query %s; after cudaEventSynchronize %s, %.3f ms (0 < t < 60000)",
             cudaGetErrorName(e1), cudaGetErrorName(eq), cudaGetErrorName(e3), ms);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    cudaFree(d);
    pt_free(h);
    cudaStreamDestroy(s);
}

static void test_cooperative(void) {
    const dim3 shapes[] = {dim3(256), dim3(8, 4, 2), dim3(16, 16), dim3(2, 2, 2)};
    for (int si = 0; si < 4; si++) {
        const dim3 blk = shapes[si], grid(3, 2, 2);
        const int nb = 12, per = 1000;
        float *hx = pt_alloc((size_t)nb * per), *ref = pt_alloc(nb);
        pt_fill_uniform(hx, (size_t)nb * per, 40 + si, -1, 1);
        for (int b = 0; b < nb; b++) {
            double s = 0;
            for (int i = 0; i < per; i++) s += hx[(size_t)b * per + i];
            ref[b] = (float)s;
        }
        float *dx = dmalloc((size_t)nb * per), *dy = dmalloc(nb), *hy = pt_alloc(nb);
        cudaMemcpy(dx, hx, (size_t)nb * per * 4, cudaMemcpyHostToDevice);
        PCAVS_LAUNCH(k_block_sum, grid, blk, 0, 0)(per, dx, dy);
        cudaError_t e = cudaGetLastError();
        e = e ? e : cudaMemcpy(hy, dy, nb * 4, cudaMemcpyDeviceToHost);
        char what[160];
        snprintf(what, sizeof what, "__shared__ + __syncthreads block sum, block (%u,%u,%u) grid (3,2,2) [%s]", blk.x,
                 blk.y, blk.z, cudaGetErrorName(e));
        pt_check_rel_l2(what, hy, ref, nb, 1e-6);
        cudaFree(dx), cudaFree(dy);
        pt_free(hx), pt_free(ref), pt_free(hy);
    }
}

/* The default order alternates between launches: a racy kernel run twice is seen in both orders. */
static void test_order(void) {
    const int n = 256;
    float *h = pt_alloc(n), *got = pt_alloc(n), *d = dmalloc(n);
    int differing = 0, worst = 0;
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < n; i++) h[i] = (float)i;
        cudaMemcpy(d, h, n * 4, cudaMemcpyHostToDevice);
        PCAVS_LAUNCH(k_shift_inplace, 1, n, 0, 0)(n, d);
        cudaMemcpy(got, d, n * 4, cudaMemcpyDeviceToHost);
        int wrong = 0;
        for (int i = 0; i < n - 1; i++) wrong += got[i] != (float)(i + 1);
        differing += wrong > 0;
        worst = wrong > worst ? wrong : worst;
    }
    pt_check(differing == 1,
             "a racy in-place shift launched twice: %d of 2 runs differ from the forward-order result "
             "(%d wrong values): one launch forward, one reversed",
             differing, worst);
    cudaFree(d);
    pt_free(h), pt_free(got);
}

static void test_refusals(void) {
    float *d = dmalloc(4096), *h = pt_alloc(16);
    PCAVS_LAUNCH(k_fill, 1, 2048, 0, 0)(16, 0.0f, d);
    cudaError_t e = cudaGetLastError();
    pt_check(e == cudaErrorInvalidConfiguration && strstr(msg_of(e), "k_fill"), "block of 2048 threads -> %s: %s",
             cudaGetErrorName(e), msg_of(e));
    PCAVS_LAUNCH(k_fill, 1, 32, 1024, 0)(16, 0.0f, d);
    e = cudaGetLastError();
    pt_check(e == cudaErrorNotSupported && strstr(msg_of(e), "k_fill"), "dynamic shared memory -> %s: %s",
             cudaGetErrorName(e), msg_of(e));
    PCAVS_LAUNCH(k_copy_off, 1, 32, 0, 0)(16, 0, h, d);
    e = cudaGetLastError();
    pt_check(e == cudaErrorInvalidDevicePointer && strstr(msg_of(e), "k_copy_off") && strstr(msg_of(e), "argument 2"),
             "host pointer as argument 2 -> %s: %s", cudaGetErrorName(e), msg_of(e));
    PCAVS_LAUNCH(k_copy_off, 1, 32, 0, 0)(0, 0, (const float *)NULL, d); /* n = 0: never read */
    pt_check(cudaGetLastError() == cudaSuccess, "a NULL pointer argument is allowed");
    cudaDeviceSynchronize();

    /* a write one float past the end: caught by the canary around the allocation */
    float *d16 = dmalloc(16);
    PCAVS_LAUNCH(k_write_at, 1, 32, 0, 0)(16, d16);
    e = cudaDeviceSynchronize();
    pt_check(e == cudaErrorIllegalAddress && strstr(msg_of(e), "k_write_at") && strstr(msg_of(e), "past the end"),
             "write of y[16] into 16 floats -> %s at the sync: %s", cudaGetErrorName(e), msg_of(e));
    pt_check(cudaMalloc((void **)&d, 64) == cudaErrorIllegalAddress, "the error is sticky: cudaMalloc returns it too");
    reset_after_sticky();

    d = dmalloc(4096);
    PCAVS_LAUNCH(k_late_barrier, 2, 32, 0, 0)(d);
    e = cudaDeviceSynchronize();
    pt_check(e == cudaErrorLaunchFailure && strstr(msg_of(e), "k_late_barrier"),
             "a barrier the kernel's first block never reached -> %s: %s", cudaGetErrorName(e), msg_of(e));
    reset_after_sticky();
    d = dmalloc(4096);
    PCAVS_LAUNCH(k_divergent_barrier, 1, 32, 0, 0)(d);
    e = cudaDeviceSynchronize();
    pt_check(e == cudaErrorLaunchFailure && strstr(msg_of(e), "k_divergent_barrier"),
             "a barrier skipped by half the block -> %s: %s", cudaGetErrorName(e), msg_of(e));
    reset_after_sticky();
    pt_free(h);
}

/* The out-of-bounds child: a read far past an allocation faults on the guard page. */
static int oob_child(void) {
    float *x = dmalloc(1024), *y = dmalloc(1024);
    PCAVS_LAUNCH(k_copy_off, 4, 256, 0, 0)(1024, 1024, x, y);
    cudaDeviceSynchronize();
    printf("the out-of-bounds read did not fault\n");
    return 0;
}

/* The host-dereference child: host code reads device memory directly. */
static int host_deref_child(void) {
    float *d = dmalloc(256);
    volatile float v = d[3];
    printf("a host read of device memory did not fault (%g)\n", (double)v);
    return 0;
}

/* Runs this program with `mode` as a child; true when it died of a signal with `want` in its stderr. */
static int child_reports(const char *self, const char *mode, const char *want, char *line, size_t cap) {
    int pipefd[2];
    if (pipe(pipefd)) return 0;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        char *argv[] = {(char *)self, (char *)mode, NULL};
        execv(self, argv);
        _exit(127);
    }
    close(pipefd[1]);
    char buf[4096];
    size_t len = 0;
    ssize_t r;
    while ((r = read(pipefd[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)r;
    buf[len] = 0;
    close(pipefd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    const char *hit = strstr(buf, want);
    snprintf(line, cap, "child %s %d: %.220s", WIFSIGNALED(st) ? "killed by signal" : "exit",
             WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), hit ? hit : buf);
    return WIFSIGNALED(st) && hit != NULL;
}

static void test_fault_reported(const char *self) {
    char line[400];
    int ok = child_reports(self, "oob-child", "illegal memory access (signal 11) at address", line, sizeof line);
    pt_check(ok && strstr(line, "in kernel k_copy_off"),
             "a read just past an allocation's last page faults, reported naming the kernel (%s)", line);
    ok = child_reports(self, "host-deref-child", "host code accessed device memory", line, sizeof line);
    pt_check(ok, "host code dereferencing a device pointer faults, reported as such (%s)", line);
}

/* ---- cuBLAS ---- */
/* column-major C = op(A) op(B) in double, for reference */
static void ref_gemm(char ta, char tb, int m, int n, int k, const float *A, int lda, const float *B, int ldb, float *C,
                     int ldc, float beta_c_in) {
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                const double a = ta == 'N' ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                const double b = tb == 'N' ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                s += a * b;
            }
            C[i + (size_t)j * ldc] = (float)(s + beta_c_in * C[i + (size_t)j * ldc]);
        }
}

/* Rounds to `sig` significant bits, to nearest even (independent of the emulation's bit trick). */
static float round_sig(float v, int sig) {
    if (v == 0.0f || !isfinite(v)) return v;
    int ex;
    const double m = frexp((double)v, &ex); /* v = m 2^ex, 0.5 <= |m| < 1 */
    return (float)ldexp(nearbyint(ldexp(m, sig)), ex - sig);
}

static float *upload(const float *h, size_t n) {
    float *d = dmalloc(n);
    cudaMemcpy(d, h, n * 4, cudaMemcpyHostToDevice);
    return d;
}

static void test_cublas(void) {
    cublasHandle_t hb;
    cublasCreate(&hb);
    cudaStream_t s;
    cudaStreamCreate(&s);
    cublasSetStream(hb, s);
    const float one = 1.0f, zero = 0.0f, half = 0.5f;
    /* column-major semantics: every transpose pair, padded leading dimensions, beta */
    const int m = 37, n = 23, k = 19;
    for (int t = 0; t < 4; t++) {
        const char ta = t & 1 ? 'T' : 'N', tb = t & 2 ? 'T' : 'N';
        const int ra = ta == 'N' ? m : k, ca = ta == 'N' ? k : m, rb = tb == 'N' ? k : n, cb = tb == 'N' ? n : k;
        const int lda = ra + 3, ldb = rb + 1, ldc = m + 2;
        float *A = pt_alloc((size_t)lda * ca), *B = pt_alloc((size_t)ldb * cb), *C = pt_alloc((size_t)ldc * n);
        pt_fill_uniform(A, (size_t)lda * ca, 60 + t, -1, 1);
        pt_fill_uniform(B, (size_t)ldb * cb, 70 + t, -1, 1);
        pt_fill_uniform(C, (size_t)ldc * n, 80 + t, -1, 1);
        float *dA = upload(A, (size_t)lda * ca), *dB = upload(B, (size_t)ldb * cb), *dC = upload(C, (size_t)ldc * n);
        cublasStatus_t st =
            cublasSgemm(hb, ta == 'N' ? CUBLAS_OP_N : CUBLAS_OP_T, tb == 'N' ? CUBLAS_OP_N : CUBLAS_OP_T, m, n, k, &one,
                        dA, lda, dB, ldb, &half, dC, ldc);
        float *got = pt_alloc((size_t)ldc * n);
        cudaMemcpyAsync(got, dC, (size_t)ldc * n * 4, cudaMemcpyDeviceToHost, s);
        cudaStreamSynchronize(s);
        ref_gemm(ta, tb, m, n, k, A, lda, B, ldb, C, ldc, 0.5f);
        char what[160];
        snprintf(what, sizeof what, "cublasSgemm %c%c m%d n%d k%d lda%d ldb%d ldc%d beta 0.5 vs column-major ref [%s]",
                 ta, tb, m, n, k, lda, ldb, ldc, cublasGetStatusName(st));
        pt_check_rel_l2(what, got, C, (size_t)ldc * n, 1e-6);
        cudaFree(dA), cudaFree(dB), cudaFree(dC);
        pt_free(A), pt_free(B), pt_free(C), pt_free(got);
    }
    /* strided batch with stride 0 for B, beta 0 over a NaN-filled C */
    {
        const int batch = 3;
        float *A = pt_alloc((size_t)m * k * batch), *B = pt_alloc((size_t)k * n), *C = pt_alloc((size_t)m * n * batch);
        pt_fill_uniform(A, (size_t)m * k * batch, 90, -1, 1);
        pt_fill_uniform(B, (size_t)k * n, 91, -1, 1);
        float *dA = upload(A, (size_t)m * k * batch), *dB = upload(B, (size_t)k * n),
              *dC = dmalloc((size_t)m * n * batch);
        cublasStatus_t st =
            cublasSgemmStridedBatched(hb, CUBLAS_OP_N, CUBLAS_OP_N, m, n, k, &one, dA, m, (long long)m * k, dB, k, 0,
                                      &zero, dC, m, (long long)m * n, batch);
        float *got = pt_alloc((size_t)m * n * batch);
        cudaMemcpyAsync(got, dC, (size_t)m * n * batch * 4, cudaMemcpyDeviceToHost, s);
        cudaStreamSynchronize(s);
        for (int b = 0; b < batch; b++) {
            for (size_t i = 0; i < (size_t)m * n; i++) C[(size_t)b * m * n + i] = 0.0f;
            ref_gemm('N', 'N', m, n, k, A + (size_t)b * m * k, m, B, k, C + (size_t)b * m * n, m, 0.0f);
        }
        char what[160];
        snprintf(what, sizeof what, "cublasSgemmStridedBatched batch %d, strideB 0, beta 0 over NaN [%s]", batch,
                 cublasGetStatusName(st));
        pt_check_rel_l2(what, got, C, (size_t)m * n * batch, 1e-6);
        cudaFree(dA), cudaFree(dB), cudaFree(dC);
        pt_free(A), pt_free(B), pt_free(C), pt_free(got);
    }
    /* cuBLAS's argument checks */
    float *dA = dmalloc(64 * 64), *dB = dmalloc(64 * 64), *dC = dmalloc(64 * 64), *h = pt_alloc(64 * 64);
    struct {
        const char *what;
        cublasStatus_t want;
        cublasStatus_t got;
    } cases[] = {
        {"m = -1", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, &one, dA, 4, dB, 4, &zero, dC, 4)},
        {"k = -1", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, -1, &one, dA, 4, dB, 4, &zero, dC, 4)},
        {"lda 3 < m 4 (transa N)", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, 3, dB, 4, &zero, dC, 4)},
        {"lda 5 < k 6 (transa T)", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_T, CUBLAS_OP_N, 8, 4, 6, &one, dA, 5, dB, 6, &zero, dC, 8)},
        {"ldb 3 < k 4 (transb N)", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, 4, dB, 3, &zero, dC, 4)},
        {"ldc 3 < m 4", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, 4, dB, 4, &zero, dC, 3)},
        {"batchCount -1", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemmStridedBatched(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, 4, 16, dB, 4, 16, &zero, dC, 4, 16,
                                   -1)},
        {"m = 0: quick return", CUBLAS_STATUS_SUCCESS,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 0, 4, 4, &one, dA, 1, dB, 4, &zero, dC, 1)},
        {"host pointer A", CUBLAS_STATUS_EXECUTION_FAILED,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, h, 4, dB, 4, &zero, dC, 4)},
        {"ldc 65 past the end of C", CUBLAS_STATUS_EXECUTION_FAILED,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 64, 64, 4, &one, dA, 64, dB, 4, &zero, dC, 65)},
        {"C overlapping A", CUBLAS_STATUS_INVALID_VALUE,
         cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, 4, dB, 4, &zero, dA + 8, 4)},
        {"GemmEx with CUDA_R_16F", CUBLAS_STATUS_NOT_SUPPORTED,
         cublasGemmEx(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, CUDA_R_16F, 4, dB, CUDA_R_32F, 4, &zero, dC,
                      CUDA_R_32F, 4, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT)},
        {"GemmEx ldb 2 < k 4", CUBLAS_STATUS_INVALID_VALUE,
         cublasGemmEx(hb, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, dA, CUDA_R_32F, 4, dB, CUDA_R_32F, 2, &zero, dC,
                      CUDA_R_32F, 4, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_GEMM_DEFAULT)},
    };
    for (auto &c : cases)
        pt_check(c.got == c.want, "cuBLAS check %s: %s (want %s)", c.what, cublasGetStatusName(c.got),
                 cublasGetStatusName(c.want));
    cudaStreamSynchronize(s);
    cudaFree(dA), cudaFree(dB), cudaFree(dC);
    pt_free(h);

    /* TF32 / BF16: the fast GEMMs against a hand-rounded reference, and away from fp32 */
    {
        const int M = 64, N = 48, K = 256;
        float *A = pt_alloc((size_t)M * K), *B = pt_alloc((size_t)K * N), *R32 = pt_alloc((size_t)M * N);
        pt_fill_uniform(A, (size_t)M * K, 101, -1, 1);
        pt_fill_uniform(B, (size_t)K * N, 102, -1, 1);
        for (size_t i = 0; i < (size_t)M * N; i++) R32[i] = 0.0f;
        ref_gemm('N', 'N', M, N, K, A, M, B, K, R32, M, 0.0f);
        float *dA2 = upload(A, (size_t)M * K), *dB2 = upload(B, (size_t)K * N), *dC2 = dmalloc((size_t)M * N);
        const struct {
            const char *name;
            int sig; /* significant bits kept: TF32 11, BF16 8, fp32 24 */
            int how; /* 0 GemmEx compute type, 1 Sgemm under the handle's math mode, 2 strided batched Ex */
            cublasComputeType_t ct;
            cublasMath_t math;
            double lo, hi; /* bounds of the error against the exact fp32-operand product */
        } modes[] = {
            {"GemmEx CUBLAS_COMPUTE_32F_FAST_TF32", 11, 0, CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_DEFAULT_MATH, 1e-5,
             2e-3},
            {"GemmEx CUBLAS_COMPUTE_32F_FAST_16BF", 8, 0, CUBLAS_COMPUTE_32F_FAST_16BF, CUBLAS_DEFAULT_MATH, 1e-4,
             2e-2},
            {"Sgemm with CUBLAS_TF32_TENSOR_OP_MATH", 11, 1, CUBLAS_COMPUTE_32F, CUBLAS_TF32_TENSOR_OP_MATH, 1e-5,
             2e-3},
            {"GemmStridedBatchedEx CUBLAS_COMPUTE_32F_FAST_16BF", 8, 2, CUBLAS_COMPUTE_32F_FAST_16BF,
             CUBLAS_DEFAULT_MATH, 1e-4, 2e-2},
            {"GemmEx CUBLAS_COMPUTE_32F (default math)", 24, 0, CUBLAS_COMPUTE_32F, CUBLAS_DEFAULT_MATH, 0.0, 1e-6},
        };
        for (auto &md : modes) {
            cublasSetMathMode(hb, md.math);
            cublasStatus_t st;
            if (md.how == 1)
                st = cublasSgemm(hb, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, dA2, M, dB2, K, &zero, dC2, M);
            else if (md.how == 2)
                st = cublasGemmStridedBatchedEx(hb, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, dA2, CUDA_R_32F, M, 0, dB2,
                                                CUDA_R_32F, K, 0, &zero, dC2, CUDA_R_32F, M, 0, 1, md.ct,
                                                CUBLAS_GEMM_DEFAULT);
            else
                st = cublasGemmEx(hb, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &one, dA2, CUDA_R_32F, M, dB2, CUDA_R_32F, K,
                                  &zero, dC2, CUDA_R_32F, M, md.ct, CUBLAS_GEMM_DEFAULT);
            cublasSetMathMode(hb, CUBLAS_DEFAULT_MATH);
            float *got = pt_alloc((size_t)M * N);
            cudaMemcpyAsync(got, dC2, (size_t)M * N * 4, cudaMemcpyDeviceToHost, s);
            cudaStreamSynchronize(s);
            float *Ar = pt_alloc((size_t)M * K), *Br = pt_alloc((size_t)K * N), *Rr = pt_alloc((size_t)M * N);
            for (size_t i = 0; i < (size_t)M * K; i++) Ar[i] = round_sig(A[i], md.sig);
            for (size_t i = 0; i < (size_t)K * N; i++) Br[i] = round_sig(B[i], md.sig);
            for (size_t i = 0; i < (size_t)M * N; i++) Rr[i] = 0.0f;
            ref_gemm('N', 'N', M, N, K, Ar, M, Br, K, Rr, M, 0.0f);
            char what[200];
            snprintf(what, sizeof what, "%s vs operands hand-rounded to %d significant bits [%s]", md.name, md.sig,
                     cublasGetStatusName(st));
            pt_check_rel_l2(what, got, Rr, (size_t)M * N, 1e-6);
            const double e32 = pt_rel_l2(got, R32, (size_t)M * N);
            pt_check(e32 >= md.lo && e32 <= md.hi, "%s vs the fp32 product: rel_l2 %.3e within [%.0e, %.0e]", md.name,
                     e32, md.lo, md.hi);
            pt_free(got), pt_free(Ar), pt_free(Br), pt_free(Rr);
        }
        /* the rounding itself, on values with known results */
        const float v = 1.0f + 3.0f / 4096.0f; /* 1 + 3*2^-12: TF32 keeps 2^-10 steps: ties -> 1 + 2^-10 */
        pt_check(pcavs_cuda_emu_round_mantissa(v, 10) == round_sig(v, 11) &&
                     pcavs_cuda_emu_round_mantissa(1.0f + 1.0f / 256.0f, 7) == 1.0f,
                 "round to nearest even: TF32(1+3*2^-12) = %.9g, BF16(1+2^-8) = %.9g (tie to even 1)",
                 pcavs_cuda_emu_round_mantissa(v, 10), pcavs_cuda_emu_round_mantissa(1.0f + 1.0f / 256.0f, 7));
        cudaFree(dA2), cudaFree(dB2), cudaFree(dC2);
        pt_free(A), pt_free(B), pt_free(R32);
    }
    cublasDestroy(hb);
    cudaStreamDestroy(s);
}

int main(int argc, char **argv) {
    setenv("PCAVS_CUDA_EMU_MEM_MB", "64", 1); /* before the first CUDA call: the cap under test */
    if (argc > 1 && strcmp(argv[1], "oob-child") == 0) return oob_child();
    if (argc > 1 && strcmp(argv[1], "host-deref-child") == 0) return host_deref_child();
    int count = 0;
    cudaDeviceProp prop;
    cudaGetDeviceCount(&count);
    cudaGetDeviceProperties(&prop, 0);
    pt_check(count == 1 && strcmp(prop.name, "pcavs CUDA emulation") == 0, "device count %d, name '%s'", count,
             prop.name);
    /* the no-GPU path: no device -> the backend says so, and is there again afterwards */
    setenv("PCAVS_CUDA_EMU_DEVICES", "0", 1);
    int none = -1;
    cudaError_t en = cudaGetDeviceCount(&none);
    const pcavs_backend *nb = pcavs_backend_cuda();
    pt_check(en == cudaErrorNoDevice && none == 0 && nb == NULL && strstr(pcavs_last_error(), "no usable CUDA device"),
             "PCAVS_CUDA_EMU_DEVICES=0: cudaGetDeviceCount -> %s, %d devices; pcavs_backend_cuda() NULL: %s",
             cudaGetErrorName(en), none, pcavs_last_error());
    unsetenv("PCAVS_CUDA_EMU_DEVICES");
    cudaGetLastError();
    pt_check(pcavs_backend_cuda() != NULL, "with the device back: pcavs_backend_cuda() returns the emulated table");
    test_memory();
    test_deferred_and_events();
    test_cooperative();
    if (!getenv("PCAVS_CUDA_EMU_ORDER")) test_order(); /* the default, alternating order */
    test_refusals();
    test_fault_reported(argv[0]);
    test_cublas();
    return pt_finish();
}
