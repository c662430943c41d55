#include <stdlib.h>
#include <string.h>

#include "pmsync/model.h"

char *pms_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int pms_str_set(char **dst, const char *src)
{
    char *copy = NULL;
    if (src != NULL && (copy = strdup(src)) == NULL)
        return PMS_ERR_NOMEM;
    free(*dst);
    *dst = copy;
    return PMS_OK;
}
