#include "pmsync/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define ENVELOPE_PREFIX     "pmsenc:v1:"
#define ENVELOPE_PREFIX_LEN (sizeof ENVELOPE_PREFIX - 1)
#define NONCE_BYTES         12
#define TAG_BYTES           16
#define KEY_ID_BYTES        8
#define KEY_FILE_MAX_BYTES  65536
/* Largest plaintext or associated data handed to EVP in one call. */
#define EVP_CHUNK_MAX (INT_MAX - 64)

typedef struct ring_key {
    unsigned char key[PMS_KEY_BYTES];
    char id[PMS_KEY_ID_LEN];
    bool dropped; /* no longer in the ring (a reload left it out): bytes wiped, id kept */
} ring_key;

/* What a key file looked like when it was read, to notice that it was replaced. */
typedef struct file_stamp {
    bool valid;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
} file_stamp;

/* Keys are allocated one by one and only freed with the ring, so the id pms_keyring_primary_id
 * hands out stays valid across reloads. `keys` is the ring as it is now (keys[0] the primary);
 * `owned` every key it has held. `lock` guards keys, count, owned and stamp: seal, open and the
 * id readers take it shared, adding and reloading take it exclusive. `reload_lock` lets one
 * reload read the file at a time. */
struct pms_keyring {
    pthread_rwlock_t lock;
    pthread_mutex_t reload_lock;
    ring_key **keys;
    size_t count, cap;
    ring_key **owned;
    size_t owned_count, owned_cap;
    char *source_path; /* the key file to re-read; NULL for keys from the environment or raw */
    file_stamp stamp;
};

/* ---- algorithms, fetched once -------------------------------------------------------------- */

static pthread_once_t algorithms_once = PTHREAD_ONCE_INIT;
static EVP_CIPHER *aes_256_gcm;
static EVP_MD *sha256_md;

static void fetch_algorithms(void)
{
    aes_256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

static const EVP_CIPHER *gcm_cipher(void)
{
    pthread_once(&algorithms_once, fetch_algorithms);
    return aes_256_gcm;
}

static const EVP_MD *sha256_digest(void)
{
    pthread_once(&algorithms_once, fetch_algorithms);
    return sha256_md != NULL ? sha256_md : EVP_sha256();
}

void pms_crypto_cleanup(void)
{
    pthread_once(&algorithms_once, fetch_algorithms);
    EVP_CIPHER_free(aes_256_gcm);
    aes_256_gcm = NULL;
    EVP_MD_free(sha256_md);
    sha256_md = NULL;
}

/* ---- encodings ----------------------------------------------------------------------------- */

static const char hex_digits[] = "0123456789abcdef";

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 0x0F];
    }
    out[2 * len] = '\0';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---- base64 (OpenSSL's codec, made strict) ------------------------------------------------ */

int pms_base64_encode(const void *in, size_t len, char **out, pms_error *err)
{
    *out = NULL;
    if (len > (size_t)INT_MAX / 4 * 3 - 3)
        return pms_error_set(err, PMS_ERR_INVALID, "too much data to encode");
    char *text = malloc((len + 2) / 3 * 4 + 1);
    if (text == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    EVP_EncodeBlock((unsigned char *)text, in, (int)len);
    *out = text;
    return PMS_OK;
}

/* OpenSSL's decoder is lenient (it skips blanks and ignores the unused bits of the last
 * character); re-encoding the result and comparing makes it strict: every byte string has
 * exactly one accepted text, so a changed character never decodes to the same bytes. */
int pms_base64_decode(const char *in, size_t len, bool padding_required, unsigned char **out,
                      size_t *out_len, pms_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (padding_required ? len % 4 != 0 : len % 4 == 1)
        return pms_error_set(err, PMS_ERR_PARSE, "not base64 (length)");
    if (len > (size_t)INT_MAX - 4)
        return pms_error_set(err, PMS_ERR_PARSE, "base64 text too long");
    size_t padded_len = (len + 3) / 4 * 4;
    char *padded = malloc(padded_len + 1);
    unsigned char *bytes = malloc(padded_len / 4 * 3 + 1);
    char *again = NULL;
    int rc = PMS_OK;
    if (padded == NULL || bytes == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    memcpy(padded, in, len);
    memset(padded + len, '=', padded_len - len);
    padded[padded_len] = '\0';
    size_t pad = 0;
    while (pad < 2 && padded_len > pad && padded[padded_len - 1 - pad] == '=')
        pad++;
    int n = padded_len ? EVP_DecodeBlock(bytes, (const unsigned char *)padded, (int)padded_len) : 0;
    if (n < 0 || (size_t)n < pad) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "not base64");
        goto out;
    }
    size_t decoded = (size_t)n - pad;
    if (pms_base64_encode(bytes, decoded, &again, err) != PMS_OK) {
        rc = PMS_ERR_NOMEM;
        goto out;
    }
    if (strcmp(again, padded) != 0) {
        rc = pms_error_set(err, PMS_ERR_PARSE, "not canonical base64");
        goto out;
    }
    bytes[decoded] = '\0';
    *out = bytes;
    *out_len = decoded;
    bytes = NULL;
out:
    if (bytes)
        OPENSSL_cleanse(bytes, padded_len / 4 * 3 + 1);
    free(bytes);
    free(padded);
    free(again);
    return rc;
}

/* Reads a key written as 64 hex digits or as base64 of exactly 32 bytes (padding optional),
 * blanks around it ignored. */
static bool parse_key_text(const char *text, size_t len, unsigned char key[PMS_KEY_BYTES])
{
    while (len > 0 && (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                       text[len - 1] == '\n'))
        len--;
    if (len == 2 * PMS_KEY_BYTES) {
        bool ok = true;
        for (size_t i = 0; i < PMS_KEY_BYTES && ok; i++) {
            int hi = hex_value((unsigned char)text[2 * i]);
            int lo = hex_value((unsigned char)text[2 * i + 1]);
            ok = hi >= 0 && lo >= 0;
            key[i] = ok ? (unsigned char)(hi << 4 | lo) : 0;
        }
        if (ok)
            return true;
        OPENSSL_cleanse(key, PMS_KEY_BYTES);
        return false;
    }
    unsigned char *decoded = NULL;
    size_t decoded_len = 0;
    if (pms_base64_decode(text, len, false, &decoded, &decoded_len, NULL) != PMS_OK)
        return false;
    bool ok = decoded_len == PMS_KEY_BYTES;
    if (ok)
        memcpy(key, decoded, PMS_KEY_BYTES);
    OPENSSL_cleanse(decoded, decoded_len);
    free(decoded);
    return ok;
}

/* ---- random, hashes, ids ------------------------------------------------------------------- */

int pms_random_bytes(void *buf, size_t len, pms_error *err)
{
    unsigned char *p = buf;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(p, chunk) != 1)
            return pms_error_set(err, PMS_ERR_CRYPTO, "the random number generator failed");
        p += chunk;
        len -= (size_t)chunk;
    }
    return PMS_OK;
}

