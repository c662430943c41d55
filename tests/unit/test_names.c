/* Person names: parsing, display, match keys and similarity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "pmsync/error.h"
#include "pmsync/names.h"

typedef struct parse_case {
    const char *display;
    const char *prefix, *given, *middle, *family, *suffix; /* NULL: absent */
} parse_case;

static void assert_part(const char *display, const char *what, const char *got, const char *want)
{
    if (want == NULL && got == NULL)
        return;
    if (want == NULL || got == NULL || strcmp(want, got) != 0)
        fail_msg("\"%s\": %s is [%s], want [%s]", display, what, got ? got : "(null)",
                 want ? want : "(null)");
}

static void parses_display_names(void **state)
{
    (void)state;
    static const parse_case cases[] = {
        {"Dr. John Smith", "Dr", "John", NULL, "Smith", NULL},
        {"Dr John Smith", "Dr", "John", NULL, "Smith", NULL},
        {"Doctor John Smith", "Dr", "John", NULL, "Smith", NULL},
        {"Dr Smith", "Dr", NULL, NULL, "Smith", NULL},
        {"Smith", NULL, NULL, NULL, "Smith", NULL},
        {"Dr", NULL, NULL, NULL, "Dr", NULL},
        {"John Smith", NULL, "John", NULL, "Smith", NULL},
        {"  Dr   John \t  Smith  ", "Dr", "John", NULL, "Smith", NULL},
        {"Mary Anne Elizabeth Jones", NULL, "Mary", "Anne Elizabeth", "Jones", NULL},
        /* comma form */
        {"Smith, John", NULL, "John", NULL, "Smith", NULL},
        {"Smith, John Michael", NULL, "John", "Michael", "Smith", NULL},
        {"Smith,John", NULL, "John", NULL, "Smith", NULL},
        {"Smith, Dr John", "Dr", "John", NULL, "Smith", NULL},
        {"Smith, J.", NULL, "J", NULL, "Smith", NULL},
        {"van der Berg, Anna", NULL, "Anna", NULL, "van der Berg", NULL},
        {"Smith Jr, John", NULL, "John", NULL, "Smith", "Jr"},
        {"Smith, John, Jr.", NULL, "John", NULL, "Smith", "Jr"},
        {"Smith, Jr", NULL, NULL, NULL, "Smith", "Jr"},
        {", John", NULL, NULL, NULL, "John", NULL},
        /* titles */
        {"Prof. Jane Doe", "Prof", "Jane", NULL, "Doe", NULL},
        {"Professor Jane Doe", "Prof", "Jane", NULL, "Doe", NULL},
        {"A/Prof Jane Doe", "A/Prof", "Jane", NULL, "Doe", NULL},
        {"Assoc Prof Jane Doe", "A/Prof", "Jane", NULL, "Doe", NULL},
        {"Assoc. Prof. Jane Doe", "A/Prof", "Jane", NULL, "Doe", NULL},
        {"Associate Professor Jane Doe", "A/Prof", "Jane", NULL, "Doe", NULL},
        {"Mr Tom Brown", "Mr", "Tom", NULL, "Brown", NULL},
        {"Mrs. Mary Brown", "Mrs", "Mary", NULL, "Brown", NULL},
        {"Ms Kate Lee", "Ms", "Kate", NULL, "Lee", NULL},
        {"Miss Kate Lee", "Miss", "Kate", NULL, "Lee", NULL},
        {"Mx Sam Taylor", "Mx", "Sam", NULL, "Taylor", NULL},
        {"Master Oliver Hughes", "Master", "Oliver", NULL, "Hughes", NULL},
        {"Sr Mary Smith", "Sr", "Mary", NULL, "Smith", NULL},
        {"Rev. Peter Walsh", "Rev", "Peter", NULL, "Walsh", NULL},
        {"DR JOHN SMITH", "Dr", "JOHN", NULL, "SMITH", NULL},
        {"Prof Dr Hans Weber", "Prof Dr", "Hans", NULL, "Weber", NULL},
        /* suffixes */
        {"John Smith Jr", NULL, "John", NULL, "Smith", "Jr"},
        {"John Smith Jr.", NULL, "John", NULL, "Smith", "Jr"},
        {"John Smith Sr", NULL, "John", NULL, "Smith", "Sr"},
        {"John Smith III", NULL, "John", NULL, "Smith", "III"},
        {"Henry Ford II", NULL, "Henry", NULL, "Ford", "II"},
        {"Prof John Smith AO", "Prof", "John", NULL, "Smith", "AO"},
        {"Dr Jane Citizen OAM", "Dr", "Jane", NULL, "Citizen", "OAM"},
        {"Dr Jane Citizen AM", "Dr", "Jane", NULL, "Citizen", "AM"},
        {"Jane Citizen PhD", NULL, "Jane", NULL, "Citizen", "PhD"},
        {"Jane Citizen Ph.D.", NULL, "Jane", NULL, "Citizen", "PhD"},
        {"Dr John Smith, PhD, FRACGP", "Dr", "John", NULL, "Smith", "PhD FRACGP"},
        {"Dr John Smith MBBS FRACGP", "Dr", "John", NULL, "Smith", "MBBS FRACGP"},
        {"John Smith, DDS", NULL, "John", NULL, "Smith", "DDS"},
        {"John Smith DDS", NULL, "John", NULL, "Smith", "DDS"},
        {"John Smith, MD", NULL, "John", NULL, "Smith", "MD"},
        {"John Smith M.D.", NULL, "John", NULL, "Smith", "MD"},
        {"John Smith, DO", NULL, "John", NULL, "Smith", "DO"},
        {"Smith Jr", NULL, NULL, NULL, "Smith", "Jr"},
        /* words that are suffixes only in some places */
        {"Minh Anh DO", NULL, "Minh", "Anh", "DO", NULL},
        {"Anh Do", NULL, "Anh", NULL, "Do", NULL},
        {"John Ao", NULL, "John", NULL, "Ao", NULL},
        {"Li Ma", NULL, "Li", NULL, "Ma", NULL},
        /* family-name particles */
        {"Anna van der Berg", NULL, "Anna", NULL, "van der Berg", NULL},
        {"Prof A. B. van der Berg Jr", "Prof", "A", "B", "van der Berg", "Jr"},
        {"Ludwig van Beethoven", NULL, "Ludwig", NULL, "van Beethoven", NULL},
        {"Ursula von der Leyen", NULL, "Ursula", NULL, "von der Leyen", NULL},
        {"Maria da Silva", NULL, "Maria", NULL, "da Silva", NULL},
        {"Leonardo di Caprio", NULL, "Leonardo", NULL, "di Caprio", NULL},
        {"Anna De Souza", NULL, "Anna", NULL, "De Souza", NULL},
        {"Dr. Jean-Luc Le Roux PhD", "Dr", "Jean-Luc", NULL, "Le Roux", "PhD"},
        {"Anh Le", NULL, "Anh", NULL, "Le", NULL},
        /* apostrophes and hyphens */
        {"John O'Brien", NULL, "John", NULL, "O'Brien", NULL},
        {"John O' Brien", NULL, "John", NULL, "O'Brien", NULL},
        {"John O\xe2\x80\x99 Brien", NULL, "John", NULL,
         "O\xe2\x80\x99"
         "Brien",
         NULL},
        {"Mary-Jane Smith-Jones", NULL, "Mary-Jane", NULL, "Smith-Jones", NULL},
        {"Mary-Jane O' Brien-Smith", NULL, "Mary-Jane", NULL, "O'Brien-Smith", NULL},
        {"John - Smith", NULL, "John", NULL, "Smith", NULL},
        /* initials */
        {"A. B. Jones", NULL, "A", "B", "Jones", NULL},
        {"A.B. Jones", NULL, "A", "B", "Jones", NULL},
        {"J Smith", NULL, "J", NULL, "Smith", NULL},
        {"Ms. Jane Q. Public", "Ms", "Jane", "Q", "Public", NULL},
        {"Smith J", NULL, "J", NULL, "Smith", NULL},
        {"Smith J A", NULL, "J", "A", "Smith", NULL},
        {"Smith J.A.", NULL, "J", "A", "Smith", NULL},
        /* family name first in capitals */
        {"SMITH John", NULL, "John", NULL, "SMITH", NULL},
        {"SMITH John Paul", NULL, "John", "Paul", "SMITH", NULL},
        {"VAN DER BERG Anna", NULL, "Anna", NULL, "VAN DER BERG", NULL},
        {"Dr SMITH John", "Dr", "John", NULL, "SMITH", NULL},
        {"NG Wei Ling", NULL, "Wei", "Ling", "NG", NULL},
        {"JOHN SMITH", NULL, "JOHN", NULL, "SMITH", NULL},
        /* UTF-8 */
        {"Jos\xc3\xa9 M\xc3\xbcller", NULL, "Jos\xc3\xa9", NULL, "M\xc3\xbcller", NULL},
        {"Dr Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m", "Dr", "Zo\xc3\xab", NULL, "\xc3\x85ngstr\xc3\xb6m",
         NULL},
        {"\xc3\x89. Dupont", NULL, "\xc3\x89", NULL, "Dupont", NULL},
        {"Nguy\xe1\xbb\x85n V\xc4\x83n An", NULL, "Nguy\xe1\xbb\x85n", "V\xc4\x83n", "An", NULL},
        {"\xe6\x9d\x8e \xe5\xb0\x8f\xe9\xbe\x8d", NULL, "\xe6\x9d\x8e", NULL,
         "\xe5\xb0\x8f\xe9\xbe\x8d", NULL},
        {"Anna\xc2\xa0Schmidt", NULL, "Anna", NULL, "Schmidt", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const parse_case *c = &cases[i];
        pms_person_name name;
        int rc = pms_person_name_parse(c->display, &name);
        if (rc != PMS_OK)
            fail_msg("\"%s\" did not parse (%d)", c->display, rc);
        assert_part(c->display, "prefix", name.prefix, c->prefix);
        assert_part(c->display, "given", name.given, c->given);
        assert_part(c->display, "middle", name.middle, c->middle);
        assert_part(c->display, "family", name.family, c->family);
        assert_part(c->display, "suffix", name.suffix, c->suffix);
        pms_person_name_free(&name);
    }
}

static void blank_names_are_invalid(void **state)
{
    (void)state;
    const char *blank[] = {"", "   ", "\t\n", ",", " , , ", "-", ". .", "\xc2\xa0"};
    for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
        pms_person_name name;
        assert_int_equal(pms_person_name_parse(blank[i], &name), PMS_ERR_INVALID);
        assert_null(name.family);
        assert_null(name.given);
        pms_person_name_free(&name);
        assert_null(pms_name_match_key(blank[i]));
    }
    pms_person_name name;
    assert_int_equal(pms_person_name_parse(NULL, &name), PMS_ERR_INVALID);
    assert_int_equal(pms_person_name_parse("Smith", NULL), PMS_ERR_INVALID);
    assert_null(pms_name_match_key(NULL));
    pms_person_name_free(NULL);
}

