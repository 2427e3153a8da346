/* convert.c: checkpoint conversion (validation against the compiled-in key table, training-only
 * tensors dropped, metadata with sources, SHA-256 sums and hyper-parameters), --list and
 * --synthesize. Tensor data is borrowed from the input mapping / loaded zip entries and streamed
 * to the output by the safetensors writer (no second copy of float32 contiguous tensors). */
#include "convert.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_keys.h"
#include "pth.h"
#include "safetensors.h"
#include "sha256.h"
#include "status.h"

static const char *const k_nets[4] = {"G", "V", "E", "A_sync"};

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

const char *pcavs_convert_net_from_filename(const char *path) {
    const char *b = base_name(path);
    size_t n = strlen(b);
    if (n < 5 || strcmp(b + n - 4, ".pth")) return NULL;
    for (int k = 0; k < 4; k++) {
        size_t l = strlen(k_nets[k]);
        if (n - 4 < l || memcmp(b + n - 4 - l, k_nets[k], l)) continue;
        size_t at = n - 4 - l; /* "<X>.pth" or "...net_<X>.pth" */
        if (at == 0 || (at >= 4 && !memcmp(b + at - 4, "net_", 4))) return k_nets[k];
    }
    return NULL;
}

static const pcavs_model_key *find_key(const char *net, const char *name) {
    for (int i = 0; i < pcavs_model_key_count; i++)
        if (!strcmp(pcavs_model_keys[i].net, net) && !strcmp(pcavs_model_keys[i].name, name))
            return &pcavs_model_keys[i];
    return NULL;
}

static pcavs_status file_sha256(const char *path, char hex[65]) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    enum { CH = 1 << 20 };
    uint8_t *buf = malloc(CH);
    if (!buf) {
        close(fd);
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory", path);
    }
    pcavs_sha256 s;
    pcavs_sha256_init(&s);
    for (;;) {
        ssize_t k = read(fd, buf, CH);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
            free(buf);
            close(fd);
            return pcavs_fail(PCAVS_ERR_IO, "file %s: read failed: %s", path, strerror(errno));
        }
        if (k == 0) break;
        pcavs_sha256_update(&s, buf, (size_t)k);
    }
    uint8_t d[32];
    pcavs_sha256_final(&s, d);
    pcavs_sha256_to_hex(d, hex);
    free(buf);
    close(fd);
    return PCAVS_OK;
}

static int is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Picks the network whose table holds most of the file's keys (for files not named *net_<X>.pth). */
static const char *net_from_keys(const pcavs_pth *p) {
    int best = -1, best_hits = 0;
    for (int k = 0; k < 4; k++) {
        int hits = 0;
        for (int i = 0; i < pcavs_pth_count(p); i++) hits += find_key(k_nets[k], pcavs_pth_at(p, i)->name) != NULL;
        if (hits > best_hits) {
            best_hits = hits;
            best = k;
        }
    }
    return (best >= 0 && 2 * best_hits > pcavs_pth_count(p)) ? k_nets[best] : NULL;
}

typedef struct src_file {
    char *path;
    const char *net;
    pcavs_pth *pth;
    char sha[65];
} src_file;

