/* pth.c: PyTorch state_dict checkpoints (legacy and zip serializations, docs/numerics.md §5)
 * read natively: a restricted unpickler (protocol 2 opcodes torch.save emits plus a few common
 * ones; globals collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter and
 * torch.<X>Storage only), the storage table (persistent ids), and tensor materialisation with
 * bounds-checked size/stride/offset. Mirrors torch.serialization._legacy_load / _load for the
 * subset a state_dict uses. Every allocation is charged against a budget proportional to the
 * input size, so a hostile file cannot trigger a huge allocation; nothing recurses on file data. */
#include "pth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "status.h"

/* ------------------------------------------------------------------ values */

enum pv_kind {
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_BIGINT,
    PV_FLOAT,
    PV_STR,
    PV_BYTES,
    PV_TUPLE,
    PV_LIST,
    PV_DICT,
    PV_GLOBAL,
    PV_STORAGE,
    PV_TENSOR
};
enum pv_global { G_ODICT = 1, G_REBUILD_V2, G_REBUILD_PARAM, G_STORAGE };

typedef struct pv pv;
struct pv {
    int kind;
    int global;    /* PV_GLOBAL: which; G_STORAGE: + stype in i */
    int64_t i;     /* INT / BOOL value, STORAGE index, GLOBAL storage type */
    const char *s; /* STR / BYTES / BIGINT bytes (into the input) */
    size_t n;
    pv **items; /* TUPLE / LIST items; DICT: key, value, key, value ... */
    size_t count, cap;
    pcavs_pth_tensor *t; /* PV_TENSOR */
};

typedef struct pth_storage {
    const char *key; /* into the pickle input */
    size_t key_len;
    pcavs_pth_stype stype;
    int64_t numel;
    const uint8_t *data; /* [numel * elsize] once resolved */
    void *owned;         /* zip: loaded entry */
} pth_storage;

struct pcavs_pth {
    char *label;
    const uint8_t *base; /* [size] legacy: whole file (mapping or caller buffer) */
    size_t size;
    void *map;
    size_t map_size;
    zip_t *zip;       /* zip format */
    char *zip_prefix; /* "<prefix>/" of the archive entries */
    uint8_t *pkl;     /* zip: data.pkl bytes */
    const char *format;
    /* allocation budget for everything derived from file contents */
    size_t budget, used;
    void **blocks;
    size_t nblocks, capblocks;
    /* storage table (hash by key) */
    pth_storage *st;
    int nst, capst;
    int *hash; /* [hcap] storage index + 1, 0 = empty */
    size_t hcap;
    /* the state dict */
    pcavs_pth_tensor *tensors;
    int nt;
};

static const struct {
    const char *name;
    pcavs_pth_stype t;
    size_t size;
} g_stypes[] = {{"FloatStorage", PTH_FLOAT, 4},       {"DoubleStorage", PTH_DOUBLE, 8}, {"HalfStorage", PTH_HALF, 2},
                {"BFloat16Storage", PTH_BFLOAT16, 2}, {"LongStorage", PTH_LONG, 8},     {"IntStorage", PTH_INT, 4},
                {"ShortStorage", PTH_SHORT, 2},       {"CharStorage", PTH_CHAR, 1},     {"ByteStorage", PTH_BYTE, 1},
                {"BoolStorage", PTH_BOOL, 1}};

static size_t stype_size(pcavs_pth_stype t) { return g_stypes[t].size; }

const char *pcavs_pth_stype_name(pcavs_pth_stype t) {
    static const char *names[] = {"float32", "float64", "float16", "bfloat16", "int64",
                                  "int32",   "int16",   "int8",    "uint8",    "bool"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* Budgeted allocation (zeroed), freed with the handle. */
static void *palloc(pcavs_pth *p, size_t n) {
    if (n == 0) n = 1;
    if (n > p->budget - p->used) return NULL;
    if (p->nblocks == p->capblocks) {
        size_t nc = p->capblocks ? 2 * p->capblocks : 256;
        void **nb = realloc(p->blocks, nc * sizeof *nb);
        if (!nb) return NULL;
        p->blocks = nb;
        p->capblocks = nc;
    }
    void *m = calloc(1, n);
    if (!m) return NULL;
    p->used += n;
    p->blocks[p->nblocks++] = m;
    return m;
}

#define OOM(p)                                                                                                         \
    pcavs_fail(PCAVS_ERR_FORMAT, "file %s: pickle needs more memory than its size justifies (corrupt?)", (p)->label)

/* ------------------------------------------------------------------ unpickler */

typedef struct upk {
    pcavs_pth *p;
    const uint8_t *in; /* [len] */
    size_t len, pos;
    pv **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, capmarks;
    pv **memo;
    size_t nmemo, capmemo;
    int allow_persid;
} upk;

static pcavs_status fail_at(upk *u, const char *what) {
    return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: pickle byte %zu: %s", u->p->label, u->pos, what);
}

static pv *new_pv(upk *u, int kind) {
    pv *v = palloc(u->p, sizeof *v);
    if (v) v->kind = kind;
    return v;
}

static int grow(pcavs_pth *p, void **arr, size_t *cap, size_t need, size_t elsize) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) nc *= 2;
    if (nc > (SIZE_MAX / elsize)) return 0;
    void *na = palloc(p, nc * elsize);
    if (!na) return 0;
    if (*cap) memcpy(na, *arr, *cap * elsize);
    *arr = na;
    *cap = nc;
    return 1;
}

static pcavs_status push(upk *u, pv *v) {
    if (!v) return OOM(u->p);
    if (!grow(u->p, (void **)&u->stack, &u->scap, u->sp + 1, sizeof *u->stack)) return OOM(u->p);
    u->stack[u->sp++] = v;
    return PCAVS_OK;
}

static pv *pop(upk *u) {
    size_t floor_ = u->nmarks ? u->marks[u->nmarks - 1] : 0;
    return u->sp > floor_ ? u->stack[--u->sp] : NULL;
}

