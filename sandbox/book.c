#include "book.h"

#include <stdlib.h>
#include <string.h>

void sbx_book_init(sbx_book *book)
{
    memset(book, 0, sizeof(*book));
    sbx_strmap_init(&book->by_id);
}

void sbx_book_free(sbx_book *book)
{
    free(book->entries);
    sbx_strmap_free(&book->by_id);
    sbx_book_init(book);
}

void *sbx_book_get(const sbx_book *book, const char *id)
{
    return sbx_strmap_get(&book->by_id, id);
}

static int order(int64_t a_key, const char *a_id, int64_t b_key, const char *b_id)
{
    if (a_key != b_key)
        return a_key < b_key ? -1 : 1;
    return strcmp(a_id, b_id);
}

size_t sbx_book_seek(const sbx_book *book, int64_t key, const char *id)
{
    size_t lo = 0, hi = book->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const sbx_book_entry *e = &book->entries[mid];
        bool before = id == NULL ? e->key < key : order(e->key, e->id, key, id) <= 0;
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int reserve(sbx_book *book, pms_error *err)
{
    if (book->count < book->capacity)
        return PMS_OK;
    size_t capacity = book->capacity == 0 ? 256 : book->capacity * 2;
    sbx_book_entry *entries = realloc(book->entries, capacity * sizeof(*entries));
    if (entries == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory growing an appointment book");
    book->entries = entries;
    book->capacity = capacity;
    return PMS_OK;
}

static int add(sbx_book *book, int64_t key, const char *id, void *item, bool sorted, pms_error *err)
{
    int rc = reserve(book, err);
    if (rc != PMS_OK)
        return rc;
    if (!sbx_strmap_put(&book->by_id, id, item))
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory indexing appointments");
    size_t at = sorted ? sbx_book_seek(book, key, id) : book->count;
    memmove(&book->entries[at + 1], &book->entries[at],
            (book->count - at) * sizeof(*book->entries));
    book->entries[at] = (sbx_book_entry){key, id, item};
    book->count++;
    return PMS_OK;
}

int sbx_book_insert(sbx_book *book, int64_t key, const char *id, void *item, pms_error *err)
{
    return add(book, key, id, item, true, err);
}

int sbx_book_append(sbx_book *book, int64_t key, const char *id, void *item, pms_error *err)
{
    return add(book, key, id, item, false, err);
}

void *sbx_book_remove(sbx_book *book, int64_t key, const char *id)
{
    size_t at = sbx_book_seek(book, key, NULL);
    for (; at < book->count && book->entries[at].key == key; at++) {
        if (strcmp(book->entries[at].id, id) == 0) {
            void *item = book->entries[at].item;
            memmove(&book->entries[at], &book->entries[at + 1],
                    (book->count - at - 1) * sizeof(*book->entries));
            book->count--;
            sbx_strmap_remove(&book->by_id, id);
            return item;
        }
    }
    return NULL;
}

static int compare_entries(const void *a, const void *b)
{
    const sbx_book_entry *x = a, *y = b;
    return order(x->key, x->id, y->key, y->id);
}

void sbx_book_sort(sbx_book *book)
{
    if (book->count > 1)
        qsort(book->entries, book->count, sizeof(*book->entries), compare_entries);
}
