#include "pmsync/names.h"

#include "pmsync/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---------------------------------------------------------------------- */

static bool is_ascii_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_lower(unsigned char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_alpha(unsigned char c)
{
    return is_upper(c) || is_lower(c);
}

static bool is_alnum(unsigned char c)
{
    return is_alpha(c) || (c >= '0' && c <= '9');
}

static unsigned char to_lower(unsigned char c)
{
    return is_upper(c) ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Length of the blank at s (ASCII blank or U+00A0), 0 when s is not blank. */
static size_t blank_len(const unsigned char *s)
{
    if (is_ascii_blank(s[0]))
        return 1;
    if (s[0] == 0xC2 && s[1] == 0xA0)
        return 2;
    return 0;
}

/* Bytes of the UTF-8 sequence starting at s (1 for ASCII and for stray bytes), never running
 * past the end of the string. */
static size_t utf8_seq_len(const unsigned char *s)
{
    size_t want = 1;
    if (s[0] >= 0xF0 && s[0] <= 0xF4)
        want = 4;
    else if (s[0] >= 0xE0)
        want = 3;
    else if (s[0] >= 0xC2 && s[0] < 0xE0)
        want = 2;
    for (size_t i = 1; i < want; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return want;
}

/* Growable string; on allocation failure it remembers and stops growing. */
typedef struct sbuf {
    char *p;
    size_t len;
    size_t cap;
    bool oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends a word, with a space before it when the buffer is not empty. */
static void sb_word(sbuf *b, const char *s)
{
    if (s == NULL || s[0] == '\0')
        return;
    if (b->len > 0)
        sb_add(b, " ", 1);
    sb_add(b, s, strlen(s));
}

/* The built string (NULL when empty), ownership to the caller; *oom set on failure. */
static char *sb_take(sbuf *b, bool *oom)
{
    if (b->oom) {
        *oom = true;
        free(b->p);
        b->p = NULL;
        return NULL;
    }
    char *p = b->p;
    if (p != NULL && b->len == 0) {
        free(p);
        p = NULL;
    }
    memset(b, 0, sizeof *b);
    return p;
}

/* List of malloc'ed words. */
typedef struct word_list {
    char **v;
    size_t n;
    size_t cap;
} word_list;

static void words_free(word_list *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i]);
    free(w->v);
    memset(w, 0, sizeof *w);
}

static int words_push(word_list *w, const char *s, size_t len)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        char **v = realloc(w->v, cap * sizeof *v);
        if (v == NULL)
            return PMS_ERR_NOMEM;
        w->v = v;
        w->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return PMS_ERR_NOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    w->v[w->n++] = copy;
    return PMS_OK;
}

/* ---- accent folding --------------------------------------------------------------------- */

/* Lower-case ASCII for Latin letters with diacritics (NFKD base letters, plus ß -> ss, æ -> ae,
 * ø -> o, ł -> l, đ -> d, þ -> th, œ -> oe ...). Two characters per code point, the second a
 * space when the fold is one letter; "**" keeps the character as it is. Generated from Python's
 * unicodedata. */
static const char fold_latin[] =
    "a a a a a a aec e e e e i i i i d n o o o o o **o u u u u y thss" /* U+00C0 */
    "a a a a a a aec e e e e i i i i d n o o o o o **o u u u u y thy " /* U+00E0 */
    "a a a a a a c c c c c c c c d d d d e e e e e e e e e e g g g g " /* U+0100 */
    "g g g g h h h h i i i i i i i i i i ijijj j k k k l l l l l l **" /* U+0120 */
    "**l l n n n n n n n n n o o o o o o oeoer r r r r r s s s s s s " /* U+0140 */
    "s s t t t t t t u u u u u u u u u u u u w w y y y z z z z z z s " /* U+0160 */
    "b b **********c c **d d d ********f f g ******i k k l ****n n o " /* U+0180 */
    "o o ****p p **********t t t t u u **v y y z z ******************" /* U+01A0 */
    "********dzdzdzljljljnjnjnja a i i o o u u u u u u u u u u **a a " /* U+01C0 */
    "a a ****g g g g k k o o o o ****j dzdzdzg g ****n n a a ********" /* U+01E0 */
    "a a a a e e e e i i i i o o o o r r r r u u u u s s t t ****h h " /* U+0200 */
    "********z z a a e e o o o o o o o o y y l n t j ****a c c l t s " /* U+0220 */
    "z ****b u **e e j j q q r r y y " /* U+0240 */;

static const char fold_latin_additional[] =
    "a a b b b b b b c c d d d d d d d d d d e e e e e e e e e e f f " /* U+1E00 */
    "g g h h h h h h h h h h i i i i k k k k k k l l l l l l l l m m " /* U+1E20 */
    "m m m m n n n n n n n n o o o o o o o o p p p p r r r r r r r r " /* U+1E40 */
    "s s s s s s s s s s t t t t t t t t u u u u u u u u u u v v v v " /* U+1E60 */
    "w w w w w w w w w w x x x x y y z z z z z z h t w y **s ****ss**" /* U+1E80 */
    "a a a a a a a a a a a a a a a a a a a a a a a a e e e e e e e e " /* U+1EA0 */
    "e e e e e e e e i i i i o o o o o o o o o o o o o o o o o o o o " /* U+1EC0 */
    "o o o o u u u u u u u u u u u u u u y y y y y y y y ************" /* U+1EE0 */;

static uint32_t utf8_decode(const unsigned char *s, size_t n)
{
    if (n == 2)
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    if (n == 3)
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    if (n == 4)
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    return s[0];
}

/* Non-ASCII punctuation dropped from keys like its ASCII counterparts: U+00A0, U+00B7,
 * U+02BC (modifier apostrophe), U+2010..U+2015 (hyphens, dashes), U+2018/U+2019 (quotes). */
static bool is_unicode_punct(uint32_t cp)
{
    return cp == 0xA0 || cp == 0xB7 || cp == 0x2BC || (cp >= 0x2010 && cp <= 0x2015) ||
           cp == 0x2018 || cp == 0x2019;
}

/* Appends the key form of word: ASCII letters and digits lower-cased, Latin letters with
 * diacritics folded to ASCII, punctuation dropped, other non-ASCII characters kept as they are
 * (they count as letters). */
static void fold_append(sbuf *out, const char *word)
{
    const unsigned char *s = (const unsigned char *)word;
    size_t i = 0;
    while (s[i] != '\0') {
        if (s[i] < 0x80) {
            if (is_alnum(s[i])) {
                char c = (char)to_lower(s[i]);
                sb_add(out, &c, 1);
            }
            i++;
            continue;
        }
        size_t n = utf8_seq_len(s + i);
        uint32_t cp = utf8_decode(s + i, n);
        const char *slot = NULL;
        if (cp >= 0xC0 && cp <= 0x24F)
            slot = fold_latin + 2 * (cp - 0xC0);
        else if (cp >= 0x1E00 && cp <= 0x1EFF)
            slot = fold_latin_additional + 2 * (cp - 0x1E00);
        if (slot != NULL && slot[0] != '*')
            sb_add(out, slot, slot[1] == ' ' ? 1 : 2);
        else if (!is_unicode_punct(cp))
            sb_add(out, (const char *)s + i, n);
        i += n;
    }
}

/* ---- titles, suffixes, particles -------------------------------------------------------- */

/* Lower-case ASCII of a short word without its dots ("Ph.D." -> "phd"); empty when too long
 * for any keyword. */
static void keyword_of(const char *word, char out[16])
{
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)word; *s != '\0'; s++) {
        if (*s == '.')
            continue;
        if (n == 15) {
            n = 0;
            break;
        }
        out[n++] = (char)to_lower(*s);
    }
    out[n] = '\0';
}

