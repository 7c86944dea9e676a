/* chat.c - chat template selection and rendering, image placeholder expansion. */
#include "chat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chat_templates.h"
#include "config.h"
#include "jinja.h"
#include "util.h"

char *q35_chat_template_load(const char *path, const char **source, char *err, size_t errlen) {
    struct stat sb;
    char p[4096];
    const char *src = NULL;
    char *text = NULL;
    if (stat(path, &sb) != 0) {
        q35_fail(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(sb.st_mode)) {
        if (!(text = q35_read_file(path, 16u << 20, NULL))) q35_fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        if (source) *source = path;
        return text;
    }
    snprintf(p, sizeof p, "%s/chat_template.jinja", path);
    if ((text = q35_read_file(p, 16u << 20, NULL))) {
        src = "chat_template.jinja";
    } else {
        snprintf(p, sizeof p, "%s/tokenizer_config.json", path);
        char *tc = q35_read_file(p, 64u << 20, NULL);
        cJSON *j = tc ? cJSON_Parse(tc) : NULL;
        q35_json_last_wins(j);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "chat_template");
        if (cJSON_IsString(t) && (text = strdup(t->valuestring))) src = "tokenizer_config.json";
        cJSON_Delete(j);
        free(tc);
    }
    if (!text) { /* a built-in copy: the small models think only when asked */
        q35_config c;
        char e2[256];
        int small = q35_config_load(&c, path, e2, sizeof e2) == 0 && c.text.hidden_size <= 2048;
        text = strdup(q35_chat_template_builtin(small));
        src = small ? "built-in Qwen3.5 0.8B/2B template" : "built-in Qwen3.5 template";
        if (!text) q35_fail(err, errlen, "out of memory");
    }
    if (source) *source = src;
    return text;
}

const char *q35_chat_template_builtin(int small) { return small ? q35_template_qwen35_small : q35_template_qwen35; }

char *q35_chat_render(const char *template_text, const cJSON *messages, const cJSON *flags, char *err, size_t errlen) {
    if (!cJSON_IsArray(messages)) {
        q35_fail(err, errlen, "messages must be a JSON list");
        return NULL;
    }
    if (flags && !cJSON_IsObject(flags)) {
        q35_fail(err, errlen, "flags must be a JSON object");
        return NULL;
    }
    cJSON *vars = flags ? cJSON_Duplicate(flags, 1) : cJSON_CreateObject();
    if (!vars || !cJSON_AddItemToObject(vars, "messages", cJSON_Duplicate(messages, 1))) {
        cJSON_Delete(vars);
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    char *text = q35_jinja_render(template_text, vars, err, errlen);
    cJSON_Delete(vars);
    return text;
}

int q35_expand_image_tokens(int **out, int *nout, const int *ids, int n, int image_token_id, const int *counts,
                            int nimages, char *err, size_t errlen) {
    size_t total = (size_t)n;
    for (int k = 0; k < nimages; k++) total += (size_t)counts[k];
    int *o = malloc((total ? total : 1) * sizeof *o), len = 0, img = 0;
    if (!o) return q35_fail(err, errlen, "out of memory");
    for (int i = 0; i < n;) {
        if (ids[i] != image_token_id) {
            o[len++] = ids[i++];
            continue;
        }
        int run = 0;
        while (i + run < n && ids[i + run] == image_token_id) run++;
        if (img >= nimages) {
            free(o);
            return q35_fail(err, errlen, "the prompt holds more image placeholder runs than images (%d)", nimages);
        }
        if (run != 1 && run != counts[img]) {
            free(o);
            return q35_fail(err, errlen, "image %d needs %d image tokens (or 1 placeholder to expand), the prompt has %d",
                            img + 1, counts[img], run);
        }
        for (int k = 0; k < counts[img]; k++) o[len++] = image_token_id;
        i += run;
        img++;
    }
    if (img != nimages) {
        free(o);
        return q35_fail(err, errlen, "%d images but %d image placeholder runs in the prompt", nimages, img);
    }
    *out = o;
    *nout = len;
    return 0;
}

char *q35_expand_video_text(const char *text, char *const *placeholders, int nvideos, char *err, size_t errlen) {
    static const char pad[] = "<|video_pad|>";
    size_t len = strlen(text), extra = 0;
    int found = 0;
    for (const char *p = strstr(text, pad); p; p = strstr(p + sizeof pad - 1, pad)) {
        if (found < nvideos) extra += strlen(placeholders[found]);
        found++;
    }
    if (found != nvideos) {
        q35_fail(err, errlen, "%d videos given but the prompt holds %d <|video_pad|> placeholders", nvideos, found);
        return NULL;
    }
    char *out = malloc(len + extra + 1), *o = out;
    if (!out) {
        q35_fail(err, errlen, "out of memory");
        return NULL;
    }
    const char *p = text;
    for (int k = 0; k < nvideos; k++) {
        const char *q = strstr(p, pad);
        memcpy(o, p, (size_t)(q - p)), o += q - p;
        size_t pl = strlen(placeholders[k]);
        memcpy(o, placeholders[k], pl), o += pl;
        p = q + sizeof pad - 1;
    }
    strcpy(o, p);
    return out;
}

/* Marks the numbers of the tree under j, in document order, from the flags in kinds. */
static void mark_floats(cJSON *j, const unsigned char *kinds, size_t n, size_t *k) {
    for (; j; j = j->next) {
        if (cJSON_IsNumber(j) && *k < n && kinds[(*k)++]) j->type |= Q35_JSON_FLOAT;
        if (j->child) mark_floats(j->child, kinds, n, k);
    }
}

cJSON *q35_chat_parse_json(const char *text) {
    cJSON *root = cJSON_ParseWithOpts(text, NULL, 1); /* trailing text is not JSON (Python's json refuses it) */
    if (!root) return NULL;
    /* each number token of the text, in order: 1 when written with '.', 'e' or 'E' */
    size_t cap = 64, n = 0;
    unsigned char *kinds = malloc(cap);
    for (const char *p = text; kinds && *p;) {
        if (*p == '"') { /* skip a string, escapes included */
            for (p++; *p && *p != '"'; p++)
                if (*p == '\\' && p[1]) p++;
            if (*p) p++;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            unsigned char is_float = 0;
            while (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9'))
                is_float |= *p == '.' || *p == 'e' || *p == 'E', p++;
            if (n == cap) {
                unsigned char *nk = realloc(kinds, cap *= 2);
                if (!nk) break;
                kinds = nk;
            }
            kinds[n++] = is_float;
        } else {
            p++;
        }
    }
    size_t k = 0;
    if (kinds) mark_floats(root, kinds, n, &k);
    free(kinds);
    q35_json_last_wins(root); /* after the marking, which pairs number tokens with nodes in order */
    return root;
}