static pv *top(upk *u) {
    size_t floor_ = u->nmarks ? u->marks[u->nmarks - 1] : 0;
    return u->sp > floor_ ? u->stack[u->sp - 1] : NULL;
}

static int append_item(pcavs_pth *p, pv *c, pv *x) {
    if (!grow(p, (void **)&c->items, &c->cap, c->count + 1, sizeof *c->items)) return 0;
    c->items[c->count++] = x;
    return 1;
}

static int need(upk *u, size_t n) { return n <= u->len - u->pos; }

static uint64_t rd_le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static int str_eq(const pv *v, const char *s) {
    size_t n = strlen(s);
    return v && v->kind == PV_STR && v->n == n && memcmp(v->s, s, n) == 0;
}

static pcavs_status make_global(upk *u, const char *mod, size_t ml, const char *name, size_t nl) {
    pv *g = new_pv(u, PV_GLOBAL);
    if (!g) return OOM(u->p);
#define IS(a, l, lit) ((l) == sizeof(lit) - 1 && memcmp((a), (lit), (l)) == 0)
    if (IS(mod, ml, "collections") && IS(name, nl, "OrderedDict"))
        g->global = G_ODICT;
    else if (IS(mod, ml, "torch._utils") && IS(name, nl, "_rebuild_tensor_v2"))
        g->global = G_REBUILD_V2;
    else if (IS(mod, ml, "torch._utils") && IS(name, nl, "_rebuild_parameter"))
        g->global = G_REBUILD_PARAM;
    else if (IS(mod, ml, "torch")) {
        for (size_t k = 0; k < sizeof g_stypes / sizeof g_stypes[0]; k++)
            if (nl == strlen(g_stypes[k].name) && !memcmp(name, g_stypes[k].name, nl)) {
                g->global = G_STORAGE;
                g->i = g_stypes[k].t;
            }
    }
#undef IS
    if (!g->global) {
        int a = ml > 60 ? 60 : (int)ml, b = nl > 60 ? 60 : (int)nl;
        char msg[200];
        snprintf(msg, sizeof msg, "refusing global %.*s.%.*s (only state_dict tensors are accepted)", a, mod, b, name);
        for (char *c = msg; *c; c++)
            if ((unsigned char)*c < 32 || (unsigned char)*c >= 127) *c = '?';
        return fail_at(u, msg);
    }
    return push(u, g);
}

static uint64_t hash_key(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int find_storage(pcavs_pth *p, const char *key, size_t n) {
    if (!p->hcap) return -1;
    for (size_t h = hash_key(key, n) & (p->hcap - 1);; h = (h + 1) & (p->hcap - 1)) {
        int k = p->hash[h];
        if (!k) return -1;
        if (p->st[k - 1].key_len == n && !memcmp(p->st[k - 1].key, key, n)) return k - 1;
    }
}

static pcavs_status add_storage(upk *u, const pv *key, pcavs_pth_stype t, int64_t numel, int *idx) {
    pcavs_pth *p = u->p;
    int k = find_storage(p, key->s, key->n);
    if (k >= 0) {
        if (p->st[k].stype != t || p->st[k].numel != numel)
            return fail_at(u, "storage key reused with another type or size");
        *idx = k;
        return PCAVS_OK;
    }
    size_t capst = (size_t)p->capst;
    if (!grow(p, (void **)&p->st, &capst, (size_t)p->nst + 1, sizeof *p->st) || capst > INT32_MAX) return OOM(p);
    p->capst = (int)capst;
    if ((size_t)(p->nst + 1) * 2 > p->hcap) { /* rehash at load 1/2 */
        size_t nh = p->hcap ? p->hcap * 2 : 64;
        int *tab = palloc(p, nh * sizeof *tab);
        if (!tab) return OOM(p);
        p->hash = tab;
        p->hcap = nh;
        for (int j = 0; j < p->nst; j++) {
            size_t h = hash_key(p->st[j].key, p->st[j].key_len) & (nh - 1);
            while (tab[h]) h = (h + 1) & (nh - 1);
            tab[h] = j + 1;
        }
    }
    pth_storage *s = &p->st[p->nst];
    memset(s, 0, sizeof *s);
    s->key = key->s;
    s->key_len = key->n;
    s->stype = t;
    s->numel = numel;
    size_t h = hash_key(key->s, key->n) & (p->hcap - 1);
    while (p->hash[h]) h = (h + 1) & (p->hcap - 1);
    p->hash[h] = p->nst + 1;
    *idx = p->nst++;
    return PCAVS_OK;
}

/* BINPERSID: ('storage', <torch.XStorage>, key, location, numel[, view_metadata=None]). */
static pcavs_status persistent_load(upk *u, pv *pid) {
    if (!u->allow_persid) return fail_at(u, "persistent id outside the state_dict pickle");
    if (!pid || pid->kind != PV_TUPLE || (pid->count != 5 && pid->count != 6))
        return fail_at(u, "persistent id is not a 5/6-tuple");
    pv **it = pid->items;
    if (!str_eq(it[0], "storage")) return fail_at(u, "persistent id is not a 'storage' record");
    if (it[1]->kind != PV_GLOBAL || it[1]->global != G_STORAGE)
        return fail_at(u, "persistent id without a torch storage type");
    if (it[2]->kind != PV_STR || it[2]->n == 0) return fail_at(u, "storage key is not a string");
    if (it[3]->kind != PV_STR) return fail_at(u, "storage location is not a string");
    if (it[4]->kind != PV_INT || it[4]->i < 0) return fail_at(u, "storage size is not a non-negative integer");
    if (pid->count == 6 && it[5]->kind != PV_NONE)
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED,
                          "file %s: pickle byte %zu: storage views (view_metadata) are not supported", u->p->label,
                          u->pos);
    int idx = -1;
    PCAVS_TRY(add_storage(u, it[2], (pcavs_pth_stype)it[1]->i, it[4]->i, &idx));
    pv *v = new_pv(u, PV_STORAGE);
    if (!v) return OOM(u->p);
    v->i = idx;
    return push(u, v);
}

