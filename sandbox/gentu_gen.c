/* Generation of the Gentu world (declared in gentu_data.h). Every random choice comes from a
 * stream derived from (seed, what, which), so for example one practitioner-day's appointments
 * are the same whatever --days-before or --patients say. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gentu_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Labels of the derived streams. */
enum {
    STREAM_TENANT = 1,
    STREAM_PRACTITIONER,
    STREAM_PATIENT,
    STREAM_TYPE,
    STREAM_DAY,
    STREAM_DST,
    STREAM_MUTATION,
};

#define MINUTE_MS SBX_MINUTE_MS

typedef struct type_spec {
    const char *text;
    int duration;
    const char *colour;
    bool online_bookable;
    bool telehealth;
    int weight;
} type_spec;

/* About 40% of appointments get a telehealth-sounding type. */
static const type_spec type_specs[] = {
    {"Standard Consultation", 15, "#4A90D9", true, false, 30},
    {"Long Consultation", 30, "#2E6DB4", true, false, 10},
    {"New Patient", 45, "#7B61FF", true, false, 6},
    {"Procedure", 60, "#E0533D", false, false, 3},
    {"Immunisation", 15, "#3DBE8B", true, false, 5},
    {"Care Plan Review", 30, NULL, false, false, 4},
    {"Skin Check", 30, "#F5A623", true, false, 2},
    {"Telehealth Consultation", 15, "#00B5AD", true, true, 18},
    {"Video Follow-up", 15, "#1ABC9C", true, true, 10},
    {"Phone Consultation", 15, "#95A5A6", false, true, 8},
    {"Telehealth Long Consultation", 30, "#16A085", false, true, 4},
    {"Admin / Reserved", -1, NULL, false, false, 0},
};

static const char *const comments[] = {
    "Patient to arrive 15 minutes prior.",
    "Requires interpreter (Vietnamese).",
    "Bring referral letter.",
    "Fasting blood test results to discuss.",
    "Repeat script.",
    "Prefers a phone call if running late.",
    "Wheelchair access needed.",
    "Follow-up on imaging.",
    "Check BP again.",
    "Parent attending with child.",
};

static const char *const descriptions[] = {
    "Telehealth review", "Results review", "Follow-up",   "Medication review",
    "Pre-op assessment", "Script renewal", "Wound check", "Mental health plan review",
};

static const char *const occupations[] = {
    "Teacher", "Nurse",          "Retired",  "Student", "Electrician", "Accountant", "Chef",
    "Plumber", "Shop assistant", "Engineer", "Carer",   "Unemployed",  "Lawyer",     "Farmer",
};

static const char *const indigenous_statuses[] = {
    "Neither Aboriginal nor Torres Strait Islander origin",
    "Aboriginal but not Torres Strait Islander origin",
    "Torres Strait Islander but not Aboriginal origin",
    "Both Aboriginal and Torres Strait Islander origin",
    "Not stated/inadequately described",
};

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

static void gen_types(gentu_tenant *t, uint64_t seed, size_t tenant_index)
{
    sbx_prng prng;
    sbx_prng_derive(&prng, seed, STREAM_TYPE, tenant_index, 0);
    for (size_t i = 0; i < COUNT(type_specs); i++) {
        gentu_type *ty = &t->types[i];
        sbx_prng_uuid(&prng, ty->id);
        ty->text = type_specs[i].text;
        ty->duration = type_specs[i].duration;
        ty->colour = type_specs[i].colour;
        ty->online_bookable = type_specs[i].online_bookable;
        ty->telehealth = type_specs[i].telehealth;
        ty->weight = type_specs[i].weight;
    }
    t->type_count = COUNT(type_specs);
}

static void hpii_digits(sbx_prng *prng, char out[17])
{
    memcpy(out, "800361", 6);
    for (int i = 6; i < 16; i++)
        out[i] = (char)('0' + sbx_prng_below(prng, 10));
    out[16] = '\0';
}

