/* Generation of the Medirecords world (declared in medirecords_data.h). Every random choice
 * comes from a stream derived from (seed, what, which), so one provider-day's appointments
 * depend only on the seed, the practice, the provider and the date. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "medirecords_data.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Labels of the derived streams ("MR" in the high bits keeps them apart from Gentu's). */
enum {
    STREAM_PRACTICE = 0x4d520001,
    STREAM_PROVIDER,
    STREAM_PATIENT,
    STREAM_TYPE,
    STREAM_DAY,
    STREAM_DST,
    STREAM_MUTATION,
};

typedef struct type_spec {
    const char *name, *duration_text;
    int minutes;
    const char *colour, *description;
    int active_status;
    bool community, telehealth;
    int weight;
} type_spec;

/* duration is text in several spellings; "Mental Health Review" is telehealth by its flag only. */
static const type_spec type_specs[] = {
    {"Standard Consultation", "15 mins", 15, "#4A90D9", NULL, 1, true, false, 30},
    {"Long Consultation", "30 min", 30, "#2E6DB4", NULL, 1, true, false, 10},
    {"New Patient Consultation", "30 min", 30, "#7B61FF", "First visit to the practice", 1, true,
     false, 6},
    {"Health Assessment", "1.5 hrs", 90, "#9B59B6", "75+ or 45-49 health assessment", 1, false,
     false, 2},
    {"Procedure", "1 hr", 60, "#E0533D", NULL, 1, false, false, 3},
    {"Immunisation", "15 mins", 15, "#3DBE8B", NULL, 1, true, false, 5},
    {"Telehealth Consultation", "15 mins", 15, "#00B5AD", "Video consultation", 1, true, true, 16},
    {"Telehealth Long Consultation", "30 min", 30, "#16A085", NULL, 1, true, true, 5},
    {"Phone Consultation", "15 mins", 15, "#95A5A6", NULL, 1, false, true, 7},
    {"Mental Health Review", "1 hr", 60, "#F5A623", "GP mental health treatment plan review", 1,
     false, true, 4},
    {"Minor Surgery Session", "4 hrs", 240, "#C0392B", "Theatre list", 1, false, false, 0},
    {"COVID Telehealth (retired)", "15 mins", 15, "#BDC3C7", NULL, 2, false, true, 0},
};

static const char *const notes_list[] = {
    "Review bloods",
    "Repeat script",
    "Bring referral letter",
    "Interpreter required (Mandarin)",
    "Follow-up on imaging",
    "Check BP again",
    "Parent attending with child",
    "Wound dressing",
};

static const char *const cancellation_reasons[] = {
    "Patient unwell",  "Rescheduled by patient", "Doctor unavailable",
    "Patient no-show", "Clinic closed",          "Booked in error",
};

static void token_chars(sbx_prng *prng, char out[MR_TOKEN_LEN])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = 0; i < MR_TOKEN_LEN - 1; i++)
        out[i] = alphabet[sbx_prng_below(prng, sizeof(alphabet) - 1)];
    out[MR_TOKEN_LEN - 1] = '\0';
}

