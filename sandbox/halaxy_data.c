#include "halaxy_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const status_codes[HX_STATUS_COUNT] = {
    "booked",         "tentative", "confirmed", "attended", "cancelled", "cancelled (no charge)",
    "did not attend",
};

const char *hx_status_code(hx_status status)
{
    return status >= 0 && status < HX_STATUS_COUNT ? status_codes[status] : NULL;
}

bool hx_status_parse(const char *code, hx_status *out)
{
    for (int i = 0; code != NULL && i < HX_STATUS_COUNT; i++) {
        if (strcmp(code, status_codes[i]) == 0) {
            *out = (hx_status)i;
            return true;
        }
    }
    return false;
}

static const char *const location_codes[] = {"clinic", "telehealth", "phone"};

const char *hx_location_code(hx_location location)
{
    return location_codes[location];
}

bool hx_location_parse(const char *code, hx_location *out)
{
    for (int i = 0; code != NULL && i < 3; i++) {
        if (strcmp(code, location_codes[i]) == 0) {
            *out = (hx_location)i;
            return true;
        }
    }
    return false;
}

bool hx_service_name_telehealth(const hx_service *service)
{
    static const char *const words[] = {"telehealth", "video", "phone"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        for (const char *p = service->name; *p != '\0'; p++) {
            if (strncasecmp(p, words[i], n) == 0)
                return true;
        }
    }
    return false;
}

void hx_appt_free(hx_appt *appt)
{
    if (appt == NULL)
        return;
    free(appt->description);
    free(appt);
}

static void free_practice(hx_practice *p)
{
    for (size_t i = 0; i < p->practitioner_count; i++) {
        hx_practitioner *pr = &p->practitioners[i];
        free(pr->family);
        free(pr->given);
        free(pr->email);
        free(pr->phone);
    }
    free(p->practitioners);
    free(p->roles);
    free(p->services);
    for (size_t i = 0; i < p->patient_count; i++) {
        hx_patient *pt = &p->patients[i];
        free(pt->family);
        free(pt->given);
        free(pt->middle);
        free(pt->mobile);
        free(pt->home);
        free(pt->email);
    }
    free(p->patients);
    sbx_strmap_free(&p->patients_by_id);
    for (size_t i = 0; i < p->book.count; i++)
        hx_appt_free(p->book.entries[i].item);
    sbx_book_free(&p->book);
    free(p->name);
}

void hx_world_free(hx_world *world)
{
    if (world == NULL)
        return;
    for (size_t i = 0; i < world->practice_count; i++)
        free_practice(&world->practices[i]);
    free(world->practices);
    free(world);
}

hx_practice *hx_find_practice(const hx_world *world, const char *client_id)
{
    for (size_t i = 0; client_id != NULL && i < world->practice_count; i++) {
        if (strcmp(world->practices[i].client_id, client_id) == 0)
            return &world->practices[i];
    }
    return NULL;
}

int hx_find_practitioner(const hx_practice *p, const char *id)
{
    for (size_t i = 0; id != NULL && i < p->practitioner_count; i++) {
        if (strcmp(p->practitioners[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

int hx_find_role(const hx_practice *p, const char *id)
{
    for (size_t i = 0; id != NULL && i < p->role_count; i++) {
        if (strcmp(p->roles[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

int hx_find_service(const hx_practice *p, const char *id)
{
    for (size_t i = 0; id != NULL && i < p->service_count; i++) {
        if (strcmp(p->services[i].id, id) == 0)
            return (int)i;
    }
    return -1;
}

hx_patient *hx_find_patient(const hx_practice *p, const char *id)
{
    return sbx_strmap_get(&p->patients_by_id, id);
}

hx_appt *hx_find_appt(const hx_practice *p, const char *id)
{
    return sbx_book_get(&p->book, id);
}

bool hx_appt_id_taken(const hx_world *world, const char *id)
{
    for (size_t i = 0; i < world->practice_count; i++) {
        if (hx_find_appt(&world->practices[i], id) != NULL)
            return true;
    }
    return false;
}

void hx_new_appt_id(const hx_world *world, sbx_prng *prng, char out[HX_ID_LEN])
{
    do {
        snprintf(out, HX_ID_LEN, "4%08u", (unsigned)sbx_prng_below(prng, 100000000u));
    } while (hx_appt_id_taken(world, out));
}

int hx_wall_offset(const pms_civil *local, pms_instant start)
{
    return (int)((pms_civil_to_utc_instant(local) - start) / 1000);
}

int hx_appt_insert(hx_practice *p, hx_appt *appt, pms_error *err)
{
    return sbx_book_insert(&p->book, appt->start, appt->id, appt, err);
}

void hx_appt_unlink(hx_practice *p, hx_appt *appt)
{
    sbx_book_remove(&p->book, appt->start, appt->id);
}