int pms_uuid_v4(char out[PMS_UUID_LEN], pms_error *err)
{
    unsigned char b[16];
    int rc = pms_random_bytes(b, sizeof b, err);
    if (rc != PMS_OK) {
        out[0] = '\0';
        return rc;
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex_digits[b[i] >> 4];
        out[o++] = hex_digits[b[i] & 0x0F];
    }
    out[o] = '\0';
    return PMS_OK;
}

void pms_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, sha256_digest(), NULL) != 1 || md_len != sizeof md) {
        out[0] = '\0';
        return;
    }
    hex_encode(md, sizeof md, out);
}

static void key_id_of(const unsigned char key[PMS_KEY_BYTES], char id[PMS_KEY_ID_LEN])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(key, PMS_KEY_BYTES, md, &md_len, sha256_digest(), NULL) != 1) {
        memset(id, '0', PMS_KEY_ID_LEN - 1);
        id[PMS_KEY_ID_LEN - 1] = '\0';
        return;
    }
    hex_encode(md, KEY_ID_BYTES, id);
}

void pms_secure_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    OPENSSL_cleanse(p, len);
    free(p);
}

/* ---- key ring ------------------------------------------------------------------------------ */

/* The ring behind a const pointer: its keys change only under its lock (reload), so callers
 * may keep using `const pms_keyring *`. Every ring is allocated by ring_new, never const. */
static pms_keyring *mutable_ring(const pms_keyring *ring)
{
    return (pms_keyring *)ring;
}

static pms_keyring *ring_new(void)
{
    pms_keyring *ring = calloc(1, sizeof *ring);
    if (ring == NULL)
        return NULL;
    if (pthread_rwlock_init(&ring->lock, NULL) != 0) {
        free(ring);
        return NULL;
    }
    if (pthread_mutex_init(&ring->reload_lock, NULL) != 0) {
        pthread_rwlock_destroy(&ring->lock);
        free(ring);
        return NULL;
    }
    return ring;
}

void pms_keyring_free(pms_keyring *ring)
{
    if (ring == NULL)
        return;
    for (size_t i = 0; i < ring->owned_count; i++)
        pms_secure_free(ring->owned[i], sizeof *ring->owned[i]);
    free(ring->owned);
    free(ring->keys);
    free(ring->source_path);
    pthread_mutex_destroy(&ring->reload_lock);
    pthread_rwlock_destroy(&ring->lock);
    free(ring);
}

/* Room for `more` keys in both arrays; called before taking the lock, so nothing can fail
 * while it is held. */
static int ring_reserve(pms_keyring *ring, size_t more)
{
    if (ring->owned_count + more > ring->owned_cap) {
        size_t cap = ring->owned_cap ? ring->owned_cap : 4;
        while (cap < ring->owned_count + more)
            cap *= 2;
        ring_key **grown = realloc(ring->owned, cap * sizeof *grown);
        if (grown == NULL)
            return PMS_ERR_NOMEM;
        ring->owned = grown;
        ring->owned_cap = cap;
    }
    if (ring->count + more > ring->cap) {
        size_t cap = ring->cap ? ring->cap : 4;
        while (cap < ring->count + more)
            cap *= 2;
        ring_key **grown = realloc(ring->keys, cap * sizeof *grown);
        if (grown == NULL)
            return PMS_ERR_NOMEM;
        ring->keys = grown;
        ring->cap = cap;
    }
    return PMS_OK;
}