static int gen_providers(mr_practice *p, const sbx_dataset_config *cfg, size_t index,
                         pms_error *err)
{
    size_t n = (size_t)cfg->practitioners;
    p->providers = calloc(n, sizeof(*p->providers));
    if (p->providers == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating providers");
    p->provider_count = n;
    size_t inactive = n >= 4 ? (n / 20 > 1 ? n / 20 : 1) : 0;
    for (size_t i = 0; i < n; i++) {
        mr_provider *pr = &p->providers[i];
        sbx_prng prng;
        sbx_prng_derive(&prng, cfg->seed, STREAM_PROVIDER, index, i);
        sbx_prng_uuid(&prng, pr->id);
        sbx_person person;
        for (int attempt = 0; attempt < 20; attempt++) {
            sbx_gen_person(&prng, 0.0, &person);
            bool taken = false;
            for (size_t j = 0; j < i && !taken; j++)
                taken = strcmp(p->providers[j].last, person.family) == 0 &&
                        strcmp(p->providers[j].first, person.given) == 0;
            if (!taken)
                break;
        }
        pr->title = "Dr";
        pr->first = strdup(person.given);
        pr->last = strdup(person.family);
        pr->active = i < n - inactive;
        if (pr->first == NULL || pr->last == NULL)
            return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating providers");
    }
    return PMS_OK;
}

static void gen_types(mr_practice *p, uint64_t seed, size_t index)
{
    sbx_prng prng;
    sbx_prng_derive(&prng, seed, STREAM_TYPE, index, 0);
    for (size_t i = 0; i < COUNT(type_specs); i++) {
        const type_spec *spec = &type_specs[i];
        mr_type *ty = &p->types[i];
        sbx_prng_uuid(&prng, ty->id);
        ty->name = spec->name;
        ty->duration_text = spec->duration_text;
        ty->minutes = spec->minutes;
        ty->colour = spec->colour;
        ty->description = spec->description;
        ty->order = (int)i + 1;
        ty->active_status = spec->active_status;
        ty->community = spec->community;
        ty->telehealth = spec->telehealth;
        ty->weight = spec->weight;
    }
    p->type_count = COUNT(type_specs);
}

static int title_code(sbx_prng *prng, const sbx_person *person, int age)
{
    /* 1 Mr, 2 Mrs, 3 Miss, 4 Ms, 5 Dr, 6 Master; 0 = not recorded. */
    if (sbx_prng_chance(prng, 0.1))
        return 0;
    if (age < 16)
        return person->female ? 3 : 6;
    if (sbx_prng_chance(prng, 0.03))
        return 5;
    if (!person->female)
        return 1;
    static const int female[] = {2, 3, 4};
    return female[sbx_prng_below(prng, 3)];
}

static int gen_patient(mr_practice *p, const sbx_dataset_config *cfg, size_t index, size_t i,
                       pms_error *err)
{
    mr_patient *pt = &p->patients[i];
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PATIENT, index, i);
    sbx_prng_uuid(&prng, pt->id);
    sbx_person person;
    sbx_gen_person(&prng, 0.3, &person);
    pt->dob = sbx_gen_birth_date(&prng, p->today, 0, 94);
    int age = (int)((pms_days_from_date(p->today) - pms_days_from_date(pt->dob)) / 365);
    pt->title_code = title_code(&prng, &person, age);
    double roll = sbx_prng_unit(&prng);
    pt->gender = roll < 0.02 ? 9 : roll < 0.04 ? 3 : person.female ? 2 : 1;
    pt->first = strdup(person.given);
    pt->last = strdup(person.family);
    bool ok = pt->first != NULL && pt->last != NULL;
    if (person.middle != NULL)
        ok = ok && sbx_set_string(&pt->middle, person.middle);
    char text[128];
    bool no_phone = sbx_prng_chance(&prng, 0.06);
    if (!no_phone && sbx_prng_chance(&prng, 0.92)) {
        sbx_gen_mobile(&prng, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->mobile, text);
    }
    if (!no_phone && (pt->mobile == NULL || sbx_prng_chance(&prng, 0.2))) {
        sbx_gen_landline(&prng, p->region, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->home, text);
    }
    if (sbx_prng_chance(&prng, 0.8)) {
        sbx_gen_email(&prng, person.given, person.family, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->email, text);
    }
    if (sbx_prng_chance(&prng, 0.9)) {
        sbx_gen_street(&prng, text, sizeof(text));
        ok = ok && sbx_set_string(&pt->street, text);
    }
    size_t suburb = sbx_prng_below(&prng, (uint32_t)p->region->suburb_count);
    pt->suburb = p->region->suburbs[suburb];
    pt->postcode = p->region->postcodes[suburb];
    pt->state = p->region->state;
    pt->usual_provider =
        sbx_prng_chance(&prng, 0.7) ? (int)sbx_prng_below(&prng, (uint32_t)p->provider_count) : -1;
    if (!ok)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating patients");
    if (!sbx_strmap_put(&p->patients_by_id, pt->id, pt))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing patients");
    return PMS_OK;
}

/* The status as if the clock read 12:00 local on today. */
static int pick_status(sbx_prng *prng, sbx_day_kind kind, int start_minute, int minutes)
{
    static const int codes[] = {MR_STATUS_BOOKED,      MR_STATUS_CONFIRMED,  MR_STATUS_WAITING_ROOM,
                                MR_STATUS_WITH_DOCTOR, MR_STATUS_AT_BILLING, MR_STATUS_COMPLETED,
                                MR_STATUS_CANCELLED};
    static const int past[] = {5, 0, 0, 0, 15, 68, 12};
    static const int morning[] = {0, 0, 25, 45, 10, 20, 0};
    static const int noon[] = {10, 40, 45, 0, 0, 0, 5};
    static const int future[] = {50, 38, 0, 0, 0, 0, 12};
    const int *w = future;
    if (kind == SBX_DAY_PAST || (kind == SBX_DAY_TODAY && start_minute + minutes <= 11 * 60 + 30))
        w = past;
    else if (kind == SBX_DAY_TODAY && start_minute < 12 * 60)
        w = morning;
    else if (kind == SBX_DAY_TODAY && start_minute < 12 * 60 + 45)
        w = noon;
    return codes[sbx_pick_weighted(prng, w, COUNT(codes))];
}