static void provider_number(sbx_prng *prng, char out[9])
{
    static const char location_chars[] = "0123456789ABCDEFGHJK";
    static const char check_chars[] = "YXWTLKJHFBA";
    int digits[6];
    for (int i = 0; i < 6; i++)
        digits[i] = (int)sbx_prng_below(prng, 10);
    char location = location_chars[sbx_prng_below(prng, 20)];
    static const int weights[] = {3, 5, 8, 4, 2, 1};
    int sum = 0;
    for (int i = 0; i < 6; i++)
        sum += digits[i] * weights[i];
    const char *pos = strchr(location_chars, location);
    sum += (int)(pos - location_chars) * 6;
    snprintf(out, 9, "%d%d%d%d%d%d%c%c", digits[0], digits[1], digits[2], digits[3], digits[4],
             digits[5], location, check_chars[sum % 11]);
}

static int gen_practitioners(gentu_tenant *t, const sbx_dataset_config *cfg, size_t tenant_index,
                             pms_error *err)
{
    size_t n = (size_t)cfg->practitioners;
    t->practitioners = calloc(n, sizeof(*t->practitioners));
    t->schedules = calloc(n, sizeof(*t->schedules));
    if (t->practitioners == NULL || t->schedules == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating practitioners");
    t->practitioner_count = n;
    size_t inactive = n >= 4 ? (n / 20 > 1 ? n / 20 : 1) : 0;
    size_t hidden = n >= 5 ? (n / 20 > 1 ? n / 20 : 1) : 0;
    for (size_t i = 0; i < n; i++) {
        gentu_practitioner *p = &t->practitioners[i];
        sbx_prng prng;
        sbx_prng_derive(&prng, cfg->seed, STREAM_PRACTITIONER, tenant_index, i);
        sbx_prng_uuid(&prng, p->id);
        sbx_person person;
        for (int attempt = 0; attempt < 20; attempt++) {
            sbx_gen_person(&prng, 0.0, &person);
            bool taken = false;
            for (size_t j = 0; j < i && !taken; j++)
                taken = strcmp(t->practitioners[j].family, person.family) == 0 &&
                        strcmp(t->practitioners[j].given, person.given) == 0;
            if (!taken)
                break;
        }
        char email[128], phone[32], mobile[32];
        sbx_gen_email(&prng, person.given, person.family, email, sizeof(email));
        sbx_gen_landline(&prng, t->region, phone, sizeof(phone));
        sbx_gen_mobile_plain(&prng, mobile, sizeof(mobile));
        p->family = strdup(person.family);
        p->given = strdup(person.given);
        p->prefix = strdup("Dr");
        p->email = strdup(email);
        p->phone = strdup(phone);
        p->mobile = sbx_prng_chance(&prng, 0.5) ? strdup(mobile) : NULL;
        hpii_digits(&prng, p->hpii);
        provider_number(&prng, p->provider_number);
        p->active = i < n - inactive;
        p->shown = i < n - inactive - hidden;
        if (p->family == NULL || p->given == NULL || p->prefix == NULL || p->email == NULL ||
            p->phone == NULL)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating practitioners");
    }
    return PMS_OK;
}

static const char *patient_prefix(sbx_prng *prng, const sbx_person *person, int age)
{
    if (age < 16 || sbx_prng_chance(prng, 0.12))
        return NULL;
    if (sbx_prng_chance(prng, 0.03))
        return "Dr";
    if (!person->female)
        return "Mr";
    static const char *const female[] = {"Ms", "Mrs", "Miss"};
    return female[sbx_prng_below(prng, 3)];
}

static int gen_patient(gentu_tenant *t, const sbx_dataset_config *cfg, size_t tenant_index,
                       size_t i, pms_error *err)
{
    gentu_patient *p = &t->patients[i];
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PATIENT, tenant_index, i);
    sbx_prng_uuid(&prng, p->id);
    sbx_person person;
    sbx_gen_person(&prng, 0.35, &person);
    p->birth_date = sbx_gen_birth_date(&prng, t->today, 0, 94);
    int age = (int)((pms_days_from_date(t->today) - pms_days_from_date(p->birth_date)) / 365);
    p->prefix = patient_prefix(&prng, &person, age);
    char given[96];
    if (person.middle != NULL)
        snprintf(given, sizeof(given), "%s %s", person.given, person.middle);
    else
        snprintf(given, sizeof(given), "%s", person.given);
    p->family = strdup(person.family);
    p->given = strdup(given);
    p->first = strdup(person.given);
    p->middle = dup_or_null(person.middle);
    double gender_roll = sbx_prng_unit(&prng);
    p->gender = gender_roll < 0.02   ? NULL
                : gender_roll < 0.04 ? "unspecified"
                : person.female      ? "female"
                                     : "male";

    char phone[32];
    bool no_phone = sbx_prng_chance(&prng, 0.08);
    bool has_mobile = !no_phone && sbx_prng_chance(&prng, 0.9);
    bool has_landline = !no_phone && (!has_mobile || sbx_prng_chance(&prng, 0.25));
    if (has_mobile) {
        sbx_gen_mobile(&prng, phone, sizeof(phone));
        p->mobile = strdup(phone);
    }
    if (has_landline) {
        sbx_gen_landline(&prng, t->region, phone, sizeof(phone));
        p->landline = strdup(phone);
    }
    if (sbx_prng_chance(&prng, 0.8)) {
        char email[128];
        sbx_gen_email(&prng, person.given, person.family, email, sizeof(email));
        p->email = strdup(email);
    }
    if (sbx_prng_chance(&prng, 0.95)) {
        char street[96];
        sbx_gen_street(&prng, street, sizeof(street));
        p->street = strdup(street);
    }
    size_t suburb = sbx_prng_below(&prng, (uint32_t)t->region->suburb_count);
    p->suburb = t->region->suburbs[suburb];
    p->postcode = t->region->postcodes[suburb];
    p->state = t->region->state;
    p->has_medicare = sbx_prng_chance(&prng, 0.85);
    if (p->has_medicare) {
        p->medicare[0] = (char)('2' + sbx_prng_below(&prng, 5));
        for (int d = 1; d < 10; d++)
            p->medicare[d] = (char)('0' + sbx_prng_below(&prng, 10));
        p->medicare[10] = '\0';
        p->medicare_irn = sbx_prng_range(&prng, 1, 5);
        snprintf(p->medicare_expiry, sizeof(p->medicare_expiry), "%04d-%02d",
                 t->today.year + sbx_prng_range(&prng, 0, 5), sbx_prng_range(&prng, 1, 12));
    }
    snprintf(p->chart_number, sizeof(p->chart_number), "%zu", 10000 + i * 7 + tenant_index);
    p->email_enabled = p->email != NULL && sbx_prng_chance(&prng, 0.85);
    p->sms_enabled = sbx_prng_chance(&prng, 0.05) ? -1 : (p->mobile != NULL ? 1 : 0);
    double roll = sbx_prng_unit(&prng);
    p->indigenous_status = roll < 0.15   ? NULL
                           : roll < 0.85 ? indigenous_statuses[0]
                                         : indigenous_statuses[1 + sbx_prng_below(&prng, 4)];
    p->occupation = sbx_prng_chance(&prng, 0.6)
                        ? occupations[sbx_prng_below(&prng, (uint32_t)COUNT(occupations))]
                        : NULL;
    p->pronouns = sbx_prng_chance(&prng, 0.04) ? "they/them" : NULL;
    if (p->family == NULL || p->given == NULL || p->first == NULL ||
        (person.middle != NULL && p->middle == NULL) || (has_mobile && p->mobile == NULL) ||
        (has_landline && p->landline == NULL))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating patients");
    if (!sbx_strmap_put(&t->patients_by_id, p->id, p))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing patients");
    return PMS_OK;
}

