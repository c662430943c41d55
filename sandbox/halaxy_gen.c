/* Generation of the Halaxy world (declared in halaxy_data.h). Every random choice comes from a
 * stream derived from (seed, what, which); one practitioner-day's appointments depend only on
 * the seed, the practice, the practitioner and the date (their ids also avoid the ids already
 * generated, which is deterministic too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "halaxy_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Labels of the derived streams ("HX" in the high bits keeps them apart). */
enum {
    STREAM_PRACTICE = 0x48580001,
    STREAM_PRACTITIONER,
    STREAM_PATIENT,
    STREAM_DAY,
    STREAM_DST,
    STREAM_MUTATION,
};

typedef struct service_spec {
    const char *name;
    int minutes;
    hx_location location;
    bool active;
    int weight;
} service_spec;

/* Telehealth ones say Telehealth, Video or Phone; in-person ones say none of those. */
static const service_spec service_specs[] = {
    {"Standard Session", 50, HX_LOCATION_CLINIC, true, 30},
    {"Initial Assessment", 60, HX_LOCATION_CLINIC, true, 8},
    {"F2F", 30, HX_LOCATION_CLINIC, true, 14},
    {"Follow-up Session", 30, HX_LOCATION_CLINIC, true, 8},
    {"Telehealth", 50, HX_LOCATION_TELEHEALTH, true, 18},
    {"Video Consultation", 30, HX_LOCATION_TELEHEALTH, true, 10},
    {"Phone Review", 15, HX_LOCATION_PHONE, true, 7},
    {"Group Program (retired)", 90, HX_LOCATION_CLINIC, false, 0},
};

static const char *const meeting_descriptions[] = {
    "Team meeting", "Lunch", "Supervision", "Admin time", "Blocked - training",
};

static void numeric_id(char out[HX_ID_LEN], const char *prefix, unsigned long value)
{
    snprintf(out, HX_ID_LEN, "%s%lu", prefix, value);
}

static void gen_services(hx_practice *p, unsigned long base)
{
    for (size_t i = 0; i < COUNT(service_specs); i++) {
        hx_service *s = &p->services[i];
        numeric_id(s->id, "", base + i * 3);
        s->name = service_specs[i].name;
        s->minutes = service_specs[i].minutes;
        s->location = service_specs[i].location;
        s->active = service_specs[i].active;
        s->weight = service_specs[i].weight;
    }
    p->service_count = COUNT(service_specs);
}

