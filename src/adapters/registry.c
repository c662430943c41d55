/* The built-in adapters and the wrappers that turn a NULL operation into a clear error. */
#include <stdlib.h>
#include <string.h>

#include "adapters/gentu/gentu.h"
#include "adapters/medirecords/medirecords.h"
#include "adapters/halaxy/halaxy.h"
#include "adapters/sikka/sikka.h"
#include "pmsync/adapter.h"
#include "pmsync/session.h"

#define MAX_ADAPTERS 16

/* Built-in adapters first; pms_adapter_register appends (before threads start). */
static const pms_adapter_ops *adapters[MAX_ADAPTERS + 1] = {
    &pms_gentu_adapter, &pms_medirecords_adapter, &pms_halaxy_adapter, &pms_sikka_adapter, NULL,
};

const pms_adapter_ops *pms_adapter_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; adapters[i]; i++)
        if (strcmp(adapters[i]->name, name) == 0)
            return adapters[i];
    return NULL;
}

const pms_adapter_ops *const *pms_adapter_all(void)
{
    return (const pms_adapter_ops *const *)adapters;
}

int pms_adapter_register(const pms_adapter_ops *ops, pms_error *err)
{
    if (ops == NULL || ops->name == NULL || ops->version != PMS_ADAPTER_OPS_VERSION)
        return pms_error_set(err, PMS_ERR_INVALID, "adapter has no name or a wrong version");
    if (pms_adapter_find(ops->name))
        return pms_error_set(err, PMS_ERR_CONFLICT, "an adapter named %s exists", ops->name);
    size_t n = 0;
    while (adapters[n])
        n++;
    if (n >= MAX_ADAPTERS)
        return pms_error_set(err, PMS_ERR_INVALID, "too many adapters");
    adapters[n] = ops;
    adapters[n + 1] = NULL;
    return PMS_OK;
}

const pms_setting_def *pms_adapter_setting(const pms_adapter_ops *ops, const char *key)
{
    for (const pms_setting_def *d = ops->settings; d && d->key; d++)
        if (strcmp(d->key, key) == 0)
            return d;
    return NULL;
}

unsigned pms_adapter_capabilities(const pms_adapter_ops *ops)
{
    unsigned caps = ops->traits;
    if (ops->pair)
        caps |= PMS_CAP_PAIRING;
    if (ops->fetch_appointments)
        caps |= PMS_CAP_APPOINTMENTS;
    if (ops->fetch_patient)
        caps |= PMS_CAP_PATIENT_FETCH;
    if (ops->find_slots)
        caps |= PMS_CAP_FIND_SLOTS;
    if (ops->book)
        caps |= PMS_CAP_BOOK;
    if (ops->reschedule)
        caps |= PMS_CAP_RESCHEDULE;
    if (ops->cancel)
        caps |= PMS_CAP_CANCEL;
    if (ops->search_patients)
        caps |= PMS_CAP_PATIENT_SEARCH;
    if (ops->create_patient)
        caps |= PMS_CAP_PATIENT_CREATE;
    if (ops->write_status)
        caps |= PMS_CAP_WRITE_STATUS;
    if (ops->get_appointment)
        caps |= PMS_CAP_APPOINTMENT_FETCH;
    return caps;
}

json_t *pms_capabilities_to_json(unsigned caps)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {PMS_CAP_PAIRING, "pairing"},
        {PMS_CAP_APPOINTMENTS, "appointments"},
        {PMS_CAP_PATIENT_FETCH, "patient_fetch"},
        {PMS_CAP_FIND_SLOTS, "find_slots"},
        {PMS_CAP_BOOK, "book"},
        {PMS_CAP_RESCHEDULE, "reschedule"},
        {PMS_CAP_CANCEL, "cancel"},
        {PMS_CAP_PATIENT_SEARCH, "patient_search"},
        {PMS_CAP_PATIENT_CREATE, "patient_create"},
        {PMS_CAP_TELEHEALTH_BY_TYPE, "telehealth_by_type"},
        {PMS_CAP_TELEHEALTH_AUTO, "telehealth_auto"},
        {PMS_CAP_PRACTITIONER_FILTER, "per_practitioner_fetch"},
        {PMS_CAP_WRITE_STATUS, "write_status"},
        {PMS_CAP_APPOINTMENT_FETCH, "appointment_fetch"},
        {PMS_CAP_INCREMENTAL, "incremental"},
    };
    json_t *list = json_array();
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (caps & names[i].bit)
            json_array_append_new(list, json_string(names[i].name));
    return list;
}

/* "<PMS> does not support <what>", with the adapter's reason when it gives one. */
static int unsupported_because(pms_session *s, unsigned capability, const char *what,
                               pms_error *err)
{
    const pms_adapter_ops *ops = pms_session_ops(s);
    for (const pms_unsupported_note *n = ops->unsupported; capability && n && n->capability; n++)
        if (n->capability == capability)
            return pms_error_set(err, PMS_ERR_NOT_SUPPORTED, "%s does not support %s: %s",
                                 ops->display_name, what, n->reason);
    return pms_error_set(err, PMS_ERR_NOT_SUPPORTED, "%s does not support %s", ops->display_name,
                         what);
}

static int unsupported(pms_session *s, const char *what, pms_error *err)
{
    return unsupported_because(s, 0, what, err);
}

#define OPS(s) (pms_session_ops(s))

