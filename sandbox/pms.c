#include "pms.h"

#include <string.h>

#include "gentu.h"
#include "halaxy.h"
#include "medirecords.h"
#include "sikka.h"

const sbx_pms *const sbx_pms_list[] = {
    &sbx_gentu, &sbx_medirecords, &sbx_halaxy, &sbx_sikka, NULL,
};

const sbx_pms *sbx_pms_for_path(const char *path, const char **rest)
{
    if (path[0] != '/')
        return NULL;
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++) {
        size_t n = strlen((*p)->name);
        if (strncmp(path + 1, (*p)->name, n) == 0 && (path[1 + n] == '/' || path[1 + n] == '\0')) {
            if (rest != NULL)
                *rest = path + 1 + n;
            return *p;
        }
    }
    return NULL;
}

const sbx_pms *sbx_pms_by_name(const char *name)
{
    for (const sbx_pms *const *p = sbx_pms_list; *p != NULL; p++) {
        if (strcmp((*p)->name, name) == 0)
            return *p;
    }
    return NULL;
}
