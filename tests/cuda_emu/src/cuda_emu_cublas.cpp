/* cuda_emu_cublas.cpp (pcavs CUDA emulation, tests only): cuBLAS's GEMMs on OpenBLAS.
 * Column-major semantics exactly as cuBLAS (op(A) m x k with lda >= rows of A as stored, ...),
 * cuBLAS's own argument checks (CUBLAS_STATUS_INVALID_VALUE), then checks a GPU does not give:
 * every operand's whole extent (leading dimension, batch strides) inside one device allocation
 * (else CUBLAS_STATUS_EXECUTION_FAILED: on a GPU an illegal access), C not overlapping A or B.
 * The GEMM is queued on the handle's stream and runs at the next synchronisation.
 * Precision: CUBLAS_DEFAULT_MATH / PEDANTIC / COMPUTE_32F(_PEDANTIC): plain fp32. The handle's
 * CUBLAS_TF32_TENSOR_OP_MATH (for Sgemm and COMPUTE_32F) and CUBLAS_COMPUTE_32F_FAST_TF32 round
 * both operands to TF32 (10-bit mantissa), CUBLAS_COMPUTE_32F_FAST_16BF to bf16 (7 bits), to
 * nearest even, then multiply in fp32 with fp32 accumulation, as the tensor cores do. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "cublas_v2.h"
#include "cuda_emu_internal.h"

struct cublasContext {
    cudaStream_t stream = nullptr;
    cublasMath_t math = CUBLAS_DEFAULT_MATH;
    cublasPointerMode_t pmode = CUBLAS_POINTER_MODE_HOST;
};

namespace {

thread_local std::string t_msg;
thread_local cublasStatus_t t_msg_code = CUBLAS_STATUS_SUCCESS;

cublasStatus_t fail(cublasStatus_t s, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    t_msg = buf;
    t_msg_code = s;
    fprintf(stderr, "pcavs cuBLAS emulation: %s\n", buf);
    return s;
}

const char *generic(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH:
        return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR:
        return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "the functionality requested is not supported";
    }
    return "unknown error";
}

char op_char(cublasOperation_t o) { return o == CUBLAS_OP_N ? 'N' : o == CUBLAS_OP_T ? 'T' : 'C'; }

struct gemm_args {
    const char *api;
    cublasOperation_t ta, tb;
    int m, n, k;
    const float *alpha, *beta; /* as passed (host or device) */
    const float *A, *B;
    float *C;
    int lda, ldb, ldc;
    long long sA, sB, sC;
    int batch;
    int mant; /* 23: fp32; 10: TF32; 7: BF16 */
};

/* Elements [lo, hi) touched by `batch` matrices of `rows` x `cols` (ld) strided by `stride`. */
void extent(int rows, int cols, int ld, long long stride, int batch, long long *lo, long long *hi) {
    const long long one = (long long)(cols - 1) * ld + rows;
    const long long last = (long long)(batch - 1) * stride;
    *lo = std::min(0LL, last);
    *hi = std::max(one, last + one);
}

bool overlap(const void *a, long long alo, long long ahi, const void *b, long long blo, long long bhi) {
    const char *a0 = (const char *)a + alo * 4, *a1 = (const char *)a + ahi * 4;
    const char *b0 = (const char *)b + blo * 4, *b1 = (const char *)b + bhi * 4;
    return a0 < b1 && b0 < a1;
}

void round_buffer(float *p, size_t n, int mant) {
    for (size_t i = 0; i < n; i++) p[i] = pcavs_cuda_emu_round_mantissa(p[i], mant);
}