static int gen_practitioners(hx_practice *p, const sbx_dataset_config *cfg, size_t index,
                             unsigned long base, unsigned long role_base, pms_error *err)
{
    size_t n = (size_t)cfg->practitioners;
    p->practitioners = calloc(n, sizeof(*p->practitioners));
    p->roles = calloc(2 * n, sizeof(*p->roles));
    if (p->practitioners == NULL || p->roles == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating practitioners");
    p->practitioner_count = n;
    for (size_t i = 0; i < n; i++) {
        hx_practitioner *pr = &p->practitioners[i];
        sbx_prng prng;
        sbx_prng_derive(&prng, cfg->seed, STREAM_PRACTITIONER, index, i);
        numeric_id(pr->id, "", base + i * 7);
        sbx_person person;
        for (int attempt = 0; attempt < 20; attempt++) {
            sbx_gen_person(&prng, 0.0, &person);
            bool taken = false;
            for (size_t j = 0; j < i && !taken; j++)
                taken = strcmp(p->practitioners[j].family, person.family) == 0 &&
                        strcmp(p->practitioners[j].given, person.given) == 0;
            if (!taken)
                break;
        }
        char email[128], phone[32];
        sbx_gen_email(&prng, person.given, person.family, email, sizeof(email));
        sbx_gen_mobile_plain(&prng, phone, sizeof(phone));
        pr->family = strdup(person.family);
        pr->given = strdup(person.given);
        pr->email = strdup(email);
        pr->phone = strdup(phone);
        pr->active = n < 2 || i + 1 < n; /* the last one has left the practice */
        if (pr->family == NULL || pr->given == NULL || pr->email == NULL || pr->phone == NULL)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating practitioners");
        hx_role *role = &p->roles[p->role_count++];
        numeric_id(role->id, "PR-", role_base + i * 13);
        role->practitioner = (int)i;
        role->active = pr->active;
        if (i % 3 == 1) { /* also consults under an external role */
            role = &p->roles[p->role_count++];
            numeric_id(role->id, "EP-", role_base + 500000 + i * 17);
            role->practitioner = (int)i;
            role->external = true;
            role->active = pr->active;
        }
    }
    return PMS_OK;
}

static int gen_patient(hx_practice *p, const sbx_dataset_config *cfg, size_t index, size_t i,
                       unsigned long base, pms_error *err)
{
    hx_patient *pt = &p->patients[i];
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PATIENT, index, i);
    numeric_id(pt->id, "", base + i * 3 + sbx_prng_below(&prng, 3));
    sbx_person person;
    sbx_gen_person(&prng, 0.3, &person);
    pt->birth_date = sbx_gen_birth_date(&prng, p->today, 2, 90);
    double roll = sbx_prng_unit(&prng);
    pt->gender = roll < 0.02     ? "unknown"
                 : roll < 0.04   ? "other"
                 : person.female ? "female"
                                 : "male";
    bool ok = sbx_set_string(&pt->family, person.family) &&
              sbx_set_string(&pt->given, person.given) &&
              sbx_set_string(&pt->middle, person.middle);
    char text[128];
    if (sbx_prng_chance(&prng, 0.93)) {
        sbx_gen_mobile(&prng, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->mobile, text);
    }
    if (sbx_prng_chance(&prng, 0.15)) {
        sbx_gen_landline(&prng, p->region, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->home, text);
    }
    if (sbx_prng_chance(&prng, 0.85)) {
        sbx_gen_email(&prng, person.given, person.family, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->email, text);
    }
    if (!ok)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating patients");
    if (!sbx_strmap_put(&p->patients_by_id, pt->id, pt))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing patients");
    return PMS_OK;
}

/* The status as if the clock read 12:00 local on today. */
static hx_status pick_status(sbx_prng *prng, sbx_day_kind kind, int start_minute, int minutes)
{
    /* booked, tentative, confirmed, attended, cancelled, cancelled (no charge), did not attend */
    static const int past[] = {5, 0, 0, 70, 10, 8, 7};
    static const int morning[] = {20, 0, 40, 40, 0, 0, 0};
    static const int noon[] = {40, 5, 45, 0, 10, 0, 0};
    static const int future[] = {50, 8, 25, 0, 10, 7, 0};
    const int *w = future;
    if (kind == SBX_DAY_PAST || (kind == SBX_DAY_TODAY && start_minute + minutes <= 11 * 60 + 30))
        w = past;
    else if (kind == SBX_DAY_TODAY && start_minute < 12 * 60)
        w = morning;
    else if (kind == SBX_DAY_TODAY)
        w = noon;
    return (hx_status)sbx_pick_weighted(prng, w, HX_STATUS_COUNT);
}

static size_t pick_service(sbx_prng *prng, const hx_practice *p)
{
    int weights[COUNT(service_specs)];
    for (size_t i = 0; i < p->service_count; i++)
        weights[i] = p->services[i].weight;
    return sbx_pick_weighted(prng, weights, p->service_count);
}

