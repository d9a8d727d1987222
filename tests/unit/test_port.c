/* The POSIX port layer: monotonic clock, deadlines that saturate instead of
 * overflowing, condition variable timeouts, threads and entropy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "port/port.h"

static void test_clock_monotonic(void **state)
{
    (void)state;
    int64_t a = z_now_us();
    z_sleep_us(2000);
    int64_t b = z_now_us();
    assert_true(b - a >= 2000);
}

static void test_deadline_saturates(void **state)
{
    (void)state;
    assert_int_equal(z_deadline_after_us(-1), Z_FOREVER);
    assert_int_equal(z_deadline_after_us(INT64_MAX), Z_FOREVER);
    assert_int_equal(z_deadline_after_us(INT64_MAX - 1), Z_FOREVER);
    int64_t now = z_now_us();
    int64_t d = z_deadline_after_us(1000);
    assert_true(d >= now + 1000);
}

static void test_cond_timeout(void **state)
{
    (void)state;
    z_mutex_t m;
    z_cond_t c;
    z_mutex_init(&m);
    z_cond_init(&c);
    z_mutex_lock(&m);
    int64_t start = z_now_us();
    int rc = 0;
    int64_t deadline = z_deadline_after_us(20000);
    while (rc == 0) {
        rc = z_cond_wait_until(&c, &m, deadline);
    }
    assert_int_equal(rc, -ETIMEDOUT);
    assert_true(z_now_us() - start >= 20000);
    /* A deadline in the past returns at once. */
    assert_int_equal(z_cond_wait_until(&c, &m, z_now_us() - 1), -ETIMEDOUT);
    z_mutex_unlock(&m);
    z_cond_destroy(&c);
    z_mutex_destroy(&m);
}

struct signal_job {
    z_mutex_t m;
    z_cond_t c;
    int flag;
};

static void *signaller(void *arg)
{
    struct signal_job *j = arg;
    z_sleep_us(10000);
    z_mutex_lock(&j->m);
    j->flag = 1;
    z_cond_broadcast(&j->c);
    z_mutex_unlock(&j->m);
    return NULL;
}

static void test_cond_signal_and_threads(void **state)
{
    (void)state;
    struct signal_job j = {.flag = 0};
    z_mutex_init(&j.m);
    z_cond_init(&j.c);
    z_thread_t t;
    assert_int_equal(z_thread_create(&t, signaller, &j), 0);
    z_mutex_lock(&j.m);
    while (!j.flag) {
        assert_int_equal(z_cond_wait_until(&j.c, &j.m, Z_FOREVER), 0);
    }
    z_mutex_unlock(&j.m);
    assert_int_equal(z_thread_join(t), 0);
    z_cond_destroy(&j.c);
    z_mutex_destroy(&j.m);
}

static int once_count;
static void once_fn(void)
{
    once_count++;
}

static void test_once(void **state)
{
    (void)state;
    static z_once_t once = Z_ONCE_INIT;
    z_once(&once, once_fn);
    z_once(&once, once_fn);
    assert_int_equal(once_count, 1);
}

static void test_entropy(void **state)
{
    (void)state;
    unsigned char a[64], b[64], zero[64] = {0};
    assert_int_equal(z_entropy(a, sizeof(a)), 0);
    assert_int_equal(z_entropy(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, zero, sizeof(a));
    /* Large requests are filled completely. */
    static unsigned char big[1 << 20];
    assert_int_equal(z_entropy(big, sizeof(big)), 0);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++) {
        zeros += big[i] == 0;
    }
    assert_true(zeros < sizeof(big) / 128); /* about 1/256 expected */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_monotonic),
        cmocka_unit_test(test_deadline_saturates),
        cmocka_unit_test(test_cond_timeout),
        cmocka_unit_test(test_cond_signal_and_threads),
        cmocka_unit_test(test_once),
        cmocka_unit_test(test_entropy),
    };
    return cmocka_run_group_tests_name("port", tests, NULL, NULL);
}