/* One GEMM (batch item) C = alpha op(A) op(B) + beta C, column-major. */
void gemm_one(const gemm_args &g, const float *A, const float *B, float *C, float alpha, float beta) {
    const int m = g.m, n = g.n, k = g.k;
    if (beta == 0.0f) { /* cuBLAS does not read C when beta is 0 (NaN there does not propagate) */
        for (int j = 0; j < n; j++) memset(C + (size_t)j * g.ldc, 0, (size_t)m * sizeof(float));
    } else if (k == 0 || alpha == 0.0f) {
        for (int j = 0; j < n; j++)
            for (int i = 0; i < m; i++) C[(size_t)j * g.ldc + i] *= beta;
    }
    if (k == 0 || alpha == 0.0f) return;
    std::vector<float> ar, br;
    if (g.mant < 23) { /* the tensor cores read rounded operands */
        const int ra = g.ta == CUBLAS_OP_N ? m : k, ca = g.ta == CUBLAS_OP_N ? k : m;
        const int rb = g.tb == CUBLAS_OP_N ? k : n, cb = g.tb == CUBLAS_OP_N ? n : k;
        ar.assign(A, A + (size_t)(ca - 1) * g.lda + ra);
        br.assign(B, B + (size_t)(cb - 1) * g.ldb + rb);
        round_buffer(ar.data(), ar.size(), g.mant);
        round_buffer(br.data(), br.size(), g.mant);
        A = ar.data(), B = br.data();
    }
    cblas_sgemm(CblasColMajor, g.ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
                g.tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, alpha, A, g.lda, B, g.ldb,
                beta == 0.0f ? 0.0f : beta, C, g.ldc);
}

cublasStatus_t gemm(cublasHandle_t h, gemm_args g) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "%s: NULL handle", g.api);
    if (pcavs_emu::sticky_error())
        return fail(CUBLAS_STATUS_EXECUTION_FAILED, "%s: the CUDA context has a sticky error", g.api);
    const bool okop = (g.ta == CUBLAS_OP_N || g.ta == CUBLAS_OP_T || g.ta == CUBLAS_OP_C) &&
                      (g.tb == CUBLAS_OP_N || g.tb == CUBLAS_OP_T || g.tb == CUBLAS_OP_C);
    if (!okop) return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: bad transa/transb (%d, %d)", g.api, (int)g.ta, (int)g.tb);
    if (g.ta == CUBLAS_OP_C) g.ta = CUBLAS_OP_T; /* real data */
    if (g.tb == CUBLAS_OP_C) g.tb = CUBLAS_OP_T;
    if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0)
        return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: negative size m=%d n=%d k=%d batchCount=%d", g.api, g.m, g.n, g.k,
                    g.batch);
    const int ra = g.ta == CUBLAS_OP_N ? g.m : g.k, ca = g.ta == CUBLAS_OP_N ? g.k : g.m;
    const int rb = g.tb == CUBLAS_OP_N ? g.k : g.n, cb = g.tb == CUBLAS_OP_N ? g.n : g.k;
    if (g.lda < std::max(1, ra))
        return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: lda=%d < max(1, %d) (rows of A stored for transa=%c, m=%d k=%d)",
                    g.api, g.lda, ra, op_char(g.ta), g.m, g.k);
    if (g.ldb < std::max(1, rb))
        return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: ldb=%d < max(1, %d) (rows of B stored for transb=%c, k=%d n=%d)",
                    g.api, g.ldb, rb, op_char(g.tb), g.k, g.n);
    if (g.ldc < std::max(1, g.m))
        return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: ldc=%d < max(1, m=%d)", g.api, g.ldc, g.m);
    if (g.m == 0 || g.n == 0 || g.batch == 0) return CUBLAS_STATUS_SUCCESS; /* quick return */
    if (!g.alpha || !g.beta) return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: NULL alpha or beta", g.api);
    const bool dev_scalars = h->pmode == CUBLAS_POINTER_MODE_DEVICE;
    if (dev_scalars && (!pcavs_emu::device_range(g.alpha, 4) || !pcavs_emu::device_range(g.beta, 4)))
        return fail(CUBLAS_STATUS_EXECUTION_FAILED, "%s: device pointer mode but alpha/beta are not device memory",
                    g.api);
    const float alpha = dev_scalars ? 0.0f : *g.alpha, beta = dev_scalars ? 0.0f : *g.beta;
    const bool reads_ab = g.k > 0 && (dev_scalars || alpha != 0.0f);
    long long alo, ahi, blo, bhi, clo, chi;
    extent(ra, ca, g.lda, g.sA, g.batch, &alo, &ahi);
    extent(rb, cb, g.ldb, g.sB, g.batch, &blo, &bhi);
    extent(g.m, g.n, g.ldc, g.sC, g.batch, &clo, &chi);
    struct {
        const char *name;
        const void *p;
        long long lo, hi;
        bool used;
    } ops[3] = {{"A", g.A, alo, ahi, reads_ab}, {"B", g.B, blo, bhi, reads_ab}, {"C", g.C, clo, chi, true}};
    for (auto &o : ops) {
        if (!o.used) continue;
        if (!o.p || !pcavs_emu::device_range((const float *)o.p + o.lo, (size_t)(o.hi - o.lo) * 4))
            return fail(CUBLAS_STATUS_EXECUTION_FAILED,
                        "%s (m=%d n=%d k=%d, transa=%c transb=%c, lda=%d ldb=%d ldc=%d, batch %d): %s = %p, elements "
                        "[%lld, %lld), is not inside one device allocation (a host pointer, a wrong leading "
                        "dimension or stride, or too small a buffer: an illegal access on a GPU)",
                        g.api, g.m, g.n, g.k, op_char(g.ta), op_char(g.tb), g.lda, g.ldb, g.ldc, g.batch, o.name, o.p,
                        o.lo, o.hi);
    }
    if (reads_ab && (overlap(g.C, clo, chi, g.A, alo, ahi) || overlap(g.C, clo, chi, g.B, blo, bhi)))
        return fail(CUBLAS_STATUS_INVALID_VALUE, "%s: the output C overlaps an input (undefined in cuBLAS)", g.api);
    if (!pcavs_emu::stream_valid(h->stream))
        return fail(CUBLAS_STATUS_EXECUTION_FAILED, "%s: the handle's stream %p is not a live stream", g.api,
                    (void *)h->stream);
    pcavs_emu::enqueue(h->stream, [g, dev_scalars, alpha, beta] {
        for (int b = 0; b < g.batch; b++) {
            const float al = dev_scalars ? *g.alpha : alpha, be = dev_scalars ? *g.beta : beta;
            gemm_one(g, g.A + b * g.sA, g.B + b * g.sB, g.C + b * g.sC, al, be);
        }
        pcavs_emu::check_after(g.C, g.api);
    });
    return CUBLAS_STATUS_SUCCESS;
}