/* Fills a patient appointment's patient, status, location, invoice and description. */
static void dress_patient_appt(sbx_prng *prng, const hx_practice *p, hx_appt *a, sbx_day_kind kind,
                               int start_minute)
{
    a->patient = (int)sbx_prng_below(prng, (uint32_t)p->patient_count);
    a->status = pick_status(prng, kind, start_minute, a->minutes);
    hx_location usual = p->services[a->service].location;
    /* Now and then held another way than the service's name says (the location-type variant
     * shows it). */
    if (usual == HX_LOCATION_CLINIC && sbx_prng_chance(prng, 0.08))
        a->location = HX_LOCATION_TELEHEALTH;
    else if (usual == HX_LOCATION_TELEHEALTH && sbx_prng_chance(prng, 0.05))
        a->location = HX_LOCATION_CLINIC;
    else
        a->location = usual;
    double invoice_chance = a->status == HX_STATUS_ATTENDED         ? 0.9
                            : a->status == HX_STATUS_DID_NOT_ATTEND ? 0.4
                            : a->status == HX_STATUS_CANCELLED      ? 0.2
                                                                    : 0.0;
    if (sbx_prng_chance(prng, invoice_chance))
        snprintf(a->invoice, sizeof(a->invoice), "9%07u", (unsigned)sbx_prng_below(prng, 10000000));
    double roll = sbx_prng_unit(prng);
    char text[32];
    if (roll < 0.4) {
        static const int plans[] = {6, 8, 10};
        int of = plans[sbx_prng_below(prng, 3)];
        snprintf(text, sizeof(text), "%d/%d", sbx_prng_range(prng, 1, of), of);
        sbx_set_string(&a->description, text);
    } else if (roll < 0.6) {
        sbx_set_string(&a->description, p->services[a->service].name);
    }
}

/* Audit times as if the clock read `noon` (12:00 local today). */
static void dress_times(sbx_prng *prng, hx_appt *a, pms_instant noon)
{
    pms_instant horizon = a->start < noon ? a->start : noon;
    a->created = (horizon - sbx_prng_range(prng, 60, 45 * 24 * 60) * SBX_MINUTE_MS) / 60000 * 60000;
    pms_instant last_change = a->start + 3 * 60 * SBX_MINUTE_MS;
    if (last_change > noon)
        last_change = noon;
    a->updated = a->created;
    a->version = 1;
    if (last_change > a->created && sbx_prng_chance(prng, 0.7)) {
        a->updated += (pms_instant)(sbx_prng_unit(prng) * (double)(last_change - a->created));
        a->updated = a->updated / 1000 * 1000;
        a->version = sbx_prng_range(prng, 2, 5);
    }
}

static int add_generated(hx_practice *p, hx_appt *a, pms_error *err)
{
    int rc = sbx_book_append(&p->book, a->start, a->id, a, err);
    if (rc != PMS_OK)
        hx_appt_free(a);
    return rc;
}

typedef struct day_ctx {
    hx_world *world;
    hx_practice *practice;
    pms_date day;
    sbx_day_kind kind;
    pms_instant noon;
} day_ctx;

static hx_appt *new_appt(const day_ctx *d, sbx_prng *prng, int role, int minute, int minutes)
{
    hx_appt *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    hx_new_appt_id(d->world, prng, a->id);
    a->role = role;
    a->minutes = minutes;
    pms_civil local = {d->day.year, d->day.month, d->day.day, minute / 60, minute % 60, 0, 0};
    a->start = pms_tz_from_local(d->practice->tz, &local, NULL);
    a->start_offset = hx_wall_offset(&local, a->start);
    return a;
}

/* The practitioner's practice (PR-) or external (EP-) role; -1 when none. */
static int role_of(const hx_practice *p, size_t practitioner, bool external)
{
    for (size_t r = 0; r < p->role_count; r++) {
        if (p->roles[r].practitioner == (int)practitioner && p->roles[r].external == external)
            return (int)r;
    }
    return -1;
}

/* The role of one appointment: the practice role, or now and then the external one when the
 * practitioner has one. */
static int pick_role(sbx_prng *prng, const hx_practice *p, size_t practitioner)
{
    int external = role_of(p, practitioner, true);
    if (external >= 0 && sbx_prng_chance(prng, 0.3))
        return external;
    return role_of(p, practitioner, false);
}

