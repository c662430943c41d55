/* An appointment book: items (appointments) kept in (key, id) order, where the key is a start
 * time (an instant, or a local wall time for PMSs without offsets), and found by id. The order
 * is the one vendor APIs page in; ties on the key are broken by id (strcmp).
 *
 * Items are borrowed: the book stores pointers and the item's id pointer, which must stay
 * valid and unchanged while the item is in the book. To change an item's key, remove it,
 * change it, insert it again. Not thread-safe: guard it with its owner's lock.
 */
#ifndef SBX_BOOK_H
#define SBX_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "pmsync/error.h"
#include "strmap.h"

typedef struct sbx_book_entry {
    int64_t key;
    const char *id; /* the item's own id */
    void *item;
} sbx_book_entry;

typedef struct sbx_book {
    sbx_book_entry *entries;
    size_t count, capacity;
    sbx_strmap by_id; /* id -> item */
} sbx_book;

void sbx_book_init(sbx_book *book);
/* Frees the book's memory, not the items. */
void sbx_book_free(sbx_book *book);
void *sbx_book_get(const sbx_book *book, const char *id);
/* Index of the first entry with key >= key (id NULL), or after (key, id) (id not NULL). */
size_t sbx_book_seek(const sbx_book *book, int64_t key, const char *id);
/* Adds in order. The id must not be in the book. */
int sbx_book_insert(sbx_book *book, int64_t key, const char *id, void *item, pms_error *err);
/* Removes the item with this key and id; returns it, or NULL when absent. */
void *sbx_book_remove(sbx_book *book, int64_t key, const char *id);
/* Generation: append without order, then sort once. */
int sbx_book_append(sbx_book *book, int64_t key, const char *id, void *item, pms_error *err);
void sbx_book_sort(sbx_book *book);

#endif