int pms_adapter_authenticate(pms_session *s, pms_auth_result *out, pms_error *err)
{
    return OPS(s)->authenticate ? OPS(s)->authenticate(s, out, err)
                                : unsupported(s, "authentication", err);
}

int pms_adapter_pair(pms_session *s, const char *code, pms_practice_info *out, pms_error *err)
{
    return OPS(s)->pair ? OPS(s)->pair(s, code, out, err) : unsupported(s, "pairing codes", err);
}

int pms_adapter_practice_info(pms_session *s, pms_practice_info *out, pms_error *err)
{
    return OPS(s)->practice_info ? OPS(s)->practice_info(s, out, err)
                                 : unsupported(s, "reading practice details", err);
}

int pms_adapter_validate(pms_session *s, pms_error *err)
{
    return OPS(s)->validate ? OPS(s)->validate(s, err)
                            : unsupported(s, "validating a connection", err);
}

int pms_adapter_health_check(pms_session *s, pms_health *out, pms_error *err)
{
    return OPS(s)->health_check ? OPS(s)->health_check(s, out, err)
                                : unsupported(s, "health checks", err);
}

int pms_adapter_list_practitioners(pms_session *s, pms_practitioner_list *out, pms_error *err)
{
    return OPS(s)->list_practitioners ? OPS(s)->list_practitioners(s, out, err)
                                      : unsupported(s, "listing practitioners", err);
}

int pms_adapter_list_appointment_types(pms_session *s, pms_appt_type_list *out, pms_error *err)
{
    return OPS(s)->list_appointment_types ? OPS(s)->list_appointment_types(s, out, err)
                                          : unsupported(s, "listing appointment types", err);
}

int pms_adapter_fetch_appointments(pms_session *s, const pms_fetch_options *opts,
                                   const pms_batch_sink *sink, pms_error *err)
{
    return OPS(s)->fetch_appointments ? OPS(s)->fetch_appointments(s, opts, sink, err)
                                      : unsupported(s, "reading appointments", err);
}

int pms_adapter_fetch_patient(pms_session *s, const char *id, pms_patient *out, pms_error *err)
{
    return OPS(s)->fetch_patient ? OPS(s)->fetch_patient(s, id, out, err)
                                 : unsupported(s, "reading patients", err);
}

int pms_adapter_find_slots(pms_session *s, const pms_slot_query *q, pms_slot_list *out,
                           pms_error *err)
{
    return OPS(s)->find_slots
               ? OPS(s)->find_slots(s, q, out, err)
               : unsupported_because(s, PMS_CAP_FIND_SLOTS, "finding free appointment times", err);
}

int pms_adapter_book(pms_session *s, const pms_booking_request *req, pms_write_result *out,
                     pms_error *err)
{
    return OPS(s)->book ? OPS(s)->book(s, req, out, err)
                        : unsupported_because(s, PMS_CAP_BOOK, "booking", err);
}

int pms_adapter_reschedule(pms_session *s, const char *id, pms_instant start, int minutes,
                           pms_write_result *out, pms_error *err)
{
    return OPS(s)->reschedule ? OPS(s)->reschedule(s, id, start, minutes, out, err)
                              : unsupported_because(s, PMS_CAP_RESCHEDULE, "rescheduling", err);
}

int pms_adapter_cancel(pms_session *s, const char *id, const char *reason, pms_write_result *out,
                       pms_error *err)
{
    return OPS(s)->cancel ? OPS(s)->cancel(s, id, reason, out, err)
                          : unsupported_because(s, PMS_CAP_CANCEL, "cancelling appointments", err);
}

int pms_adapter_search_patients(pms_session *s, const pms_patient_query *q, pms_patient_list *out,
                                pms_error *err)
{
    return OPS(s)->search_patients
               ? OPS(s)->search_patients(s, q, out, err)
               : unsupported_because(s, PMS_CAP_PATIENT_SEARCH, "patient search", err);
}

int pms_adapter_create_patient(pms_session *s, const pms_patient *p, char **new_id, pms_error *err)
{
    return OPS(s)->create_patient
               ? OPS(s)->create_patient(s, p, new_id, err)
               : unsupported_because(s, PMS_CAP_PATIENT_CREATE, "creating patients", err);
}

void pms_practice_info_clear(pms_practice_info *p)
{
    free(p->external_id);
    free(p->name);
    free(p->timezone);
    memset(p, 0, sizeof *p);
}

void pms_slot_list_clear(pms_slot_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].practitioner_id);
    free(list->items);
    memset(list, 0, sizeof *list);
}

void pms_write_result_clear(pms_write_result *r)
{
    free(r->pms_appointment_id);
    free(r->tracking_id);
    memset(r, 0, sizeof *r);
}

void pms_patient_list_clear(pms_patient_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        pms_patient_clear(&list->items[i]);
    free(list->items);
    memset(list, 0, sizeof *list);
}

int pms_adapter_write_status(pms_session *s, const char *tracking_id, pms_write_result *out,
                             pms_error *err)
{
    return OPS(s)->write_status
               ? OPS(s)->write_status(s, tracking_id, out, err)
               : unsupported_because(s, PMS_CAP_WRITE_STATUS, "following asynchronous writes", err);
}

int pms_adapter_get_appointment(pms_session *s, const char *id, pms_appointment *out,
                                pms_error *err)
{
    return OPS(s)->get_appointment
               ? OPS(s)->get_appointment(s, id, out, err)
               : unsupported_because(s, PMS_CAP_APPOINTMENT_FETCH, "reading one appointment", err);
}
