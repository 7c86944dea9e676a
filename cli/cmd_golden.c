/* cmd_golden.c - the golden-tensor commands: verify and compare, and the report options they share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <utf8proc.h>

#include "cli.h"
#include "logits.h"
#include "npy.h"
#include "policy.h"
#include "q35.h"
#include "util.h"

/* ---- verify / compare: shared report options ---- */

typedef struct {
    const char *policy, *json, *markdown, *color;
    double tol, tol_logits, min_cos;
    const char *tol_s, *tol_logits_s, *min_cos_s; /* as given on the command line; NULL: the default */
    int failures_only;
} report_opts;

/* The report options that take a value, for cli_value and cli_positional lists. */
#define REPORT_VALS "--policy", "--json", "--markdown", "--report", "--color", "--tol", "--tol-logits", "--min-cos"

/* Takes a report option at argv[*i] (advancing past its value); 1 when taken, 0 when not one,
 * -1 after a message on stderr (a missing or bad value). */
static int report_option(const char *cmd, report_opts *r, int argc, char **argv, int *i) {
    static const char *const vals[] = { REPORT_VALS, NULL };
    const char *a = argv[*i];
    if (strcmp(a, "--failures-only") == 0) { r->failures_only = 1; return 1; }
    int k = 0;
    while (vals[k] && strcmp(a, vals[k]) != 0) k++;
    if (!vals[k]) return 0;
    const char *v = cli_value(cmd, argc, argv, i, vals);
    if (!v) return -1;
    if (!strcmp(a, "--policy")) r->policy = v;
    else if (!strcmp(a, "--json")) r->json = v;
    else if (!strcmp(a, "--markdown") || !strcmp(a, "--report")) r->markdown = v;
    else if (!strcmp(a, "--color")) {
        if (strcmp(v, "auto") != 0 && strcmp(v, "always") != 0 && strcmp(v, "never") != 0) {
            fprintf(stderr, "q35 %s: --color wants auto, always or never, not '%s'\n", cmd, v);
            return -1;
        }
        r->color = v;
    }
    /* max_rel bars are relative errors (>= 0); a cosine bar lies in [0, 1] */
    else if (!strcmp(a, "--tol")) { if (cli_real(cmd, a, v, 0, 1e9, &r->tol) != 0) return -1; r->tol_s = v; }
    else if (!strcmp(a, "--tol-logits")) { if (cli_real(cmd, a, v, 0, 1e9, &r->tol_logits) != 0) return -1; r->tol_logits_s = v; }
    else { if (cli_real(cmd, a, v, 0, 1, &r->min_cos) != 0) return -1; r->min_cos_s = v; }
    return 1;
}

/* Prints rep and writes the files asked for; returns -1 with err when a file cannot be written. */
static int report_out(const report_opts *r, const q35_report *rep, char *err, size_t errlen) {
    int color = r->color && !strcmp(r->color, "always") ? 1 : r->color && !strcmp(r->color, "never") ? 0 : isatty(1);
    q35_report_print(rep, stdout, color, r->failures_only);
    if (r->json && q35_report_write_json(rep, r->json, err, errlen) != 0) return -1;
    if (r->markdown && q35_report_write_markdown(rep, r->markdown, err, errlen) != 0) return -1;
    if (r->json) printf("wrote %s\n", r->json);
    if (r->markdown) printf("wrote %s\n", r->markdown);
    return 0;
}

/* The policy: the file's rules (--policy), then the defaults with the command line's bars. Its
 * source, which the report's provenance shows, says which bars came from the command line. */
static int load_policy(q35_policy *p, const report_opts *r, char *err, size_t errlen) {
    if (q35_policy_default(p, r->tol, r->tol_logits, r->min_cos, err, errlen) != 0) return -1;
    if (r->policy && q35_policy_load(p, r->policy, err, errlen) != 0) {
        q35_policy_free(p);
        return -1;
    }
    if (r->tol_s || r->tol_logits_s || r->min_cos_s) {
        /* sized to fit the 256 bytes of source: a file name of up to 90, three bars of up to 38 */
        char bars[128] = "";
        const char *name[3] = { "--tol", "--tol-logits", "--min-cos" }, *val[3] = { r->tol_s, r->tol_logits_s, r->min_cos_s };
        for (int k = 0; k < 3; k++)
            if (val[k]) snprintf(bars + strlen(bars), sizeof bars - strlen(bars), " %s %.24s", name[k], val[k]);
        char file[96];
        snprintf(file, sizeof file, "%.90s", p->source);
        snprintf(p->source, sizeof p->source, "%s%sdefaults with%.110s from the command line", file, file[0] ? ", then the " : "",
                 bars);
    }
    return 0;
}