static pcavs_status validate(const src_file *s, FILE *log, int *problems) {
    const pcavs_pth *p = s->pth;
    int bad = 0;
    char first[512] = "";
#define PROBLEM(...)                                                                                                   \
    do {                                                                                                               \
        char m_[512];                                                                                                  \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                                                          \
        if (log) fprintf(log, "pcavs-convert: %s\n", m_);                                                              \
        if (!bad++) snprintf(first, sizeof first, "%s", m_);                                                           \
    } while (0)
    for (int i = 0; i < pcavs_pth_count(p); i++) {
        const pcavs_pth_tensor *t = pcavs_pth_at(p, i);
        const pcavs_model_key *k = find_key(s->net, t->name);
        char a[128], b[128];
        if (!k) {
            PROBLEM("file %s: tensor %s: unexpected in network %s", s->path, t->name, s->net);
            continue;
        }
        int same = k->ndim == t->ndim;
        for (int d = 0; same && d < t->ndim; d++) same = k->shape[d] == t->shape[d];
        if (!same)
            PROBLEM("file %s: tensor %s: shape %s, expected %s", s->path, t->name,
                    pcavs_shape_str(t->shape, t->ndim, a, sizeof a), pcavs_shape_str(k->shape, k->ndim, b, sizeof b));
        pcavs_dtype dt;
        if (pcavs_pth_out_dtype(p, i, &dt) != PCAVS_OK || dt != k->dtype)
            PROBLEM("file %s: tensor %s: dtype %s, expected %s", s->path, t->name, pcavs_pth_stype_name(t->stype),
                    k->dtype == PCAVS_F32 ? "a floating type" : "int64");
    }
    for (int i = 0; i < pcavs_model_key_count; i++) {
        const pcavs_model_key *k = &pcavs_model_keys[i];
        if (strcmp(k->net, s->net) || k->training_only) continue;
        int found = 0;
        for (int j = 0; j < pcavs_pth_count(p) && !found; j++) found = !strcmp(pcavs_pth_at(p, j)->name, k->name);
        if (!found) PROBLEM("file %s: tensor %s: missing (network %s)", s->path, k->name, s->net);
    }
#undef PROBLEM
    *problems += bad;
    if (bad) return pcavs_fail(PCAVS_ERR_FORMAT, "%s", first);
    return PCAVS_OK;
}

static pcavs_status add_hparams(pcavs_st_writer *w) {
    static const char *kv[][2] = {{"format", PCAVS_MODEL_FORMAT},
                                  {"format_version", PCAVS_MODEL_FORMAT_VERSION},
                                  {"crop_size", "224"},
                                  {"style_dim", "2560"},
                                  {"id_feature_dim", "2048"},
                                  {"pose_feature_dim", "512"},
                                  {"pose_dim", "12"},
                                  {"mouth_dim", "500"},
                                  {"id_map_shape", "512x7x7"},
                                  {"channels", "7:512,14:512,28:512,56:512,112:256,224:128"},
                                  {"n_mels", "80"},
                                  {"mel_window", "20"},
                                  {"converter", "pcavs-convert 0.1.0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) PCAVS_TRY(pcavs_st_writer_metadata(w, kv[i][0], kv[i][1]));
    return PCAVS_OK;
}

typedef struct owned_list {
    void **p;
    int n, cap;
} owned_list;

static int owned_push(owned_list *l, void *m) {
    if (l->n == l->cap) {
        int nc = l->cap ? 2 * l->cap : 256;
        void **np = realloc(l->p, (size_t)nc * sizeof *np);
        if (!np) return 0;
        l->p = np;
        l->cap = nc;
    }
    l->p[l->n++] = m;
    return 1;
}

static pcavs_status add_source(src_file *files, int *n, const char *path, const char *net) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(files[i].net ? files[i].net : "", net ? net : "-"))
            return pcavs_fail(PCAVS_ERR_INVALID_ARG, "file %s: network %s given twice (also %s)", path, net,
                              files[i].path);
    if (*n >= 16) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "too many input files");
    files[*n].path = strdup(path);
    files[*n].net = net;
    if (!files[*n].path) return pcavs_fail(PCAVS_ERR_OOM, "out of memory");
    (*n)++;
    return PCAVS_OK;
}