/* The status of an appointment as if the clock were at `noon` (12:00 local on today), so the
 * dataset never depends on when it was generated. */
static gentu_status pick_status(sbx_prng *prng, sbx_day_kind kind, pms_instant start, int minutes,
                                pms_instant noon)
{
    enum { N = GENTU_STATUS_COUNT };
    int w[N] = {0};
    pms_instant end = start + minutes * MINUTE_MS;
    if (kind == SBX_DAY_PAST || (kind == SBX_DAY_TODAY && end <= noon - 30 * MINUTE_MS)) {
        w[GENTU_STATUS_COMPLETED] = 50;
        w[GENTU_STATUS_INVOICED] = 30;
        w[GENTU_STATUS_DID_NOT_ARRIVE] = 8;
        w[GENTU_STATUS_CANCELLED] = 12;
    } else if (kind == SBX_DAY_TODAY && start < noon) {
        w[GENTU_STATUS_WITH_DOCTOR] = 45;
        w[GENTU_STATUS_IN_WAITING_ROOM] = 25;
        w[GENTU_STATUS_COMPLETED] = 30;
    } else if (kind == SBX_DAY_TODAY && start < noon + 45 * MINUTE_MS) {
        w[GENTU_STATUS_IN_WAITING_ROOM] = 45;
        w[GENTU_STATUS_CONFIRMED] = 40;
        w[GENTU_STATUS_NONE] = 10;
        w[GENTU_STATUS_CANCELLED] = 5;
    } else {
        w[GENTU_STATUS_NONE] = 45;
        w[GENTU_STATUS_CONFIRMED] = 43;
        w[GENTU_STATUS_CANCELLED] = 12;
    }
    return (gentu_status)sbx_pick_weighted(prng, w, N);
}

