/* The U pass, portable scalar variant (the reference; see upass.h). */
#include "upass.h"

void hl_tm_upass_scalar(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    hl_tm_upass_scalar_range(a, L, acc, 0);
}