typedef struct keyword {
    const char *key;   /* lower case, no dots */
    const char *canon; /* as stored */
    unsigned flags;
} keyword;

static const keyword prefixes[] = {
    {"dr", "Dr", 0},          {"doctor", "Dr", 0},     {"prof", "Prof", 0},
    {"professor", "Prof", 0}, {"a/prof", "A/Prof", 0}, {"a/professor", "A/Prof", 0},
    {"mr", "Mr", 0},          {"mrs", "Mrs", 0},       {"ms", "Ms", 0},
    {"miss", "Miss", 0},      {"mx", "Mx", 0},         {"master", "Master", 0},
    {"sr", "Sr", 0},          {"rev", "Rev", 0},       {"revd", "Rev", 0},
    {"reverend", "Rev", 0},   {"sir", "Sir", 0},       {"dame", "Dame", 0},
};

enum {
    SUFFIX_GENERATION = 1, /* Jr, Sr, II ...: tells father and son apart */
    SUFFIX_AMBIGUOUS = 2,  /* also a plausible name: a suffix only when written in capitals
                              and at least a given and a family name remain */
    SUFFIX_COMMA_ONLY = 4, /* a common family name too ("Do", "Ma"): a suffix only in capitals
                              after a comma that follows a full name */
};

static const keyword suffixes[] = {
    {"jr", "Jr", SUFFIX_GENERATION},
    {"jnr", "Jr", SUFFIX_GENERATION},
    {"sr", "Sr", SUFFIX_GENERATION},
    {"snr", "Sr", SUFFIX_GENERATION},
    {"ii", "II", SUFFIX_GENERATION},
    {"iii", "III", SUFFIX_GENERATION},
    {"iv", "IV", SUFFIX_GENERATION},
    {"ac", "AC", SUFFIX_AMBIGUOUS},
    {"ao", "AO", SUFFIX_AMBIGUOUS},
    {"am", "AM", SUFFIX_AMBIGUOUS},
    {"oam", "OAM", 0},
    {"obe", "OBE", 0},
    {"mbe", "MBE", 0},
    {"cbe", "CBE", 0},
    {"psm", "PSM", 0},
    {"phd", "PhD", 0},
    {"md", "MD", SUFFIX_AMBIGUOUS},
    {"do", "DO", SUFFIX_COMMA_ONLY},
    {"dds", "DDS", 0},
    {"dmd", "DMD", 0},
    {"mbbs", "MBBS", 0},
    {"bds", "BDS", 0},
    {"bdsc", "BDSc", 0},
    {"mds", "MDS", 0},
    {"fracgp", "FRACGP", 0},
    {"fracp", "FRACP", 0},
    {"fracs", "FRACS", 0},
    {"fracds", "FRACDS", 0},
    {"facrrm", "FACRRM", 0},
    {"franzcog", "FRANZCOG", 0},
    {"franzcp", "FRANZCP", 0},
    {"franzco", "FRANZCO", 0},
    {"franzcr", "FRANZCR", 0},
    {"frcs", "FRCS", 0},
    {"frcp", "FRCP", 0},
    {"rn", "RN", SUFFIX_AMBIGUOUS},
    {"np", "NP", SUFFIX_AMBIGUOUS},
    {"pa", "PA", SUFFIX_AMBIGUOUS},
    {"pa-c", "PA-C", 0},
    {"dc", "DC", SUFFIX_AMBIGUOUS},
    {"od", "OD", SUFFIX_AMBIGUOUS},
    {"dpm", "DPM", 0},
    {"dpt", "DPT", 0},
    {"esq", "Esq", 0},
    {"mph", "MPH", 0},
    {"mba", "MBA", 0},
    {"msc", "MSc", 0},
    {"bsc", "BSc", 0},
    {"ba", "BA", SUFFIX_AMBIGUOUS},
    {"ma", "MA", SUFFIX_COMMA_ONLY},
};

