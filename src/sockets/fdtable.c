/* The descriptor table shared by every zsock object: lowest free number first,
 * reference counted slots so close() never frees an object under a thread
 * that is still inside a call on it. */
#include "sockets/fdtable.h"

#include <errno.h>
#include <stdint.h>

enum slot_state {
    SLOT_FREE = 0,
    SLOT_RESERVED,
    SLOT_OPEN,
    SLOT_CLOSING, /* closed by the user, references still held */
};

struct fd_slot {
    void *obj;
    const struct z_fd_ops *ops;
    uint32_t refs;
    uint8_t state;
    uint8_t kind;
};

static struct fd_slot fd_table[CONFIG_ZVFS_OPEN_MAX];
static z_mutex_t fd_lock = Z_MUTEX_INITIALIZER;
static int fd_first_free; /* no free slot below this index */
static int fd_open_count;

int z_fd_reserve(void)
{
    int fd = -EMFILE;
    z_mutex_lock(&fd_lock);
    for (int i = fd_first_free; i < CONFIG_ZVFS_OPEN_MAX; i++) {
        if (fd_table[i].state == SLOT_FREE) {
            fd_table[i].state = SLOT_RESERVED;
            fd_table[i].refs = 0;
            fd_first_free = i + 1;
            fd = i;
            break;
        }
    }
    if (fd < 0) {
        fd_first_free = CONFIG_ZVFS_OPEN_MAX;
    }
    z_mutex_unlock(&fd_lock);
    return fd;
}

/* Caller holds fd_lock. */
static void slot_free_locked(int fd)
{
    fd_table[fd].state = SLOT_FREE;
    fd_table[fd].obj = NULL;
    fd_table[fd].ops = NULL;
    if (fd < fd_first_free) {
        fd_first_free = fd;
    }
}

void z_fd_finalize(int fd, void *obj, const struct z_fd_ops *ops, enum z_fd_kind kind)
{
    z_mutex_lock(&fd_lock);
    fd_table[fd].obj = obj;
    fd_table[fd].ops = ops;
    fd_table[fd].kind = (uint8_t)kind;
    fd_table[fd].refs = 1;
    fd_table[fd].state = SLOT_OPEN;
    fd_open_count++;
    z_mutex_unlock(&fd_lock);
}

void z_fd_unreserve(int fd)
{
    z_mutex_lock(&fd_lock);
    if (fd_table[fd].state == SLOT_RESERVED) {
        slot_free_locked(fd);
    }
    z_mutex_unlock(&fd_lock);
}

void *z_fd_get(int fd, enum z_fd_kind kind, const struct z_fd_ops **ops, int *err)
{
    void *obj = NULL;
    if (fd < 0 || fd >= CONFIG_ZVFS_OPEN_MAX) {
        *err = -EBADF;
        return NULL;
    }
    z_mutex_lock(&fd_lock);
    struct fd_slot *s = &fd_table[fd];
    if (s->state != SLOT_OPEN) {
        *err = -EBADF;
    } else if (kind != Z_FD_KIND_ANY && s->kind != kind) {
        *err = -ENOTSOCK;
    } else {
        s->refs++;
        obj = s->obj;
        *ops = s->ops;
    }
    z_mutex_unlock(&fd_lock);
    return obj;
}

/* Drop one reference; returns the object to release if it was the last. */
static void *unref_locked(int fd, const struct z_fd_ops **ops)
{
    struct fd_slot *s = &fd_table[fd];
    if (--s->refs > 0) {
        return NULL;
    }
    void *obj = s->obj;
    *ops = s->ops;
    slot_free_locked(fd);
    return obj;
}

void z_fd_put(int fd)
{
    const struct z_fd_ops *ops = NULL;
    z_mutex_lock(&fd_lock);
    void *obj = unref_locked(fd, &ops);
    z_mutex_unlock(&fd_lock);
    if (obj != NULL) {
        ops->release(obj);
    }
}

int z_fd_close(int fd)
{
    if (fd < 0 || fd >= CONFIG_ZVFS_OPEN_MAX) {
        return -EBADF;
    }
    z_mutex_lock(&fd_lock);
    struct fd_slot *s = &fd_table[fd];
    if (s->state != SLOT_OPEN) {
        z_mutex_unlock(&fd_lock);
        return -EBADF;
    }
    s->state = SLOT_CLOSING;
    fd_open_count--;
    void *obj = s->obj;
    const struct z_fd_ops *ops = s->ops;
    /* The table's own reference keeps the object alive through close(). */
    z_mutex_unlock(&fd_lock);

    if (ops->close != NULL) {
        ops->close(obj);
    }

    z_mutex_lock(&fd_lock);
    obj = unref_locked(fd, &ops);
    z_mutex_unlock(&fd_lock);
    if (obj != NULL) {
        ops->release(obj);
    }
    return 0;
}

int z_fd_count_open(void)
{
    z_mutex_lock(&fd_lock);
    int n = fd_open_count;
    z_mutex_unlock(&fd_lock);
    return n;
}