int pms_keyring_add_raw(pms_keyring *ring, const unsigned char key[PMS_KEY_BYTES], pms_error *err)
{
    if (ring == NULL || key == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no key ring or key");
    ring_key *slot = calloc(1, sizeof *slot);
    if (slot == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    memcpy(slot->key, key, PMS_KEY_BYTES);
    key_id_of(key, slot->id);
    pthread_rwlock_wrlock(&ring->lock);
    bool present = false;
    for (size_t i = 0; i < ring->count && !present; i++)
        present = CRYPTO_memcmp(ring->keys[i]->key, key, PMS_KEY_BYTES) == 0;
    int rc = present ? PMS_OK : ring_reserve(ring, 1);
    if (!present && rc == PMS_OK) {
        ring->owned[ring->owned_count++] = slot;
        ring->keys[ring->count++] = slot;
        slot = NULL;
    }
    pthread_rwlock_unlock(&ring->lock);
    pms_secure_free(slot, sizeof *slot);
    return rc == PMS_OK ? PMS_OK : pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
}

int pms_keyring_from_raw(const unsigned char key[PMS_KEY_BYTES], pms_keyring **out, pms_error *err)
{
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no output for the key ring");
    *out = NULL;
    pms_keyring *ring = ring_new();
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = pms_keyring_add_raw(ring, key, err);
    if (rc != PMS_OK) {
        pms_keyring_free(ring);
        return rc;
    }
    *out = ring;
    return PMS_OK;
}

const char *pms_keyring_primary_id(const pms_keyring *ring)
{
    if (ring == NULL)
        return NULL;
    pms_keyring *r = mutable_ring(ring);
    pthread_rwlock_rdlock(&r->lock);
    /* The key itself lives until the ring is freed, so its id outlives the lock. */
    const char *id = r->count > 0 ? r->keys[0]->id : NULL;
    pthread_rwlock_unlock(&r->lock);
    return id;
}

size_t pms_keyring_count(const pms_keyring *ring)
{
    if (ring == NULL)
        return 0;
    pms_keyring *r = mutable_ring(ring);
    pthread_rwlock_rdlock(&r->lock);
    size_t count = r->count;
    pthread_rwlock_unlock(&r->lock);
    return count;
}

bool pms_keyring_key_id_at(const pms_keyring *ring, size_t index, char out[PMS_KEY_ID_LEN])
{
    if (ring == NULL)
        return false;
    pms_keyring *r = mutable_ring(ring);
    pthread_rwlock_rdlock(&r->lock);
    bool found = index < r->count;
    if (found)
        memcpy(out, r->keys[index]->id, PMS_KEY_ID_LEN);
    pthread_rwlock_unlock(&r->lock);
    return found;
}

/* Copies the key with that id (NULL: the primary) out of the ring under its lock. */
static bool ring_copy_key(pms_keyring *ring, const char *id, ring_key *out)
{
    bool found = false;
    pthread_rwlock_rdlock(&ring->lock);
    for (size_t i = 0; i < ring->count && !found; i++) {
        if (id == NULL || strcmp(ring->keys[i]->id, id) == 0) {
            memcpy(out, ring->keys[i], sizeof *out);
            found = true;
        }
    }
    pthread_rwlock_unlock(&ring->lock);
    return found;
}

static bool ring_refresh_if_changed(pms_keyring *ring);

/* ring_copy_key; when the id is unknown and the key file changed since it was read (a rotation
 * by another process), the ring is reloaded once and the key looked up again. */
static bool ring_find_key(const pms_keyring *ring, const char *id, ring_key *out)
{
    pms_keyring *r = mutable_ring(ring);
    if (ring_copy_key(r, id, out))
        return true;
    return ring_refresh_if_changed(r) && ring_copy_key(r, id, out);
}

bool pms_keyring_has_key(const pms_keyring *ring, const char *key_id)
{
    if (ring == NULL || key_id == NULL)
        return false;
    ring_key copy;
    bool found = ring_find_key(ring, key_id, &copy);
    OPENSSL_cleanse(&copy, sizeof copy);
    return found;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync of the directory holding path, so a new file's name is durable too. Best effort:
 * file systems that cannot sync a directory are not an error. */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t len = (size_t)(slash - path);
        if (len >= sizeof dir)
            return;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

static const char key_file_header[] =
    "# pmsync secret key (AES-256-GCM). Keep this file private (mode 0600).\n"
    "# The first key seals; keys on further lines are older ones that still open.\n";

/* Creates path (O_EXCL, 0600) holding a new random key; key_out (may be NULL) gets the key.
 * PMS_ERR_CONFLICT when the file exists. */
static int create_key_file(const char *path, unsigned char key_out[PMS_KEY_BYTES], pms_error *err)
{
    unsigned char key[PMS_KEY_BYTES];
    char text[sizeof key_file_header + 2 * PMS_KEY_BYTES + 2];
    int rc = pms_random_bytes(key, sizeof key, err);
    if (rc != PMS_OK)
        return rc;
    size_t header_len = sizeof key_file_header - 1;
    memcpy(text, key_file_header, header_len);
    hex_encode(key, sizeof key, text + header_len);
    size_t text_len = header_len + 2 * PMS_KEY_BYTES;
    text[text_len++] = '\n';

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            rc = pms_error_set(err, PMS_ERR_CONFLICT, "key file %s already exists; not overwriting",
                               path);
        else
            rc = pms_error_set(err, PMS_ERR_IO, "cannot create key file %s: %s", path,
                               strerror(errno));
        goto out;
    }
    /* The umask may only take bits away; make the mode exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, text_len) != 0 || fsync(fd) != 0) {
        rc = pms_error_set(err, PMS_ERR_IO, "cannot write key file %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) != 0) {
        rc = pms_error_set(err, PMS_ERR_IO, "cannot write key file %s: %s", path, strerror(errno));
        unlink(path);
        goto out;
    }
    sync_parent_dir(path);
    if (key_out != NULL)
        memcpy(key_out, key, sizeof key);
out:
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(text, sizeof text);
    return rc;
}

int pms_key_file_generate(const char *path, pms_error *err)
{
    if (path == NULL || path[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no key file path");
    return create_key_file(path, NULL, err);
}

static void stamp_of(const struct stat *st, file_stamp *out)
{
    memset(out, 0, sizeof *out);
    out->valid = true;
    out->dev = st->st_dev;
    out->ino = st->st_ino;
    out->size = st->st_size;
    out->mtime = st->st_mtim;
    out->ctime = st->st_ctim;
}

static bool stamp_equal(const file_stamp *a, const file_stamp *b)
{
    return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* Parses key file text: '#' starts a comment, blank lines are skipped, every other line is one
 * key, the first the primary. */
static int parse_key_file(const char *path, const char *text, size_t len, pms_keyring **out,
                          pms_error *err)
{
    pms_keyring *ring = ring_new();
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = PMS_OK;
    size_t line_no = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - line) : len - pos;
        pos += line_len + (nl ? 1 : 0);
        line_no++;
        const char *hash = memchr(line, '#', line_len);
        if (hash != NULL)
            line_len = (size_t)(hash - line);
        bool blank = true;
        for (size_t i = 0; i < line_len && blank; i++)
            blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (blank)
            continue;
        unsigned char key[PMS_KEY_BYTES];
        if (!parse_key_text(line, line_len, key)) {
            rc = pms_error_set(err, PMS_ERR_CONFIG,
                               "key file %s line %zu is not a key (expected 64 hex digits or "
                               "base64 of 32 bytes)",
                               path, line_no);
            goto out;
        }
        rc = pms_keyring_add_raw(ring, key, err);
        OPENSSL_cleanse(key, sizeof key);
        if (rc != PMS_OK)
            goto out;
    }
    if (ring->count == 0)
        rc = pms_error_set(err, PMS_ERR_CONFIG, "key file %s holds no key", path);
out:
    if (rc != PMS_OK) {
        pms_keyring_free(ring);
        ring = NULL;
    }
    *out = ring;
    return rc;
}

/* Reads a key file into a new ring (without a source) and the file's stamp; creates the file
 * first when asked and it is missing. */
static int read_key_file(const char *path, bool create_if_missing, pms_keyring **out,
                         file_stamp *stamp, pms_error *err)
{
    *out = NULL;
    memset(stamp, 0, sizeof *stamp);
    /* O_NONBLOCK: a FIFO planted at the path must not hang start-up (fstat rejects it). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT && create_if_missing) {
        unsigned char key[PMS_KEY_BYTES];
        int rc = create_key_file(path, key, err);
        if (rc == PMS_OK) {
            struct stat st;
            if (stat(path, &st) == 0)
                stamp_of(&st, stamp);
            rc = pms_keyring_from_raw(key, out, err);
            OPENSSL_cleanse(key, sizeof key);
            return rc;
        }
        if (rc != PMS_ERR_CONFLICT)
            return rc;
        /* Another process created it first: read theirs. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    if (fd < 0) {
        int open_errno = errno;
        return pms_error_set(err, open_errno == ENOENT ? PMS_ERR_CONFIG : PMS_ERR_IO,
                             "cannot open key file %s: %s", path, strerror(open_errno));
    }

    int rc = PMS_OK;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = pms_error_set(err, PMS_ERR_IO, "cannot stat key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = pms_error_set(err, PMS_ERR_CONFIG, "key file %s is not a regular file", path);
        goto out;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        rc = pms_error_set(err, PMS_ERR_CONFIG,
                           "key file %s is accessible by group or others (mode %04o); "
                           "run chmod 600 on it",
                           path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    buf = malloc(KEY_FILE_MAX_BYTES + 1);
    if (buf == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, KEY_FILE_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = pms_error_set(err, PMS_ERR_IO, "cannot read key file %s: %s", path,
                               strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > KEY_FILE_MAX_BYTES) {
            rc = pms_error_set(err, PMS_ERR_CONFIG, "key file %s is larger than %d bytes", path,
                               KEY_FILE_MAX_BYTES);
            goto out;
        }
    }
    if ((rc = parse_key_file(path, buf, len, out, err)) == PMS_OK)
        stamp_of(&st, stamp);
out:
    pms_secure_free(buf, buf ? KEY_FILE_MAX_BYTES + 1 : 0);
    close(fd);
    return rc;
}

/* Reads the key ring from PMSYNC_SECRET_KEY's text: one key, or several separated by commas
 * (the first the primary). Never echoes the text. */
static int parse_env_keys(const char *text, pms_keyring **out, pms_error *err)
{
    pms_keyring *ring = ring_new();
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int rc = PMS_OK;
    bool list = strchr(text, ',') != NULL;
    size_t item = 0;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        item++;
        unsigned char key[PMS_KEY_BYTES];
        if (!parse_key_text(p, len, key)) {
            if (list)
                rc = pms_error_set(err, PMS_ERR_CONFIG,
                                   "PMSYNC_SECRET_KEY item %zu is not a key: expected 64 hex "
                                   "digits or base64 of 32 bytes, keys separated by commas",
                                   item);
            else
                rc = pms_error_set(err, PMS_ERR_CONFIG,
                                   "PMSYNC_SECRET_KEY is not a key: expected 64 hex digits or "
                                   "base64 of 32 bytes");
            break;
        }
        rc = pms_keyring_add_raw(ring, key, err);
        OPENSSL_cleanse(key, sizeof key);
        if (rc != PMS_OK || comma == NULL)
            break;
        p = comma + 1;
    }
    if (rc != PMS_OK) {
        pms_keyring_free(ring);
        ring = NULL;
    }
    *out = ring;
    return rc;
}

int pms_keyring_load(const char *env_value, const char *key_file, bool create_if_missing,
                     pms_keyring **out, pms_error *err)
{
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no output for the key ring");
    *out = NULL;
    if (env_value != NULL && env_value[0] != '\0')
        return parse_env_keys(env_value, out, err);
    if (key_file == NULL || key_file[0] == '\0')
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "no secret key: set PMSYNC_SECRET_KEY or configure a key file");
    pms_keyring *ring = NULL;
    file_stamp stamp;
    int rc = read_key_file(key_file, create_if_missing, &ring, &stamp, err);
    if (rc != PMS_OK)
        return rc;
    if ((ring->source_path = strdup(key_file)) == NULL) {
        pms_keyring_free(ring);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    ring->stamp = stamp;
    *out = ring;
    return PMS_OK;
}

/* Re-reads the ring's key file and makes its keys the ring's, in the file's order. Keys left
 * out are wiped (their ids stay for pointers handed out earlier). Holds reload_lock. */
static int ring_reload_locked(pms_keyring *ring, pms_error *err)
{
    pms_keyring *fresh = NULL;
    file_stamp stamp;
    int rc = read_key_file(ring->source_path, false, &fresh, &stamp, err);
    if (rc != PMS_OK)
        return rc;
    ring_key **order = calloc(fresh->count, sizeof *order);
    if (order == NULL) {
        pms_keyring_free(fresh);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    pthread_rwlock_wrlock(&ring->lock);
    if (ring_reserve(ring, fresh->count) != PMS_OK) {
        pthread_rwlock_unlock(&ring->lock);
        free(order);
        pms_keyring_free(fresh);
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < fresh->count; i++) {
        ring_key *k = fresh->keys[i];
        for (size_t j = 0; j < ring->owned_count && order[i] == NULL; j++)
            if (!ring->owned[j]->dropped &&
                CRYPTO_memcmp(ring->owned[j]->key, k->key, PMS_KEY_BYTES) == 0)
                order[i] = ring->owned[j];
        if (order[i] != NULL)
            continue;
        /* A new key: the ring takes it over from the fresh one. */
        order[i] = k;
        ring->owned[ring->owned_count++] = k;
        for (size_t j = 0; j < fresh->owned_count; j++)
            if (fresh->owned[j] == k)
                fresh->owned[j] = NULL;
    }
    for (size_t j = 0; j < ring->owned_count; j++) {
        ring_key *k = ring->owned[j];
        bool kept = false;
        for (size_t i = 0; i < fresh->count && !kept; i++)
            kept = order[i] == k;
        if (!kept && !k->dropped) {
            OPENSSL_cleanse(k->key, sizeof k->key);
            k->dropped = true;
        }
    }
    free(ring->keys);
    ring->keys = order;
    ring->count = ring->cap = fresh->count;
    ring->stamp = stamp;
    pthread_rwlock_unlock(&ring->lock);
    pms_keyring_free(fresh);
    return PMS_OK;
}

int pms_keyring_reload(const pms_keyring *ring, pms_error *err)
{
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no key ring");
    pms_keyring *r = mutable_ring(ring);
    if (r->source_path == NULL)
        return PMS_OK; /* keys from the environment or raw: nothing to re-read */
    pthread_mutex_lock(&r->reload_lock);
    int rc = ring_reload_locked(r, err);
    pthread_mutex_unlock(&r->reload_lock);
    return rc;
}

/* Reloads the ring when its key file is no longer the one it read (replaced or changed).
 * Returns whether the ring may hold other keys now. Failures leave the ring as it was. */
static bool ring_refresh_if_changed(pms_keyring *ring)
{
    if (ring->source_path == NULL)
        return false;
    struct stat st;
    if (stat(ring->source_path, &st) != 0)
        return false;
    file_stamp now;
    stamp_of(&st, &now);
    pthread_rwlock_rdlock(&ring->lock);
    bool same = stamp_equal(&ring->stamp, &now);
    pthread_rwlock_unlock(&ring->lock);
    if (same)
        return false;
    pthread_mutex_lock(&ring->reload_lock);
    pthread_rwlock_rdlock(&ring->lock);
    same = stamp_equal(&ring->stamp, &now);
    pthread_rwlock_unlock(&ring->lock);
    /* Another thread may have reloaded meanwhile: then there is nothing left to do. */
    bool changed = same || ring_reload_locked(ring, NULL) == PMS_OK;
    pthread_mutex_unlock(&ring->reload_lock);
    return changed;
}

/* ---- key file edits: rotation and retirement ------------------------------------------------ */

/* An exclusive lock on "<path>.lock", so two edits of one key file never interleave (a lost
 * key would make everything it sealed unreadable). *fd_out is closed to release it. */
static int lock_key_file(const char *path, int *fd_out, pms_error *err)
{
    char *lock_path = NULL;
    if (asprintf(&lock_path, "%s.lock", path) < 0)
        return pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int rc = pms_error_set(err, PMS_ERR_IO, "cannot open lock file %s: %s", lock_path,
                               strerror(errno));
        free(lock_path);
        return rc;
    }
    free(lock_path);
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            int rc = pms_error_set(err, PMS_ERR_IO, "cannot lock key file %s: %s", path,
                                   strerror(errno));
            close(fd);
            return rc;
        }
    }
    *fd_out = fd;
    return PMS_OK;
}

