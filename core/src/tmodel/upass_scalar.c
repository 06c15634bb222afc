/* The U pass, portable scalar variant (the reference; see upass.h). */
#include "upass.h"

/* The ziggurat pass: the draws of each round of attempts, in lane order, to the points. */
static void upass_zig(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    hl_rng lanes[HL_TM_LANES];
    for (int j = 0; j < HL_TM_LANES; j++) {
        lanes[j] = hl_tm_lane_get(L, j);
    }
    double drawn[HL_TM_LANES]; /* the current round's draws, [next, have) not yet used */
    size_t have = (size_t)L->ncarry, next = 0;
    memcpy(drawn, L->carry, sizeof drawn);
    for (size_t i = 0; i < a->n; i++) {
        while (next == have) {
            have = next = 0;
            for (int j = 0; j < HL_TM_LANES; j++) {
                have += (size_t)hl_tm_zig_attempt(&lanes[j], a->zig, &drawn[have]);
            }
        }
        hl_tm_add_point(a, acc, i, drawn[next++]);
    }
    L->ncarry = (uint64_t)(have - next);
    memmove(L->carry, drawn + next, (have - next) * sizeof(double));
    for (int j = 0; j < HL_TM_LANES; j++) {
        hl_tm_lane_put(L, j, &lanes[j]);
    }
}

/* The Marsaglia-Tsang pass: point i draws from lane i mod 8. */
static void upass_mt(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    hl_rng lanes[HL_TM_LANES];
    for (int j = 0; j < HL_TM_LANES; j++) {
        lanes[j] = hl_tm_lane_get(L, j);
    }
    for (size_t i = 0; i < a->n; i++) {
        hl_tm_add_point(a, acc, i, hl_tm_lane_gamma(&lanes[i % HL_TM_LANES], a));
    }
    for (int j = 0; j < HL_TM_LANES; j++) {
        hl_tm_lane_put(L, j, &lanes[j]);
    }
}

void hl_tm_upass_scalar(const hl_tm_upass *a, hl_tm_lanes *L, hl_tm_acc *acc) {
    if (a->zig != NULL) {
        upass_zig(a, L, acc);
    } else {
        upass_mt(a, L, acc);
    }
}