/* Words that start a family name when followed by another word ("van der Berg"). */
static const char *const particles[] = {
    "van", "von", "der", "den", "de",  "da",  "di",    "del", "della", "dos", "das",
    "du",  "la",  "le",  "ter", "ten", "bin", "binti", "al",  "el",    "st",
};

static const keyword *find_keyword(const keyword *table, size_t n, const char *word)
{
    char key[16];
    keyword_of(word, key);
    if (key[0] == '\0')
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].key, key) == 0)
            return &table[i];
    return NULL;
}

/* How many words at w[i] make a title (0, 1, or 2 for "Assoc Prof"); *canon its stored form. */
static size_t match_prefix(char *const *w, size_t i, size_t end, const char **canon)
{
    char key[16];
    keyword_of(w[i], key);
    if ((strcmp(key, "assoc") == 0 || strcmp(key, "associate") == 0) && i + 1 < end) {
        char next[16];
        keyword_of(w[i + 1], next);
        if (strcmp(next, "prof") == 0 || strcmp(next, "professor") == 0) {
            *canon = "A/Prof";
            return 2;
        }
    }
    const keyword *k = find_keyword(prefixes, sizeof prefixes / sizeof prefixes[0], w[i]);
    if (k == NULL)
        return 0;
    *canon = k->canon;
    return 1;
}