static size_t pick_type(sbx_prng *prng, const mr_practice *p)
{
    int weights[COUNT(type_specs)];
    for (size_t i = 0; i < p->type_count; i++)
        weights[i] = p->types[i].weight;
    return sbx_pick_weighted(prng, weights, p->type_count);
}

/* The interval code of an appointment of this type: usually the type's length, sometimes a
 * neighbouring one, and now and then a code the table lacks. */
static int pick_interval(sbx_prng *prng, const mr_type *type)
{
    double roll = sbx_prng_unit(prng);
    if (roll < 0.03)
        return MR_INTERVAL_UNLISTED;
    int code = mr_interval_code(type->minutes);
    if (roll < 0.11 && code > 0) {
        for (size_t i = 0; i < mr_interval_count; i++) {
            if (mr_intervals[i].code != code)
                continue;
            size_t j = i == 0                       ? 1
                       : i + 1 == mr_interval_count ? i - 1
                       : sbx_prng_chance(prng, 0.5) ? i - 1
                                                    : i + 1;
            return mr_intervals[j].code;
        }
    }
    return code > 0 ? code : MR_INTERVAL_UNLISTED;
}

/* Fills everything but id, provider, type, time and interval code. `noon` is 12:00 local today,
 * the dataset's "now". */
static void dress_appt(sbx_prng *prng, const mr_practice *p, mr_appt *a, sbx_day_kind kind,
                       pms_instant start, pms_instant noon)
{
    int minutes = mr_appt_minutes(p, a);
    a->patient = (int)sbx_prng_below(prng, (uint32_t)p->patient_count);
    a->status = pick_status(prng, kind, a->local.hour * 60 + a->local.minute, minutes);
    a->links = p->types[a->type].telehealth && sbx_prng_chance(prng, 0.75);
    a->room = !p->types[a->type].telehealth && sbx_prng_chance(prng, 0.6)
                  ? (int)sbx_prng_below(prng, MR_ROOMS)
                  : -1;
    a->referral = sbx_prng_chance(prng, 0.1);
    a->walk_in = sbx_prng_chance(prng, 0.03);
    a->first_available = sbx_prng_chance(prng, 0.05);
    double roll = sbx_prng_unit(prng);
    a->urgency = roll < 0.9 ? 1 : roll < 0.98 ? 2 : 3;
    a->email_reminder = p->patients[a->patient].email != NULL && sbx_prng_chance(prng, 0.7);
    static const int methods[] = {1, 2, 0};
    static const int method_weights[] = {70, 20, 10};
    a->reminder_method = methods[sbx_pick_weighted(prng, method_weights, 3)];
    static const int reminder_types[] = {1, 2, 7};
    a->reminder_type = reminder_types[sbx_prng_below(prng, 3)];
    a->confirmation_link = kind != SBX_DAY_PAST && sbx_prng_chance(prng, 0.4);
    if (sbx_prng_chance(prng, 0.18))
        sbx_set_string(&a->notes, notes_list[sbx_prng_below(prng, (uint32_t)COUNT(notes_list))]);
    if (a->status == MR_STATUS_CANCELLED)
        sbx_set_string(&a->cancellation_reason,
                       cancellation_reasons[sbx_prng_below(prng, COUNT(cancellation_reasons))]);
    pms_instant horizon = start < noon ? start : noon;
    a->created = horizon - sbx_prng_range(prng, 60, 30 * 24 * 60) * SBX_MINUTE_MS -
                 sbx_prng_below(prng, 60000);
    pms_instant last_change =
        start + 3 * 60 * SBX_MINUTE_MS < noon ? start + 3 * 60 * SBX_MINUTE_MS : noon;
    a->updated = a->created;
    if (last_change > a->created)
        a->updated += (pms_instant)(sbx_prng_unit(prng) * (double)(last_change - a->created));
    a->created_by = (int)sbx_prng_below(prng, MR_STAFF);
    a->updated_by =
        sbx_prng_chance(prng, 0.5) ? a->created_by : (int)sbx_prng_below(prng, MR_STAFF);
}