static pcavs_status int_tuple(upk *u, const pv *t, int64_t *out, int *n, const char *what) {
    if (!t || t->kind != PV_TUPLE) return fail_at(u, what);
    if (t->count > PCAVS_MAX_DIMS) return fail_at(u, "tensor has too many dimensions");
    for (size_t k = 0; k < t->count; k++) {
        if (t->items[k]->kind != PV_INT || t->items[k]->i < 0) return fail_at(u, what);
        out[k] = t->items[k]->i;
    }
    *n = (int)t->count;
    return PCAVS_OK;
}

static pcavs_status do_reduce(upk *u, pv *f, pv *args) {
    if (!f || !args || f->kind != PV_GLOBAL || args->kind != PV_TUPLE)
        return fail_at(u, "REDUCE needs a known global and an argument tuple");
    switch (f->global) {
    case G_ODICT:
        if (args->count != 0) return fail_at(u, "OrderedDict with constructor arguments");
        return push(u, new_pv(u, PV_DICT));
    case G_REBUILD_PARAM:
        if (args->count < 1 || args->items[0]->kind != PV_TENSOR)
            return fail_at(u, "_rebuild_parameter without a tensor");
        return push(u, args->items[0]);
    case G_REBUILD_V2: {
        if (args->count != 6 && args->count != 7) return fail_at(u, "_rebuild_tensor_v2 takes 6 or 7 arguments");
        pv **a = args->items;
        if (a[0]->kind != PV_STORAGE) return fail_at(u, "_rebuild_tensor_v2 without a storage");
        if (a[1]->kind != PV_INT || a[1]->i < 0)
            return fail_at(u, "tensor storage offset is not a non-negative integer");
        pcavs_pth_tensor *t = palloc(u->p, sizeof *t);
        if (!t) return OOM(u->p);
        int nd, ns;
        PCAVS_TRY(int_tuple(u, a[2], t->shape, &nd, "tensor size is not a tuple of non-negative integers"));
        PCAVS_TRY(int_tuple(u, a[3], t->stride, &ns, "tensor stride is not a tuple of non-negative integers"));
        if (nd != ns) return fail_at(u, "tensor size and stride differ in length");
        t->ndim = nd;
        t->offset = a[1]->i;
        t->storage = (int)a[0]->i;
        t->stype = u->p->st[t->storage].stype;
        pv *v = new_pv(u, PV_TENSOR);
        if (!v) return OOM(u->p);
        v->t = t;
        return push(u, v);
    }
    default:
        return fail_at(u, "REDUCE of a global that is not callable here");
    }
}

/* Pops the items above the last mark (returns them as a pointer into the stack + count). */
static pcavs_status pop_mark(upk *u, pv ***items, size_t *n) {
    if (!u->nmarks) return fail_at(u, "no MARK on the stack");
    size_t m = u->marks[--u->nmarks];
    *items = u->stack ? u->stack + m : NULL; /* no stack yet: an empty mark */
    *n = u->sp - m;
    u->sp = m;
    return PCAVS_OK;
}

static pcavs_status set_items(upk *u, pv *d, pv **kv, size_t n) {
    if (!d || d->kind != PV_DICT) return fail_at(u, "SETITEM(S) on something that is not a dict");
    if (n % 2) return fail_at(u, "SETITEMS with an odd number of items");
    for (size_t k = 0; k < n; k++)
        if (!append_item(u->p, d, kv[k])) return OOM(u->p);
    return PCAVS_OK;
}

static pcavs_status memo_put(upk *u, uint64_t idx) {
    pv *v = top(u);
    if (!v) return fail_at(u, "memo put with an empty stack");
    if (idx > u->nmemo) return fail_at(u, "memo index out of sequence");
    if (idx == u->nmemo) {
        if (!grow(u->p, (void **)&u->memo, &u->capmemo, u->nmemo + 1, sizeof *u->memo)) return OOM(u->p);
        u->nmemo++;
    }
    u->memo[idx] = v;
    return PCAVS_OK;
}

static pcavs_status memo_get(upk *u, uint64_t idx) {
    if (idx >= u->nmemo || !u->memo[idx]) return fail_at(u, "memo get of an unknown index");
    return push(u, u->memo[idx]);
}

static pcavs_status push_str(upk *u, uint64_t n, int kind) {
    if (!need(u, n)) return fail_at(u, "string runs past the end of the data");
    pv *v = new_pv(u, kind);
    if (!v) return OOM(u->p);
    v->s = (const char *)u->in + u->pos;
    v->n = (size_t)n;
    u->pos += (size_t)n;
    return push(u, v);
}

static pcavs_status push_int(upk *u, int64_t x) {
    pv *v = new_pv(u, PV_INT);
    if (!v) return OOM(u->p);
    v->i = x;
    return push(u, v);
}

static pcavs_status push_long(upk *u, uint64_t n) {
    if (!need(u, n)) return fail_at(u, "LONG runs past the end of the data");
    const uint8_t *b = u->in + u->pos;
    u->pos += (size_t)n;
    if (n <= 8) {
        uint64_t x = n ? rd_le(b, (int)n) : 0;
        if (n && n < 8 && (b[n - 1] & 0x80)) x |= ~(uint64_t)0 << (8 * n); /* sign extend */
        return push_int(u, (int64_t)x);
    }
    pv *v = new_pv(u, PV_BIGINT);
    if (!v) return OOM(u->p);
    v->s = (const char *)b;
    v->n = (size_t)n;
    return push(u, v);
}