static size_t pick_type(sbx_prng *prng, const gentu_tenant *t)
{
    int weights[COUNT(type_specs)];
    for (size_t i = 0; i < t->type_count; i++)
        weights[i] = t->types[i].weight;
    return sbx_pick_weighted(prng, weights, t->type_count);
}

/* Fills everything but id, practitioner, start and type-derived length. */
static void dress_appt(sbx_prng *prng, const gentu_tenant *t, gentu_appt *a, sbx_day_kind kind,
                       pms_instant noon)
{
    a->patient = (int)sbx_prng_below(prng, (uint32_t)t->patient_count);
    bool telehealth = a->type >= 0 && t->types[a->type].telehealth;
    a->site = telehealth && sbx_prng_chance(prng, 0.5)
                  ? -1
                  : (int)sbx_prng_below(prng, (uint32_t)t->site_count);
    a->status = pick_status(prng, kind, a->start, a->minutes, noon);
    a->arrived_at = PMS_INSTANT_NONE;
    a->cancelled_at = PMS_INSTANT_NONE;
    bool arrived_now =
        a->status == GENTU_STATUS_IN_WAITING_ROOM || a->status == GENTU_STATUS_WITH_DOCTOR;
    bool arrived_before = a->status == GENTU_STATUS_COMPLETED || a->status == GENTU_STATUS_INVOICED;
    if (a->site >= 0 && (arrived_now || (arrived_before && sbx_prng_chance(prng, 0.7)))) {
        pms_instant arrived = a->start - sbx_prng_range(prng, 0, 20) * MINUTE_MS;
        a->arrived_at = arrived < noon ? arrived : noon - sbx_prng_range(prng, 1, 10) * MINUTE_MS;
    }
    if (a->status == GENTU_STATUS_CANCELLED) {
        pms_instant before_start = a->start - sbx_prng_range(prng, 60, 96 * 60) * MINUTE_MS;
        pms_instant before_now = noon - sbx_prng_range(prng, 10, 5 * 24 * 60) * MINUTE_MS;
        a->cancelled_at = before_start < before_now ? before_start : before_now;
    }
    double roll = sbx_prng_unit(prng);
    if (roll < 0.02)
        a->status = GENTU_STATUS_NULL;
    roll = sbx_prng_unit(prng);
    a->end_null = roll < 0.03;
    a->minutes_null = !a->end_null && roll < 0.05;
    if (sbx_prng_chance(prng, 0.18))
        a->comment = strdup(comments[sbx_prng_below(prng, (uint32_t)COUNT(comments))]);
    if (sbx_prng_chance(prng, 0.12))
        a->description = strdup(descriptions[sbx_prng_below(prng, (uint32_t)COUNT(descriptions))]);
}

static int add_generated(gentu_tenant *t, gentu_appt *a, pms_error *err)
{
    if (gentu_find_appt(t, a->id) != NULL) { /* a 122-bit collision: skip it */
        gentu_appt_free(a);
        return PMS_OK;
    }
    int rc = gentu_schedule_append(t, a, err);
    if (rc != PMS_OK)
        gentu_appt_free(a);
    return rc;
}

/* One practitioner's day: back to back on 15-minute boundaries with random gaps when the day
 * has room, otherwise evenly spaced (overlapping, as a double-booked day does). */