/* The key file path must name a regular file (not a link: the edit replaces the name). */
static int check_editable_key_file(const char *path, struct stat *st, pms_error *err)
{
    if (path == NULL || path[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no key file path");
    if (lstat(path, st) != 0)
        return pms_error_set(err, errno == ENOENT ? PMS_ERR_CONFIG : PMS_ERR_IO,
                             "cannot read key file %s: %s", path, strerror(errno));
    if (S_ISLNK(st->st_mode))
        return pms_error_set(err, PMS_ERR_CONFIG,
                             "key file %s is a symbolic link; edit the file it points to", path);
    if (!S_ISREG(st->st_mode))
        return pms_error_set(err, PMS_ERR_CONFIG, "key file %s is not a regular file", path);
    return PMS_OK;
}

static const char key_file_edit_header[] =
    "# pmsync secret keys (AES-256-GCM). Keep this file private (mode 0600).\n"
    "# The first key seals; keys on further lines are older ones that still open.\n";

/* Replaces path with the ring's keys, in order, atomically: a temporary file beside it (0600,
 * the old file's owner), written and fsync'ed, renamed over it, then the directory fsync'ed. */
static int replace_key_file(const char *path, const struct stat *old, const pms_keyring *ring,
                            pms_error *err)
{
    enum { LINE_MAX_BYTES = 2 * PMS_KEY_BYTES + sizeof "  # key id " + PMS_KEY_ID_LEN + 1 };
    size_t cap = sizeof key_file_edit_header + ring->count * LINE_MAX_BYTES + 1;
    char *text = malloc(cap);
    char *tmp_path = NULL;
    int fd = -1, rc = PMS_OK;
    if (text == NULL || asprintf(&tmp_path, "%s.tmp-XXXXXX", path) < 0) {
        tmp_path = NULL;
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t len = sizeof key_file_edit_header - 1;
    memcpy(text, key_file_edit_header, len);
    for (size_t i = 0; i < ring->count; i++) {
        hex_encode(ring->keys[i]->key, PMS_KEY_BYTES, text + len);
        len += 2 * PMS_KEY_BYTES;
        len += (size_t)snprintf(text + len, cap - len, "  # key id %s\n", ring->keys[i]->id);
    }
    fd = mkostemp(tmp_path, O_CLOEXEC);
    if (fd < 0) {
        rc = pms_error_set(err, PMS_ERR_IO, "cannot create a file beside %s: %s", path,
                           strerror(errno));
        free(tmp_path);
        tmp_path = NULL;
        goto out;
    }
    bool same_owner = old->st_uid == geteuid() && old->st_gid == getegid();
    if (fchmod(fd, 0600) != 0 || (!same_owner && fchown(fd, old->st_uid, old->st_gid) != 0)) {
        rc = pms_error_set(err, PMS_ERR_IO,
                           "cannot give the new key file mode 0600 and the old file's owner: %s",
                           strerror(errno));
        goto out;
    }
    if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
        rc = pms_error_set(err, PMS_ERR_IO, "cannot write key file %s: %s", path, strerror(errno));
        goto out;
    }
    int closed = close(fd);
    fd = -1;
    if (closed != 0 || rename(tmp_path, path) != 0) {
        rc =
            pms_error_set(err, PMS_ERR_IO, "cannot replace key file %s: %s", path, strerror(errno));
        goto out;
    }
    free(tmp_path);
    tmp_path = NULL;
    sync_parent_dir(path);
out:
    if (fd >= 0)
        close(fd);
    if (tmp_path != NULL) {
        unlink(tmp_path);
        free(tmp_path);
    }
    if (text != NULL)
        pms_secure_free(text, cap);
    return rc;
}

int pms_key_file_rotate(const char *path, char new_id[PMS_KEY_ID_LEN], pms_error *err)
{
    if (new_id != NULL)
        new_id[0] = '\0';
    struct stat st;
    int rc = check_editable_key_file(path, &st, err);
    if (rc != PMS_OK)
        return rc;
    int lock_fd = -1;
    if ((rc = lock_key_file(path, &lock_fd, err)) != PMS_OK)
        return rc;
    pms_keyring *current = NULL, *next = NULL;
    file_stamp stamp;
    unsigned char key[PMS_KEY_BYTES];
    if ((rc = check_editable_key_file(path, &st, err)) != PMS_OK ||
        (rc = read_key_file(path, false, &current, &stamp, err)) != PMS_OK ||
        (rc = pms_random_bytes(key, sizeof key, err)) != PMS_OK ||
        (rc = pms_keyring_from_raw(key, &next, err)) != PMS_OK)
        goto out;
    for (size_t i = 0; i < current->count && rc == PMS_OK; i++)
        rc = pms_keyring_add_raw(next, current->keys[i]->key, err);
    if (rc == PMS_OK)
        rc = replace_key_file(path, &st, next, err);
    if (rc == PMS_OK && new_id != NULL)
        memcpy(new_id, next->keys[0]->id, PMS_KEY_ID_LEN);
out:
    OPENSSL_cleanse(key, sizeof key);
    pms_keyring_free(current);
    pms_keyring_free(next);
    close(lock_fd);
    return rc;
}

int pms_key_file_remove(const char *path, const char *key_id, pms_error *err)
{
    if (key_id == NULL || key_id[0] == '\0')
        return pms_error_set(err, PMS_ERR_INVALID, "no key id");
    struct stat st;
    int rc = check_editable_key_file(path, &st, err);
    if (rc != PMS_OK)
        return rc;
    int lock_fd = -1;
    if ((rc = lock_key_file(path, &lock_fd, err)) != PMS_OK)
        return rc;
    pms_keyring *current = NULL, *next = NULL;
    file_stamp stamp;
    if ((rc = check_editable_key_file(path, &st, err)) != PMS_OK ||
        (rc = read_key_file(path, false, &current, &stamp, err)) != PMS_OK)
        goto out;
    size_t found = current->count;
    for (size_t i = 0; i < current->count && found == current->count; i++)
        if (strcmp(current->keys[i]->id, key_id) == 0)
            found = i;
    if (found == current->count) {
        rc = pms_error_set(err, PMS_ERR_NOT_FOUND, "key file %s holds no key with id %.32s", path,
                           key_id);
        goto out;
    }
    if (found == 0) {
        rc = pms_error_set(err, PMS_ERR_INVALID,
                           "key %.32s is the primary key; rotate to a new key before retiring it",
                           key_id);
        goto out;
    }
    if ((next = ring_new()) == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < current->count && rc == PMS_OK; i++)
        if (i != found)
            rc = pms_keyring_add_raw(next, current->keys[i]->key, err);
    if (rc == PMS_OK)
        rc = replace_key_file(path, &st, next, err);
out:
    pms_keyring_free(current);
    pms_keyring_free(next);
    close(lock_fd);
    return rc;
}

int pms_key_new_hex(char hex[2 * PMS_KEY_BYTES + 1], char id[PMS_KEY_ID_LEN], pms_error *err)
{
    unsigned char key[PMS_KEY_BYTES];
    int rc = pms_random_bytes(key, sizeof key, err);
    if (rc == PMS_OK) {
        hex_encode(key, sizeof key, hex);
        key_id_of(key, id);
    }
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

/* ---- MACs and derived keys ------------------------------------------------------------------ */

int pms_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    unsigned char out[PMS_HMAC_BYTES], pms_error *err)
{
    unsigned int out_len = 0;
    static const unsigned char nothing[1] = {0};
    if (key_len > INT_MAX)
        return pms_error_set(err, PMS_ERR_INVALID, "MAC key too long");
    if (HMAC(sha256_digest(), key, (int)key_len, len ? data : nothing, len, out, &out_len) ==
            NULL ||
        out_len != PMS_HMAC_BYTES)
        return pms_error_set(err, PMS_ERR_CRYPTO, "HMAC-SHA256 failed");
    return PMS_OK;
}

int pms_keyring_derive(const pms_keyring *ring, const char *key_id, const char *label,
                       unsigned char out[PMS_KEY_BYTES], char id_out[PMS_KEY_ID_LEN],
                       pms_error *err)
{
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_CONFIG, "no key ring");
    if (label == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no label to derive a key for");
    /* The primary after a rotation by another process is the new one, as for pms_seal. */
    if (key_id == NULL)
        ring_refresh_if_changed(mutable_ring(ring));
    ring_key key;
    if (!ring_find_key(ring, key_id, &key)) {
        OPENSSL_cleanse(&key, sizeof key);
        if (key_id == NULL)
            return pms_error_set(err, PMS_ERR_CONFIG, "the key ring is empty");
        return pms_error_set(err, PMS_ERR_NOT_FOUND, "no key with id %.32s in the key ring",
                             key_id);
    }
    int rc = pms_hmac_sha256(key.key, sizeof key.key, label, strlen(label), out, err);
    if (rc == PMS_OK && id_out != NULL)
        memcpy(id_out, key.id, PMS_KEY_ID_LEN);
    OPENSSL_cleanse(&key, sizeof key);
    return rc;
}

/* ---- envelopes ----------------------------------------------------------------------------- */

/* Checks the envelope's shape and returns its key id and, when raw is not NULL, the decoded
 * nonce | ciphertext | tag (a new buffer the caller frees). */
static bool parse_envelope(const char *envelope, char id[PMS_KEY_ID_LEN], unsigned char **raw,
                           size_t *raw_len)
{
    if (envelope == NULL || strncmp(envelope, ENVELOPE_PREFIX, ENVELOPE_PREFIX_LEN) != 0)
        return false;
    const char *p = envelope + ENVELOPE_PREFIX_LEN;
    for (size_t i = 0; i < PMS_KEY_ID_LEN - 1; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    if (p[PMS_KEY_ID_LEN - 1] != ':')
        return false;
    const char *b64 = p + PMS_KEY_ID_LEN;
    unsigned char *decoded = NULL;
    size_t decoded_len = 0;
    if (pms_base64_decode(b64, strlen(b64), true, &decoded, &decoded_len, NULL) != PMS_OK)
        return false;
    if (decoded_len < NONCE_BYTES + TAG_BYTES) {
        free(decoded);
        return false;
    }
    memcpy(id, p, PMS_KEY_ID_LEN - 1);
    id[PMS_KEY_ID_LEN - 1] = '\0';
    if (raw != NULL) {
        *raw = decoded;
        *raw_len = decoded_len;
    } else {
        free(decoded);
    }
    return true;
}

bool pms_is_envelope(const char *text)
{
    char id[PMS_KEY_ID_LEN];
    return parse_envelope(text, id, NULL, NULL);
}

int pms_envelope_key_id(const char *envelope, char out[PMS_KEY_ID_LEN], pms_error *err)
{
    char id[PMS_KEY_ID_LEN];
    if (!parse_envelope(envelope, id, NULL, NULL)) {
        if (out != NULL)
            out[0] = '\0';
        return pms_error_set(err, PMS_ERR_PARSE, "not a pmsync envelope");
    }
    if (out != NULL)
        memcpy(out, id, sizeof id);
    return PMS_OK;
}

int pms_seal(const pms_keyring *ring, const char *aad, const void *plaintext, size_t len,
             char **out, pms_error *err)
{
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no output for the envelope");
    *out = NULL;
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no key ring");
    if (plaintext == NULL && len > 0)
        return pms_error_set(err, PMS_ERR_INVALID, "no plaintext");
    if (aad == NULL)
        aad = "";
    size_t aad_len = strlen(aad);
    if (len > EVP_CHUNK_MAX || aad_len > EVP_CHUNK_MAX)
        return pms_error_set(err, PMS_ERR_INVALID, "value too large to seal");
    const EVP_CIPHER *cipher = gcm_cipher();
    if (cipher == NULL)
        return pms_error_set(err, PMS_ERR_CRYPTO, "AES-256-GCM is not available");

    /* A rotation by another process replaced the key file: seal with its new primary. */
    pms_keyring *r = mutable_ring(ring);
    ring_refresh_if_changed(r);
    ring_key primary;
    if (!ring_copy_key(r, NULL, &primary))
        return pms_error_set(err, PMS_ERR_INVALID, "no key ring");
    const ring_key *key = &primary;
    size_t raw_len = NONCE_BYTES + len + TAG_BYTES;
    unsigned char *raw = malloc(raw_len);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    char *envelope = NULL;
    int rc = PMS_OK;
    if (raw == NULL || ctx == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    rc = pms_random_bytes(raw, NONCE_BYTES, err);
    if (rc != PMS_OK)
        goto out;
    unsigned char *ciphertext = raw + NONCE_BYTES;
    unsigned char *tag = ciphertext + len;
    int aad_n = 0, text_n = 0, final_n = 0;
    bool ok = EVP_EncryptInit_ex2(ctx, cipher, key->key, raw, NULL) == 1;
    if (ok && aad_len > 0)
        ok = EVP_EncryptUpdate(ctx, NULL, &aad_n, (const unsigned char *)aad, (int)aad_len) == 1;
    if (ok && len > 0)
        ok = EVP_EncryptUpdate(ctx, ciphertext, &text_n, plaintext, (int)len) == 1;
    if (ok)
        ok = EVP_EncryptFinal_ex(ctx, ciphertext + text_n, &final_n) == 1 &&
             (size_t)text_n + (size_t)final_n == len;
    if (ok)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_BYTES, tag) == 1;
    if (!ok) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "encryption failed");
        goto out;
    }
    char *b64 = NULL;
    if ((rc = pms_base64_encode(raw, raw_len, &b64, err)) != PMS_OK)
        goto out;
    if (asprintf(&envelope, "%s%s:%s", ENVELOPE_PREFIX, key->id, b64) < 0) {
        envelope = NULL;
        free(b64);
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    free(b64);
    *out = envelope;
out:
    OPENSSL_cleanse(&primary, sizeof primary);
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    return rc;
}

int pms_open(const pms_keyring *ring, const char *aad, const char *envelope, char **out,
             size_t *out_len, pms_error *err)
{
    if (out == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no output for the plaintext");
    *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (ring == NULL)
        return pms_error_set(err, PMS_ERR_INVALID, "no key ring");
    if (aad == NULL)
        aad = "";
    size_t aad_len = strlen(aad);
    if (aad_len > EVP_CHUNK_MAX)
        return pms_error_set(err, PMS_ERR_CRYPTO, "associated data too large");
    const EVP_CIPHER *cipher = gcm_cipher();
    if (cipher == NULL)
        return pms_error_set(err, PMS_ERR_CRYPTO, "AES-256-GCM is not available");

    char id[PMS_KEY_ID_LEN];
    unsigned char *raw = NULL;
    size_t raw_len = 0;
    if (!parse_envelope(envelope, id, &raw, &raw_len))
        return pms_error_set(err, PMS_ERR_CRYPTO, "not a valid pmsync envelope");

    int rc = PMS_OK;
    EVP_CIPHER_CTX *ctx = NULL;
    char *plain = NULL;
    size_t ct_len = raw_len - NONCE_BYTES - TAG_BYTES;
    /* An unknown id may be a key that a rotation added to the key file since it was read. */
    ring_key found;
    const ring_key *key = ring_find_key(ring, id, &found) ? &found : NULL;
    if (key == NULL) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "no key with id %s in the key ring", id);
        goto out;
    }
    if (ct_len > EVP_CHUNK_MAX) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO, "envelope too large");
        goto out;
    }
    ctx = EVP_CIPHER_CTX_new();
    plain = malloc(ct_len + 1);
    if (ctx == NULL || plain == NULL) {
        rc = pms_error_set(err, PMS_ERR_NOMEM, "out of memory");
        goto out;
    }
    const unsigned char *ciphertext = raw + NONCE_BYTES;
    unsigned char *tag = raw + NONCE_BYTES + ct_len;
    unsigned char *plain_bytes = (unsigned char *)plain;
    int aad_n = 0, text_n = 0, final_n = 0;
    bool ok = EVP_DecryptInit_ex2(ctx, cipher, key->key, raw, NULL) == 1;
    if (ok && aad_len > 0)
        ok = EVP_DecryptUpdate(ctx, NULL, &aad_n, (const unsigned char *)aad, (int)aad_len) == 1;
    if (ok && ct_len > 0)
        ok = EVP_DecryptUpdate(ctx, plain_bytes, &text_n, ciphertext, (int)ct_len) == 1;
    if (ok)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES, tag) == 1;
    /* The tag check: fails for a wrong key, any changed byte or different associated data. */
    if (ok)
        ok = EVP_DecryptFinal_ex(ctx, plain_bytes + text_n, &final_n) == 1 &&
             (size_t)text_n + (size_t)final_n == ct_len;
    if (!ok) {
        rc = pms_error_set(err, PMS_ERR_CRYPTO,
                           "envelope does not open: wrong key, changed data or wrong "
                           "associated data");
        goto out;
    }
    plain[ct_len] = '\0';
    *out = plain;
    plain = NULL;
    if (out_len != NULL)
        *out_len = ct_len;
out:
    if (plain != NULL)
        pms_secure_free(plain, ct_len + 1);
    OPENSSL_cleanse(&found, sizeof found);
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    return rc;
}