/* Runs one pickle from in[0..len); *result = the value at STOP, *consumed = bytes read. */
static pcavs_status unpickle(pcavs_pth *p, const uint8_t *in, size_t len, int allow_persid, pv **result,
                             size_t *consumed) {
    upk U = {.p = p, .in = in, .len = len, .allow_persid = allow_persid}, *u = &U;
    for (;;) {
        if (!need(u, 1)) return fail_at(u, "pickle ends without STOP (truncated?)");
        uint8_t op = in[u->pos++];
        pv *a, *b, *c, **items = NULL;
        size_t n = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if (!need(u, 1)) return fail_at(u, "truncated PROTO");
            if (in[u->pos] > 5) return fail_at(u, "unknown pickle protocol");
            u->pos++;
            break;
        case 0x95: /* FRAME */
            if (!need(u, 8)) return fail_at(u, "truncated FRAME");
            u->pos += 8;
            break;
        case '.': /* STOP */
            a = pop(u);
            if (!a || u->nmarks) return fail_at(u, "STOP with an empty stack or an open MARK");
            *result = a;
            *consumed = u->pos;
            return PCAVS_OK;
        case '(': /* MARK */
            if (!grow(p, (void **)&u->marks, &u->capmarks, u->nmarks + 1, sizeof *u->marks)) return OOM(p);
            u->marks[u->nmarks++] = u->sp;
            break;
        case '0': /* POP */
            if (!pop(u)) return fail_at(u, "POP on an empty stack");
            break;
        case 'c': { /* GLOBAL module\nname\n */
            const char *s = (const char *)in + u->pos;
            size_t rest = len - u->pos, lim = rest < 256 ? rest : 256;
            const char *nl1 = memchr(s, '\n', lim);
            if (!nl1) return fail_at(u, "GLOBAL module name unterminated or too long");
            size_t ml = (size_t)(nl1 - s);
            size_t rest2 = rest - ml - 1, lim2 = rest2 < 256 ? rest2 : 256;
            const char *nl2 = memchr(nl1 + 1, '\n', lim2);
            if (!nl2) return fail_at(u, "GLOBAL name unterminated or too long");
            size_t nl = (size_t)(nl2 - nl1 - 1);
            u->pos += ml + nl + 2;
            PCAVS_TRY(make_global(u, s, ml, nl1 + 1, nl));
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            b = pop(u);
            a = pop(u);
            if (!a || !b || a->kind != PV_STR || b->kind != PV_STR) return fail_at(u, "STACK_GLOBAL needs two strings");
            PCAVS_TRY(make_global(u, a->s, a->n, b->s, b->n));
            break;
        case 'R': /* REDUCE */
            b = pop(u);
            a = pop(u);
            PCAVS_TRY(do_reduce(u, a, b));
            break;
        case 0x81: /* NEWOBJ cls args */
            b = pop(u);
            a = pop(u);
            if (!a || !b || a->kind != PV_GLOBAL || a->global != G_ODICT || b->kind != PV_TUPLE || b->count)
                return fail_at(u, "NEWOBJ of anything but OrderedDict()");
            PCAVS_TRY(push(u, new_pv(u, PV_DICT)));
            break;
        case 'b': /* BUILD: state dicts carry _metadata; tensors may carry nothing useful */
            a = pop(u);
            b = top(u);
            if (!a || !b || (b->kind != PV_DICT && b->kind != PV_TENSOR))
                return fail_at(u, "BUILD on an unsupported object");
            break;
        case 'Q': /* BINPERSID */
            a = pop(u);
            PCAVS_TRY(persistent_load(u, a));
            break;
        case '}':
            PCAVS_TRY(push(u, new_pv(u, PV_DICT)));
            break;
        case ']':
            PCAVS_TRY(push(u, new_pv(u, PV_LIST)));
            break;
        case ')':
            PCAVS_TRY(push(u, new_pv(u, PV_TUPLE)));
            break;
        case 'N':
            PCAVS_TRY(push(u, new_pv(u, PV_NONE)));
            break;
        case 0x88:
        case 0x89:
            a = new_pv(u, PV_BOOL);
            if (a) a->i = op == 0x88;
            PCAVS_TRY(push(u, a));
            break;
        case 'd': /* DICT */
        case 'l': /* LIST */
        case 't': /* TUPLE */
            PCAVS_TRY(pop_mark(u, &items, &n));
            c = new_pv(u, op == 'd' ? PV_DICT : op == 'l' ? PV_LIST : PV_TUPLE);
            if (!c) return OOM(p);
            if (op == 'd' && n % 2) return fail_at(u, "DICT with an odd number of items");
            for (size_t k = 0; k < n; k++)
                if (!append_item(p, c, items[k])) return OOM(p);
            PCAVS_TRY(push(u, c));
            break;
        case 0x85: /* TUPLE1..3 */
        case 0x86:
        case 0x87: {
            size_t k = (size_t)(op - 0x84);
            pv *t = new_pv(u, PV_TUPLE), *tmp[3];
            if (!t) return OOM(p);
            for (size_t j = 0; j < k; j++)
                if (!(tmp[k - 1 - j] = pop(u))) return fail_at(u, "TUPLEn with too few items");
            for (size_t j = 0; j < k; j++)
                if (!append_item(p, t, tmp[j])) return OOM(p);
            PCAVS_TRY(push(u, t));
            break;
        }
        case 's': /* SETITEM */
            b = pop(u);
            a = pop(u);
            c = top(u);
            if (!a || !b) return fail_at(u, "SETITEM with too few items");
            {
                pv *kv[2] = {a, b};
                PCAVS_TRY(set_items(u, c, kv, 2));
            }
            break;
        case 'u': /* SETITEMS */
            PCAVS_TRY(pop_mark(u, &items, &n));
            PCAVS_TRY(set_items(u, top(u), items, n));
            break;
        case 'a': /* APPEND */
            a = pop(u);
            c = top(u);
            if (!a || !c || c->kind != PV_LIST) return fail_at(u, "APPEND to something that is not a list");
            if (!append_item(p, c, a)) return OOM(p);
            break;
        case 'e': /* APPENDS */
            PCAVS_TRY(pop_mark(u, &items, &n));
            c = top(u);
            if (!c || c->kind != PV_LIST) return fail_at(u, "APPENDS to something that is not a list");
            for (size_t k = 0; k < n; k++)
                if (!append_item(p, c, items[k])) return OOM(p);
            break;
        case 'J': /* BININT */
            if (!need(u, 4)) return fail_at(u, "truncated BININT");
            PCAVS_TRY(push_int(u, (int32_t)(uint32_t)rd_le(in + u->pos, 4)));
            u->pos += 4;
            break;
        case 'K': /* BININT1 */
            if (!need(u, 1)) return fail_at(u, "truncated BININT1");
            PCAVS_TRY(push_int(u, in[u->pos++]));
            break;
        case 'M': /* BININT2 */
            if (!need(u, 2)) return fail_at(u, "truncated BININT2");
            PCAVS_TRY(push_int(u, (int64_t)rd_le(in + u->pos, 2)));
            u->pos += 2;
            break;
        case 'I': { /* INT decimal\n (also 00 / 01 booleans) */
            const char *s = (const char *)in + u->pos;
            size_t rest = len - u->pos;
            const char *nl = memchr(s, '\n', rest < 32 ? rest : 32);
            if (!nl) return fail_at(u, "INT unterminated");
            char buf[33];
            memcpy(buf, s, (size_t)(nl - s));
            buf[nl - s] = '\0';
            u->pos += (size_t)(nl - s) + 1;
            char *end;
            errno = 0;
            long long x = strtoll(buf, &end, 10);
            if (errno || end == buf || *end) return fail_at(u, "INT is not a decimal integer");
            PCAVS_TRY(push_int(u, x));
            break;
        }
        case 0x8a: /* LONG1 */
            if (!need(u, 1)) return fail_at(u, "truncated LONG1");
            PCAVS_TRY(push_long(u, in[u->pos++]));
            break;
        case 0x8b: /* LONG4 */
            if (!need(u, 4)) return fail_at(u, "truncated LONG4");
            n = (size_t)rd_le(in + u->pos, 4);
            u->pos += 4;
            PCAVS_TRY(push_long(u, n));
            break;
        case 'G': { /* BINFLOAT, big-endian double */
            if (!need(u, 8)) return fail_at(u, "truncated BINFLOAT");
            uint64_t bits = 0;
            for (int k = 0; k < 8; k++) bits = (bits << 8) | in[u->pos + k];
            u->pos += 8;
            a = new_pv(u, PV_FLOAT);
            if (!a) return OOM(p);
            a->i = (int64_t)bits;
            PCAVS_TRY(push(u, a));
            break;
        }
        case 'X': /* BINUNICODE */
            if (!need(u, 4)) return fail_at(u, "truncated BINUNICODE");
            n = (size_t)rd_le(in + u->pos, 4);
            u->pos += 4;
            PCAVS_TRY(push_str(u, n, PV_STR));
            break;
        case 0x8c: /* SHORT_BINUNICODE */
            if (!need(u, 1)) return fail_at(u, "truncated SHORT_BINUNICODE");
            PCAVS_TRY(push_str(u, in[u->pos++], PV_STR));
            break;
        case 0x8d: /* BINUNICODE8 */
            if (!need(u, 8)) return fail_at(u, "truncated BINUNICODE8");
            {
                uint64_t n8 = rd_le(in + u->pos, 8);
                u->pos += 8;
                PCAVS_TRY(push_str(u, n8, PV_STR));
            }
            break;
        case 'U': /* SHORT_BINSTRING (Python 2 str: treated as text) */
            if (!need(u, 1)) return fail_at(u, "truncated SHORT_BINSTRING");
            PCAVS_TRY(push_str(u, in[u->pos++], PV_STR));
            break;
        case 'T': /* BINSTRING */
            if (!need(u, 4)) return fail_at(u, "truncated BINSTRING");
            n = (size_t)rd_le(in + u->pos, 4);
            u->pos += 4;
            if (n > INT32_MAX) return fail_at(u, "negative BINSTRING length");
            PCAVS_TRY(push_str(u, n, PV_STR));
            break;
        case 'q': /* BINPUT */
            if (!need(u, 1)) return fail_at(u, "truncated BINPUT");
            PCAVS_TRY(memo_put(u, in[u->pos++]));
            break;
        case 'r': /* LONG_BINPUT */
            if (!need(u, 4)) return fail_at(u, "truncated LONG_BINPUT");
            u->pos += 4;
            PCAVS_TRY(memo_put(u, rd_le(in + u->pos - 4, 4)));
            break;
        case 0x94: /* MEMOIZE */
            PCAVS_TRY(memo_put(u, u->nmemo));
            break;
        case 'h': /* BINGET */
            if (!need(u, 1)) return fail_at(u, "truncated BINGET");
            PCAVS_TRY(memo_get(u, in[u->pos++]));
            break;
        case 'j': /* LONG_BINGET */
            if (!need(u, 4)) return fail_at(u, "truncated LONG_BINGET");
            u->pos += 4;
            PCAVS_TRY(memo_get(u, rd_le(in + u->pos - 4, 4)));
            break;
        default: {
            char msg[80];
            u->pos--;
            snprintf(msg, sizeof msg, "unsupported pickle opcode 0x%02x", op);
            return fail_at(u, msg);
        }
        }
    }
}

