/* Constant tables of the normal ziggurat (generated into ziggurat_tables.c). Private. */
#ifndef HOTLOOP_ZIGGURAT_TABLES_H
#define HOTLOOP_ZIGGURAT_TABLES_H

/* x[0] = v / f(r) (the base strip's virtual width), x[1] = r, ..., x[256] = 0. */
extern const double hl_zig_x[257];
/* f[i] = exp(-x[i]^2 / 2); f[256] = 1. */
extern const double hl_zig_f[257];
/* The tail start r and the common strip area v. */
extern const double hl_zig_r;
extern const double hl_zig_v;

#endif