#define REPORT_USAGE \
    "  --policy FILE    tolerance policy (YAML, format q35-tolerances/1; README): its rules come\n" \
    "                   before the defaults; each row names the rule that judged it\n" \
    "  --tol X          default float32 bar: max_rel <= X, X from 0 to 1e9 (2e-4)\n" \
    "  --tol-logits X   default logits bar: max_rel <= X, X from 0 to 1e9 (1e-4)\n" \
    "  --min-cos X      default cosine bar, 0 to 1 (0.99999); the report's provenance names the\n" \
    "                   bars given on the command line\n" \
    "  --json FILE      the whole report as JSON (schema q35-report/1, README)\n" \
    "  --markdown FILE  a Markdown conformance report with provenance and a verdict (also --report)\n" \
    "  --failures-only  print only rows that do not pass\n" \
    "  --color WHEN     auto (default: on a terminal), always, never\n"

/* ---- verify ---- */

static const char *usage_verify =
    "usage: q35 verify GOLDEN_DIR [--model DIR] [--backend NAME] [--threads N] [--teacher-force] [report options]\n"
    "\n"
    "Reads GOLDEN_DIR/manifest.json and golden.safetensors, runs every phase the set holds\n"
    "(prefill with its caches, decode0.. with our own greedy tokens, full, long, bf16w) and\n"
    "compares every golden tensor: the verdict and the first divergence first, then one row per\n"
    "tensor in execution order with max_abs, max_rel = max|ours - golden| / max(1, max|golden|),\n"
    "cosine, rmse and the tolerance rule that judged it; logits add top-k agreement and KL.\n"
    "\n"
    "  --model DIR      the model to check (default: the set's checkpoint_f32, else checkpoint_bf16);\n"
    "                   the bf16w phase always uses the set's checkpoint_bf16\n"
    "  --backend NAME   ref (the FP32 scalar reference), fast (OpenMP + SIMD; the default) or\n"
    "                   fast-bf16 (activations rounded to bf16 in bf16 products: fails bf16w by design)\n"
    "  --threads N      threads of the fast backend (default: every core); results do not depend on it\n"
    "  --teacher-force  feed every decoder layer, the final norm, every vision block and the merger\n"
    "                   the golden value of its input: each row then shows the error that layer\n"
    "                   adds by itself, not the error carried in from earlier layers\n"
    REPORT_USAGE
    "With --json or --markdown the model's files are hashed (SHA-256) for the provenance.\n"
    "\n"
    "exit status: 0 every golden produced and within the bars; 1 a tensor failed, was not\n"
    "produced, or needs parts not implemented yet (verdict INCOMPLETE: counted as 'unsupported',\n"
    "never as passed); 2 usage error, or the set or model could not be read.\n";

int cmd_verify(int argc, char **argv) {
    static const char *const vals[] = { "--model", "--backend", "--threads", REPORT_VALS, NULL };
    static const char *const flags[] = { "--teacher-force", "--failures-only", NULL };
    if (wants_help(argc, argv)) {
        fputs(usage_verify, stdout);
        return 0;
    }
    if (argc < 1) {
        fputs(usage_verify, stderr);
        return 2;
    }
    if (cli_positional("verify", argv[0], "GOLDEN_DIR", vals, flags) != 0) return 2;
    q35_verify_opts o;
    q35_verify_defaults(&o);
    o.golden_dir = argv[0];
    report_opts ro = { .tol = 2e-4, .tol_logits = 1e-4, .min_cos = 0.99999 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--teacher-force") == 0) { o.teacher_force = 1; continue; }
        int t = report_option("verify", &ro, argc, argv, &i);
        if (t < 0) return 2;
        if (t == 1) continue;
        const char *v = cli_value("verify", argc, argv, &i, vals);
        if (!v) return 2;
        if (strcmp(a, "--model") == 0) o.model_dir = v;
        else if (strcmp(a, "--backend") == 0) {
            if (!(o.ops = cli_backend("verify", v))) return 2;
        } else if (cli_threads("verify", v) != 0) return 2; /* --threads */
    }
    char err[ERRLEN];
    q35_policy pol;
    if (load_policy(&pol, &ro, err, sizeof err) != 0) { fprintf(stderr, "q35: %s\n", err); return 2; }
    o.policy = &pol;
    o.hash_model = ro.json || ro.markdown;
    o.progress = stderr;
    q35_report rep;
    q35_report_init(&rep, "verify");
    int rc = q35_verify(&o, &rep, err, sizeof err);
    if (rc >= 0 && report_out(&ro, &rep, err, sizeof err) != 0) rc = -1;
    if (rc < 0) fprintf(stderr, "q35: %s\n", err);
    q35_report_free(&rep);
    q35_policy_free(&pol);
    return rc < 0 ? 2 : rc;
}