/* The state_dict: a dict of str -> tensor, copied into p->tensors with NUL-terminated names. */
static pcavs_status take_state_dict(pcavs_pth *p, const pv *d) {
    if (!d || d->kind != PV_DICT)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: the pickled object is not a state_dict (OrderedDict)", p->label);
    size_t n = d->count / 2;
    if (n > INT32_MAX) return OOM(p);
    p->tensors = palloc(p, (n ? n : 1) * sizeof *p->tensors);
    if (!p->tensors) return OOM(p);
    for (size_t k = 0; k < n; k++) {
        const pv *key = d->items[2 * k], *val = d->items[2 * k + 1];
        if (key->kind != PV_STR || key->n == 0 || memchr(key->s, '\0', key->n))
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: state_dict entry %zu: key is not a non-empty string",
                              p->label, k);
        char *name = palloc(p, key->n + 1);
        if (!name) return OOM(p);
        memcpy(name, key->s, key->n);
        if (val->kind != PV_TENSOR)
            return pcavs_fail(
                PCAVS_ERR_FORMAT,
                "file %s: tensor %s: value is not a tensor (a full training checkpoint? save the state_dict)", p->label,
                name);
        for (int j = 0; j < p->nt; j++)
            if (!strcmp(p->tensors[j].name, name))
                return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: duplicate key", p->label, name);
        p->tensors[p->nt] = *val->t;
        p->tensors[p->nt].name = name;
        p->nt++;
    }
    return PCAVS_OK;
}

