/* Port layer functions that need nothing of the OS beyond z_now_us(): the
 * same for every port. */
#include "port/port.h"

int64_t z_deadline_after_us(int64_t us)
{
    if (us < 0) {
        return Z_FOREVER;
    }
    int64_t now = z_now_us();
    if (us > Z_FOREVER - now) {
        return Z_FOREVER;
    }
    return now + us;
}
