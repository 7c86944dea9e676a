/* tokenizer.h - byte-level BPE from a Hugging Face tokenizer.json (the Qwen2/Qwen3/Qwen3.5 family).
 *
 * Components read: model BPE (vocab, merges as "a b" or ["a", "b"]), added_tokens (special and
 * not, with single_word, lstrip, rstrip and normalized honoured as Hugging Face's AddedVocabulary
 * does: normalized=false tokens are split out of the raw text first, then each remaining piece is
 * normalised and normalized=true tokens are matched, in their normalised form, on it; single_word
 * rejects a match with a \w character, as the Rust regex crate defines it, next to it within that
 * text), normalizer NFC (alone or in a Sequence), pre_tokenizer Sequence of Split (the Qwen2/Qwen3
 * or the Qwen3.5 pattern, behaviour Isolated) and ByteLevel, decoder ByteLevel (added tokens
 * included: one whose text is all byte-level characters decodes byte by byte, as Hugging Face's
 * does). Anything else is an error naming the component: never a silent difference.
 *
 * The file is read as Hugging Face's tokenizers (0.22/0.23) reads it: a JSON key given twice keeps
 * its last value, a merge listed twice its last rank, and every added token must carry the id that
 * library gives it (an earlier entry's for the same content, else its model.vocab id, else the next
 * id from the vocab's size on: it ignores the file's ids), or the file is refused. Refused as well:
 * truncation, padding, a post_processor other than ByteLevel, BPE dropout, continuing_subword_prefix,
 * end_of_word_suffix, ignore_merges and byte_fallback, a pre-tokenizer ByteLevel whose use_regex is
 * not false (absent means true there), and what that library refuses (a version other than "1.0", a
 * missing added-token flag, a merge that is not two tokens, strings and pairs mixed in merges).
 *
 * The Split pattern runs as a scanner written for the Qwen patterns over utf8proc's Unicode
 * tables (q35_unicode_version() says which), since Debian's PCRE2 has older tables than
 * Hugging Face's Oniguruma. */
#ifndef Q35_TOKENIZER_H
#define Q35_TOKENIZER_H

#include <stddef.h>

typedef struct q35_tokenizer q35_tokenizer;

/* Loads path: a tokenizer.json, or a directory holding one. Returns NULL with err. */
q35_tokenizer *q35_tokenizer_load(const char *path, char *err, size_t errlen);
void q35_tokenizer_free(q35_tokenizer *t);

/* Encodes len bytes of UTF-8 text (no special handling beyond added tokens; no BOS/EOS: the
 * Qwen tokenizers add none). *ids is a new array of *n ids. Invalid UTF-8 is an error giving the
 * byte offset. Returns 0 or -1 with err. t is not const: it caches the BPE of recent words, so one
 * tokenizer must not encode in two threads at once. */
int q35_tokenize(q35_tokenizer *t, const char *text, size_t len, int **ids, int *n, char *err, size_t errlen);

/* Decodes ids to a new NUL-terminated string (*len bytes without the NUL when len is given);
 * skip_special drops special added tokens (as Hugging Face: ids whose text is a special token's
 * content). Unknown ids are an error. */
char *q35_detokenize(const q35_tokenizer *t, const int *ids, int n, int skip_special, size_t *len, char *err,
                     size_t errlen);

/* The raw bytes of ids, as q35_detokenize before it repairs UTF-8: a token may end inside a
 * character, so streaming callers join tokens' bytes and repair only what is complete. A new
 * NUL-terminated buffer of *len bytes. */
char *q35_detokenize_bytes(const q35_tokenizer *t, const int *ids, int n, int skip_special, size_t *len, char *err,
                           size_t errlen);

/* Writes the n bytes of b to dst as UTF-8 with each maximal invalid subpart replaced by U+FFFD
 * (Rust's String::from_utf8_lossy, which Hugging Face's decoder uses); returns the bytes written.
 * dst has room for 3n. */
size_t q35_utf8_lossy(char *dst, const unsigned char *b, size_t n);

/* The longest prefix of b[n] that does not end in a valid but unfinished UTF-8 sequence (at most
 * 3 bytes held back): repairing that prefix and the rest apart equals repairing the whole. */
size_t q35_utf8_complete(const unsigned char *b, size_t n);

/* 1 when id has a token (vocabulary or added), else 0: a model's vocabulary may be padded past
 * the tokenizer, or have holes, and Hugging Face decodes such ids to nothing. */
int q35_token_exists(const q35_tokenizer *t, int id);

/* The id of a token's text (vocab or added), or -1. */
int q35_token_id(const q35_tokenizer *t, const char *token);
/* Size of the id space (largest id + 1). */
int q35_tokenizer_size(const q35_tokenizer *t);

/* "15.0.0": the Unicode version of the category tables the pre-tokenizer uses. */
const char *q35_unicode_version(void);

#endif