/* Bounds of tensor i inside its storage (numel > 0: last element index < storage numel). */
static pcavs_status check_bounds(const pcavs_pth *p, const pcavs_pth_tensor *t) {
    const pth_storage *s = &p->st[t->storage];
    uint64_t numel = 1, last = (uint64_t)t->offset;
    for (int d = 0; d < t->ndim; d++) {
        uint64_t ext;
        if (__builtin_mul_overflow(numel, (uint64_t)t->shape[d], &numel) ||
            (t->shape[d] > 0 && (__builtin_mul_overflow((uint64_t)(t->shape[d] - 1), (uint64_t)t->stride[d], &ext) ||
                                 __builtin_add_overflow(last, ext, &last))))
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: size/stride overflow", p->label, t->name);
    }
    if (numel > 0 && last >= (uint64_t)s->numel)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: reaches element %llu of a storage of %lld elements",
                          p->label, t->name, (unsigned long long)last, (long long)s->numel);
    return PCAVS_OK;
}

/* ------------------------------------------------------------------ legacy format */

static pcavs_status parse_legacy(pcavs_pth *p) {
    static const uint8_t magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    size_t pos = 0, used;
    pv *v;
    PCAVS_TRY(unpickle(p, p->base, p->size, 0, &v, &used));
    if (v->kind != PV_BIGINT || v->n != 10 || memcmp(v->s, magic, 10))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: not a PyTorch checkpoint (bad magic number)", p->label);
    pos += used;
    PCAVS_TRY(unpickle(p, p->base + pos, p->size - pos, 0, &v, &used));
    if (v->kind != PV_INT || v->i != 1001)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: legacy protocol version is not 1001", p->label);
    pos += used;
    PCAVS_TRY(unpickle(p, p->base + pos, p->size - pos, 0, &v, &used));
    if (v->kind != PV_DICT) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: legacy sys_info is not a dict", p->label);
    for (size_t k = 0; k + 1 < v->count; k += 2)
        if (str_eq(v->items[k], "little_endian") && !(v->items[k + 1]->kind == PV_BOOL && v->items[k + 1]->i == 1))
            return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "file %s: written on a big-endian machine", p->label);
    pos += used;
    PCAVS_TRY(unpickle(p, p->base + pos, p->size - pos, 1, &v, &used));
    PCAVS_TRY(take_state_dict(p, v));
    pos += used;
    PCAVS_TRY(unpickle(p, p->base + pos, p->size - pos, 0, &v, &used));
    if (v->kind != PV_LIST)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: legacy storage key list is not a list", p->label);
    pos += used;
    for (size_t k = 0; k < v->count; k++) {
        const pv *key = v->items[k];
        if (key->kind != PV_STR)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: storage key %zu is not a string", p->label, k);
        int si = find_storage(p, key->s, key->n);
        if (si < 0)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: storage %zu was never referenced by a tensor", p->label, k);
        pth_storage *s = &p->st[si];
        if (s->data) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: storage %zu listed twice", p->label, k);
        if (p->size - pos < 8)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: truncated at storage %zu of %zu", p->label, k, v->count);
        uint64_t numel = rd_le(p->base + pos, 8);
        pos += 8;
        if (numel != (uint64_t)s->numel)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: storage %zu holds %llu elements, the pickle says %lld",
                              p->label, k, (unsigned long long)numel, (long long)s->numel);
        uint64_t nbytes;
        if (__builtin_mul_overflow(numel, (uint64_t)stype_size(s->stype), &nbytes) || nbytes > p->size - pos)
            return pcavs_fail(PCAVS_ERR_FORMAT,
                              "file %s: storage %zu (%llu elements) runs past the end of the file (truncated?)",
                              p->label, k, (unsigned long long)numel);
        s->data = p->base + pos;
        pos += (size_t)nbytes;
    }
    for (int j = 0; j < p->nt; j++)
        if (!p->st[p->tensors[j].storage].data)
            return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: its storage is missing from the file", p->label,
                              p->tensors[j].name);
    p->format = "legacy";
    return PCAVS_OK;
}

/* ------------------------------------------------------------------ zip format */

static pcavs_status zip_read_entry(pcavs_pth *p, zip_int64_t idx, const char *what, uint64_t expect, uint8_t **out) {
    zip_stat_t zs;
    *out = NULL;
    if (zip_stat_index(p->zip, (zip_uint64_t)idx, 0, &zs) != 0 || !(zs.valid & ZIP_STAT_SIZE))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %s: cannot stat zip entry", p->label, what);
    if (expect != UINT64_MAX && zs.size != expect)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %s: zip entry has %llu bytes, expected %llu", p->label, what,
                          (unsigned long long)zs.size, (unsigned long long)expect);
    if (zs.size > p->size) /* torch stores entries uncompressed: never larger than the file */
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %s: zip entry of %llu bytes is larger than the file", p->label,
                          what, (unsigned long long)zs.size);
    uint8_t *buf = malloc(zs.size ? (size_t)zs.size : 1);
    if (!buf)
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: %s: out of memory (%llu bytes)", p->label, what,
                          (unsigned long long)zs.size);
    zip_file_t *zf = zip_fopen_index(p->zip, (zip_uint64_t)idx, 0);
    zip_int64_t got = zf ? zip_fread(zf, buf, zs.size) : -1;
    if (zf) zip_fclose(zf);
    if (got < 0 || (zip_uint64_t)got != zs.size) {
        free(buf);
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %s: cannot read zip entry (%s)", p->label, what,
                          zf ? "short or corrupt data" : zip_strerror(p->zip));
    }
    *out = buf;
    return PCAVS_OK;
}