static void long_and_odd_names_stay_whole(void **state)
{
    (void)state;
    /* A cut multibyte sequence at the end and stray continuation bytes are kept as bytes. */
    pms_person_name name;
    assert_int_equal(pms_person_name_parse("Ren\xc3\xa9 \x80"
                                           "Dubois\xc3",
                                           &name),
                     PMS_OK);
    assert_string_equal(name.given, "Ren\xc3\xa9");
    assert_null(name.middle);
    assert_string_equal(name.family, "\x80"
                                     "Dubois\xc3");
    pms_person_name_free(&name);

    char big[3000];
    size_t n = 0;
    for (int i = 0; i < 200; i++) {
        memcpy(big + n, "Abcdefghij ", 11);
        n += 11;
    }
    memcpy(big + n, "Smith", 6);
    assert_int_equal(pms_person_name_parse(big, &name), PMS_OK);
    assert_string_equal(name.given, "Abcdefghij");
    assert_string_equal(name.family, "Smith");
    assert_int_equal(strlen(name.middle), 199 * 11 - 1);
    pms_person_name_free(&name);
}

static void formats_display_names(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *given, *family, *want;
    } cases[] = {
        {"Dr", "John", "Smith", "Dr John Smith"},
        {NULL, "John", "Smith", "John Smith"},
        {"Dr", NULL, "Smith", "Dr Smith"},
        {"Prof", "Anna", "van der Berg", "Prof Anna van der Berg"},
        {"", "John", "", "John"},
        {NULL, NULL, "Smith", "Smith"},
        {NULL, NULL, NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = pms_person_name_format(cases[i].prefix, cases[i].given, cases[i].family);
        assert_non_null(got);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void match_keys_drop_titles_case_and_punctuation(void **state)
{
    (void)state;
    static const struct {
        const char *display, *key;
    } cases[] = {
        {"Dr. John Smith", "john smith"},
        {"Dr John Smith", "john smith"},
        {"john smith", "john smith"},
        {"Smith, John", "john smith"},
        {"SMITH John", "john smith"},
        {"Dr Smith", "smith"},
        {"John Smith Jr", "john smith"},
        {"Prof A. B. van der Berg Jr", "a b vanderberg"},
        {"Anna Vanderberg", "anna vanderberg"},
        {"Mary-Jane O'Brien", "maryjane obrien"},
        {"Mary-Jane O\xe2\x80\x99"
         "Brien",
         "maryjane obrien"},
        {"Jos\xc3\xa9 M\xc3\xbcller", "jose muller"},
        {"JOS\xc3\x89 M\xc3\x9cLLER", "jose muller"},
        {"Hans Stra\xc3\x9f"
         "e",
         "hans strasse"},
        {"S\xc3\xb8ren \xc3\x86rb\xc3\xb8", "soren aerbo"},
        {"Lech Wa\xc5\x82\xc4\x99sa", "lech walesa"},
        {"Nguy\xe1\xbb\x85n V\xc4\x83n An", "nguyen van an"},
        {"\xe6\x9d\x8e \xe5\xb0\x8f\xe9\xbe\x8d", "\xe6\x9d\x8e \xe5\xb0\x8f\xe9\xbe\x8d"},
        {"Dr Jane Citizen 2nd", "jane citizen 2nd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *key = pms_name_match_key(cases[i].display);
        if (key == NULL || strcmp(key, cases[i].key) != 0)
            fail_msg("key of \"%s\" is [%s], want [%s]", cases[i].display, key ? key : "(null)",
                     cases[i].key);
        free(key);
    }
}

static void similarity_follows_the_documented_scores(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        double score;
    } cases[] = {
        {"Dr. John Smith", "Dr Smith", 0.8},
        {"John Smith", "J. Smith", 0.9},
        {"John Smith", "J Smith", 0.9},
        {"John Smith", "Jane Smith", 0.2},
        {"John Smith", "John Smyth", 0.0},
        {"Smith, John", "John Smith", 1.0},
        {"SMITH John", "Dr John Smith", 1.0},
        {"Dr. John Smith", "Prof John Smith", 1.0},
        {"John Smith", "John Brown", 0.0},
        {"John Smith", "john smith", 1.0},
        {"Smith", "Smith", 1.0},
        {"Dr Smith", "Smith", 1.0},
        {"Chris Smith", "Christopher Smith", 0.7},
        {"Jo Smith", "John Smith", 0.2}, /* shorter than 3 characters: a conflict */
        {"John A Smith", "John B Smith", 0.4},
        {"John A Smith", "John Andrew Smith", 1.0},
        {"John Smith", "John Michael Smith", 0.95},
        {"John Smith Jr", "John Smith Sr", 0.4},
        {"John Smith Jr", "John Smith", 1.0},
        {"John Smith III", "John Smith, III", 1.0},
        {"Ludwig van Beethoven", "Ludwig Beethoven", 0.9},
        {"Anna van der Berg", "Anna Vanderberg", 1.0},
        {"Anna Vandenberg", "Anna Vanderberg", 0.85},
        {"Mary Richardson", "Mary Richardsen", 0.85},
        {"Mary Richardson", "Mary Richadrson", 0.85}, /* swapped neighbours */
        {"Mary Richardson", "Mary Richards", 0.0},    /* two edits */
        {"Mary Smithson", "Mary Smithsen", 0.85},     /* 8 characters: one edit forgiven */
        {"Mary Smithso", "Mary Smithse", 0.0},        /* 7 characters: exact only */
        {"Jos\xc3\xa9 M\xc3\xbcller", "JOSE MULLER", 1.0},
        {"John O'Brien",
         "John O\xe2\x80\x99"
         "Brien",
         1.0},
        {"Mary-Jane Smith", "Maryjane Smith", 1.0},
        {"Dr. John Smith", "Dr Jones", 0.0},
        {"", "Smith", 0.0},
        {NULL, "Smith", 0.0},
        {NULL, NULL, 0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double ab = pms_name_similarity(cases[i].a, cases[i].b);
        double ba = pms_name_similarity(cases[i].b, cases[i].a);
        if (ab < cases[i].score - 1e-9 || ab > cases[i].score + 1e-9)
            fail_msg("\"%s\" vs \"%s\" scores %.4f, want %.4f", cases[i].a ? cases[i].a : "NULL",
                     cases[i].b ? cases[i].b : "NULL", ab, cases[i].score);
        assert_true(ab == ba); /* symmetric */
    }
}

static void similarity_thresholds_users_rely_on(void **state)
{
    (void)state;
    assert_true(pms_name_similarity("Dr. John Smith", "Dr Smith") > 0.5);
    assert_true(pms_name_similarity("John Smith", "J. Smith") > 0.8);
    assert_true(pms_name_similarity("John Smith", "Jane Smith") < 0.5);
    assert_true(pms_name_similarity("John Smith", "John Smyth") < 0.5);
    assert_true(pms_name_similarity("Smith, John", "John Smith") == 1.0);
    assert_true(pms_name_similarity("John Smith", "John Jones") == 0.0);
}

/* Arbitrary bytes never crash, leak or read out of bounds (checked by the sanitizers), and a
 * parsed name always has a family name. */
static void arbitrary_bytes_are_safe(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "Dr",   ".",  " ",  ",",     "Smith", "J",        "van",          "O'",       "\xc3",
        "\xa9", "-",  "Jr", "MD",    "DO",    "\xe2\x80", "\xe2\x80\x99", "\xc2\xa0", "SMITH",
        "a",    "\t", "A.", "Assoc", "Prof",  "III",      "\xf0\x9f",     "\x80",     "de",
    };
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char text[128];
        size_t len = 0;
        seed = seed * 1103515245u + 12345u;
        int n = (int)((seed >> 16) % 9);
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            const char *piece = pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])];
            size_t plen = strlen(piece);
            memcpy(text + len, piece, plen);
            len += plen;
        }
        text[len] = '\0';
        pms_person_name name;
        if (pms_person_name_parse(text, &name) == PMS_OK)
            assert_non_null(name.family);
        pms_person_name_free(&name);
        free(pms_name_match_key(text));
        double score = pms_name_similarity(text, "Dr J Smith");
        assert_true(score >= 0.0 && score <= 1.0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_display_names),
        cmocka_unit_test(blank_names_are_invalid),
        cmocka_unit_test(long_and_odd_names_stay_whole),
        cmocka_unit_test(formats_display_names),
        cmocka_unit_test(match_keys_drop_titles_case_and_punctuation),
        cmocka_unit_test(similarity_follows_the_documented_scores),
        cmocka_unit_test(similarity_thresholds_users_rely_on),
        cmocka_unit_test(arbitrary_bytes_are_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