static int gen_practitioner_day(const day_ctx *d, uint64_t seed, size_t index, size_t practitioner,
                                bool first_active, int count, pms_error *err)
{
    hx_practice *p = d->practice;
    sbx_prng prng;
    sbx_prng_derive(&prng, seed, STREAM_DAY, (index << 32) | practitioner,
                    (uint64_t)pms_days_from_date(d->day));
    int *services = calloc((size_t)count, sizeof(*services));
    int *lengths = calloc((size_t)count, sizeof(*lengths));
    int rc = PMS_OK;
    if (services == NULL || lengths == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
        goto out;
    }
    for (int i = 0; i < count; i++) {
        services[i] = (int)pick_service(&prng, p);
        lengths[i] = p->services[services[i]].minutes;
    }
    /* Meetings and blockers: no patient. The first practitioner has one every day. */
    int meeting = first_active || sbx_prng_chance(&prng, 0.35)
                      ? (int)sbx_prng_below(&prng, (uint32_t)count)
                      : -1;
    sbx_day_layout layout;
    sbx_day_layout_init(&layout, lengths, count);
    for (int i = 0; i < count && rc == PMS_OK; i++) {
        int minute = sbx_day_layout_next(&layout, &prng);
        hx_appt *a = new_appt(d, &prng, pick_role(&prng, p, practitioner), minute, lengths[i]);
        if (a == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
            break;
        }
        if (i == meeting) {
            a->patient = -1;
            a->service = -1;
            a->status = HX_STATUS_BOOKED;
            sbx_set_string(
                &a->description,
                meeting_descriptions[sbx_prng_below(&prng, COUNT(meeting_descriptions))]);
        } else {
            a->service = services[i];
            dress_patient_appt(&prng, p, a, d->kind, minute);
        }
        dress_times(&prng, a, d->noon);
        rc = add_generated(p, a, err);
    }
out:
    free(services);
    free(lengths);
    return rc;
}

