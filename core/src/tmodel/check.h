/*
 * check.h (private to the tmodel kernel): the data check of hl_tmodel_check_data on a sorted
 * copy the caller keeps, so the sampler sorts its data once for the check and the median.
 */
#ifndef HOTLOOP_TMODEL_CHECK_H
#define HOTLOOP_TMODEL_CHECK_H

#include "hotloop/tmodel.h"

/*
 * hl_tmodel_check_data's check, leaving x[0..n) sorted in `sorted` (n doubles) when x passes
 * the finiteness check; tmp (n doubles) is the sort's scratch. Polls `mon` (may be NULL)
 * while sorting. Returns HL_OK, HL_EINVAL as hl_tmodel_check_data, or HL_ECANCELLED.
 */
hl_status hl_tm_check_sorted(const double *x, size_t n, double nu, hl_tmodel_prior prior,
                             double *sorted, double *tmp, hl_monitor *mon);

#endif