/* mantissa bits of a GemmEx compute type under the handle's math mode; -1: not emulated */
int ex_mantissa(cublasHandle_t h, cublasComputeType_t ct) {
    switch (ct) {
    case CUBLAS_COMPUTE_32F:
        return h && h->math == CUBLAS_TF32_TENSOR_OP_MATH ? 10 : 23;
    case CUBLAS_COMPUTE_32F_PEDANTIC:
        return 23;
    case CUBLAS_COMPUTE_32F_FAST_TF32:
        return 10;
    case CUBLAS_COMPUTE_32F_FAST_16BF:
        return 7;
    default:
        return -1;
    }
}

cublasStatus_t check_ex(const char *api, cublasHandle_t h, cudaDataType at, cudaDataType bt, cudaDataType ctp,
                        cublasComputeType_t ct, int *mant) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "%s: NULL handle", api);
    if (at != CUDA_R_32F || bt != CUDA_R_32F || ctp != CUDA_R_32F)
        return fail(CUBLAS_STATUS_NOT_SUPPORTED, "%s: only CUDA_R_32F operands are emulated (A %d, B %d, C %d)", api,
                    (int)at, (int)bt, (int)ctp);
    *mant = ex_mantissa(h, ct);
    if (*mant < 0)
        return fail(CUBLAS_STATUS_NOT_SUPPORTED,
                    "%s: compute type %d is not emulated (32F, 32F_PEDANTIC, "
                    "32F_FAST_TF32, 32F_FAST_16BF are)",
                    api, (int)ct);
    return CUBLAS_STATUS_SUCCESS;
}

} // namespace