/* ---- compare ---- */

static const char *usage_compare =
    "usage: q35 compare OURS THEIRS [--names MAP.yaml [--phase P] [--model DIR] [--param NAME=N]...]\n"
    "                  [report options]\n"
    "\n"
    "OURS and THEIRS are dumps: safetensors files (q35 forward --dump, golden/tools/hf_dump.py, a\n"
    "golden set's golden.safetensors) or directories of .npy files (one tensor per file, named by\n"
    "the tensor). Tensors are matched by canonical name and compared in OURS' execution order (the\n"
    "order the dump was written): the verdict and the first divergence with the tensors just before\n"
    "it first, then one row per tensor with max_abs, max_rel = max|ours - theirs| / max(1,\n"
    "max|theirs|), cosine, rmse and the rule that judged it; NaN/Inf counts when present (on one\n"
    "side only: always a failure). Logits add top-1/5/10 agreement and KL both ways; logits in\n"
    "top-k form (forward --logits topk:K) are compared from that form.\n"
    "\n"
    "  --names MAP      alias map (YAML, golden/aliases/): THEIRS' names and layouts -> ours;\n"
    "                   shipped: golden/aliases/llama.cpp.yaml, golden/aliases/hf.yaml\n"
    "  --phase P        prefix for alias-mapped names (default prefill)\n"
    "  --model DIR      checkpoint (or config.json) whose sizes fill the map's params\n"
    "  --param NAME=N   set a map param by hand\n"
    REPORT_USAGE
    "\n"
    "exit status: 0 all compared tensors pass; 1 one fails; 2 usage or input error.\n";

/* A directory that is neither a checkpoint nor holds .npy files is no dump: say so (the reader
 * would look for model.safetensors in it). -1 after a message on stderr. */
static int dump_dir_check(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || q35_npy_is_dir(path)) return 0;
    char p[4200], q[4200];
    snprintf(p, sizeof p, "%s/model.safetensors", path);
    snprintf(q, sizeof q, "%s/model.safetensors.index.json", path);
    if (access(p, F_OK) == 0 || access(q, F_OK) == 0) return 0;
    fprintf(stderr, "q35 compare: %s: a directory with no .npy files (a dump is a safetensors file, a directory of "
                    ".npy files or a checkpoint directory)\n", path);
    return -1;
}

int cmd_compare(int argc, char **argv) {
    static const char *const vals[] = { "--names", "--phase", "--model", "--config", "--param", REPORT_VALS, NULL };
    static const char *const flags[] = { "--failures-only", NULL };
    if (wants_help(argc, argv)) {
        fputs(usage_compare, stdout);
        return 0;
    }
    if (argc >= 1 && cli_positional("compare", argv[0], "OURS", vals, flags) != 0) return 2;
    if (argc >= 2 && cli_positional("compare", argv[1], "THEIRS", vals, flags) != 0) return 2;
    if (argc < 2) {
        fprintf(stderr, "q35 compare: give two dumps, OURS and THEIRS\n%s", usage_compare);
        return 2;
    }
    q35_compare_opts o = { .ours = argv[0], .theirs = argv[1] };
    report_opts ro = { .tol = 2e-4, .tol_logits = 1e-4, .min_cos = 0.99999 };
    const char **params = calloc((size_t)argc, sizeof *params);
    if (!params) return die("out of memory");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int t = report_option("compare", &ro, argc, argv, &i);
        if (t == 1) continue;
        const char *v = t < 0 ? NULL : cli_value("compare", argc, argv, &i, vals);
        if (!v) { free(params); return 2; }
        if (!strcmp(a, "--names")) o.names = v;
        else if (!strcmp(a, "--phase")) o.phase = v;
        else if (!strcmp(a, "--model") || !strcmp(a, "--config")) o.config = v;
        else params[o.nparams++] = v; /* --param */
    }
    o.params = params;
    if (dump_dir_check(o.ours) != 0 || dump_dir_check(o.theirs) != 0) { free(params); return 2; }
    char err[ERRLEN];
    q35_policy pol;
    if (load_policy(&pol, &ro, err, sizeof err) != 0) { fprintf(stderr, "q35: %s\n", err); free(params); return 2; }
    o.policy = &pol;
    q35_report rep;
    q35_report_init(&rep, "compare");
    q35_report_prov(&rep, "q35", "%s", Q35_VERSION);
    int rc = q35_compare_files(&o, &rep, err, sizeof err);
    if (rc >= 0 && report_out(&ro, &rep, err, sizeof err) != 0) rc = -1;
    if (rc < 0) fprintf(stderr, "q35: %s\n", err);
    q35_report_free(&rep);
    q35_policy_free(&pol);
    free(params);
    return rc < 0 ? 2 : rc;
}