static int gen_practitioner_day(gentu_tenant *t, const sbx_dataset_config *cfg, size_t tenant_index,
                                size_t practitioner, pms_date day, sbx_day_kind kind,
                                pms_instant noon, pms_error *err)
{
    const gentu_practitioner *p = &t->practitioners[practitioner];
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_DAY, (tenant_index << 32) | practitioner,
                    (uint64_t)pms_days_from_date(day));
    int count = cfg->appointments_per_day;
    if (!p->active)
        return PMS_OK;
    if (!p->shown)
        count = sbx_prng_chance(&prng, 0.34) ? sbx_prng_range(&prng, 1, 2) : 0;
    if (count == 0)
        return PMS_OK;
    size_t *types = calloc((size_t)count, sizeof(*types));
    int *lengths = calloc((size_t)count, sizeof(*lengths));
    int rc = PMS_OK;
    if (types == NULL || lengths == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
        goto out;
    }
    for (int i = 0; i < count; i++) {
        types[i] = pick_type(&prng, t);
        int d = t->types[types[i]].duration;
        lengths[i] = d > 0 ? d : 15;
    }
    sbx_day_layout layout;
    sbx_day_layout_init(&layout, lengths, count);
    for (int i = 0; i < count; i++) {
        int start_minute = sbx_day_layout_next(&layout, &prng);
        gentu_appt *a = calloc(1, sizeof(*a));
        if (a == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
            goto out;
        }
        sbx_prng_uuid(&prng, a->id);
        a->practitioner = (int)practitioner;
        a->type = (int)types[i];
        a->minutes = lengths[i];
        a->start = sbx_local_instant(t->tz, day, start_minute);
        dress_appt(&prng, t, a, kind, noon);
        rc = add_generated(t, a, err);
        if (rc != PMS_OK)
            goto out;
    }
out:
    free(types);
    free(lengths);
    return rc;
}

static int add_dst_appt(gentu_tenant *t, sbx_prng *prng, size_t practitioner, pms_instant start,
                        int minutes, sbx_day_kind kind, pms_instant noon, pms_error *err)
{
    gentu_appt *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    sbx_prng_uuid(prng, a->id);
    a->practitioner = (int)practitioner;
    a->type = 0; /* Standard Consultation */
    a->minutes = minutes;
    a->start = start;
    dress_appt(prng, t, a, kind, noon);
    a->end_null = false;
    a->minutes_null = false;
    gentu_set_string(&a->comment, "After-hours home visit.");
    return add_generated(t, a, err);
}

/* On a day the zone changes offset, the first bookable practitioner also gets after-hours
 * visits around the change: across a spring-forward gap, and at the same wall-clock time
 * twice (once per offset) in a fall-back overlap. */