pcavs_status pcavs_convert(const char *const *inputs, int n_inputs, const char *out_path, const pcavs_convert_opts *o) {
    if (!inputs || n_inputs <= 0 || !out_path)
        return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_convert: no input or no output");
    pcavs_convert_opts defaults = {0};
    if (!o) o = &defaults;
    src_file files[16];
    memset(files, 0, sizeof files);
    int nf = 0, problems = 0;
    char first[768] = "";
    pcavs_status st = PCAVS_OK;
    pcavs_st_writer *w = NULL;
    owned_list owned = {0};
    for (int i = 0; i < n_inputs && st == PCAVS_OK; i++) {
        if (is_dir(inputs[i])) {
            for (int k = 0; k < 4 && st == PCAVS_OK; k++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/latest_net_%s.pth", inputs[i], k_nets[k]);
                if (access(path, R_OK) != 0)
                    st = pcavs_fail(PCAVS_ERR_IO, "folder %s: latest_net_%s.pth is missing", inputs[i], k_nets[k]);
                else
                    st = add_source(files, &nf, path, k_nets[k]);
            }
        } else {
            st = add_source(files, &nf, inputs[i], pcavs_convert_net_from_filename(inputs[i]));
        }
    }
    for (int i = 0; i < nf && st == PCAVS_OK; i++) {
        if (o->log) fprintf(o->log, "pcavs-convert: reading %s\n", files[i].path);
        st = file_sha256(files[i].path, files[i].sha);
        if (st == PCAVS_OK) st = pcavs_pth_open(files[i].path, &files[i].pth);
        if (st == PCAVS_OK && !files[i].net) {
            files[i].net = net_from_keys(files[i].pth);
            if (!files[i].net)
                st = pcavs_fail(PCAVS_ERR_FORMAT,
                                "file %s: not recognisably one of G, V, E, A_sync (name it latest_net_<X>.pth)",
                                files[i].path);
            for (int j = 0; j < i && st == PCAVS_OK; j++)
                if (files[j].net == files[i].net)
                    st = pcavs_fail(PCAVS_ERR_INVALID_ARG, "file %s: network %s given twice (also %s)", files[i].path,
                                    files[i].net, files[j].path);
        }
        if (st == PCAVS_OK) {
            pcavs_status v = validate(&files[i], o->log, &problems);
            if (v != PCAVS_OK && !first[0]) snprintf(first, sizeof first, "%s", pcavs_last_error());
        }
    }
    if (st == PCAVS_OK && problems > 0) {
        st = pcavs_fail(PCAVS_ERR_FORMAT, "%d validation problem%s; first: %s", problems, problems > 1 ? "s" : "",
                        first);
    }
    if (st == PCAVS_OK) st = pcavs_st_writer_create(&w);
    if (st == PCAVS_OK) st = add_hparams(w);
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "synthetic", "0");
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "keep_all", o->keep_all ? "1" : "0");
    char nets[64] = "";
    /* Output order: G, V, E, A_sync, each in its file's state_dict order. */
    for (int k = 0; k < 4 && st == PCAVS_OK; k++) {
        for (int i = 0; i < nf && st == PCAVS_OK; i++) {
            if (files[i].net != k_nets[k]) continue;
            char key[64];
            snprintf(nets + strlen(nets), sizeof nets - strlen(nets), "%s%s", nets[0] ? "," : "", k_nets[k]);
            snprintf(key, sizeof key, "source_%s", k_nets[k]);
            st = pcavs_st_writer_metadata(w, key, base_name(files[i].path));
            snprintf(key, sizeof key, "sha256_%s", k_nets[k]);
            if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, key, files[i].sha);
            snprintf(key, sizeof key, "source_format_%s", k_nets[k]);
            if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, key, pcavs_pth_format(files[i].pth));
            pcavs_pth *p = files[i].pth;
            for (int j = 0; j < pcavs_pth_count(p) && st == PCAVS_OK; j++) {
                const pcavs_pth_tensor *t = pcavs_pth_at(p, j);
                const pcavs_model_key *mk = find_key(k_nets[k], t->name);
                if (mk && mk->training_only && !o->keep_all) continue;
                const void *data;
                size_t nbytes;
                void *own;
                pcavs_dtype dt;
                st = pcavs_pth_out_dtype(p, j, &dt);
                if (st == PCAVS_OK) st = pcavs_pth_tensor_data(p, j, &data, &nbytes, &own);
                if (st == PCAVS_OK && own && !owned_push(&owned, own)) {
                    free(own);
                    st = pcavs_fail(PCAVS_ERR_OOM, "out of memory");
                }
                char name[600];
                snprintf(name, sizeof name, "%s.%s", k_nets[k], t->name);
                if (st == PCAVS_OK) st = pcavs_st_writer_add(w, name, dt, t->ndim, t->shape, data, 1);
            }
        }
    }
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "networks", nets);
    if (st == PCAVS_OK) {
        if (o->log) fprintf(o->log, "pcavs-convert: writing %s\n", out_path);
        st = pcavs_st_writer_save(w, out_path);
    }
    pcavs_st_writer_free(w);
    for (int i = 0; i < owned.n; i++) free(owned.p[i]);
    free(owned.p);
    for (int i = 0; i < nf; i++) {
        pcavs_pth_close(files[i].pth);
        free(files[i].path);
    }
    return st;
}