/* The suffix a word stands for, or NULL. after_comma: the word is in a segment of its own
 * after a comma ("John Smith, DO"), the only place a SUFFIX_COMMA_ONLY entry counts. Entries
 * that could be names count only when written in capitals. */
static const keyword *match_suffix(const char *word, bool after_comma)
{
    const keyword *k = find_keyword(suffixes, sizeof suffixes / sizeof suffixes[0], word);
    if (k == NULL)
        return NULL;
    if ((k->flags & SUFFIX_COMMA_ONLY) && !after_comma)
        return NULL;
    if (k->flags & (SUFFIX_AMBIGUOUS | SUFFIX_COMMA_ONLY)) {
        /* Must be written exactly in capitals, dots aside ("M.D." or "MD", not "Md"). */
        size_t j = 0;
        for (const char *s = word; *s != '\0'; s++) {
            if (*s == '.')
                continue;
            if (k->canon[j] != *s)
                return NULL;
            j++;
        }
        if (k->canon[j] != '\0')
            return NULL;
    }
    return k;
}

static bool is_particle(const char *word)
{
    char key[16];
    keyword_of(word, key);
    for (size_t i = 0; i < sizeof particles / sizeof particles[0]; i++)
        if (strcmp(particles[i], key) == 0)
            return true;
    return false;
}

/* ---- words ------------------------------------------------------------------------------ */

/* Number of initials in word when it is only initials ("A", "A.", "A.B.", "A.B"), else 0. An
 * initial is one letter (any non-ASCII character counts as a letter). */
static size_t initials_in(const char *word)
{
    const unsigned char *s = (const unsigned char *)word;
    size_t count = 0;
    size_t i = 0;
    while (s[i] != '\0') {
        size_t n;
        if (is_alpha(s[i]))
            n = 1;
        else if (s[i] >= 0x80)
            n = utf8_seq_len(s + i);
        else
            return 0;
        i += n;
        count++;
        if (s[i] == '.')
            i++;
        else if (s[i] != '\0')
            return 0;
    }
    return count;
}

/* A family name in capitals: at least two ASCII letters, none lower case ("SMITH", "NG"), and
 * not initials ("A.B."). */
static bool is_shouted(const char *word)
{
    if (initials_in(word) > 0)
        return false;
    size_t letters = 0;
    for (const unsigned char *s = (const unsigned char *)word; *s != '\0'; s++) {
        if (is_lower(*s))
            return false;
        if (is_upper(*s))
            letters++;
    }
    return letters >= 2;
}

static bool has_lower(const char *word)
{
    for (const unsigned char *s = (const unsigned char *)word; *s != '\0'; s++)
        if (is_lower(*s))
            return true;
    return false;
}

