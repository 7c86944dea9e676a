/* main.c - the q35 command line: one function per command, a file per command family (cli/cmd_*.c).
 * Only this layer prints and exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <utf8proc.h>

#include "bench.h"
#include "cli.h"
#include "logits.h"
#include "policy.h"
#include "q35.h"
#include "util.h"

static const char *usage_main =
    "q35 - reference implementation and golden-tensor harness for Qwen3.5\n"
    "\n"
    "usage: q35 <command> [options]   (q35 <command> --help for details)\n"
    "\n"
    "commands:\n"
    "  info DIR                       what a checkpoint holds: config, tensors, dtypes, sizes\n"
    "  forward DIR --ids A,B,C ...    run tokens (and --image files) through the model; print the top\n"
    "                                 next tokens; --dump FILE writes every intermediate tensor\n"
    "  bench DIR                      prefill and decode tokens/s, bandwidth and GFLOP/s against this\n"
    "                                 machine's measured limits, peak memory (--json)\n"
    "  verify GOLDEN_DIR              run a golden set's phases and compare every tensor\n"
    "                                 (--teacher-force: each layer on its golden input; --report F.md)\n"
    "  compare A B                    compare two dumps (safetensors or .npy directories, another\n"
    "                                 implementation's names through --names MAP.yaml) tensor by\n"
    "                                 tensor; the first divergence; --json / --markdown reports\n"
    "  preprocess IMAGE... --out F    pixel_values + image_grid_thw as Hugging Face's processor makes them\n"
    "  mkmodel --preset P --out DIR   write a random-weight checkpoint of a real size\n"
    "  tokenize DIR TEXT              token ids as Hugging Face's tokenizer gives them (--jsonl for batches)\n"
    "  detokenize DIR ID...           text of token ids\n"
    "  chat-format DIR --messages F   the prompt text and ids of a conversation (chat template,\n"
    "                                 --image files, --video frame directories)\n"
    "  generate DIR -p TEXT           sampled text from a prompt with the card's settings, streamed\n"
    "                                 (--image, --think, --preset, --json, --chat)\n"
    "  eval CONFIG.yaml               a benchmark (MMLU as lm-evaluation-harness scores it): per-item\n"
    "                                 log, --resume, results.json, report.md; --dry-run: prompts, ids\n"
    "  --version                      version, Unicode tables, the backends' kernels on this CPU\n"
    "\n"
    "Commands that run the model take --backend fast (OpenMP + SIMD, the default), ref (the FP32\n"
    "scalar reference, the specification) or fast-bf16 (fast with activations rounded to bf16 in\n"
    "the products of bf16 weights, vdpbf16ps where the CPU has it: llama.cpp's precision, opt-in)\n"
    "and --threads N (default: every core; same bits for any N).\n";

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("q35 %s (Unicode tables %s, utf8proc %s)\n", Q35_VERSION, q35_unicode_version(), utf8proc_version());
        printf("backends: ref (%s), fast (%s), fast-bf16 (%s); %d threads; default %s\n", q35_ops_ref.kernels(),
               q35_ops_fast.kernels(), q35_ops_fast_bf16.kernels(), q35_get_threads(), Q35_DEFAULT_BACKEND);
        return 0;
    }
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "forward") == 0) return cmd_forward(argc - 2, argv + 2);
    if (strcmp(cmd, "verify") == 0) return cmd_verify(argc - 2, argv + 2);
    if (strcmp(cmd, "mkmodel") == 0) return cmd_mkmodel(argc - 2, argv + 2);
    if (strcmp(cmd, "preprocess") == 0) return cmd_preprocess(argc - 2, argv + 2);
    if (strcmp(cmd, "tokenize") == 0) return cmd_tokenize(argc - 2, argv + 2);
    if (strcmp(cmd, "detokenize") == 0) return cmd_detokenize(argc - 2, argv + 2);
    if (strcmp(cmd, "chat-format") == 0) return cmd_chat_format(argc - 2, argv + 2);
    if (strcmp(cmd, "generate") == 0) return cmd_generate(argc - 2, argv + 2);
    if (strcmp(cmd, "eval") == 0) return cmd_eval(argc - 2, argv + 2);
    if (strcmp(cmd, "compare") == 0) return cmd_compare(argc - 2, argv + 2);
    if (strcmp(cmd, "bench") == 0) return q35_cmd_bench(argc - 2, argv + 2);
    fprintf(stderr, "q35: unknown command '%s'\n\n%s", cmd, usage_main);
    return 2;
}