static int add_dst_appt(const day_ctx *d, sbx_prng *prng, int role, int minute, int minutes,
                        pms_instant exact_start, pms_error *err)
{
    hx_appt *a = new_appt(d, prng, role, minute, minutes);
    if (a == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    if (exact_start != PMS_INSTANT_NONE) { /* one of the two occurrences of a repeated time */
        a->start = exact_start;
        a->start_offset = pms_tz_offset_at(d->practice->tz, exact_start, NULL);
    }
    a->service = 0;
    dress_patient_appt(prng, d->practice, a, d->kind, minute);
    a->location = HX_LOCATION_CLINIC;
    sbx_set_string(&a->description, "After-hours home visit.");
    dress_times(prng, a, d->noon);
    return add_generated(d->practice, a, err);
}

/* On a day the zone changes offset, the first active practitioner also gets after-hours visits:
 * one starting 30 minutes before a spring-forward gap and one at the gap's middle (its start is
 * written with the offset before the change, so the text shows the gap time); or two at the
 * middle of a fall-back overlap, one at each offset. */
static int gen_dst_day(const day_ctx *d, uint64_t seed, size_t index, int role, pms_error *err)
{
    sbx_dst_change change;
    if (!sbx_dst_change_on(d->practice->tz, d->day, &change))
        return PMS_OK;
    sbx_prng prng;
    sbx_prng_derive(&prng, seed, STREAM_DST, index, (uint64_t)pms_days_from_date(d->day));
    int start = change.local_start.hour * 60 + change.local_start.minute;
    int middle = start + change.minutes / 2;
    pms_instant half = (pms_instant)change.minutes * SBX_MINUTE_MS / 2;
    int rc;
    if (change.forward) {
        rc = add_dst_appt(d, &prng, role, start - 30, 60, PMS_INSTANT_NONE, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(d, &prng, role, middle, 15, PMS_INSTANT_NONE, err);
    } else {
        rc = add_dst_appt(d, &prng, role, middle, 15, change.at - half, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(d, &prng, role, middle, 15, change.at + half, err);
    }
    return rc;
}

static int gen_appointments(hx_world *w, hx_practice *p, size_t index, pms_error *err)
{
    const sbx_dataset_config *cfg = &w->config;
    day_ctx d = {w, p, p->today, SBX_DAY_TODAY, sbx_local_instant(p->tz, p->today, 12 * 60)};
    int first_active = -1;
    for (size_t i = 0; i < p->practitioner_count && first_active < 0; i++)
        first_active = p->practitioners[i].active ? (int)i : -1;
    for (int offset = -cfg->days_before; offset <= cfg->days_after; offset++) {
        d.day = pms_date_add_days(p->today, offset);
        d.kind = offset < 0 ? SBX_DAY_PAST : offset == 0 ? SBX_DAY_TODAY : SBX_DAY_FUTURE;
        for (size_t pr = 0; pr < p->practitioner_count; pr++) {
            if (!p->practitioners[pr].active || cfg->appointments_per_day == 0)
                continue;
            int rc = gen_practitioner_day(&d, cfg->seed, index, pr, (int)pr == first_active,
                                          cfg->appointments_per_day, err);
            if (rc != PMS_OK)
                return rc;
        }
        if (first_active >= 0) {
            int rc =
                gen_dst_day(&d, cfg->seed, index, role_of(p, (size_t)first_active, false), err);
            if (rc != PMS_OK)
                return rc;
        }
    }
    sbx_book_sort(&p->book);
    return PMS_OK;
}

static void random_chars(sbx_prng *prng, const char *alphabet, char *out, size_t len)
{
    size_t n = strlen(alphabet);
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[sbx_prng_below(prng, (uint32_t)n)];
    out[len] = '\0';
}

static int gen_practice(hx_world *w, size_t i, unsigned *used_suburbs, pms_error *err)
{
    const sbx_dataset_config *cfg = &w->config;
    hx_practice *p = &w->practices[i];
    sbx_strmap_init(&p->patients_by_id);
    sbx_book_init(&p->book);
    p->region = sbx_region_dst_first(i);
    int rc = pms_tz_get(p->region->zone, &p->tz, err);
    if (rc != PMS_OK)
        return rc;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PRACTICE, i, 0);
    numeric_id(p->org_id, "", 300000 + sbx_prng_below(&prng, 600000));
    random_chars(&prng, "0123456789abcdef", p->client_id, sizeof(p->client_id) - 1);
    random_chars(&prng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                 p->client_secret, sizeof(p->client_secret) - 1);
    char name[128];
    sbx_gen_practice_name(&prng, p->region, &used_suburbs[i % sbx_region_count()], name,
                          sizeof(name));
    p->name = strdup(name);
    sbx_gen_landline(&prng, p->region, p->phone, sizeof(p->phone));
    unsigned long practitioner_base = 1000000 + sbx_prng_below(&prng, 8000000);
    unsigned long role_base = 3000000 + sbx_prng_below(&prng, 6000000);
    unsigned long service_base = 550000 + sbx_prng_below(&prng, 40000);
    unsigned long patient_base = 150000000 + sbx_prng_below(&prng, 9000000) * 10;
    p->today = cfg->today_set ? cfg->today : pms_tz_date_of(p->tz, pms_now());
    p->services = calloc(COUNT(service_specs), sizeof(*p->services));
    p->patients = calloc((size_t)cfg->patients, sizeof(*p->patients));
    if (p->name == NULL || p->services == NULL || p->patients == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a practice");
    gen_services(p, service_base);
    rc = gen_practitioners(p, cfg, i, practitioner_base, role_base, err);
    if (rc != PMS_OK)
        return rc;
    p->patient_count = (size_t)cfg->patients;
    for (size_t pt = 0; pt < p->patient_count; pt++) {
        rc = gen_patient(p, cfg, i, pt, patient_base, err);
        if (rc != PMS_OK)
            return rc;
    }
    return gen_appointments(w, p, i, err);
}

int hx_world_generate(const sbx_dataset_config *cfg, hx_world **out, pms_error *err)
{
    *out = NULL;
    hx_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    w->config = *cfg;
    sbx_prng_derive(&w->mutation_prng, cfg->seed, STREAM_MUTATION, 0, 0);
    w->practices = calloc((size_t)cfg->practices, sizeof(*w->practices));
    if (w->practices == NULL) {
        free(w);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    }
    w->practice_count = (size_t)cfg->practices;
    unsigned used_suburbs[16] = {0};
    for (size_t i = 0; i < w->practice_count; i++) {
        int rc = gen_practice(w, i, used_suburbs, err);
        if (rc != PMS_OK) {
            hx_world_free(w);
            return rc;
        }
    }
    *out = w;
    return PMS_OK;
}
