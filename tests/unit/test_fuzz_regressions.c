/* Replays fuzz inputs through a fuzz target's LLVMFuzzerTestOneInput without libFuzzer, so the
 * normal ASan + UBSan suite re-proves every fixed crash. Built once per target (with
 * fuzz/fuzz_<target>.c); arguments are files or directories (missing ones are skipped, nested
 * ones are not read). Fails when no input at all was found. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"
#include "pmsync/tz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return -1;
    /* An exact-size copy, so ASan sees any read past the input's end. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of a directory in name order; the number replayed, or -1. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    char **names = NULL;
    size_t count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (grown == NULL)
            break;
        names = grown;
        names[count++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, compare_names);
    int replayed = 0;
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i] ? names[i] : "");
        if (names[i] != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) < 0)
                replayed = -1;
            else if (replayed >= 0)
                replayed++;
        }
        free(names[i]);
    }
    free(names);
    return replayed;
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    int total = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        int n = 0;
        if (stat(argv[i], &st) != 0)
            continue;
        n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]);
        if (n < 0)
            return 1;
        printf("%s: %d inputs replayed\n", argv[i], n);
        total += n;
    }
    pms_tz_cleanup();
    if (total == 0) {
        fprintf(stderr, "no inputs found\n");
        return 1;
    }
    return 0;
}
