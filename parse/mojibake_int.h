/* parse/mojibake_int.h — undoing double-encoded UTF-8 (UTF-8 read once more as
 * windows-1252 / Latin-1 by a CMS), shared by the article model (plain-text
 * fields) and the cleaner (HTML text nodes). */
#ifndef FINFEED_PARSE_MOJIBAKE_INT_H
#define FINFEED_PARSE_MOJIBAKE_INT_H

/* Repair the NUL-terminated UTF-8 `s` in place when the whole of it is
 * mojibake: every character is at most U+00FF or one of windows-1252's
 * stand-ins for 0x80–0x9F (€ ‚ ƒ … Ÿ), and those characters taken back to
 * bytes are valid UTF-8 with at least one multi-byte sequence. Anything else
 * ("Café", "Müller", CJK, a field mixing a mojibake word with a real "é")
 * stays as it is. The result is never longer. Returns 1 when s changed. */
int parse_mojibake_repair(char *s);

#endif
