/* parse/input/decode_int.h — bytes in any charset to clean UTF-8 (not exported):
 * charset sniffing and labels (SPEC §3 "Encodings", charset.c) and streaming
 * decoding (decode.c). */
#ifndef FINFEED_PARSE_DECODE_INT_H
#define FINFEED_PARSE_DECODE_INT_H

#include <stddef.h>

#include "parse/buf_int.h"

/* What the first bytes of a document say about its charset (SPEC §3). */
struct decode_sniff {
    char bom[16];      /* charset named by a byte-order mark ("UTF-8", "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE"), or "" */
    size_t bom_len;    /* bytes of BOM to skip */
    char decl[48];     /* charset of the XML declaration (canonical, see decode_canonical), or "" ; also detects UTF-16/32 without BOM from the "<?xml" byte pattern */
};

/* Look at the first n bytes of a document (`head`, borrowed; 1 KiB is enough,
 * fewer is fine). A UTF-16/32 document (by BOM or by the byte pattern of its
 * first '<', with or without "<?xml") gets decl = that UTF-16/32 charset, whatever
 * its declaration says. In an 8-bit document the declaration may follow junk
 * (it is searched in the first 1 KiB); a declared UTF-16/UTF-32 there is a lie
 * and an unknown label is ignored: decl "". Never fails. */
void decode_sniff(const char *head, size_t n, struct decode_sniff *out);

/* Canonical iconv name for a charset label (case-insensitive, surrounding
 * white space ignored, WHATWG-style aliases): gb2312, gbk, x-gbk, cp936,
 * gb_2312-80 → "GB18030" (SPEC §3); big5, big5-hkscs, cn-big5, cp950 →
 * "BIG5-HKSCS" (glibc's BIG5 and CP950 are identical and decode 13911 two-byte
 * codes, BIG5-HKSCS 18463: the HKSCS extensions used in Hong Kong text, and real
 * kana/Cyrillic at C6A1–C8FE where CP950 gives private-use code points — as the
 * WHATWG Big5 index does; the 57 symbol codes only CP950 knows are decoded by a
 * CP950 fallback inside the decoder); shift_jis, sjis, ms_kanji, windows-31j →
 * "CP932" (windows-31j, a strict superset of glibc SHIFT_JIS: NEC/IBM extensions,
 * and the wave dash as U+FF5E as browsers do); euc-jp → "EUC-JP-MS" (same
 * reason); euc-kr, ks_c_5601-1987 → "CP949"; iso-8859-1, latin1, us-ascii →
 * "WINDOWS-1252" (as browsers, WHATWG); iso-8859-9 → "WINDOWS-1254"; tis-620,
 * iso-8859-11 → "WINDOWS-874"; utf8 → "UTF-8"; utf-16 → "UTF-16LE" (WHATWG);
 * utf-32 → "UTF-32BE"; koi8-r, koi8-u, ibm866, windows-125x, iso-8859-N,
 * macintosh, gb18030, iso-2022-jp … → themselves, upper case. Any other label
 * glibc iconv knows → itself upper case. Canonical names map to themselves.
 * Writes into out (size bytes, NUL-terminated) and returns 0, or -EINVAL when
 * iconv does not know it (or it does not fit in out). */
int decode_canonical(const char *label, char *out, size_t size);

struct decoder;

/* A streaming converter from `charset` (canonical name; any label
 * decode_canonical accepts works) to UTF-8. UTF-8, UTF-16LE/BE, UTF-32LE/BE and
 * the single-byte charsets are decoded by hand; the others through glibc iconv.
 * Returns 0 and stores the decoder in *out (caller frees with decoder_free),
 * -EINVAL unknown charset, -ENOMEM. */
int decoder_new(const char *charset, struct decoder **out);

/* Convert n bytes, appending UTF-8 to *out. Incomplete sequences at the end of `in` are kept for the next call; final != 0 flushes them (as U+FFFD). Invalid sequences become U+FFFD (one per bad sequence, like WHATWG); characters XML 1.0 forbids (C0 controls except tab, LF, CR; U+FFFE/U+FFFF; lone surrogates) are dropped. Returns 0 or -ENOMEM.
 * `in` is borrowed. A surrogate encoded in UTF-8 (ED A0..BF xx) or unpaired in
 * UTF-16 is an invalid sequence, so it becomes U+FFFD (WHATWG) and counts in
 * decoder_errors. A BOM is not stripped here (decode_sniff says how many bytes
 * to skip). out may be NULL: the bytes are only checked, and decoder_errors
 * counts the bad sequences (see decode_validate). Any split of the input into
 * calls gives the same output. After final != 0 the decoder starts afresh. */
int decoder_run(struct decoder *d, const char *in, size_t n, int final, struct buf *out);
size_t decoder_errors(const struct decoder *d); /* bad sequences replaced so far */
void decoder_free(struct decoder *d);

/* Whether `charset` decodes n bytes of `buf` (borrowed) cleanly: stores the
 * number of bad sequences (0: decodes without error) in *errors and returns 0;
 * -EINVAL unknown charset, -ENOMEM. The buffer is taken as the whole document
 * (an incomplete sequence at its end counts). To check a stream, run a decoder
 * with out = NULL over its chunks and read decoder_errors(). */
int decode_validate(const char *charset, const char *buf, size_t n, size_t *errors);

/* In an XML declaration (`s`, n bytes, borrowed: from "<?xml" to before "?>"),
 * find the value of the encoding pseudo-attribute: returns 0 with its offset and
 * length (without quotes; an unquoted value is accepted), or -ENOENT. */
int decode_decl_encoding(const char *s, size_t n, size_t *off, size_t *len);

#endif
