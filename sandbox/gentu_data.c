#include "gentu_data.h"

#include <stdlib.h>
#include <string.h>

static const char *const status_names[GENTU_STATUS_COUNT] = {
    "none",        "confirmed", "completed", "in_waiting_room",
    "with_doctor", "invoiced",  "cancelled", "did_not_arrive",
};

const char *gentu_status_name(gentu_status status)
{
    if (status < 0 || status >= GENTU_STATUS_COUNT)
        return NULL;
    return status_names[status];
}

bool gentu_status_parse(const char *name, gentu_status *out)
{
    for (int i = 0; i < GENTU_STATUS_COUNT; i++) {
        if (strcmp(name, status_names[i]) == 0) {
            *out = (gentu_status)i;
            return true;
        }
    }
    return false;
}

bool gentu_set_string(char **dst, const char *src)
{
    char *copy = NULL;
    if (src != NULL && (copy = strdup(src)) == NULL)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

void gentu_appt_free(gentu_appt *appt)
{
    if (appt == NULL)
        return;
    free(appt->comment);
    free(appt->description);
    free(appt);
}

static void free_tenant(gentu_tenant *t)
{
    for (size_t i = 0; i < t->practitioner_count; i++) {
        gentu_practitioner *p = &t->practitioners[i];
        free(p->family);
        free(p->given);
        free(p->prefix);
        free(p->email);
        free(p->phone);
        free(p->mobile);
        if (t->schedules != NULL) {
            for (size_t j = 0; j < t->schedules[i].count; j++)
                gentu_appt_free(t->schedules[i].items[j]);
            free(t->schedules[i].items);
        }
    }
    free(t->practitioners);
    free(t->schedules);
    for (size_t i = 0; i < t->patient_count; i++) {
        gentu_patient *p = &t->patients[i];
        free(p->family);
        free(p->given);
        free(p->first);
        free(p->middle);
        free(p->mobile);
        free(p->landline);
        free(p->email);
        free(p->street);
    }
    free(t->patients);
    free(t->types);
    for (size_t i = 0; i < t->site_count; i++)
        free(t->sites[i].name);
    free(t->name);
    sbx_strmap_free(&t->patients_by_id);
    sbx_strmap_free(&t->appts_by_id);
}

void gentu_world_free(gentu_world *world)
{
    if (world == NULL)
        return;
    for (size_t i = 0; i < world->tenant_count; i++)
        free_tenant(&world->tenants[i]);
    free(world->tenants);
    free(world);
}

gentu_tenant *gentu_find_tenant(const gentu_world *world, const char *tenant_id)
{
    for (size_t i = 0; i < world->tenant_count; i++) {
        if (strcmp(world->tenants[i].id, tenant_id) == 0)
            return &world->tenants[i];
    }
    return NULL;
}

gentu_tenant *gentu_find_tenant_by_code(const gentu_world *world, const char *pairing_code)
{
    for (size_t i = 0; i < world->tenant_count; i++) {
        if (strcmp(world->tenants[i].pairing_code, pairing_code) == 0)
            return &world->tenants[i];
    }
    return NULL;
}

int gentu_find_practitioner(const gentu_tenant *tenant, const char *practitioner_id)
{
    for (size_t i = 0; i < tenant->practitioner_count; i++) {
        if (strcmp(tenant->practitioners[i].id, practitioner_id) == 0)
            return (int)i;
    }
    return -1;
}

gentu_patient *gentu_find_patient(const gentu_tenant *tenant, const char *patient_id)
{
    return sbx_strmap_get(&tenant->patients_by_id, patient_id);
}

gentu_appt *gentu_find_appt(const gentu_tenant *tenant, const char *appt_id)
{
    return sbx_strmap_get(&tenant->appts_by_id, appt_id);
}

int gentu_find_type(const gentu_tenant *tenant, const char *type_id)
{
    for (size_t i = 0; i < tenant->type_count; i++) {
        if (strcmp(tenant->types[i].id, type_id) == 0)
            return (int)i;
    }
    return -1;
}

int gentu_appt_order(pms_instant a_start, const char *a_id, pms_instant b_start, const char *b_id)
{
    if (a_start != b_start)
        return a_start < b_start ? -1 : 1;
    return strcmp(a_id, b_id);
}

size_t gentu_schedule_seek(const gentu_schedule *schedule, pms_instant start, const char *id)
{
    size_t lo = 0, hi = schedule->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gentu_appt *a = schedule->items[mid];
        bool before =
            id == NULL ? a->start < start : gentu_appt_order(a->start, a->id, start, id) <= 0;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int reserve(gentu_schedule *schedule, pms_error *err)
{
    if (schedule->count < schedule->capacity)
        return PMS_OK;
    size_t capacity = schedule->capacity == 0 ? 64 : schedule->capacity * 2;
    gentu_appt **items = realloc(schedule->items, capacity * sizeof(*items));
    if (items == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory growing a schedule");
    schedule->items = items;
    schedule->capacity = capacity;
    return PMS_OK;
}

int gentu_schedule_append(gentu_tenant *tenant, gentu_appt *appt, pms_error *err)
{
    gentu_schedule *schedule = &tenant->schedules[appt->practitioner];
    int rc = reserve(schedule, err);
    if (rc != PMS_OK)
        return rc;
    if (!sbx_strmap_put(&tenant->appts_by_id, appt->id, appt))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing appointments");
    schedule->items[schedule->count++] = appt;
    tenant->appt_count++;
    return PMS_OK;
}

static int compare_appts(const void *a, const void *b)
{
    const gentu_appt *x = *(const gentu_appt *const *)a;
    const gentu_appt *y = *(const gentu_appt *const *)b;
    return gentu_appt_order(x->start, x->id, y->start, y->id);
}

void gentu_schedule_sort(gentu_schedule *schedule)
{
    if (schedule->count > 1)
        qsort(schedule->items, schedule->count, sizeof(*schedule->items), compare_appts);
}

int gentu_appt_insert(gentu_tenant *tenant, gentu_appt *appt, pms_error *err)
{
    gentu_schedule *schedule = &tenant->schedules[appt->practitioner];
    int rc = reserve(schedule, err);
    if (rc != PMS_OK)
        return rc;
    if (!sbx_strmap_put(&tenant->appts_by_id, appt->id, appt))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing appointments");
    size_t at = gentu_schedule_seek(schedule, appt->start, appt->id);
    memmove(&schedule->items[at + 1], &schedule->items[at],
            (schedule->count - at) * sizeof(*schedule->items));
    schedule->items[at] = appt;
    schedule->count++;
    tenant->appt_count++;
    return PMS_OK;
}

void gentu_appt_unlink(gentu_tenant *tenant, gentu_appt *appt)
{
    gentu_schedule *schedule = &tenant->schedules[appt->practitioner];
    for (size_t i = 0; i < schedule->count; i++) {
        if (schedule->items[i] == appt) {
            memmove(&schedule->items[i], &schedule->items[i + 1],
                    (schedule->count - i - 1) * sizeof(*schedule->items));
            schedule->count--;
            break;
        }
    }
    sbx_strmap_remove(&tenant->appts_by_id, appt->id);
    tenant->appt_count--;
}