static pcavs_status parse_zip(pcavs_pth *p, zip_source_t *src) {
    zip_error_t ze;
    zip_error_init(&ze);
    p->zip = zip_open_from_source(src, ZIP_RDONLY, &ze);
    if (!p->zip) {
        pcavs_status st =
            pcavs_fail(PCAVS_ERR_FORMAT, "file %s: bad zip archive: %s", p->label, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        zip_source_free(src);
        return st;
    }
    zip_error_fini(&ze);
    zip_int64_t n = zip_get_num_entries(p->zip, 0), pkl = -1;
    for (zip_int64_t k = 0; k < n; k++) {
        const char *name = zip_get_name(p->zip, (zip_uint64_t)k, ZIP_FL_ENC_RAW);
        size_t l = name ? strlen(name) : 0;
        const char *slash = name ? strchr(name, '/') : NULL;
        if (slash && !strcmp(slash, "/data.pkl") && l < 4096) {
            if (pkl >= 0)
                return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: more than one data.pkl in the archive", p->label);
            pkl = k;
            p->zip_prefix = palloc(p, (size_t)(slash - name) + 2);
            if (!p->zip_prefix) return OOM(p);
            memcpy(p->zip_prefix, name, (size_t)(slash - name) + 1);
        }
    }
    if (pkl < 0)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: zip archive without <prefix>/data.pkl (not a PyTorch file)",
                          p->label);
    char ent[4200];
    snprintf(ent, sizeof ent, "%sbyteorder", p->zip_prefix);
    zip_int64_t bo = zip_name_locate(p->zip, ent, ZIP_FL_ENC_RAW);
    if (bo >= 0) {
        uint8_t *b;
        PCAVS_TRY(zip_read_entry(p, bo, "byteorder", UINT64_MAX, &b));
        zip_stat_t zs;
        zip_stat_index(p->zip, (zip_uint64_t)bo, 0, &zs);
        int little = zs.size == 6 && !memcmp(b, "little", 6);
        free(b);
        if (!little) return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "file %s: byteorder is not little", p->label);
    }
    PCAVS_TRY(zip_read_entry(p, pkl, "data.pkl", UINT64_MAX, &p->pkl));
    zip_stat_t zs;
    zip_stat_index(p->zip, (zip_uint64_t)pkl, 0, &zs);
    pv *v;
    size_t used;
    PCAVS_TRY(unpickle(p, p->pkl, (size_t)zs.size, 1, &v, &used));
    PCAVS_TRY(take_state_dict(p, v));
    p->format = "zip";
    return PCAVS_OK;
}

/* Loads storage si of a zip file on first use (only the tensors that are converted are read). */
static pcavs_status zip_load_storage(pcavs_pth *p, int si) {
    pth_storage *s = &p->st[si];
    if (s->data) return PCAVS_OK;
    char ent[4400];
    int kl = s->key_len > 256 ? 256 : (int)s->key_len;
    snprintf(ent, sizeof ent, "%sdata/%.*s", p->zip_prefix, kl, s->key);
    if ((size_t)kl != s->key_len || memchr(s->key, '\0', s->key_len))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: storage key is not a plain name", p->label);
    zip_int64_t idx = zip_name_locate(p->zip, ent, ZIP_FL_ENC_RAW);
    if (idx < 0) return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: zip entry %s is missing", p->label, ent);
    uint64_t nbytes;
    if (__builtin_mul_overflow((uint64_t)s->numel, (uint64_t)stype_size(s->stype), &nbytes))
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: %s: storage size overflows", p->label, ent);
    uint8_t *b;
    PCAVS_TRY(zip_read_entry(p, idx, ent, nbytes, &b));
    s->owned = b;
    s->data = b;
    return PCAVS_OK;
}

/* ------------------------------------------------------------------ open / close */

static pcavs_status pth_new(const char *label, size_t size, pcavs_pth **out) {
    pcavs_pth *p = calloc(1, sizeof *p);
    if (!p || !(p->label = strdup(label))) {
        free(p);
        return pcavs_fail(PCAVS_ERR_OOM, "file %s: out of memory", label);
    }
    /* Parsed objects are at most a few dozen bytes per pickle byte; 64x + 1 MiB is generous. */
    p->budget = size > (SIZE_MAX - (1u << 20)) / 64 ? SIZE_MAX : 64 * size + (1u << 20);
    *out = p;
    return PCAVS_OK;
}

static pcavs_status pth_parse(pcavs_pth *p, const char *path) {
    if (p->size >= 4 && !memcmp(p->base, "PK\x03\x04", 4)) {
        zip_error_t ze;
        zip_error_init(&ze);
        zip_source_t *src =
            path ? zip_source_file_create(path, 0, -1, &ze) : zip_source_buffer_create(p->base, p->size, 0, &ze);
        zip_error_fini(&ze);
        if (!src) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open as a zip archive", p->label);
        return parse_zip(p, src);
    }
    if (p->size >= 2 && p->base[0] == 0x80 && p->base[1] <= 5) return parse_legacy(p);
    if (p->size >= 262 && !memcmp(p->base + 257, "ustar", 5))
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "file %s: tar checkpoints of PyTorch < 0.4 are not supported",
                          p->label);
    return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: neither a zip nor a legacy PyTorch checkpoint", p->label);
}

pcavs_status pcavs_pth_open_memory(const void *data, size_t size, const char *label, pcavs_pth **out) {
    if (!out || (!data && size)) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pth_open_memory: bad arguments");
    *out = NULL;
    pcavs_pth *p = NULL;
    PCAVS_TRY(pth_new(label ? label : "(memory)", size, &p));
    static const uint8_t empty[8];
    p->base = data ? data : empty;
    p->size = size;
    pcavs_status st = pth_parse(p, NULL);
    if (st != PCAVS_OK) {
        pcavs_pth_close(p);
        return st;
    }
    *out = p;
    return PCAVS_OK;
}