static void checksum16(const void *data, size_t n, char out[17]) {
    char hex[65];
    pcavs_sha256_hex(data, n, hex);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

pcavs_status pcavs_convert_list(const char *path, FILE *out) {
    if (!path || !out) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_convert_list: NULL argument");
    uint8_t head[4] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    size_t got = fread(head, 1, 4, fp);
    fclose(fp);
    char shape[128], sum[17];
    if ((got >= 4 && !memcmp(head, "PK\x03\x04", 4)) || (got >= 2 && head[0] == 0x80)) {
        pcavs_pth *p;
        PCAVS_TRY(pcavs_pth_open(path, &p));
        fprintf(out, "# %s: PyTorch %s checkpoint, %d tensors\n", path, pcavs_pth_format(p), pcavs_pth_count(p));
        for (int i = 0; i < pcavs_pth_count(p); i++) {
            const pcavs_pth_tensor *t = pcavs_pth_at(p, i);
            const void *data;
            size_t nbytes;
            void *own;
            pcavs_status st = pcavs_pth_tensor_data(p, i, &data, &nbytes, &own);
            if (st != PCAVS_OK) {
                pcavs_pth_close(p);
                return st;
            }
            checksum16(data, nbytes, sum);
            free(own);
            fprintf(out, "%s\t%s\t%s\tsha256:%s\n", t->name, pcavs_pth_stype_name(t->stype),
                    pcavs_shape_str(t->shape, t->ndim, shape, sizeof shape), sum);
        }
        pcavs_pth_close(p);
        return PCAVS_OK;
    }
    pcavs_st_file *f;
    PCAVS_TRY(pcavs_st_open(path, &f));
    fprintf(out, "# %s: safetensors, %d tensors\n", path, pcavs_st_count(f));
    for (int i = 0; i < pcavs_st_metadata_count(f); i++) {
        const char *k, *v;
        pcavs_st_metadata_at(f, i, &k, &v);
        fprintf(out, "# %s = %s\n", k, v);
    }
    for (int i = 0; i < pcavs_st_count(f); i++) {
        const pcavs_st_entry *e = pcavs_st_at(f, i);
        checksum16(e->t.data, e->nbytes, sum);
        fprintf(out, "%s\t%s\t%s\tsha256:%s\n", e->name, pcavs_dtype_name(e->t.dtype),
                pcavs_shape_str(e->t.shape, e->t.ndim, shape, sizeof shape), sum);
    }
    pcavs_st_close(f);
    return PCAVS_OK;
}

/* ---- --synthesize ---- */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void fill_normal(float *x, size_t n, uint64_t *s, double std) {
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((splitmix(s) >> 11) + 1.0) * (1.0 / 9007199254740993.0); /* (0, 1] */
        double u2 = (splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
        double r = sqrt(-2.0 * log(u1)), a = 2.0 * M_PI * u2;
        x[i] = (float)(std * r * cos(a));
        if (i + 1 < n) x[i + 1] = (float)(std * r * sin(a));
    }
}

static int ends(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int is_batchnorm_param(const pcavs_model_key *k) {
    char buf[512];
    const char *dot = strrchr(k->name, '.');
    if (!dot || (size_t)(dot - k->name) > 400) return 0;
    snprintf(buf, sizeof buf, "%.*s.running_mean", (int)(dot - k->name), k->name);
    return find_key(k->net, buf) != NULL;
}

/* Upstream-style init (see the header of this function's caller): returns 0 on success. */
static void synth_values(const pcavs_model_key *k, float *x, size_t n, uint64_t *rng) {
    const char *nm = k->name;
    int G = !strcmp(k->net, "G");
    float c = 0.0f;
    int normal = 0;
    double std = 1.0;
    if (ends(nm, "running_var"))
        c = 1.0f;
    else if (ends(nm, "running_mean"))
        c = 0.0f;
    else if (is_batchnorm_param(k))
        c = ends(nm, ".weight") ? 1.0f : 0.0f;
    else if (G && (ends(nm, "blur.kernel") || ends(nm, "upsample.kernel")) && n == 16) {
        /* make_kernel([1,3,3,1]) * factor^2 = outer([1,3,3,1]) / 64 * 4 */
        static const float v[4] = {1, 3, 3, 1};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) x[i * 4 + j] = v[i] * v[j] / 16.0f;
        return;
    } else if (G && ends(nm, "modulation.bias"))
        c = 1.0f; /* EqualLinear bias_init=1 */
    else if (G && ends(nm, "noise.weight"))
        c = 0.0f; /* NoiseInjection zeros */
    else if (G && !strncmp(nm, "style.", 6) && ends(nm, ".weight"))
        normal = 1, std = 100.0; /* randn / lr_mul 0.01 */
    else if (G && (ends(nm, ".weight") || !strncmp(nm, "noises.", 7) || !strcmp(nm, "input.input")))
        normal = 1; /* modulated/equal weights are randn (scaled at run time); fixed noises N(0,1) */
    else if (ends(nm, ".bias"))
        c = 0.0f;
    else if (ends(nm, ".weight") && k->ndim >= 2) {
        int64_t fan_in = 1;
        for (int d = 1; d < k->ndim; d++) fan_in *= k->shape[d];
        normal = 1;
        std = sqrt(2.0 / (double)(fan_in > 0 ? fan_in : 1)); /* He */
    } else if (ends(nm, ".weight"))
        c = 1.0f;
    if (normal)
        fill_normal(x, n, rng, std);
    else
        for (size_t i = 0; i < n; i++) x[i] = c;
}

pcavs_status pcavs_synthesize(const char *out_path, uint64_t seed, int keep_all) {
    if (!out_path) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_synthesize: no output path");
    pcavs_st_writer *w;
    PCAVS_TRY(pcavs_st_writer_create(&w));
    pcavs_status st = add_hparams(w);
    char seedbuf[32];
    snprintf(seedbuf, sizeof seedbuf, "%llu", (unsigned long long)seed);
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "synthetic", "1");
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "synthetic_seed", seedbuf);
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "keep_all", keep_all ? "1" : "0");
    if (st == PCAVS_OK) st = pcavs_st_writer_metadata(w, "networks", "G,V,E,A_sync");
    uint64_t rng = seed ^ 0x5043415653594e54ull; /* "PCAVSYNT" */
    for (int i = 0; i < pcavs_model_key_count && st == PCAVS_OK; i++) {
        const pcavs_model_key *k = &pcavs_model_keys[i];
        if (k->training_only && !keep_all) continue;
        size_t n = 1;
        for (int d = 0; d < k->ndim; d++) n *= (size_t)k->shape[d];
        char name[600];
        snprintf(name, sizeof name, "%s.%s", k->net, k->name);
        if (k->dtype == PCAVS_I64) {
            int64_t *v = calloc(n ? n : 1, 8);
            if (!v)
                st = pcavs_fail(PCAVS_ERR_OOM, "synthesize: out of memory");
            else
                st = pcavs_st_writer_add(w, name, PCAVS_I64, k->ndim, k->shape, v, 0);
            free(v);
            continue;
        }
        float *x = malloc((n ? n : 1) * sizeof *x);
        if (!x) {
            st = pcavs_fail(PCAVS_ERR_OOM, "synthesize: out of memory for %s", name);
            break;
        }
        synth_values(k, x, n, &rng);
        st = pcavs_st_writer_add(w, name, PCAVS_F32, k->ndim, k->shape, x, 0);
        free(x);
    }
    if (st == PCAVS_OK) st = pcavs_st_writer_save(w, out_path);
    pcavs_st_writer_free(w);
    return st;
}
