/* Generation of the Sikka world and its lookups (declared in sikka_data.h). Every random choice
 * comes from a stream derived from (seed, what, which), so one provider-day's appointments
 * depend only on the seed, the office, the provider and the date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "sikka_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum {
    STREAM_PRACTICE = 0x534b0001, /* "SK" */
    STREAM_PROVIDER,
    STREAM_PATIENT,
    STREAM_DAY,
    STREAM_DST,
    STREAM_MUTATION,
};

typedef struct sk_office_spec {
    const char *zone, *city, *state, *zip, *pms_name;
    bool has_slots;
} sk_office_spec;

/* New York and Denver change clocks, Phoenix never does; OrthoTrac serves free slots. */
static const sk_office_spec offices[] = {
    {"America/New_York", "Brooklyn", "NY", "11201", "Dentrix", false},
    {"America/Denver", "Boulder", "CO", "80302", "OrthoTrac", true},
    {"America/Phoenix", "Tempe", "AZ", "85281", "Eaglesoft", false},
    {"America/Los_Angeles", "Pasadena", "CA", "91101", "Dolphin", true},
};

const char *const sk_types[] = {"General",          "Hygiene",         "New Patient",  "Emergency",
                                "Ortho Adjustment", "Virtual Consult", "Teledentistry"};
const size_t sk_type_count = COUNT(sk_types);
static const int type_weights[] = {30, 25, 8, 5, 8, 14, 10};
static const int type_lengths[] = {60, 45, 60, 30, 30, 15, 30};

static const char *const descriptions[] = {"Seat Br-UR", "Prophy", "Comp Exam",    "Crown prep",
                                           "Filling",    "Recall", "Limited eval", "Consult"};

/* Status words of the underlying PMSs; "Fixed" is one the adapter does not know. */
static const struct {
    const char *word;
    int unified;
} status_words[] = {
    {"Open", 0},      {"Scheduled", 0}, {"Confirmed", 1}, {"Arrived", 2},
    {"Here", 2},      {"Seated", 2},    {"Complete", 4},  {"Completed", 4},
    {"Cancelled", 5}, {"Broken", 6},    {"No Show", 6},   {"Fixed", -1},
};

int sk_status_unified(const char *word)
{
    for (size_t i = 0; i < COUNT(status_words); i++)
        if (strcmp(status_words[i].word, word) == 0)
            return status_words[i].unified;
    return -1;
}

int64_t sk_local_key(const pms_civil *local)
{
    return pms_civil_to_utc_instant(local) / 1000;
}

int sk_appt_insert(sk_practice *p, sk_appt *a, pms_error *err)
{
    return sbx_book_insert(&p->book, sk_local_key(&a->local), a->id, a, err);
}

void sk_appt_unlink(sk_practice *p, sk_appt *a)
{
    sbx_book_remove(&p->book, sk_local_key(&a->local), a->id);
}

void sk_appt_free(sk_appt *a)
{
    if (a == NULL)
        return;
    free(a->status);
    free(a->description);
    free(a->note);
    free(a);
}

sk_appt *sk_appt_new(sk_practice *p)
{
    sk_appt *a = calloc(1, sizeof(*a));
    if (a != NULL)
        snprintf(a->id, sizeof(a->id), "%ld", p->next_sr_no++);
    return a;
}

sk_practice *sk_find_office(const sk_world *w, const char *office_id)
{
    for (size_t i = 0; office_id != NULL && i < w->practice_count; i++)
        if (strcmp(w->practices[i].office_id, office_id) == 0)
            return &w->practices[i];
    return NULL;
}

sk_practice *sk_find_app(const sk_world *w, const char *app_id, const char *app_key)
{
    for (size_t i = 0; app_id != NULL && app_key != NULL && i < w->practice_count; i++)
        if (strcmp(w->practices[i].app_id, app_id) == 0 &&
            strcmp(w->practices[i].app_key, app_key) == 0)
            return &w->practices[i];
    return NULL;
}

int sk_find_provider(const sk_practice *p, const char *id)
{
    for (size_t i = 0; id != NULL && i < p->provider_count; i++)
        if (strcmp(p->providers[i].id, id) == 0)
            return (int)i;
    return -1;
}

int sk_find_patient(const sk_practice *p, const char *id)
{
    for (size_t i = 0; id != NULL && i < p->patient_count; i++)
        if (strcmp(p->patients[i].id, id) == 0)
            return (int)i;
    return -1;
}

int sk_find_operatory(const char *name)
{
    if (name == NULL || strncmp(name, "OP", 2) != 0 || name[2] < '1' ||
        name[2] > '0' + SK_OPERATORY || name[3] != '\0')
        return -1;
    return name[2] - '1';
}

const char *sk_operatory_name(int index)
{
    static const char *const names[SK_OPERATORY] = {"OP1", "OP2", "OP3", "OP4"};
    return index >= 0 && index < SK_OPERATORY ? names[index] : "";
}

sk_appt *sk_find_appt(const sk_practice *p, const char *sr_no)
{
    return sr_no != NULL ? sbx_book_get(&p->book, sr_no) : NULL;
}