/* A word with a letter or digit in it (non-ASCII bytes count); "-", "&", "." are not words. */
static bool has_letter(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (is_alnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
            return true;
    return false;
}

/* An elided particle written apart from the rest: "O'", "D'", "O’". */
static bool is_elided_particle(const char *s, size_t len)
{
    size_t letters = 0;
    while (letters < len && is_alpha((unsigned char)s[letters]))
        letters++;
    if (letters < 1 || letters > 2)
        return false;
    size_t rest = len - letters;
    return (rest == 1 && s[letters] == '\'') ||
           (rest == 3 && memcmp(s + letters, "\xE2\x80\x99", 3) == 0);
}

/* Splits s[0..len) into words at blanks. "O' Brien" becomes one word "O'Brien"; words without
 * a letter or digit are dropped. */
static int split_words(const char *s, size_t len, word_list *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    const char *pending = NULL; /* an elided particle waiting for the next word */
    size_t pending_len = 0;
    int rc = PMS_OK;
    while (i < len) {
        size_t b = blank_len(u + i);
        if (b > 0) {
            i += b;
            continue;
        }
        size_t start = i;
        while (i < len && blank_len(u + i) == 0)
            i += utf8_seq_len(u + i);
        if (i > len)
            i = len;
        size_t wlen = i - start;
        if (!has_letter(s + start, wlen))
            continue;
        if (pending == NULL && is_elided_particle(s + start, wlen)) {
            pending = s + start;
            pending_len = wlen;
            continue;
        }
        if (pending != NULL) {
            char joined[512];
            if (pending_len + wlen < sizeof joined) {
                memcpy(joined, pending, pending_len);
                memcpy(joined + pending_len, s + start, wlen);
                rc = words_push(out, joined, pending_len + wlen);
            } else {
                rc = words_push(out, pending, pending_len);
                if (rc == PMS_OK)
                    rc = words_push(out, s + start, wlen);
            }
            pending = NULL;
        } else {
            rc = words_push(out, s + start, wlen);
        }
        if (rc != PMS_OK)
            return rc;
    }
    if (pending != NULL)
        rc = words_push(out, pending, pending_len);
    return rc;
}

/* ---- parsing ---------------------------------------------------------------------------- */

#define MAX_SUFFIXES 8

typedef struct name_builder {
    sbuf prefix, given, middle, family, suffix;
} name_builder;

/* Drops titles from the front of w[lo..hi) into b->prefix while at least keep words remain. */
static size_t strip_prefixes(char *const *w, size_t lo, size_t hi, size_t keep, name_builder *b)
{
    while (lo < hi) {
        const char *canon = NULL;
        size_t n = match_prefix(w, lo, hi, &canon);
        if (n == 0 || hi - lo - n < keep)
            break;
        sb_word(&b->prefix, canon);
        lo += n;
    }
    return lo;
}

/* Drops suffixes from the end of w[lo..hi) while a name remains; found[] gets them last first. */
static size_t strip_suffixes(char *const *w, size_t lo, size_t hi, const char **found,
                             size_t *n_found)
{
    while (hi > lo + 1 && *n_found < MAX_SUFFIXES) {
        const keyword *k = match_suffix(w[hi - 1], false);
        if (k == NULL)
            break;
        if ((k->flags & SUFFIX_AMBIGUOUS) && hi - lo - 1 < 2)
            break;
        found[(*n_found)++] = k->canon;
        hi--;
    }
    return hi;
}

/* Given names: the first word is the given name, the rest middle names; initials lose their
 * dots and "A.B." gives two initials. */
static void add_given_words(char *const *w, size_t lo, size_t hi, name_builder *b)
{
    for (size_t i = lo; i < hi; i++) {
        sbuf *dest = b->given.len == 0 ? &b->given : &b->middle;
        if (initials_in(w[i]) == 0) {
            sb_word(dest, w[i]);
            continue;
        }
        const unsigned char *s = (const unsigned char *)w[i];
        while (*s != '\0') {
            size_t n = utf8_seq_len(s);
            char initial[8];
            memcpy(initial, s, n);
            initial[n] = '\0';
            dest = b->given.len == 0 ? &b->given : &b->middle;
            sb_word(dest, initial);
            s += n;
            if (*s == '.')
                s++;
        }
    }
}

static void add_family_words(char *const *w, size_t lo, size_t hi, name_builder *b)
{
    for (size_t i = lo; i < hi; i++)
        sb_word(&b->family, w[i]);
}

/* One comma-less run of words: "Dr John Smith", "SMITH John", "Smith J A", "Anna van der Berg". */
static void parse_plain(char *const *w, size_t lo, size_t hi, name_builder *b)
{
    size_t n = hi - lo;
    if (n == 1) {
        add_family_words(w, lo, hi, b);
        return;
    }
    /* "SMITH John": family name in capitals first, then a given name that is not. */
    if (is_shouted(w[lo])) {
        bool later_lower = false;
        for (size_t j = lo + 1; j < hi; j++)
            later_lower = later_lower || has_lower(w[j]);
        if (later_lower) {
            size_t k = lo;
            while (k < hi && is_shouted(w[k]))
                k++;
            add_family_words(w, lo, k, b);
            add_given_words(w, k, hi, b);
            return;
        }
    }
    /* "Smith J A": a family name followed by initials only. */
    if (initials_in(w[lo]) == 0 && initials_in(w[hi - 1]) > 0) {
        size_t k = lo;
        while (k < hi && initials_in(w[k]) == 0)
            k++;
        bool all_initials = true;
        for (size_t j = k; j < hi; j++)
            all_initials = all_initials && initials_in(w[j]) > 0;
        if (all_initials) {
            add_family_words(w, lo, k, b);
            add_given_words(w, k, hi, b);
            return;
        }
    }
    /* Given names first; the family name is the last word, or starts at the first particle
     * after the given name that has a word after it. */
    size_t family_at = hi - 1;
    for (size_t i = lo + 1; i + 1 < hi; i++) {
        if (is_particle(w[i])) {
            family_at = i;
            break;
        }
    }
    add_given_words(w, lo, family_at, b);
    add_family_words(w, family_at, hi, b);
}

static void builder_free(name_builder *b)
{
    free(b->prefix.p);
    free(b->given.p);
    free(b->middle.p);
    free(b->family.p);
    free(b->suffix.p);
    memset(b, 0, sizeof *b);
}

void pms_person_name_free(pms_person_name *name)
{
    if (name == NULL)
        return;
    free(name->prefix);
    free(name->given);
    free(name->middle);
    free(name->family);
    free(name->suffix);
    memset(name, 0, sizeof *name);
}

int pms_person_name_parse(const char *display, pms_person_name *out)
{
    if (out == NULL)
        return PMS_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (display == NULL)
        return PMS_ERR_INVALID;

    word_list main_words = {0};  /* before the first comma (or the whole name) */
    word_list given_words = {0}; /* after a comma: "Smith, John" */
    word_list segment = {0};
    name_builder b = {0};
    const char *comma_suffixes[MAX_SUFFIXES];
    size_t n_comma_suffixes = 0;
    int rc = PMS_OK;

    const char *seg_start = display;
    for (;;) {
        const char *comma = strchr(seg_start, ',');
        size_t seg_len = comma ? (size_t)(comma - seg_start) : strlen(seg_start);
        word_list *dest = main_words.n == 0 ? &main_words : &segment;
        rc = split_words(seg_start, seg_len, dest);
        if (rc != PMS_OK)
            goto out;
        if (dest == &segment && segment.n > 0) {
            /* A segment of suffixes only ("Smith, John, Jr", "John Smith, MD"); one that could
             * also be a given name ("MD", "DO") only when a full name came before it. */
            bool full_name_before = main_words.n >= 2 || given_words.n > 0;
            bool all_suffixes = segment.n <= MAX_SUFFIXES - n_comma_suffixes;
            for (size_t i = 0; i < segment.n && all_suffixes; i++) {
                const keyword *k = match_suffix(segment.v[i], true);
                all_suffixes = k != NULL && (full_name_before ||
                                             !(k->flags & (SUFFIX_AMBIGUOUS | SUFFIX_COMMA_ONLY)));
            }
            if (all_suffixes) {
                for (size_t i = 0; i < segment.n; i++)
                    comma_suffixes[n_comma_suffixes++] = match_suffix(segment.v[i], true)->canon;
            } else {
                for (size_t i = 0; i < segment.n && rc == PMS_OK; i++)
                    rc = words_push(&given_words, segment.v[i], strlen(segment.v[i]));
                if (rc != PMS_OK)
                    goto out;
            }
            words_free(&segment);
        }
        if (comma == NULL)
            break;
        seg_start = comma + 1;
    }
    if (main_words.n == 0) {
        rc = PMS_ERR_INVALID;
        goto out;
    }

    /* Suffixes stripped from the end of the words before and after the first comma (each list
     * last first), then those standing after commas of their own. */
    const char *main_suffixes[MAX_SUFFIXES];
    const char *given_suffixes[MAX_SUFFIXES];
    size_t n_main_suffixes = 0, n_given_suffixes = 0;
    size_t lo = strip_prefixes(main_words.v, 0, main_words.n, 1, &b);
    size_t hi = strip_suffixes(main_words.v, lo, main_words.n, main_suffixes, &n_main_suffixes);
    if (given_words.n > 0) {
        /* "Smith, John", "Smith, Dr John A", "Smith Jr, John": titles may use up the words
         * after the comma ("Smith, Dr"), the family name is everything before it. */
        add_family_words(main_words.v, lo, hi, &b);
        size_t glo = strip_prefixes(given_words.v, 0, given_words.n, 0, &b);
        size_t ghi = glo < given_words.n ? strip_suffixes(given_words.v, glo, given_words.n,
                                                          given_suffixes, &n_given_suffixes)
                                         : glo;
        add_given_words(given_words.v, glo, ghi, &b);
    } else {
        parse_plain(main_words.v, lo, hi, &b);
    }
    for (size_t i = n_main_suffixes; i > 0; i--)
        sb_word(&b.suffix, main_suffixes[i - 1]);
    for (size_t i = n_given_suffixes; i > 0; i--)
        sb_word(&b.suffix, given_suffixes[i - 1]);
    for (size_t i = 0; i < n_comma_suffixes; i++)
        sb_word(&b.suffix, comma_suffixes[i]);

    bool oom = false;
    out->prefix = sb_take(&b.prefix, &oom);
    out->given = sb_take(&b.given, &oom);
    out->middle = sb_take(&b.middle, &oom);
    out->family = sb_take(&b.family, &oom);
    out->suffix = sb_take(&b.suffix, &oom);
    if (oom) {
        pms_person_name_free(out);
        rc = PMS_ERR_NOMEM;
    }
out:
    builder_free(&b);
    words_free(&main_words);
    words_free(&given_words);
    words_free(&segment);
    return rc;
}

char *pms_person_name_format(const char *prefix, const char *given, const char *family)
{
    sbuf b = {0};
    sb_word(&b, prefix);
    sb_word(&b, given);
    sb_word(&b, family);
    sb_add(&b, "", 0); /* allocates the empty string when every part is absent */
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- matching --------------------------------------------------------------------------- */

/* Folded form of a name part ("van der Berg" -> "vanderberg"); NULL when out of memory. */
static char *fold_dup(const char *part)
{
    sbuf b = {0};
    if (part != NULL)
        fold_append(&b, part);
    sb_add(&b, "", 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* Appends each space-separated word of words, folded, as separate words of key. */
static void add_folded_words(sbuf *key, const char *words)
{
    if (words == NULL)
        return;
    const char *s = words;
    while (*s != '\0') {
        const char *end = strchr(s, ' ');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        char *word = malloc(len + 1);
        if (word == NULL) {
            key->oom = true;
            return;
        }
        memcpy(word, s, len);
        word[len] = '\0';
        sbuf folded = {0};
        fold_append(&folded, word);
        if (folded.oom)
            key->oom = true;
        else if (folded.len > 0)
            sb_word(key, folded.p);
        free(folded.p);
        free(word);
        if (end == NULL)
            break;
        s = end + 1;
    }
}

char *pms_name_match_key(const char *display)
{
    pms_person_name name;
    if (pms_person_name_parse(display, &name) != PMS_OK)
        return NULL;
    sbuf key = {0};
    add_folded_words(&key, name.given);
    add_folded_words(&key, name.middle);
    char *family = fold_dup(name.family);
    if (family == NULL)
        key.oom = true;
    else
        sb_word(&key, family);
    free(family);
    pms_person_name_free(&name);
    sb_add(&key, "", 0);
    if (key.oom) {
        free(key.p);
        return NULL;
    }
    return key.p;
}

/* What similarity compares, folded. */
typedef struct name_facts {
    char *family;           /* "vanderberg" */
    char *family_core;      /* family without leading particles: "berg" */
    word_list given;        /* given then middle names, folded, in order */
    const char *generation; /* "Jr", "Sr", "II", ... (static), or NULL */
} name_facts;

static void facts_free(name_facts *f)
{
    free(f->family);
    free(f->family_core);
    words_free(&f->given);
}

static int facts_of(const char *display, name_facts *f)
{
    memset(f, 0, sizeof *f);
    pms_person_name name;
    int rc = pms_person_name_parse(display, &name);
    if (rc != PMS_OK)
        return rc;
    sbuf given = {0};
    add_folded_words(&given, name.given);
    add_folded_words(&given, name.middle);
    if (given.oom) {
        rc = PMS_ERR_NOMEM;
        goto out;
    }
    if (given.len > 0)
        rc = split_words(given.p, given.len, &f->given);
    if (rc != PMS_OK)
        goto out;

    f->family = fold_dup(name.family);
    const char *core = name.family != NULL ? name.family : "";
    for (;;) {
        const char *space = strchr(core, ' ');
        if (space == NULL)
            break;
        size_t len = (size_t)(space - core);
        char word[16];
        if (len >= sizeof word)
            break;
        memcpy(word, core, len);
        word[len] = '\0';
        if (!is_particle(word))
            break;
        core = space + 1;
    }
    f->family_core = fold_dup(core);
    if (f->family == NULL || f->family_core == NULL) {
        rc = PMS_ERR_NOMEM;
        goto out;
    }

    if (name.suffix != NULL) {
        word_list suffix_words = {0};
        rc = split_words(name.suffix, strlen(name.suffix), &suffix_words);
        for (size_t i = 0; rc == PMS_OK && i < suffix_words.n && f->generation == NULL; i++) {
            const keyword *k = match_suffix(suffix_words.v[i], true);
            if (k != NULL && (k->flags & SUFFIX_GENERATION))
                f->generation = k->canon;
        }
        words_free(&suffix_words);
    }
out:
    free(given.p);
    pms_person_name_free(&name);
    if (rc != PMS_OK)
        facts_free(f);
    return rc;
}

/* Optimal string alignment distance (edits: insert, delete, substitute, swap neighbours) over
 * bytes, for keys of at most 63 bytes; larger keys count as far apart. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    enum { MAX = 63 };
    if (la > MAX || lb > MAX)
        return SIZE_MAX;
    size_t prev2[MAX + 1], prev[MAX + 1], cur[MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    memset(prev2, 0, sizeof prev2);
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best)
                best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        memcpy(prev2, prev, sizeof prev);
        memcpy(prev, cur, sizeof cur);
    }
    return prev[lb];
}

/* Length of the first character of a folded word. */
static bool is_single_char(const char *w)
{
    return w[0] != '\0' && w[utf8_seq_len((const unsigned char *)w)] == '\0';
}

/* How well two folded given names agree: 1 same, 0.9 an initial of the other, 0.7 one the
 * start of the other (at least 3 characters: "chris", "christopher"), 0 conflict. */
static double given_agreement(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1.0;
    size_t la = strlen(a), lb = strlen(b);
    const char *shorter = la <= lb ? a : b;
    const char *longer = la <= lb ? b : a;
    size_t ls = la <= lb ? la : lb;
    if (strncmp(longer, shorter, ls) != 0)
        return 0.0;
    if (is_single_char(shorter))
        return 0.9;
    if (ls >= 3)
        return 0.7;
    return 0.0;
}

#define LONG_FAMILY_NAME 8 /* folded bytes from which one typo is forgiven */

double pms_name_similarity(const char *a, const char *b)
{
    name_facts fa, fb;
    if (facts_of(a, &fa) != PMS_OK)
        return 0.0;
    if (facts_of(b, &fb) != PMS_OK) {
        facts_free(&fa);
        return 0.0;
    }
    double score = 0.0;

    /* Family names: the same folded (1), the same once leading particles are set aside
     * ("van Beethoven", "Beethoven": 0.9), or, for long names, one edit apart (0.85). */
    double family = 0.0;
    size_t la = strlen(fa.family), lb = strlen(fb.family);
    if (la == 0 || lb == 0)
        family = 0.0;
    else if (strcmp(fa.family, fb.family) == 0)
        family = 1.0;
    else if (fa.family_core[0] != '\0' && strcmp(fa.family_core, fb.family_core) == 0)
        family = 0.9;
    else if (la >= LONG_FAMILY_NAME && lb >= LONG_FAMILY_NAME &&
             edit_distance(fa.family, fb.family) <= 1)
        family = 0.85;
    if (family == 0.0)
        goto out;

    /* Given names. */
    double given;
    if (fa.given.n == 0 && fb.given.n == 0) {
        given = 1.0;
    } else if (fa.given.n == 0 || fb.given.n == 0) {
        given = 0.8; /* "Dr Smith" and "Dr John Smith" */
    } else {
        given = given_agreement(fa.given.v[0], fb.given.v[0]);
        if (given == 0.0)
            given = 0.2; /* "John" and "Jane" */
        if (fa.given.n > 1 && fb.given.n > 1) {
            if (given_agreement(fa.given.v[1], fb.given.v[1]) == 0.0)
                given *= 0.4; /* "John A Smith" and "John B Smith" */
        } else if (fa.given.n != fb.given.n) {
            given *= 0.95; /* a middle name on one side only */
        }
    }
    score = family * given;

    /* "John Smith Jr" and "John Smith Sr" are father and son. */
    if (fa.generation != NULL && fb.generation != NULL && strcmp(fa.generation, fb.generation) != 0)
        score *= 0.4;
out:
    facts_free(&fa);
    facts_free(&fb);
    if (score < 0.0)
        score = 0.0;
    if (score > 1.0)
        score = 1.0;
    return score;
}
