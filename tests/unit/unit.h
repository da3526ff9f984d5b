/*
 * Common includes for the cmocka unit tests.
 */
#ifndef LSH_UNIT_H
#define LSH_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

/* Asserts that buffer b holds exactly the string want. */
#define assert_buf_eq(b, want)                               \
    do {                                                     \
        assert_int_equal((b)->len, strlen(want));            \
        assert_memory_equal((b)->ptr, (want), strlen(want)); \
    } while (0)

#endif