static void key_chars(sbx_prng *prng, char out[SK_KEY_LEN])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < SK_KEY_LEN - 1; i++)
        out[i] = alphabet[sbx_prng_below(prng, sizeof(alphabet) - 1)];
    out[SK_KEY_LEN - 1] = '\0';
}

static int gen_people(sk_practice *p, const sbx_dataset_config *cfg, size_t index, pms_error *err)
{
    p->provider_count = (size_t)cfg->practitioners;
    p->patient_count = (size_t)cfg->patients;
    p->providers = calloc(p->provider_count, sizeof(*p->providers));
    p->patients = calloc(p->patient_count, sizeof(*p->patients));
    if (p->providers == NULL || p->patients == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a practice");
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PROVIDER, index, 0);
    for (size_t i = 0; i < p->provider_count; i++) {
        sk_provider *pr = &p->providers[i];
        bool hygienist = i % 3 == 2;
        snprintf(pr->id, sizeof(pr->id), "%s%zu", hygienist ? "HYG" : "DMD", i + 1);
        sbx_person person;
        sbx_gen_person(&prng, 0, &person);
        pr->type = hygienist ? "Hygienist" : "Dentist";
        pr->specialty = hygienist ? "Hygiene" : "General Dentistry";
        pr->active = i + 1 < p->provider_count || p->provider_count < 3; /* last one inactive */
        if (!sbx_set_string(&pr->first, person.given) || !sbx_set_string(&pr->last, person.family))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a provider");
    }
    sbx_prng_derive(&prng, cfg->seed, STREAM_PATIENT, index, 0);
    for (size_t i = 0; i < p->patient_count; i++) {
        sk_patient *pt = &p->patients[i];
        snprintf(pt->id, sizeof(pt->id), "%zu", 5000 + i * 7 + index);
        sbx_person person;
        sbx_gen_person(&prng, 0, &person);
        pt->birth = sbx_gen_birth_date(&prng, p->today, 3, 90);
        snprintf(pt->cell, sizeof(pt->cell), "%03d-%03d-%04d", sbx_prng_range(&prng, 201, 989),
                 sbx_prng_range(&prng, 200, 999), sbx_prng_range(&prng, 0, 9999));
        if (sbx_prng_chance(&prng, 0.8))
            sbx_gen_email(&prng, person.given, person.family, pt->email, sizeof(pt->email));
        pt->provider = (int)sbx_prng_below(&prng, (uint32_t)p->provider_count);
        if (!sbx_set_string(&pt->first, person.given) || !sbx_set_string(&pt->last, person.family))
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a patient");
    }
    return PMS_OK;
}

static const char *pick_status(sbx_prng *prng, sbx_day_kind kind)
{
    static const char *const past[] = {"Complete", "Completed", "Broken", "No Show", "Cancelled"};
    static const int past_w[] = {50, 20, 8, 7, 15};
    static const char *const today[] = {"Confirmed", "Arrived", "Seated", "Here",
                                        "Complete",  "Open",    "Fixed"};
    static const int today_w[] = {25, 15, 10, 5, 20, 20, 5};
    static const char *const future[] = {"Open", "Scheduled", "Confirmed", "Cancelled", "Fixed"};
    static const int future_w[] = {35, 15, 35, 10, 5};
    if (kind == SBX_DAY_PAST)
        return past[sbx_pick_weighted(prng, past_w, COUNT(past_w))];
    if (kind == SBX_DAY_TODAY)
        return today[sbx_pick_weighted(prng, today_w, COUNT(today_w))];
    return future[sbx_pick_weighted(prng, future_w, COUNT(future_w))];
}