static int add_generated(mr_practice *p, mr_appt *a, pms_error *err)
{
    if (mr_find_appt(p, a->id) != NULL) { /* a 122-bit collision: skip it */
        mr_appt_free(a);
        return PMS_OK;
    }
    int rc = sbx_book_append(&p->book, mr_appt_key(a), a->id, a, err);
    if (rc != PMS_OK)
        mr_appt_free(a);
    return rc;
}

static mr_appt *new_appt(sbx_prng *prng, int provider, int type, pms_date day, int minute,
                         int interval_code)
{
    mr_appt *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    sbx_prng_uuid(prng, a->id);
    a->provider = provider;
    a->type = type;
    a->local = (pms_civil){day.year, day.month, day.day, minute / 60, minute % 60, 0, 0};
    a->interval_code = interval_code;
    return a;
}

static int gen_provider_day(mr_practice *p, const sbx_dataset_config *cfg, size_t index,
                            size_t provider, pms_date day, sbx_day_kind kind, pms_instant noon,
                            pms_error *err)
{
    int count = cfg->appointments_per_day;
    if (!p->providers[provider].active || count == 0)
        return PMS_OK;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_DAY, (index << 32) | provider,
                    (uint64_t)pms_days_from_date(day));
    int *types = calloc((size_t)count, sizeof(*types));
    int *codes = calloc((size_t)count, sizeof(*codes));
    int *lengths = calloc((size_t)count, sizeof(*lengths));
    int rc = PMS_OK;
    if (types == NULL || codes == NULL || lengths == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
        goto out;
    }
    for (int i = 0; i < count; i++) {
        types[i] = (int)pick_type(&prng, p);
        codes[i] = pick_interval(&prng, &p->types[types[i]]);
        int minutes = mr_interval_minutes(codes[i]);
        lengths[i] = minutes > 0 ? minutes : p->types[types[i]].minutes;
    }
    sbx_day_layout layout;
    sbx_day_layout_init(&layout, lengths, count);
    for (int i = 0; i < count && rc == PMS_OK; i++) {
        int minute = sbx_day_layout_next(&layout, &prng);
        mr_appt *a = new_appt(&prng, (int)provider, types[i], day, minute, codes[i]);
        if (a == NULL) {
            rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
            break;
        }
        dress_appt(&prng, p, a, kind, sbx_local_instant(p->tz, day, minute), noon);
        rc = add_generated(p, a, err);
    }
out:
    free(types);
    free(codes);
    free(lengths);
    return rc;
}