extern "C" {

float pcavs_cuda_emu_round_mantissa(float v, int mant) {
    if (mant >= 23) return v;
    uint32_t u;
    memcpy(&u, &v, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return v; /* Inf, NaN unchanged */
    const int drop = 23 - mant;
    const uint32_t half = (1u << (drop - 1)) - 1, lsb = (u >> drop) & 1u;
    u += half + lsb;
    u &= ~((1u << drop) - 1u);
    memcpy(&v, &u, 4);
    return v;
}

const char *cublasGetStatusString(cublasStatus_t s) {
    if (s != CUBLAS_STATUS_SUCCESS && s == t_msg_code && !t_msg.empty()) return t_msg.c_str();
    return generic(s);
}

const char *cublasGetStatusName(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS:
        return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
        return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
        return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
        return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
        return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
        return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
        return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
        return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
        return "CUBLAS_STATUS_NOT_SUPPORTED";
    }
    return "CUBLAS_STATUS_UNKNOWN";
}

cublasStatus_t cublasCreate(cublasHandle_t *h) {
    if (!h) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate: NULL");
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n < 1) {
        cudaGetLastError();
        return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasCreate: no device");
    }
    *h = new cublasContext;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasDestroy: NULL handle");
    cudaStreamSynchronize(h->stream); /* queued GEMMs still refer to nothing of the handle, but finish them */
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream: NULL handle");
    if (!pcavs_emu::stream_valid(s))
        return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetStream: %p is not a live stream", (void *)s);
    h->stream = s;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t h, cudaStream_t *s) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetStream: NULL handle");
    if (!s) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetStream: NULL");
    *s = h->stream;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t mode) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetMathMode: NULL handle");
    const int base = (int)mode & ~CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION;
    if (base != CUBLAS_DEFAULT_MATH && base != CUBLAS_TENSOR_OP_MATH && base != CUBLAS_PEDANTIC_MATH &&
        base != CUBLAS_TF32_TENSOR_OP_MATH)
        return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetMathMode: unknown mode %d", (int)mode);
    h->math = (cublasMath_t)base;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t h, cublasMath_t *mode) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasGetMathMode: NULL handle");
    if (!mode) return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasGetMathMode: NULL");
    *mode = h->math;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t h, cublasPointerMode_t mode) {
    if (!h) return fail(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetPointerMode: NULL handle");
    if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE)
        return fail(CUBLAS_STATUS_INVALID_VALUE, "cublasSetPointerMode: unknown mode %d", (int)mode);
    h->pmode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float *alpha, const float *A, int lda, const float *B, int ldb, const float *beta,
                           float *C, int ldc) {
    const int mant = h && h->math == CUBLAS_TF32_TENSOR_OP_MATH ? 10 : 23;
    return gemm(h, gemm_args{"cublasSgemm", ta, tb, m, n, k, alpha, beta, A, B, C, lda, ldb, ldc, 0, 0, 0, 1, mant});
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float *alpha, const float *A, int lda, long long sA,
                                         const float *B, int ldb, long long sB, const float *beta, float *C, int ldc,
                                         long long sC, int batch) {
    const int mant = h && h->math == CUBLAS_TF32_TENSOR_OP_MATH ? 10 : 23;
    return gemm(h, gemm_args{"cublasSgemmStridedBatched", ta, tb, m, n, k, alpha, beta, A, B, C, lda, ldb, ldc, sA, sB,
                             sC, batch, mant});
}

cublasStatus_t cublasGemmEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                            const void *alpha, const void *A, cudaDataType at, int lda, const void *B, cudaDataType bt,
                            int ldb, const void *beta, void *C, cudaDataType ctp, int ldc, cublasComputeType_t ct,
                            cublasGemmAlgo_t algo) {
    (void)algo;
    int mant;
    cublasStatus_t s = check_ex("cublasGemmEx", h, at, bt, ctp, ct, &mant);
    if (s) return s;
    return gemm(h, gemm_args{"cublasGemmEx", ta, tb, m, n, k, (const float *)alpha, (const float *)beta,
                             (const float *)A, (const float *)B, (float *)C, lda, ldb, ldc, 0, 0, 0, 1, mant});
}

cublasStatus_t cublasGemmStridedBatchedEx(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                          int k, const void *alpha, const void *A, cudaDataType at, int lda,
                                          long long sA, const void *B, cudaDataType bt, int ldb, long long sB,
                                          const void *beta, void *C, cudaDataType ctp, int ldc, long long sC, int batch,
                                          cublasComputeType_t ct, cublasGemmAlgo_t algo) {
    (void)algo;
    int mant;
    cublasStatus_t s = check_ex("cublasGemmStridedBatchedEx", h, at, bt, ctp, ct, &mant);
    if (s) return s;
    return gemm(h, gemm_args{"cublasGemmStridedBatchedEx", ta, tb, m, n, k, (const float *)alpha, (const float *)beta,
                             (const float *)A, (const float *)B, (float *)C, lda, ldb, ldc, sA, sB, sC, batch, mant});
}

} /* extern "C" */