static int add_appt(sk_practice *p, sbx_prng *prng, int provider, int type, pms_date day,
                    int minute, int length, sbx_day_kind kind, pms_error *err)
{
    sk_appt *a = sk_appt_new(p);
    if (a == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    a->provider = provider;
    a->type = sk_types[type];
    a->length = length;
    a->local = (pms_civil){day.year, day.month, day.day, minute / 60, minute % 60, 0, 0};
    a->patient = (int)sbx_prng_below(prng, (uint32_t)p->patient_count);
    a->operatory = (int)sbx_prng_below(prng, SK_OPERATORY);
    pms_instant start = sbx_local_instant(p->tz, day, minute);
    a->made = start - (pms_instant)sbx_prng_range(prng, 1, 60) * 86400000;
    a->changed = a->made + (pms_instant)sbx_prng_range(prng, 0, 3600) * 1000;
    if (!sbx_set_string(&a->status, pick_status(prng, kind)) ||
        !sbx_set_string(&a->description,
                        descriptions[sbx_prng_below(prng, (uint32_t)COUNT(descriptions))]) ||
        !sbx_set_string(&a->note, sbx_prng_chance(prng, 0.3) ? "Pre-med required" : "")) {
        sk_appt_free(a);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    }
    int rc = sbx_book_append(&p->book, sk_local_key(&a->local), a->id, a, err);
    if (rc != PMS_OK)
        sk_appt_free(a);
    return rc;
}

static int gen_day(sk_practice *p, const sbx_dataset_config *cfg, size_t index, pms_date day,
                   sbx_day_kind kind, pms_error *err)
{
    for (size_t pr = 0; pr < p->provider_count; pr++) {
        if (!p->providers[pr].active)
            continue;
        sbx_prng prng;
        sbx_prng_derive(&prng, cfg->seed, STREAM_DAY, (index << 32) | pr,
                        (uint64_t)pms_days_from_date(day));
        int count = cfg->appointments_per_day;
        int types[64], lengths[64];
        if (count > 64)
            count = 64;
        for (int i = 0; i < count; i++) {
            types[i] = (int)sbx_pick_weighted(&prng, type_weights, COUNT(type_weights));
            lengths[i] = type_lengths[types[i]];
        }
        sbx_day_layout layout;
        sbx_day_layout_init(&layout, lengths, count);
        for (int i = 0; i < count; i++) {
            int minute = sbx_day_layout_next(&layout, &prng);
            int rc = add_appt(p, &prng, (int)pr, types[i], day, minute, lengths[i], kind, err);
            if (rc != PMS_OK)
                return rc;
        }
    }
    /* On a day the clocks change, after-hours visits at ambiguous wall times: in the
     * spring-forward gap, and in the fall-back overlap. */
    sbx_dst_change change;
    if (!sbx_dst_change_on(p->tz, day, &change))
        return PMS_OK;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_DST, index, (uint64_t)pms_days_from_date(day));
    int start = change.local_start.hour * 60 + change.local_start.minute;
    int middle = start + change.minutes / 2;
    int rc = add_appt(p, &prng, 0, 3, day, change.forward ? start - 30 : middle, 60, kind, err);
    if (rc == PMS_OK)
        rc = add_appt(p, &prng, 0, 3, day, middle, 15, kind, err);
    return rc;
}

static int gen_practice(sk_world *w, size_t i, pms_error *err)
{
    const sbx_dataset_config *cfg = &w->config;
    sk_practice *p = &w->practices[i];
    const sk_office_spec *spec = &offices[i % COUNT(offices)];
    sbx_book_init(&p->book);
    int rc = pms_tz_get(spec->zone, &p->tz, err);
    if (rc != PMS_OK)
        return rc;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PRACTICE, i, 0);
    snprintf(p->app_id, sizeof(p->app_id), "sikka-app-%zu", i + 1);
    key_chars(&prng, p->app_key);
    snprintf(p->office_id, sizeof(p->office_id), "D%05zu", 36225 + i);
    key_chars(&prng, p->secret_key);
    p->practice_id = "1";
    p->city = spec->city;
    p->state = spec->state;
    p->zip = spec->zip;
    p->pms_name = spec->pms_name;
    p->has_slots = spec->has_slots;
    p->next_sr_no = 70000 + (long)i * 100000;
    char name[96];
    snprintf(name, sizeof(name), "%s Family Dental", spec->city);
    if (!sbx_set_string(&p->name, name))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a practice");
    p->today = cfg->today_set ? cfg->today : pms_tz_date_of(p->tz, pms_now());
    rc = gen_people(p, cfg, i, err);
    for (int offset = -cfg->days_before; rc == PMS_OK && offset <= cfg->days_after; offset++) {
        sbx_day_kind kind = offset < 0    ? SBX_DAY_PAST
                            : offset == 0 ? SBX_DAY_TODAY
                                          : SBX_DAY_FUTURE;
        rc = gen_day(p, cfg, i, pms_date_add_days(p->today, offset), kind, err);
    }
    sbx_book_sort(&p->book);
    return rc;
}

int sk_world_generate(const sbx_dataset_config *cfg, sk_world **out, pms_error *err)
{
    *out = NULL;
    sk_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    w->config = *cfg;
    w->next_writeback = 275495;
    sbx_prng_derive(&w->mutation_prng, cfg->seed, STREAM_MUTATION, 0, 0);
    w->practices = calloc((size_t)cfg->practices, sizeof(*w->practices));
    if (w->practices == NULL) {
        free(w);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    }
    w->practice_count = (size_t)cfg->practices;
    for (size_t i = 0; i < w->practice_count; i++) {
        int rc = gen_practice(w, i, err);
        if (rc != PMS_OK) {
            sk_world_free(w);
            return rc;
        }
    }
    *out = w;
    return PMS_OK;
}

void sk_world_free(sk_world *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->practice_count; i++) {
        sk_practice *p = &w->practices[i];
        for (size_t k = 0; k < p->book.count; k++)
            sk_appt_free(p->book.entries[k].item);
        sbx_book_free(&p->book);
        for (size_t k = 0; k < p->provider_count; k++) {
            free(p->providers[k].first);
            free(p->providers[k].last);
        }
        for (size_t k = 0; k < p->patient_count; k++) {
            free(p->patients[k].first);
            free(p->patients[k].last);
        }
        free(p->providers);
        free(p->patients);
        free(p->name);
    }
    for (size_t i = 0; i < w->writeback_count; i++)
        json_decref(w->writebacks[i].body);
    free(w->writebacks);
    free(w->practices);
    free(w);
}