static int add_dst_appt(mr_practice *p, sbx_prng *prng, int provider, pms_date day, int minute,
                        int minutes, sbx_day_kind kind, pms_instant noon, pms_error *err)
{
    mr_appt *a = new_appt(prng, provider, 0, day, minute, mr_interval_code(minutes));
    if (a == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    dress_appt(prng, p, a, kind, sbx_local_instant(p->tz, day, minute), noon);
    if (!sbx_set_string(&a->notes, "After-hours home visit.")) {
        mr_appt_free(a);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating appointments");
    }
    return add_generated(p, a, err);
}

/* On a day the zone changes offset, the first active provider also gets after-hours visits
 * whose wall-clock times are ambiguous without an offset: in a spring-forward gap (one at its
 * middle, one starting 30 minutes before it), and twice at the middle of a fall-back overlap. */
static int gen_dst_day(mr_practice *p, const sbx_dataset_config *cfg, size_t index, pms_date day,
                       sbx_day_kind kind, pms_instant noon, pms_error *err)
{
    sbx_dst_change change;
    if (!sbx_dst_change_on(p->tz, day, &change))
        return PMS_OK;
    int provider = 0;
    while ((size_t)provider < p->provider_count && !p->providers[provider].active)
        provider++;
    if ((size_t)provider == p->provider_count)
        return PMS_OK;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_DST, index, (uint64_t)pms_days_from_date(day));
    int start = change.local_start.hour * 60 + change.local_start.minute;
    int middle = start + change.minutes / 2;
    int rc;
    if (change.forward) {
        rc = add_dst_appt(p, &prng, provider, day, start - 30, 60, kind, noon, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(p, &prng, provider, day, middle, 15, kind, noon, err);
    } else {
        rc = add_dst_appt(p, &prng, provider, day, middle, 15, kind, noon, err);
        if (rc == PMS_OK)
            rc = add_dst_appt(p, &prng, provider, day, middle, 15, kind, noon, err);
    }
    return rc;
}

static int gen_appointments(mr_practice *p, const sbx_dataset_config *cfg, size_t index,
                            pms_error *err)
{
    pms_instant noon = sbx_local_instant(p->tz, p->today, 12 * 60);
    for (int offset = -cfg->days_before; offset <= cfg->days_after; offset++) {
        pms_date day = pms_date_add_days(p->today, offset);
        sbx_day_kind kind = offset < 0    ? SBX_DAY_PAST
                            : offset == 0 ? SBX_DAY_TODAY
                                          : SBX_DAY_FUTURE;
        for (size_t pr = 0; pr < p->provider_count; pr++) {
            int rc = gen_provider_day(p, cfg, index, pr, day, kind, noon, err);
            if (rc != PMS_OK)
                return rc;
        }
        int rc = gen_dst_day(p, cfg, index, day, kind, noon, err);
        if (rc != PMS_OK)
            return rc;
    }
    sbx_book_sort(&p->book);
    return PMS_OK;
}

static void practice_contacts(mr_practice *p, sbx_prng *prng)
{
    char word[32];
    size_t n = 0;
    for (const char *c = p->name; *c != '\0' && *c != ' ' && n + 1 < sizeof(word); c++) {
        if (*c >= 'A' && *c <= 'Z')
            word[n++] = (char)(*c - 'A' + 'a');
        else if (*c >= 'a' && *c <= 'z')
            word[n++] = *c;
    }
    word[n] = '\0';
    snprintf(p->email, sizeof(p->email), "reception@%smedical.example.com", word);
    sbx_gen_landline(prng, p->region, p->phone, sizeof(p->phone));
    sbx_gen_street(prng, p->street, sizeof(p->street));
    size_t suburb = sbx_prng_below(prng, (uint32_t)p->region->suburb_count);
    p->suburb = p->region->suburbs[suburb];
    p->postcode = p->region->postcodes[suburb];
    for (int i = 0; i < 11; i++)
        p->abn[i] = (char)('0' + sbx_prng_range(prng, i == 0 ? 1 : 0, 9));
    p->abn[11] = '\0';
}

static int gen_practice(mr_world *w, size_t i, unsigned *used_suburbs, pms_error *err)
{
    const sbx_dataset_config *cfg = &w->config;
    mr_practice *p = &w->practices[i];
    sbx_strmap_init(&p->patients_by_id);
    sbx_book_init(&p->book);
    p->region = sbx_region_dst_first(i);
    int rc = pms_tz_get(p->region->zone, &p->tz, err);
    if (rc != PMS_OK)
        return rc;
    sbx_prng prng;
    sbx_prng_derive(&prng, cfg->seed, STREAM_PRACTICE, i, 0);
    sbx_prng_uuid(&prng, p->id);
    token_chars(&prng, p->token);
    char name[128];
    sbx_gen_practice_name(&prng, p->region, &used_suburbs[i % sbx_region_count()], name,
                          sizeof(name));
    p->name = strdup(name);
    if (p->name == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a practice");
    practice_contacts(p, &prng);
    for (int r = 0; r < MR_ROOMS; r++)
        sbx_prng_uuid(&prng, p->rooms[r]);
    for (int s = 0; s < MR_STAFF; s++)
        sbx_prng_uuid(&prng, p->staff[s]);
    p->today = cfg->today_set ? cfg->today : pms_tz_date_of(p->tz, pms_now());
    p->types = calloc(COUNT(type_specs), sizeof(*p->types));
    p->patients = calloc((size_t)cfg->patients, sizeof(*p->patients));
    if (p->types == NULL || p->patients == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory generating a practice");
    gen_types(p, cfg->seed, i);
    rc = gen_providers(p, cfg, i, err);
    if (rc != PMS_OK)
        return rc;
    p->patient_count = (size_t)cfg->patients;
    for (size_t pt = 0; pt < p->patient_count; pt++) {
        rc = gen_patient(p, cfg, i, pt, err);
        if (rc != PMS_OK)
            return rc;
    }
    return gen_appointments(p, cfg, i, err);
}

int mr_world_generate(const sbx_dataset_config *cfg, mr_world **out, pms_error *err)
{
    *out = NULL;
    mr_world *w = calloc(1, sizeof(*w));
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
            mr_world_free(w);
            return rc;
        }
    }
    *out = w;
    return PMS_OK;
}