static int gen_dst_day(gentu_tenant *t, const sbx_dataset_config *cfg, size_t tenant_index,
                       pms_date day, sbx_day_kind kind, pms_instant noon, pms_error *err)
{
    sbx_dst_change change;
    if (!sbx_dst_change_on(t->tz, day, &change))
        return PMS_OK;
    size_t practitioner = 0;
    while (practitioner < t->practitioner_count &&
           !(t->practitioners[practitioner].active && t->practitioners[practitioner].shown))
        practitioner++;
    if (practitioner == t->practitioner_count)
        return PMS_OK;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_DST, tenant_index, (uint64_t)pms_days_from_date(day));
    pms_instant shift = (pms_instant)change.minutes * MINUTE_MS;
    int rc;
    if (change.forward) {
        /* Spring forward: one visit spanning the gap, one just after it. */
        rc = add_dst_appt(t, &prng, practitioner, change.at - 30 * MINUTE_MS, 60, kind, noon, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(t, &prng, practitioner, change.at + 15 * MINUTE_MS, 30, kind, noon,
                              err);
    } else {
        /* Fall back: the same wall-clock time in the repeated hour, at both offsets. */
        pms_instant first = change.at - shift / 2;
        rc = add_dst_appt(t, &prng, practitioner, first, 15, kind, noon, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(t, &prng, practitioner, first + shift, 15, kind, noon, err);
    }
    return rc;
}

static int gen_appointments(gentu_tenant *t, const sbx_dataset_config *cfg, size_t tenant_index,
                            pms_error *err)
{
    pms_civil noon_civil = {t->today.year, t->today.month, t->today.day, 12, 0, 0, 0};
    pms_instant noon = pms_tz_from_local(t->tz, &noon_civil, NULL);
    for (int offset = -cfg->days_before; offset <= cfg->days_after; offset++) {
        pms_date day = pms_date_add_days(t->today, offset);
        sbx_day_kind kind = offset < 0    ? SBX_DAY_PAST
                            : offset == 0 ? SBX_DAY_TODAY
                                          : SBX_DAY_FUTURE;
        for (size_t p = 0; p < t->practitioner_count; p++) {
            int rc = gen_practitioner_day(t, cfg, tenant_index, p, day, kind, noon, err);
            if (rc != PMS_OK)
                return rc;
        }
        int rc = gen_dst_day(t, cfg, tenant_index, day, kind, noon, err);
        if (rc != PMS_OK)
            return rc;
    }
    for (size_t p = 0; p < t->practitioner_count; p++)
        gentu_schedule_sort(&t->schedules[p]);
    return PMS_OK;
}

static int gen_tenant(gentu_world *w, size_t i, unsigned *used_suburbs, pms_error *err)
{
    const sbx_dataset_config *cfg = &w->config;
    gentu_tenant *t = &w->tenants[i];
    sbx_strmap_init(&t->patients_by_id);
    sbx_strmap_init(&t->appts_by_id);
    t->region = sbx_region_at(i);
    int rc = pms_tz_get(t->region->zone, &t->tz, err);
    if (rc != PMS_OK)
        return rc;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_TENANT, i, 0);
    sbx_prng_uuid(&prng, t->id);
    t->number = 1000 + (int)i * 1000 + sbx_prng_range(&prng, 1, 999);
    char name[128];
    sbx_gen_practice_name(&prng, t->region, &used_suburbs[i % sbx_region_count()], name,
                          sizeof(name));
    t->name = strdup(name);
    static const char code_chars[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int c = 0; c < 8; c++)
        t->pairing_code[c] = code_chars[sbx_prng_below(&prng, sizeof(code_chars) - 1)];
    t->pairing_code[8] = '\0';
    t->access = GENTU_ACCESS_UNPAIRED;
    t->today = cfg->today_set ? cfg->today : pms_tz_date_of(t->tz, pms_now());
    t->site_count = 1 + (sbx_prng_chance(&prng, 0.5) ? 1 : 0);
    for (size_t s = 0; s < t->site_count; s++) {
        sbx_prng_uuid(&prng, t->sites[s].id);
        snprintf(name, sizeof(name), "%s%s", t->name, s == 0 ? "" : " - Annexe");
        t->sites[s].name = strdup(name);
        if (t->sites[s].name == NULL)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating sites");
    }
    t->types = calloc(COUNT(type_specs), sizeof(*t->types));
    t->patients = calloc((size_t)cfg->patients, sizeof(*t->patients));
    if (t->name == NULL || t->types == NULL || t->patients == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a tenant");
    gen_types(t, cfg->seed, i);
    rc = gen_practitioners(t, cfg, i, err);
    if (rc != PMS_OK)
        return rc;
    t->patient_count = (size_t)cfg->patients;
    for (size_t p = 0; p < t->patient_count; p++) {
        rc = gen_patient(t, cfg, i, p, err);
        if (rc != PMS_OK)
            return rc;
    }
    return gen_appointments(t, cfg, i, err);
}

int gentu_world_generate(const sbx_dataset_config *cfg, gentu_world **out, pms_error *err)
{
    *out = NULL;
    gentu_world *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    w->config = *cfg;
    sbx_prng_derive(&w->mutation_prng, cfg->seed, STREAM_MUTATION, 0, 0);
    w->tenants = calloc((size_t)cfg->practices, sizeof(*w->tenants));
    if (w->tenants == NULL) {
        free(w);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating the dataset");
    }
    w->tenant_count = (size_t)cfg->practices;
    unsigned used_suburbs[16] = {0};
    for (size_t i = 0; i < w->tenant_count; i++) {
        int rc = gen_tenant(w, i, used_suburbs, err);
        if (rc != PMS_OK) {
            gentu_world_free(w);
            return rc;
        }
    }
    *out = w;
    return PMS_OK;
}
