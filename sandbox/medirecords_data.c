#include "medirecords_data.h"

#include <stdlib.h>
#include <string.h>

const mr_interval mr_intervals[] = {
    {2, 5}, {4, 10}, {6, 15}, {7, 20}, {9, 30}, {11, 45}, {12, 60}, {13, 90}, {14, 120},
};
const size_t mr_interval_count = sizeof(mr_intervals) / sizeof(mr_intervals[0]);

bool mr_status_valid(int status)
{
    return status >= MR_STATUS_BOOKED && status <= MR_STATUS_CANCELLED;
}

int mr_interval_minutes(int code)
{
    for (size_t i = 0; i < mr_interval_count; i++) {
        if (mr_intervals[i].code == code)
            return mr_intervals[i].minutes;
    }
    return -1;
}

int mr_interval_code(int minutes)
{
    for (size_t i = 0; i < mr_interval_count; i++) {
        if (mr_intervals[i].minutes == minutes)
            return mr_intervals[i].code;
    }
    return -1;
}

void mr_appt_free(mr_appt *appt)
{
    if (appt == NULL)
        return;
    free(appt->notes);
    free(appt->cancellation_reason);
    free(appt);
}

static void free_practice(mr_practice *p)
{
    for (size_t i = 0; i < p->provider_count; i++) {
        free(p->providers[i].first);
        free(p->providers[i].last);
    }
    free(p->providers);
    free(p->types);
    for (size_t i = 0; i < p->patient_count; i++) {
        mr_patient *pt = &p->patients[i];
        free(pt->first);
        free(pt->middle);
        free(pt->last);
        free(pt->email);
        free(pt->mobile);
        free(pt->home);
        free(pt->street);
    }
    free(p->patients);
    sbx_strmap_free(&p->patients_by_id);
    for (size_t i = 0; i < p->book.count; i++)
        mr_appt_free(p->book.entries[i].item);
    sbx_book_free(&p->book);
    free(p->name);
}

void mr_world_free(mr_world *world)
{
    if (world == NULL)
        return;
    for (size_t i = 0; i < world->practice_count; i++)
        free_practice(&world->practices[i]);
    free(world->practices);
    free(world);
}

mr_practice *mr_find_practice(const mr_world *world, const char *practice_id)
{
    for (size_t i = 0; practice_id != NULL && i < world->practice_count; i++) {
        if (strcmp(world->practices[i].id, practice_id) == 0)
            return &world->practices[i];
    }
    return NULL;
}

mr_practice *mr_find_practice_by_token(const mr_world *world, const char *token)
{
    for (size_t i = 0; token != NULL && i < world->practice_count; i++) {
        if (strcmp(world->practices[i].token, token) == 0)
            return &world->practices[i];
    }
    return NULL;
}

int mr_find_provider(const mr_practice *practice, const char *provider_id)
{
    for (size_t i = 0; provider_id != NULL && i < practice->provider_count; i++) {
        if (strcmp(practice->providers[i].id, provider_id) == 0)
            return (int)i;
    }
    return -1;
}

int mr_find_type(const mr_practice *practice, const char *type_id)
{
    for (size_t i = 0; type_id != NULL && i < practice->type_count; i++) {
        if (strcmp(practice->types[i].id, type_id) == 0)
            return (int)i;
    }
    return -1;
}

mr_patient *mr_find_patient(const mr_practice *practice, const char *patient_id)
{
    return sbx_strmap_get(&practice->patients_by_id, patient_id);
}

mr_appt *mr_find_appt(const mr_practice *practice, const char *appt_id)
{
    return sbx_book_get(&practice->book, appt_id);
}

int64_t mr_local_key(const pms_civil *local)
{
    return pms_civil_to_utc_instant(local) / 1000;
}

int64_t mr_appt_key(const mr_appt *appt)
{
    return mr_local_key(&appt->local);
}

int mr_appt_minutes(const mr_practice *practice, const mr_appt *appt)
{
    int minutes = mr_interval_minutes(appt->interval_code);
    return minutes > 0 ? minutes : practice->types[appt->type].minutes;
}

int mr_appt_insert(mr_practice *practice, mr_appt *appt, pms_error *err)
{
    return sbx_book_insert(&practice->book, mr_appt_key(appt), appt->id, appt, err);
}

void mr_appt_unlink(mr_practice *practice, mr_appt *appt)
{
    sbx_book_remove(&practice->book, mr_appt_key(appt), appt->id);
}