pcavs_status pcavs_pth_open(const char *path, pcavs_pth **out) {
    if (!out || !path) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pth_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pcavs_fail(PCAVS_ERR_IO, "file %s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return pcavs_fail(PCAVS_ERR_IO, "file %s: not a regular file", path);
    }
    pcavs_pth *p = NULL;
    pcavs_status st = pth_new(path, (size_t)sb.st_size, &p);
    if (st != PCAVS_OK) {
        close(fd);
        return st;
    }
    p->size = (size_t)sb.st_size;
    static const uint8_t empty[8];
    p->base = empty;
    if (p->size) {
        void *m = mmap(NULL, p->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            pcavs_pth_close(p);
            return pcavs_fail(PCAVS_ERR_IO, "file %s: mmap failed: %s", path, strerror(errno));
        }
        p->map = m;
        p->map_size = p->size;
        p->base = m;
    }
    close(fd);
    int is_zip = p->size >= 4 && !memcmp(p->base, "PK\x03\x04", 4);
    st = pth_parse(p, is_zip ? path : NULL);
    if (st == PCAVS_OK && is_zip && p->map) { /* zip entries are read through libzip: drop the mapping */
        munmap(p->map, p->map_size);
        p->map = NULL;
        p->base = empty;
    }
    if (st != PCAVS_OK) {
        pcavs_pth_close(p);
        return st;
    }
    *out = p;
    return PCAVS_OK;
}

void pcavs_pth_close(pcavs_pth *p) {
    if (!p) return;
    for (int k = 0; k < p->nst; k++) free(p->st[k].owned);
    if (p->zip) zip_discard(p->zip);
    if (p->map) munmap(p->map, p->map_size);
    free(p->pkl);
    for (size_t k = 0; k < p->nblocks; k++) free(p->blocks[k]);
    free(p->blocks);
    free(p->label);
    free(p);
}

const char *pcavs_pth_format(const pcavs_pth *p) { return p ? p->format : NULL; }
int pcavs_pth_count(const pcavs_pth *p) { return p ? p->nt : 0; }
const pcavs_pth_tensor *pcavs_pth_at(const pcavs_pth *p, int i) {
    return (p && i >= 0 && i < p->nt) ? &p->tensors[i] : NULL;
}

pcavs_status pcavs_pth_out_dtype(const pcavs_pth *p, int i, pcavs_dtype *dt) {
    const pcavs_pth_tensor *t = pcavs_pth_at(p, i);
    if (!t) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pth_out_dtype: bad index %d", i);
    switch (t->stype) {
    case PTH_FLOAT:
    case PTH_DOUBLE:
    case PTH_HALF:
    case PTH_BFLOAT16:
        *dt = PCAVS_F32;
        return PCAVS_OK;
    case PTH_LONG:
        *dt = PCAVS_I64;
        return PCAVS_OK;
    default:
        return pcavs_fail(PCAVS_ERR_UNSUPPORTED, "file %s: tensor %s: dtype %s is not supported", p->label, t->name,
                          pcavs_pth_stype_name(t->stype));
    }
}

static float load_f32(const uint8_t *src, pcavs_pth_stype st) {
    switch (st) {
    case PTH_FLOAT: {
        float f;
        memcpy(&f, src, 4);
        return f;
    }
    case PTH_DOUBLE: {
        double d;
        memcpy(&d, src, 8);
        return (float)d;
    }
    case PTH_HALF:
        return pcavs_f16_to_f32((uint16_t)(src[0] | src[1] << 8));
    default:
        return pcavs_bf16_to_f32((uint16_t)(src[0] | src[1] << 8));
    }
}

pcavs_status pcavs_pth_tensor_data(pcavs_pth *p, int i, const void **data, size_t *nbytes, void **owned) {
    *data = NULL;
    *owned = NULL;
    *nbytes = 0;
    if (!p || i < 0 || i >= p->nt) return pcavs_fail(PCAVS_ERR_INVALID_ARG, "pcavs_pth_tensor_data: bad index %d", i);
    const pcavs_pth_tensor *t = &p->tensors[i];
    pcavs_dtype dt;
    PCAVS_TRY(pcavs_pth_out_dtype(p, i, &dt));
    PCAVS_TRY(check_bounds(p, t));
    if (p->zip) PCAVS_TRY(zip_load_storage(p, t->storage));
    const pth_storage *s = &p->st[t->storage];
    size_t es = stype_size(t->stype), os = pcavs_dtype_size(dt);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) numel *= (uint64_t)t->shape[d]; /* bounded by check_bounds */
    if (numel > 0 && numel > (uint64_t)s->numel)
        return pcavs_fail(PCAVS_ERR_FORMAT, "file %s: tensor %s: more elements than its storage", p->label, t->name);
    *nbytes = (size_t)numel * os;
    int contiguous = 1;
    int64_t expect = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != expect) contiguous = 0;
        expect *= t->shape[d];
    }
    const uint8_t *base = s->data + (size_t)t->offset * es;
    if (numel == 0) {
        *data = s->data;
        return PCAVS_OK;
    }
    if (contiguous && es == os && (t->stype == PTH_FLOAT || t->stype == PTH_LONG)) {
        *data = base;
        return PCAVS_OK;
    }
    uint8_t *out = malloc(*nbytes);
    if (!out) return pcavs_fail(PCAVS_ERR_OOM, "file %s: tensor %s: out of memory", p->label, t->name);
    int64_t idx[PCAVS_MAX_DIMS] = {0};
    for (uint64_t k = 0; k < numel; k++) {
        int64_t off = 0;
        for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
        const uint8_t *src = base + (size_t)off * es;
        if (dt == PCAVS_I64)
            memcpy(out + k * 8, src, 8);
        else {
            float f = load_f32(src, t->stype);
            memcpy(out + k * 4, &f, 4);
        }
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
    *data = out;
    *owned = out;
    return PCAVS_OK;
}
